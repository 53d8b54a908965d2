/**
 * The connection every prosumer command runs against: the node, the market and its token, the
 * keystore account, and — once unlocked — the client's write clients (client/clients.ts).
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { type Address, type PublicClient, createPublicClient, createWalletClient } from "viem";
import { type WriteClients, readMarket } from "../../client/index.js";
import { createChainClients } from "../../chain/market.js";
import { keystoreAddress, unlockKeystore } from "../../infra/keystore.js";
import { CliError } from "../output.js";
import { probeChainId, rpcTimeoutMsFlag } from "../rpc-probe.js";
import { address, parse, uint } from "./parse.js";

const connectionSchema = z.object({
  "--rpc-url": z.string({ required_error: "is required" }).url("must be a URL"),
  "--market": address,
  "--keystore": z.string({ required_error: "is required" }).min(1, "is required"),
  "--password-file": z.string().min(1).optional(),
  "--from-block": uint.default("0"),
  "--rpc-timeout-ms": rpcTimeoutMsFlag,
});

/** Receipts are polled this often: a local chain mines at once, viem's default 4 s would dominate. */
const RECEIPT_POLL_MS = 100;

export interface Context {
  readonly client: PublicClient;
  readonly market: Address;
  readonly me: Address;
  readonly fromBlock: bigint;
  readonly token: Address;
  readonly decimals: number;
  readonly symbol: string;
  readonly collateralPerKwh: bigint;
  readonly json: boolean;
  /** Unlocks the keystore (needs --password-file) and returns the clients the client's write actions take. */
  signer(): Promise<WriteClients>;
}

export type Flags = Record<string, unknown>;

export async function connect(flags: Flags): Promise<Context> {
  const c = parse(connectionSchema, {
    "--rpc-url": flags["rpcUrl"] ?? process.env["GRIDBRAIN_RPC_URL"],
    "--market": flags["market"] ?? process.env["GRIDBRAIN_MARKET_ADDRESS"],
    "--keystore": flags["keystore"] ?? process.env["GRIDBRAIN_KEYSTORE_PATH"],
    "--password-file": flags["passwordFile"] ?? process.env["GRIDBRAIN_KEYSTORE_PASSWORD_FILE"],
    "--from-block": flags["fromBlock"],
    "--rpc-timeout-ms": flags["rpcTimeoutMs"] ?? (process.env["GRIDBRAIN_RPC_TIMEOUT_MS"] || undefined),
  });
  const timeoutMs = c["--rpc-timeout-ms"];
  let keystoreJson: string;
  try {
    keystoreJson = await readFile(c["--keystore"], "utf8");
  } catch {
    throw CliError.input("--keystore", `cannot read ${c["--keystore"]}`);
  }
  const me = keystoreAddress(keystoreJson);
  const chainId = await probeChainId(c["--rpc-url"], timeoutMs);
  const { chain, transport } = createChainClients(c["--rpc-url"], chainId, { timeoutMs });
  const client = createPublicClient({ chain, transport, pollingInterval: RECEIPT_POLL_MS }) as PublicClient;
  const market = c["--market"];
  if ((await client.getCode({ address: market })) === undefined)
    throw CliError.input("--market", `no contract at ${market} on chain ${chainId}`);
  const info = await readMarket(client, { market });
  let unlocked: WriteClients | undefined;
  return {
    client,
    market,
    me,
    fromBlock: c["--from-block"],
    token: info.token,
    decimals: info.decimals,
    symbol: info.symbol,
    collateralPerKwh: info.collateralPerKwh,
    json: flags["json"] === true,
    async signer() {
      if (unlocked !== undefined) return unlocked;
      if (c["--password-file"] === undefined)
        throw CliError.input("--password-file", "is required for commands that send transactions");
      const account = await unlockKeystore({
        keystorePath: c["--keystore"],
        passwordFile: c["--password-file"],
      });
      unlocked = { publicClient: client, walletClient: createWalletClient({ account, chain, transport }) };
      return unlocked;
    },
  };
}
