/**
 * `gridbrain devnet up|down`: a local GridBrain network for developers and integrators, built from
 * the pieces it shares with the demo and the tests (local-services.ts, deploy.ts, oracle-nodes.ts here,
 * and demo/world.ts):
 * a Hardhat node, a redis-server, the suite deployed with Ignition (LocalGridBrain and its test
 * token), a registry seeded with zones, lines, grid tariffs and the participants, participants
 * funded (ETH for gas and test tokens in their wallets, not deposited: depositing is the
 * integrator's first step), the operator funds deposited, and a k-of-n committee of oracle node
 * processes.
 *
 * `up` stays in the foreground, like `hardhat node`: it owns every process it started and stops
 * them on Ctrl-C or SIGTERM. When ready it writes `<dir>/state.json` (addresses, URLs, keys of the
 * dev participants, every process id) and prints the addresses, node URLs and next steps. `down`
 * (from any shell) reads the state file, sends SIGTERM to `up`, and waits until every process id
 * the file names is gone; if `up` itself died, it stops the recorded processes directly.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import type { Address, Hex, PublicClient } from "viem";
import { mnemonicToAccount, type HDAccount } from "viem/accounts";
import { z } from "zod";
import { formatIssues } from "../domain/errors.js";
import { deployLocalSuite, type SuiteAddresses } from "./deploy.js";
import { DEV_MNEMONIC, PROJECT_ROOT, startHardhatNode, startRedis, startTogether } from "./local-services.js";
import { startOracleNodes } from "./oracle-nodes.js";
import { connectDemoChain, defaultGridLayout, fundEth, type DemoChain } from "../demo/world.js";
import { ENERGY_SOURCES, type EnergySource } from "../domain/energy-source.js";
import { type RegistryFile, parseRegistryFile, planRegistry } from "../domain/registry-plan.js";
import { readRegistryOnChain } from "../chain/registry-state.js";

/** The market's timing on a devnet (seconds): the contract defaults, as on a real deployment. */
export const DEVNET_TIMING = {
  intervalSeconds: 900,
  gateClosureSeconds: 300,
  scheduleWindowSeconds: 600,
  meterWindowSeconds: 3600,
  /** The nodes' reading deadline: the market's meter window less the nodes' commit reserve (600 s). */
  meterDeadlineSeconds: 2700,
  meterGraceSeconds: 60,
} as const;

/** Grid tariffs in every zone (test token base units per kWh; the token has 6 decimals). */
export const DEVNET_TARIFFS = { retailPerKwh: 300_000n, feedInPerKwh: 70_000n } as const;
/** Operator funds deposited at start: they pay long imbalances. */
const OPERATOR_FUNDS = 100_000_000_000n; // 100,000 gUSD
const TOKEN_DECIMALS = 6;

const addressField = z
  .string({ required_error: "is required", invalid_type_error: "must be a string" })
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address")
  .transform((v) => v as Address);

/** Whole or decimal test-token amounts with at most 6 decimals ("10000", "2.5"). */
const tokenAmount = z
  .string({ invalid_type_error: 'must be a decimal string such as "10000"' })
  .regex(/^\d{1,12}(\.\d{1,6})?$/, 'must be a decimal amount with at most 6 decimals, e.g. "10000"');

const ParticipantSchema = z
  .object({
    address: addressField,
    zone: z.number({ required_error: "is required" }).int("must be an integer").nonnegative(),
    meter: addressField.optional(),
    source: z
      .enum(ENERGY_SOURCES, { message: `must be one of ${ENERGY_SOURCES.join(", ")}` })
      .default("other"),
    tokens: tokenAmount.default("10000"),
  })
  .strict();

const ParticipantsFileSchema = z
  .object({ participants: z.array(ParticipantSchema).min(1, "must list at least one participant").max(200) })
  .strict();

export interface DevnetParticipant {
  readonly address: Address;
  readonly zone: number;
  /** The smart meter's signing key address (absent: the participant has no meter). */
  readonly meter?: Address;
  readonly source: EnergySource;
  /** Test tokens minted to the participant's wallet, in whole tokens (decimal string). */
  readonly tokens: string;
  /** Only for the default participants (public dev keys): their wallet and meter keys. */
  readonly privateKey?: Hex;
  readonly meterPrivateKey?: Hex;
}

export class DevnetInputError extends Error {
  override readonly name = "DevnetInputError";
}

