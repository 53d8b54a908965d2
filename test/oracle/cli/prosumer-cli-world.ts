/**
 * The world of the prosumer CLI tests (prosumer.test.ts, flex.test.ts): a Hardhat node with the
 * suite deployed by Ignition, zone 0, and one prosumer registered in it whose fresh key lives in an
 * encrypted keystore, with 100 ETH for gas and 100 tokens (6 decimals) in the wallet; the flags
 * every prosumer command takes; and `stop()`, which removes all of it (node, Ignition deployment,
 * keystore folder).
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Address, type Hex, createWalletClient, http } from "viem";
import { generatePrivateKey, mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { gridRegistryAbi, testTokenAbi } from "../../../oracle/src/chain/abis.js";
import { createChainClients } from "../../../oracle/src/chain/market.js";
import { deployLocalSuite, type SuiteAddresses } from "../../../oracle/src/devnet/deploy.js";
import {
  PROJECT_ROOT,
  type LocalService,
  startHardhatNode,
} from "../../../oracle/src/devnet/local-services.js";
import { writeKeystore } from "../../../oracle/src/infra/keystore.js";
import { runCli } from "../../helpers/cli.js";

const MNEMONIC = "test test test test test test test test test test test junk";
/** Hardhat's account #0: the deployer, the registry's operator and the token's minter. */
export const operator = mnemonicToAccount(MNEMONIC, { addressIndex: 0 });

export interface ProsumerCliWorld {
  readonly chain: LocalService;
  readonly addresses: SuiteAddresses;
  readonly client: ReturnType<typeof createChainClients>["publicClient"];
  /** The prosumer's address (its key is in `<dir>/keystore.json`, the password in `<dir>/password`). */
  readonly prosumer: Address;
  /** `--keystore`, `--password-file`, `--rpc-url` and `--market` for the prosumer. */
  readonly common: readonly string[];
  /** Sends `functionName(args)` to `address` from the operator and checks that it succeeded. */
  send(address: Address, abi: unknown, functionName: string, args: unknown[]): Promise<void>;
  /** Runs `gridbrain <args> <common> --json`, checks that it succeeded quietly, and parses its output. */
  json(args: readonly string[]): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Starts the world; `name` prefixes the Ignition deployment id and the keystore folder. */
export async function startProsumerCliWorld(name: string): Promise<ProsumerCliWorld> {
  const chain = await startHardhatNode();
  const deploymentId = `${name}-${chain.port}`;
  let dir: string | undefined;
  const stop = async () => {
    await chain.stop();
    rmSync(join(PROJECT_ROOT, "deploy", "deployments", deploymentId), { recursive: true, force: true });
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const addresses = await deployLocalSuite({
      rpcUrl: chain.url,
      committeeMembers: [1, 2, 3].map((i) => mnemonicToAccount(MNEMONIC, { addressIndex: i }).address),
      committeeThreshold: 2,
      deploymentId,
    });
    const { publicClient: client } = createChainClients(chain.url, 31337);
    const wallet = createWalletClient({
      account: operator,
      chain: client.chain!,
      transport: http(chain.url),
    });
    const send = async (address: Address, abi: unknown, functionName: string, args: unknown[]) => {
      const hash = await wallet.writeContract({
        address,
        abi: abi as typeof testTokenAbi,
        functionName: functionName as "mint",
        args: args as [Address, bigint],
      });
      const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
      expect(receipt.status, functionName).to.equal("success");
    };

    dir = mkdtempSync(join(tmpdir(), `gridbrain-${name}-`));
    const key: Hex = generatePrivateKey();
    const prosumer = privateKeyToAccount(key).address;
    writeFileSync(join(dir, "password"), "correct horse\n");
    await writeKeystore({
      path: join(dir, "keystore.json"),
      password: "correct horse",
      privateKey: key,
      options: { scryptN: 4096 },
    });
    await client.request({
      method: "hardhat_setBalance" as never,
      params: [prosumer, "0x56BC75E2D63100000"] as never,
    });
    await send(addresses.registry, gridRegistryAbi, "addZone", ["Zone A"]);
    await send(addresses.registry, gridRegistryAbi, "registerParticipant", [prosumer, 0]);
    await send(addresses.token, testTokenAbi, "mint", [prosumer, 100_000_000n]); // 100 tokens (6 decimals)

    const common = [
      "--keystore",
      join(dir, "keystore.json"),
      "--password-file",
      join(dir, "password"),
      "--rpc-url",
      chain.url,
      "--market",
      addresses.market,
    ];
    const json = async (args: readonly string[]): Promise<Record<string, unknown>> => {
      const result = await runCli([...args, ...common, "--json"]);
      expect(result.stderr, `stderr of ${args.join(" ")}`).to.equal("");
      expect(result.code, `exit code of ${args.join(" ")}`).to.equal(0);
      return JSON.parse(result.stdout) as Record<string, unknown>;
    };
    return { chain, addresses, client, prosumer, common, send, json, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
