/**
 * The connection every prosumer command runs against: the node, the market and its token, the
 * keystore account, and a signer that simulates, sends and waits for a transaction.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import {
  type Abi,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
  createPublicClient,
  createWalletClient,
  http,
} from "viem";
import { energyMarketAbi, testTokenAbi } from "../../chain/abis.js";
import { createChainClients } from "../../chain/market.js";
import { keystoreAddress, unlockKeystore } from "../../infra/keystore.js";
import { CliError } from "./errors.js";
import { address, parse, uint } from "./parse.js";

const connectionSchema = z.object({
  "--rpc-url": z.string({ required_error: "is required" }).url("must be a URL"),
  "--market": address,
  "--keystore": z.string({ required_error: "is required" }).min(1, "is required"),
  "--password-file": z.string().min(1).optional(),
  "--from-block": uint.default("0"),
});

export interface Context {
  readonly client: PublicClient;
  readonly market: Address;
  readonly me: Address;
  readonly fromBlock: bigint;
  readonly token: Address;
  readonly decimals: number;
  readonly symbol: string;
  readonly json: boolean;
  /** Unlocks the keystore (needs --password-file). */
  signer(): Promise<{ account: LocalAccount; send: (call: WriteCall) => Promise<Hex> }>;
}

export interface WriteCall {
  readonly address: Address;
  readonly abi: Abi;
  readonly functionName: string;
  readonly args: readonly unknown[];
}

export type Flags = Record<string, unknown>;

export async function connect(flags: Flags): Promise<Context> {
  const c = parse(connectionSchema, {
    "--rpc-url": flags["rpcUrl"] ?? process.env["GRIDBRAIN_RPC_URL"],
    "--market": flags["market"] ?? process.env["GRIDBRAIN_MARKET_ADDRESS"],
    "--keystore": flags["keystore"] ?? process.env["GRIDBRAIN_KEYSTORE_PATH"],
    "--password-file": flags["passwordFile"] ?? process.env["GRIDBRAIN_KEYSTORE_PASSWORD_FILE"],
    "--from-block": flags["fromBlock"],
  });
  let keystoreJson: string;
  try {
    keystoreJson = await readFile(c["--keystore"], "utf8");
  } catch {
    throw new CliError(`--keystore: cannot read ${c["--keystore"]}`, 2);
  }
  const me = keystoreAddress(keystoreJson);
  const probe = createPublicClient({ transport: http(c["--rpc-url"], { retryCount: 1 }) });
  let chainId: number;
  try {
    chainId = await probe.getChainId();
  } catch {
    throw new CliError(`--rpc-url: no JSON-RPC node answers at ${c["--rpc-url"]}`, 2);
  }
  const { chain, transport, publicClient: client } = createChainClients(c["--rpc-url"], chainId);
  const market = c["--market"];
  if ((await client.getCode({ address: market })) === undefined)
    throw new CliError(`--market: no contract at ${market} on chain ${chainId}`, 2);
  const [token, decimals] = await Promise.all([
    client.readContract({ address: market, abi: energyMarketAbi, functionName: "token" }),
    client.readContract({ address: market, abi: energyMarketAbi, functionName: "tokenDecimals" }),
  ]);
  const symbol = await client
    .readContract({ address: token, abi: testTokenAbi, functionName: "symbol" })
    .catch(() => "tokens");
  let unlocked: Awaited<ReturnType<Context["signer"]>> | undefined;
  return {
    client,
    market,
    me,
    fromBlock: c["--from-block"],
    token,
    decimals: Number(decimals),
    symbol,
    json: flags["json"] === true,
    async signer() {
      if (unlocked !== undefined) return unlocked;
      if (c["--password-file"] === undefined)
        throw new CliError("--password-file: is required for commands that send transactions", 2);
      const account = await unlockKeystore({
        keystorePath: c["--keystore"],
        passwordFile: c["--password-file"],
      });
      const wallet = createWalletClient({ account, chain, transport });
      const send = async (call: WriteCall): Promise<Hex> => {
        const { request } = await client.simulateContract({
          account,
          address: call.address,
          abi: call.abi,
          functionName: call.functionName,
          args: call.args as unknown[],
        });
        const hash = await wallet.writeContract(request as Parameters<typeof wallet.writeContract>[0]);
        const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 100 });
        if (receipt.status !== "success")
          throw new CliError(`${call.functionName} reverted on chain (transaction ${hash})`);
        return hash;
      };
      unlocked = { account, send };
      return unlocked;
    },
  };
}