/**
 * Parses a participants file (`{ "participants": [{ address, zone, meter?, source?, tokens? }] }`)
 * against `zones`; throws a DevnetInputError naming the field (`participants[1].zone: …`).
 */
export function parseParticipantsFile(text: string, zones: number, origin: string): DevnetParticipant[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DevnetInputError(`${origin}: not JSON: ${(error as Error).message}`);
  }
  const parsed = ParticipantsFileSchema.safeParse(json);
  if (!parsed.success) throw new DevnetInputError(`${origin}: ${formatIssues(parsed.error.issues)}`);
  const seen = new Set<string>();
  const meters = new Set<string>();
  return parsed.data.participants.map((p, i) => {
    const at = `${origin}: participants.${i}`;
    if (p.zone >= zones)
      throw new DevnetInputError(`${at}.zone: ${p.zone} does not exist (zones 0..${zones - 1}; see --zones)`);
    if (seen.has(p.address.toLowerCase()))
      throw new DevnetInputError(`${at}.address: ${p.address} is listed twice`);
    seen.add(p.address.toLowerCase());
    if (p.meter !== undefined) {
      if (meters.has(p.meter.toLowerCase()))
        throw new DevnetInputError(`${at}.meter: ${p.meter} is already another participant's meter`);
      meters.add(p.meter.toLowerCase());
    }
    return p.meter === undefined
      ? { address: p.address, zone: p.zone, source: p.source, tokens: p.tokens }
      : { address: p.address, zone: p.zone, meter: p.meter, source: p.source, tokens: p.tokens };
  });
}

const hexKey = (account: HDAccount): Hex => {
  const key = account.getHdKey().privateKey;
  if (key === null) throw new Error("no private key for a dev account");
  return `0x${Buffer.from(key).toString("hex")}`;
};

/** The dev mnemonic's account `index` (Hardhat's funded ones are 0–19). */
const devAccount = (index: number) => mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index });

/**
 * Default participants: `count` households from the dev mnemonic (wallets at index 300+i, meters
 * at 600+i, as in the demo), spread over the zones, every other one with solar panels.
 */
export function defaultParticipants(zones: number, count = 4): DevnetParticipant[] {
  return Array.from({ length: count }, (_, i) => {
    const wallet = devAccount(300 + i);
    const meter = devAccount(600 + i);
    return {
      address: wallet.address,
      zone: i % zones,
      meter: meter.address,
      source: i % 2 === 0 ? "solar" : "other",
      tokens: "10000",
      privateKey: hexKey(wallet),
      meterPrivateKey: hexKey(meter),
    };
  });
}

export interface DevnetOptions {
  readonly committeeSize: number;
  readonly threshold: number;
  readonly zones: number;
  readonly participants: readonly DevnetParticipant[];
  /** Where the state file, node configs, keystores and logs go. */
  readonly dir: string;
  readonly rpcPort: number;
  readonly deploymentId: string;
}

export const DevnetFlagsSchema = z
  .object({
    committeeSize: z.coerce.number().int("must be an integer").min(1).max(19, "must be at most 19"),
    threshold: z.coerce.number().int("must be an integer").min(1).optional(),
    zones: z.coerce.number().int("must be an integer").min(1).max(8, "must be at most 8"),
    participants: z.string().min(1, "must name a file").optional(),
    dir: z.string().min(1, "must name a directory"),
    rpcPort: z.coerce.number().int("must be an integer").min(1).max(65535, "must be a port number"),
    deploymentId: z.string().regex(/^[a-zA-Z0-9_-]+$/, "must be letters, digits, - or _"),
  })
  .strict()
  .transform((f, ctx) => {
    // The default threshold: the smallest strict majority, the contract's lower bound.
    const threshold = f.threshold ?? Math.floor(f.committeeSize / 2) + 1;
    if (!(2 * threshold > f.committeeSize && threshold <= f.committeeSize)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["threshold"],
        message: `must be a strict majority of the committee: ${Math.floor(f.committeeSize / 2) + 1}..${f.committeeSize} for ${f.committeeSize} members, got ${threshold}`,
      });
      return z.NEVER;
    }
    return { ...f, threshold };
  });

export const DEVNET_DEFAULT_DIR = "out/devnet";

