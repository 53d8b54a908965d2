/**
 * `gridbrain registry plan|apply <file>`: the grid registry from a JSON file, for the grid operator
 * of a real network (docs/DEPLOYING.md, "Registry"). `plan` reads the chain and prints the calls
 * that would make it match the file (no key needed); `apply` sends them in order with the operator
 * key from a keystore, then reads the chain again and fails unless nothing is left to do. The file
 * format and what it is authoritative for: domain/registry-plan.ts.
 *
 * Exit codes: 0 done (or nothing to do), 1 a transaction or the chain failed, 2 bad input (the
 * file, a flag, the keystore), with the field named; failures are printed by ./output.ts, as for
 * the prosumer commands. `apply` sends through the client's `sendContract` (simulated first, so a
 * revert is reported with its decoded error before anything is sent).
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { type PublicClient, createPublicClient, createWalletClient, getAddress } from "viem";
import { gridRegistryAbi } from "../chain/abis.js";
import { createChainClients } from "../chain/market.js";
import { readRegistryOnChain } from "../chain/registry-state.js";
import { sendContract } from "../client/clients.js";
import { type RegistryCall, parseRegistryFile, planRegistry } from "../domain/registry-plan.js";
import { RPC_TIMEOUT_MS } from "../infra/config.js";
import { unlockKeystore } from "../infra/keystore.js";
import { CliError, type Outcome, runCommand } from "./output.js";
import { RPC_TIMEOUT_MS_HELP, probeChainId, rpcTimeoutMsFlag } from "./rpc-probe.js";

interface RegistryFlags {
  readonly rpcUrl?: string;
  readonly registry?: string;
  readonly chainId?: string;
  readonly rpcTimeoutMs?: string;
  readonly keystore?: string;
  readonly passwordFile?: string;
  readonly json?: boolean;
}

/** Receipts are polled this often: a local chain mines at once, viem's default 4 s would dominate. */
const RECEIPT_POLL_MS = 100;

function required(value: string | undefined, flag: string, env: string): string {
  const resolved = value ?? process.env[env];
  if (resolved === undefined || resolved === "") throw CliError.input(flag, `is required (or set ${env})`);
  return resolved;
}

async function loadPlan(path: string, flags: RegistryFlags) {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw CliError.input("<file>", `cannot read ${path}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw CliError.input("<file>", `${path} is not JSON (${(error as Error).message})`);
  }
  const file = parseRegistryFile(json);
  const rpcUrl = required(flags.rpcUrl, "--rpc-url", "GRIDBRAIN_RPC_URL");
  const registryText = required(flags.registry, "--registry", "GRIDBRAIN_REGISTRY_ADDRESS");
  if (!/^0x[0-9a-fA-F]{40}$/.test(registryText))
    throw CliError.input("--registry", `must be a 20-byte hex address, got "${registryText}"`);
  const registry = getAddress(registryText);
  let chainId = flags.chainId === undefined ? undefined : Number(flags.chainId);
  if (chainId !== undefined && !(Number.isInteger(chainId) && chainId > 0))
    throw CliError.input("--chain-id", `must be a positive integer, got "${flags.chainId}"`);
  const timeoutText = flags.rpcTimeoutMs ?? (process.env["GRIDBRAIN_RPC_TIMEOUT_MS"] || undefined);
  const timeout = rpcTimeoutMsFlag.safeParse(timeoutText);
  if (!timeout.success)
    throw CliError.input(
      "--rpc-timeout-ms",
      `must be a whole number of milliseconds, ${RPC_TIMEOUT_MS.min}..${RPC_TIMEOUT_MS.max}, got "${timeoutText}"`,
    );
  const timeoutMs = timeout.data;
  if (chainId === undefined) {
    chainId = await probeChainId(rpcUrl, timeoutMs);
  }
  const { chain, transport } = createChainClients(rpcUrl, chainId, { timeoutMs });
  const publicClient = createPublicClient({
    chain,
    transport,
    pollingInterval: RECEIPT_POLL_MS,
  }) as PublicClient;
  const clients = { chain, transport, publicClient };
  if ((await clients.publicClient.getCode({ address: registry })) === undefined)
    throw CliError.input("--registry", `no contract at ${registry} on chain ${chainId}`);
  const plan = planRegistry(file, await readRegistryOnChain(clients.publicClient, registry, file));
  return { file, registry, clients, plan };
}

const describe = (call: RegistryCall) => `${call.functionName}: ${call.why}`;

function run(body: (path: string, flags: RegistryFlags) => Promise<Outcome>) {
  return (path: string, flags: RegistryFlags) => runCommand(flags.json === true, () => body(path, flags));
}

function withConnection(command: Command): Command {
  return command
    .argument("<file>", "registry file (JSON): zones, lines, participants, batteries")
    .option("--rpc-url <url>", "JSON-RPC endpoint (or GRIDBRAIN_RPC_URL)")
    .option("--registry <address>", "GridRegistry address (or GRIDBRAIN_REGISTRY_ADDRESS)")
    .option("--chain-id <id>", "chain id (default: asked from the node)")
    .option("--rpc-timeout-ms <ms>", RPC_TIMEOUT_MS_HELP)
    .option("--json", "print the result as JSON");
}

export function registerRegistryCommands(program: Command): void {
  const registry = program.command("registry").description("the grid registry from a file (grid operator)");

  withConnection(registry.command("plan"))
    .description("print the registry calls that would make the chain match <file> (sends nothing)")
    .action(
      run(async (path, flags) => {
        const { plan } = await loadPlan(path, flags);
        return {
          result: { calls: plan },
          text:
            plan.length === 0
              ? "the registry matches the file: nothing to do"
              : [`${plan.length} call(s):`, ...plan.map((c, i) => `  ${i + 1}. ${describe(c)}`)].join("\n"),
        };
      }),
    );

  withConnection(registry.command("apply"))
    .description("send the planned calls with the operator key, then check that nothing is left")
    .option("--keystore <path>", "operator keystore (or GRIDBRAIN_KEYSTORE_PATH)")
    .option(
      "--password-file <file>",
      "file holding the keystore password (or GRIDBRAIN_KEYSTORE_PASSWORD_FILE)",
    )
    .action(
      run(async (path, flags) => {
        const keystorePath = required(flags.keystore, "--keystore", "GRIDBRAIN_KEYSTORE_PATH");
        const passwordFile = required(
          flags.passwordFile,
          "--password-file",
          "GRIDBRAIN_KEYSTORE_PASSWORD_FILE",
        );
        const { file, registry: address, clients, plan } = await loadPlan(path, flags);
        const account = await unlockKeystore({ keystorePath, passwordFile });
        const writer = {
          publicClient: clients.publicClient,
          walletClient: createWalletClient({ account, chain: clients.chain, transport: clients.transport }),
        };
        const sent: { call: string; hash: string }[] = [];
        const lines: string[] = [];
        for (const call of plan) {
          const hash = await sendContract(writer, {
            address,
            abi: gridRegistryAbi,
            functionName: call.functionName,
            args: call.args,
          });
          sent.push({ call: describe(call), hash });
          lines.push(`sent ${describe(call)} (${hash})`);
        }
        const left = planRegistry(file, await readRegistryOnChain(clients.publicClient, address, file));
        if (left.length > 0)
          throw new Error(
            `after ${plan.length} call(s) the registry still differs: ${left.map(describe).join("; ")}`,
          );
        lines.push(
          plan.length === 0
            ? "the registry matches the file: nothing to do"
            : `the registry matches the file (${plan.length} call(s))`,
        );
        return { result: { sent }, text: lines.join("\n") };
      }),
    );
}