/** The state file `up` writes when ready and `down` reads. */
export interface DevnetState {
  readonly version: 1;
  /** The `devnet up` process: SIGTERM stops the whole devnet. */
  readonly pid: number;
  readonly dir: string;
  readonly chainId: 31337;
  readonly rpcUrl: string;
  readonly redisUrl: string;
  readonly deploymentId: string;
  /** The block that created the market: index events from here. */
  readonly deploymentBlock: string;
  readonly addresses: SuiteAddresses;
  readonly timing: typeof DEVNET_TIMING;
  readonly committee: {
    readonly threshold: number;
    readonly nodes: readonly { address: Address; url: string; pid: number; config: string; log: string }[];
  };
  readonly operator: { address: Address; privateKey: Hex };
  readonly participants: readonly DevnetParticipant[];
  /** Every process `up` started (the chain's is the leader of its process group). */
  readonly processes: readonly { name: string; pid: number; group: boolean }[];
}

export const statePath = (dir: string): string => join(dir, "state.json");

export function readDevnetState(dir: string): DevnetState | undefined {
  let text: string;
  try {
    text = readFileSync(statePath(dir), "utf8");
  } catch {
    return undefined;
  }
  return JSON.parse(text) as DevnetState;
}

/** Whether a process (or, with `group`, any process of the group) still runs; a zombie does not. */
export function isRunning(pid: number, group = false): boolean {
  try {
    process.kill(group ? -pid : pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  if (group) return true;
  try {
    // Linux: field 3 of /proc/<pid>/stat is the state; Z is a zombie (exited, not yet reaped).
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once("error", () => done(false));
    server.listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });
}

/** The first block in which `address` has code (binary search over historical state). */
async function creationBlock(client: PublicClient, address: Address): Promise<bigint> {
  let low = 0n;
  let high = await client.getBlockNumber();
  while (low < high) {
    const mid = (low + high) / 2n;
    const code = await client.getCode({ address, blockNumber: mid });
    if (code !== undefined && code !== "0x") high = mid;
    else low = mid + 1n;
  }
  return low;
}

function parseTokens(amount: string): bigint {
  const [whole, fraction = ""] = amount.split(".");
  return BigInt(whole!) * 10n ** BigInt(TOKEN_DECIMALS) + BigInt(fraction.padEnd(TOKEN_DECIMALS, "0"));
}

/**
 * The devnet's registry as a registry file (domain/registry-plan.ts): zones "Zone A", "Zone B", …
 * on the demo's line layout with its grid fee both ways, the devnet tariffs in every zone and no
 * grid account (on a devnet the participants trade among themselves), and the participants with
 * their meters.
 */
export function devnetRegistryFile(zones: number, participants: readonly DevnetParticipant[]): RegistryFile {
  const layout = defaultGridLayout(zones, DEVNET_TARIFFS);
  return parseRegistryFile({
    zones: Array.from({ length: zones }, (_, z) => ({
      name: `Zone ${String.fromCharCode(65 + z)}`,
      grid: {
        retailPerKwh: String(DEVNET_TARIFFS.retailPerKwh),
        feedInPerKwh: String(DEVNET_TARIFFS.feedInPerKwh),
      },
    })),
    lines: layout.lines.map((line) => ({
      between: [line.from, line.to],
      capacityWh: String(line.capacityWh),
      lossBps: line.lossBps,
      feePerKwh: String(layout.gridFeePerKwh),
    })),
    participants: participants.map((p) => ({
      address: p.address,
      zone: p.zone,
      ...(p.meter === undefined ? {} : { meter: { address: p.meter, source: p.source } }),
    })),
  });
}

/** Zones, lines, grid fees and tariffs, participants and meters; ETH and tokens; operator funds. */
async function seed(
  chain: DemoChain,
  operator: HDAccount,
  zones: number,
  participants: readonly DevnetParticipant[],
): Promise<void> {
  const { addresses, abis } = chain;
  const registry = (fn: string, args: readonly unknown[]) =>
    chain.send(operator, addresses.registry, abis.registry, fn, args);
  // The same path a real network's operator takes (`gridbrain registry apply`): the registry as a
  // file, planned against the chain, sent in the planner's order.
  const file = devnetRegistryFile(zones, participants);
  for (const call of planRegistry(
    file,
    await readRegistryOnChain(chain.publicClient, addresses.registry, file),
  ))
    await registry(call.functionName, call.args);
  await fundEth(
    chain,
    participants.map((p) => p.address),
  );
  for (const p of participants)
    await chain.send(operator, addresses.token, abis.token, "mint", [p.address, parseTokens(p.tokens)]);
  await chain.send(operator, addresses.token, abis.token, "mint", [operator.address, OPERATOR_FUNDS]);
  await chain.send(operator, addresses.token, abis.token, "approve", [addresses.market, OPERATOR_FUNDS]);
  await chain.send(operator, addresses.market, abis.market, "depositOperatorFunds", [OPERATOR_FUNDS]);
}

export interface RunningDevnet {
  readonly state: DevnetState;
  /** Stops everything `up` started and removes the state file. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the devnet and writes its state file; `progress` receives one human-readable line per
 * step. On a failure everything started so far is stopped before the error is thrown.
 */
export async function startDevnet(
  options: DevnetOptions,
  progress: (line: string) => void,
): Promise<RunningDevnet> {
  const dir = resolve(options.dir);
  const running = readDevnetState(dir);
  if (running !== undefined && isRunning(running.pid))
    throw new DevnetInputError(
      `--dir: a devnet is already running from ${statePath(dir)} (pid ${running.pid}); stop it with \`gridbrain devnet down --dir ${options.dir}\``,
    );
  if (!(await portIsFree(options.rpcPort)))
    throw new DevnetInputError(`--rpc-port: 127.0.0.1:${options.rpcPort} is in use; give a free port`);
  // Never emptied: --dir may name a directory with other files; the node files are rewritten.
  // A stale state file (its `up` died) goes now, so that `down` cannot signal its old process ids.
  mkdirSync(dir, { recursive: true });
  rmSync(statePath(dir), { force: true });

  const cleanups: (() => Promise<unknown>)[] = [];
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Every cleanup runs even when one fails; the last-started stops first.
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      rmSync(statePath(dir), { force: true });
    })());

  try {
    progress(`starting a Hardhat node on 127.0.0.1:${options.rpcPort} and a redis-server`);
    const [chainService, redis] = await startTogether([
      startHardhatNode({ port: options.rpcPort }),
      startRedis(),
    ]);
    cleanups.push(
      () => chainService.stop(),
      () => redis.stop(),
    );
    cleanups.push(async () =>
      rmSync(join(PROJECT_ROOT, "deploy", "deployments", options.deploymentId), {
        recursive: true,
        force: true,
      }),
    );

    const operator = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 0 });
    const members = Array.from({ length: options.committeeSize }, (_, i) => devAccount(1 + i));
    progress(
      `deploying the suite (Ignition module deploy/modules/LocalGridBrain.ts, deployment id ${options.deploymentId})`,
    );
    const addresses = await deployLocalSuite({
      rpcUrl: chainService.url,
      deploymentId: options.deploymentId,
      committeeMembers: members.map((m) => m.address),
      committeeThreshold: options.threshold,
      market: {
        intervalSeconds: DEVNET_TIMING.intervalSeconds,
        gateClosureSeconds: DEVNET_TIMING.gateClosureSeconds,
        scheduleWindowSeconds: DEVNET_TIMING.scheduleWindowSeconds,
        meterWindowSeconds: DEVNET_TIMING.meterWindowSeconds,
        // As in the demo: retail − feed-in per kWh covers the retail charge of energy sold and not delivered.
        offerCollateralPerKwh: String(DEVNET_TARIFFS.retailPerKwh - DEVNET_TARIFFS.feedInPerKwh),
      },
    });
    const chain = connectDemoChain(chainService.url, addresses);
    const deploymentBlock = await creationBlock(chain.publicClient, addresses.market);

    progress(
      `seeding the registry: ${options.zones} zone(s), ${options.participants.length} participant(s); funding them`,
    );
    await seed(chain, operator, options.zones, options.participants);

    progress(`starting a ${options.threshold}-of-${options.committeeSize} committee of oracle nodes`);
    const nodes = await startOracleNodes({
      accounts: members,
      rpcUrl: chainService.url,
      redisUrl: redis.url,
      addresses,
      workDir: dir,
      intervalSeconds: DEVNET_TIMING.intervalSeconds,
      gateClosureSeconds: DEVNET_TIMING.gateClosureSeconds,
      meterDeadlineSeconds: DEVNET_TIMING.meterDeadlineSeconds,
      meterGraceSeconds: DEVNET_TIMING.meterGraceSeconds,
    });
    // Nodes stop before Redis and the chain (cleanups run last-first).
    cleanups.push(() => nodes.stop());

    const pidOf = (what: string, pid: number | undefined): number => {
      if (pid === undefined) throw new Error(`${what} has no process id`);
      return pid;
    };
    const nodePids = nodes.children.map((c, i) => pidOf(`oracle node ${i}`, c.pid));
    const state: DevnetState = {
      version: 1,
      pid: process.pid,
      dir,
      chainId: 31337,
      rpcUrl: chainService.url,
      redisUrl: redis.url,
      deploymentId: options.deploymentId,
      deploymentBlock: deploymentBlock.toString(),
      addresses,
      timing: DEVNET_TIMING,
      committee: {
        threshold: options.threshold,
        nodes: members.map((m, i) => ({
          address: m.address,
          url: nodes.urls[i]!,
          pid: nodePids[i]!,
          config: nodes.configPaths[i]!,
          log: join(nodes.logDir, `node-${i}.log`),
        })),
      },
      operator: { address: operator.address, privateKey: hexKey(operator) },
      participants: options.participants,
      processes: [
        { name: "hardhat node", pid: pidOf("the Hardhat node", chainService.pid), group: true },
        { name: "redis-server", pid: pidOf("redis-server", redis.pid), group: false },
        ...nodePids.map((pid, i) => ({ name: `oracle node ${i}`, pid, group: false })),
      ],
    };
    // Written whole or not at all: `down` and scripts wait for this file.
    const tmp = `${statePath(dir)}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, statePath(dir));
    return { state, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The lines `up` prints once ready. */
export function describeDevnet(state: DevnetState, stateFile: string): string {
  const a = state.addresses;
  const lines = [
    "",
    "GridBrain devnet is up.",
    `  chain      ${state.rpcUrl}  (chain id ${state.chainId}, Hardhat node; market deployed in block ${state.deploymentBlock})`,
    `  redis      ${state.redisUrl}`,
    `  market     ${a.market}`,
    `  registry   ${a.registry}`,
    `  committee  ${a.committee}  (${state.committee.threshold}-of-${state.committee.nodes.length})`,
    `  token      ${a.token}  (test token gUSD, 6 decimals, public mint)`,
    `  certificates ${a.certificates}`,
    `  flexibility ${a.flexibilityMarket}  (battery flexibility orders: npx gridbrain flex --help)`,
    "  oracle nodes:",
    ...state.committee.nodes.map((n, i) => `    ${i}  ${n.url}  ${n.address}  log ${n.log}`),
    "  participants (zone, meter):",
    ...state.participants.map(
      (p) =>
        `    ${p.address}  zone ${p.zone}  ${p.meter === undefined ? "no meter" : `meter ${p.meter} (${p.source})`}  ${p.tokens} gUSD` +
        (p.privateKey === undefined ? "" : `  key ${p.privateKey}`),
    ),
    `  state file ${stateFile}  (every address, URL, dev key and process id)`,
    "",
    "Next steps (docs/INTEGRATING.md):",
    `  - a settled trade from viem: npx tsx examples/devnet-trade.ts ${stateFile}`,
    `  - market status: npx gridbrain market status --rpc-url ${state.rpcUrl} --chain-id ${state.chainId} --market-address ${a.market} --registry-address ${a.registry}`,
    `  - move chain time: curl -s -X POST ${state.rpcUrl} -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"evm_increaseTime","params":[900]}' (then "evm_mine")`,
    `  - stop: npx gridbrain devnet down --dir ${state.dir}  (or Ctrl-C here)`,
    "",
  ];
  return lines.join("\n");
}

/**
 * Stops the devnet of `dir`: SIGTERM to `up` (which stops what it started), or to each recorded
 * process when `up` is gone; SIGKILL what still runs after `graceMs`. Resolves with the processes
 * it waited for, once none of them runs; undefined when there was no state file.
 */
export async function stopDevnet(
  dir: string,
  options: { graceMs?: number } = {},
): Promise<DevnetState["processes"] | undefined> {
  const state = readDevnetState(resolve(dir));
  if (state === undefined) return undefined;
  const all = [{ name: "devnet up", pid: state.pid, group: false }, ...state.processes];
  const signal = (p: (typeof all)[number], sig: NodeJS.Signals) => {
    try {
      process.kill(p.group ? -p.pid : p.pid, sig);
    } catch {
      // already gone
    }
  };
  if (isRunning(state.pid)) signal(all[0]!, "SIGTERM");
  else for (const p of state.processes) signal(p, "SIGTERM");
  const deadline = Date.now() + (options.graceMs ?? 30_000);
  let killed = false;
  while (all.some((p) => isRunning(p.pid, p.group))) {
    if (!killed && Date.now() > deadline) {
      for (const p of all) if (isRunning(p.pid, p.group)) signal(p, "SIGKILL");
      killed = true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  rmSync(statePath(resolve(dir)), { force: true });
  return all;
}
