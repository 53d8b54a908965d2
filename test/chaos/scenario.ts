/**
 * One chaos suite: its own chain (Hardhat node, own process group) and, per run, its own Redis
 * with AOF on; the demo's neighbourhood deployed and registered once, then snapshotted
 * (evm_snapshot) so that every run — the fault-free reference and each faulted run — starts from
 * the same chain state. A run starts a fresh 3-of-5 committee of oracle node processes, runs the
 * demo's interval loop (oracle/src/demo/run.ts) and meanwhile injects its planned faults, then
 * lets the committee finish (or the liveness paths release) every interval and reads the facts
 * the checks need from the chain and Redis.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  generateNeighbourhood,
  localMidnightUnix,
  NeighbourhoodSimulator,
} from "../../oracle/src/domain/simulation/index.js";
import { deployLocalSuite, type SuiteAddresses } from "../../oracle/src/devnet/deploy.js";
import { PROJECT_ROOT } from "../../oracle/src/devnet/local-services.js";
import { startOracleNodes, type OracleNodeProcesses } from "../../oracle/src/devnet/oracle-nodes.js";
import { runIntervals, type IntervalRecord } from "../../oracle/src/demo/run.js";
import {
  connectDemoChain,
  defaultGridLayout,
  demoAccounts,
  setUpNeighbourhood,
} from "../../oracle/src/demo/world.js";
import { readChainFacts, readRedisFacts, type ChainFacts, type RedisFacts } from "./facts.js";
import { intervalOutcomes } from "./checks.js";
import type { FaultKind, PlannedFault } from "./plan.js";
import { startAofRedis, startChain, type ChaosChain, type ChaosRedis } from "./services.js";

/** The demo's market timing (oracle/src/demo/main.ts). */
export const TIMING = { intervalSeconds: 900, gateClosureSeconds: 300, meterGraceSeconds: 60 };
const SCHEDULE_WINDOW = 600;
const METER_WINDOW = 3600;
/** The nodes' reading deadline (after interval end), as in the demo: the commit reserve before the meter window closes. */
const READING_DEADLINE = 2700;
const COMMITTEE = { threshold: 3, size: 5 };
const RETAIL = 300_000;
const FEED_IN = 70_000;

export interface SuiteOptions {
  readonly seed: number;
  readonly prosumers: number;
  readonly zones: number;
  readonly intervals: number;
  /** Local hour of the first interval: midday, so PV sells and the lossy line carries energy. */
  readonly startHour: number;
  readonly log?: (line: string) => void;
}

export interface RunLimits {
  /** Wall limit for the committee to catch up after a fault before the next one (s). */
  readonly recoveryLimitSeconds: number;
  /** After the demo: wall limit for every interval to become final (s). */
  readonly finalLimitSeconds: number;
  /** After chain time passes every deadline: wall limit for the liveness paths to release (s). */
  readonly releaseLimitSeconds: number;
}

export const DEFAULT_LIMITS: RunLimits = {
  recoveryLimitSeconds: 120,
  finalLimitSeconds: 90,
  releaseLimitSeconds: 120,
};

export interface FaultRecord extends PlannedFault {
  readonly injected: boolean;
  /** Wall seconds from the start of the fault to recovery (outage included); null: not within the limit. */
  readonly recoverySeconds: number | null;
  /** Chain time at which it struck, and the intervals the committee still owed work on then. */
  readonly chainTime?: string;
  readonly note?: string;
}

export interface RunResult {
  readonly label: string;
  readonly faults: readonly FaultRecord[];
  readonly records: readonly IntervalRecord[];
  /** Set when the demo's loop threw (it stopped before its last interval). */
  readonly demoError?: string;
  readonly intervalIds: readonly bigint[];
  readonly chain: ChainFacts;
  readonly redis: RedisFacts;
  readonly households: readonly string[];
  /** Chain time had to be moved past the deadlines for some interval to be released. */
  readonly releasePhase: { needed: boolean; seconds: number | null };
  readonly wallSeconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rpc(url: string, method: string, params: unknown[] = [], timeoutMs = 5_000): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

async function chainTime(url: string): Promise<number | undefined> {
  try {
    const block = (await rpc(url, "eth_getBlockByNumber", ["latest", false], 2_000)) as { timestamp: string };
    return Number(BigInt(block.timestamp));
  } catch {
    return undefined; // stalled or restarting
  }
}

async function ready(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

/** The committee's processes, killable and restartable one by one (same config, same port). */
class Committee {
  private readonly current: ChildProcess[];
  constructor(private readonly nodes: OracleNodeProcesses) {
    this.current = [...nodes.children];
  }
  get urls() {
    return this.nodes.urls;
  }
  async kill(i: number): Promise<void> {
    const child = this.current[i]!;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((done) => child.once("exit", () => done()));
    child.kill("SIGKILL");
    await exited;
  }
  async restart(i: number): Promise<void> {
    const log = createWriteStream(join(this.nodes.logDir, `node-${i}.log`), { flags: "a" });
    const child = spawn(
      process.execPath,
      [join(PROJECT_ROOT, "bin", "gridbrain.mjs"), "oracle", "serve", "--config", this.nodes.configPaths[i]!],
      { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.current[i] = child;
    const deadline = Date.now() + 120_000;
    while (!(await ready(this.urls[i]!))) {
      if (child.exitCode !== null)
        throw new Error(`restarted oracle node ${i} exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`restarted oracle node ${i} not ready within 120 s`);
      await sleep(250);
    }
  }
  async allReady(): Promise<boolean> {
    return (await Promise.all(this.urls.map(ready))).every(Boolean);
  }
  async stop(): Promise<void> {
    await Promise.all(
      this.current.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
            setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
          }),
      ),
    );
    await this.nodes.stop();
  }
}

export interface ChaosSuite {
  run(label: string, faults: readonly PlannedFault[], limits?: RunLimits): Promise<RunResult>;
  stop(): Promise<void>;
}

export async function startSuite(options: SuiteOptions): Promise<ChaosSuite> {
  const log = options.log ?? (() => undefined);
  const chain: ChaosChain = await startChain();
  const deploymentId = `chaos-${process.pid}-${Date.now()}`;
  const committeeAccounts = demoAccounts(options.zones, options.prosumers, COMMITTEE.size);
  let addresses: SuiteAddresses;
  let snapshot: string;
  try {
    addresses = await deployLocalSuite({
      rpcUrl: chain.url,
      deploymentId,
      committeeMembers: committeeAccounts.oracleNodes.map((a) => a.address),
      committeeThreshold: COMMITTEE.threshold,
      market: {
        intervalSeconds: TIMING.intervalSeconds,
        gateClosureSeconds: TIMING.gateClosureSeconds,
        scheduleWindowSeconds: SCHEDULE_WINDOW,
        meterWindowSeconds: METER_WINDOW,
      },
    });
    const neighbourhood = generateNeighbourhood({
      seed: options.seed,
      prosumers: options.prosumers,
      zones: options.zones,
    });
    await setUpNeighbourhood(
      connectDemoChain(chain.url, addresses),
      committeeAccounts,
      neighbourhood,
      defaultGridLayout(options.zones, { retailPerKwh: BigInt(RETAIL), feedInPerKwh: BigInt(FEED_IN) }),
    );
    snapshot = (await rpc(chain.url, "evm_snapshot")) as string;
  } catch (error) {
    await chain.stop();
    throw error;
  } finally {
    rmSync(join(PROJECT_ROOT, "deploy", "deployments", deploymentId), { recursive: true, force: true });
  }
  log(`suite deployed: market ${addresses.market}, seed ${options.seed}`);
  const firstStart = localMidnightUnix("2027-06-21") + options.startHour * 3600;
  let runs = 0;

  async function run(
    label: string,
    faults: readonly PlannedFault[],
    limits = DEFAULT_LIMITS,
  ): Promise<RunResult> {
    const wallStart = Date.now();
    if (runs++ > 0) {
      // Every run starts from the deployed, registered, funded neighbourhood (evm_revert consumes
      // the snapshot, so a new one is taken at once).
      if ((await rpc(chain.url, "evm_revert", [snapshot])) !== true) throw new Error("evm_revert failed");
      snapshot = (await rpc(chain.url, "evm_snapshot")) as string;
    }
    const redis: ChaosRedis = await startAofRedis();
    const workDir = mkdtempSync(join(tmpdir(), "gridbrain-chaos-"));
    const accounts = demoAccounts(options.zones, options.prosumers, COMMITTEE.size);
    const demoChain = connectDemoChain(chain.url, addresses);
    let committee: Committee | undefined;
    try {
      committee = new Committee(
        await startOracleNodes({
          accounts: accounts.oracleNodes,
          rpcUrl: chain.url,
          redisUrl: redis.url,
          addresses,
          workDir,
          ...TIMING,
          meterDeadlineSeconds: READING_DEADLINE,
        }),
      );
      log(`[${label}] committee started (logs ${workDir}/logs)`);
      const neighbourhood = generateNeighbourhood({
        seed: options.seed,
        prosumers: options.prosumers,
        zones: options.zones,
      });
      const simulator = new NeighbourhoodSimulator(neighbourhood, {
        startUnix: firstStart,
        intervalSeconds: TIMING.intervalSeconds,
        seed: options.seed,
      });
      const intervalIds = Array.from({ length: options.intervals }, (_, k) =>
        BigInt(firstStart / TIMING.intervalSeconds + k),
      );
      let demoDone = false;
      let demoError: string | undefined;
      const demo = runIntervals({
        chain: demoChain,
        accounts,
        neighbourhood,
        simulator,
        timing: TIMING,
        intervals: options.intervals,
        nodeUrls: committee.urls,
        retailPricePerKwh: RETAIL,
        feedInPricePerKwh: FEED_IN,
        stepTimeoutMs: 150_000,
        onInterval: (r) =>
          log(
            `[${label}] interval ${r.intervalId} ${r.final ? "final" : `NOT FINAL: ${r.problem}`} (${((Date.now() - wallStart) / 1000).toFixed(0)} s)`,
          ),
      })
        .then((result) => result.records)
        .catch((error: unknown) => {
          demoError = error instanceof Error ? error.message : String(error);
          log(`[${label}] demo stopped: ${demoError}`);
          return [] as IntervalRecord[];
        })
        .finally(() => {
          demoDone = true;
        });

      const records: FaultRecord[] = [];
      for (const fault of faults)
        records.push(await inject(fault, committee, redis, () => demoDone, intervalIds, limits, label));
      const demoRecords = await demo;

      const releasePhase = await finishOrRelease(committee, redis, intervalIds, limits, label);
      const chainFacts = await readChainFacts(demoChain.publicClient, addresses, intervalIds);
      const redisFacts = await readRedisFacts(
        redis.url,
        accounts.oracleNodes.map((_, i) => `gridbrain-node${i}`),
      );
      return {
        label,
        faults: records,
        records: demoRecords,
        ...(demoError === undefined ? {} : { demoError }),
        intervalIds,
        chain: chainFacts,
        redis: redisFacts,
        households: accounts.households.map((a) => a.address.toLowerCase()),
        releasePhase,
        wallSeconds: (Date.now() - wallStart) / 1000,
      };
    } finally {
      chain.resume(); // never leave the chain stopped
      await committee?.stop();
      await redis.stop();
      rmSync(workDir, { recursive: true, force: true });
    }
  }

  /** Waits for the fault's moment, injects it, ends it, and measures how long the committee takes to catch up. */
  async function inject(
    fault: PlannedFault,
    committee: Committee,
    redis: ChaosRedis,
    demoDone: () => boolean,
    intervalIds: readonly bigint[],
    limits: RunLimits,
    label: string,
  ): Promise<FaultRecord> {
    const moment = firstStart + fault.atChainOffsetSeconds;
    // A demo that stopped early no longer moves chain time: the fault then strikes at once, so the
    // committee still meets every planned fault while it finishes what the demo left.
    let note: string | undefined;
    for (;;) {
      if (demoDone()) {
        note = "the demo had stopped before its moment: struck at once";
        break;
      }
      const now = await chainTime(chain.url);
      if (now !== undefined && now >= moment) break;
      await sleep(100);
    }
    await sleep(fault.delayMs);
    const struck = Date.now();
    const at = await chainTime(chain.url);
    log(
      `[${label}] ${fault.kind} ${fault.nodes.length > 0 ? `nodes ${fault.nodes.join(",")} ` : ""}for ${fault.downMs} ms at chain time ${at}`,
    );
    const down: Record<FaultKind, () => Promise<void>> = {
      "node-kill": () => committee.kill(fault.nodes[0]!),
      "quorum-loss": async () => void (await Promise.all(fault.nodes.map((i) => committee.kill(i)))),
      "redis-kill": () => redis.kill(),
      "chain-stall": async () => chain.pause(),
    };
    const up: Record<FaultKind, () => Promise<void>> = {
      "node-kill": () => committee.restart(fault.nodes[0]!),
      "quorum-loss": async () => void (await Promise.all(fault.nodes.map((i) => committee.restart(i)))),
      "redis-kill": () => redis.restart(),
      "chain-stall": async () => chain.resume(),
    };
    await down[fault.kind]();
    await sleep(fault.downMs);
    await up[fault.kind]();
    // Recovered: every node ready again, and every step the committee owed when the fault ended
    // done — the schedule and fills of each interval whose gate had closed, the meter report of
    // each interval whose meter grace had passed.
    const endedAt = (await chainTime(chain.url)) ?? 0;
    const client = connectDemoChain(chain.url, addresses).publicClient;
    const owed = async () => {
      for (const intervalId of intervalIds) {
        const start = Number(intervalId) * TIMING.intervalSeconds;
        const s = (await client.readContract({
          address: addresses.market,
          abi: connectDemoChain(chain.url, addresses).abis.market,
          functionName: "intervalState",
          args: [intervalId],
        })) as { scheduled: boolean; fillCount: number; settledCount: number; meterRoot: string };
        if (endedAt > start - TIMING.gateClosureSeconds && !(s.scheduled && s.settledCount === s.fillCount))
          return true;
        if (endedAt > start + TIMING.intervalSeconds + TIMING.meterGraceSeconds && /^0x0+$/.test(s.meterRoot))
          return true;
      }
      return false;
    };
    const limit = struck + fault.downMs + limits.recoveryLimitSeconds * 1000;
    for (;;) {
      const healthy =
        (await committee.allReady()) &&
        redis.ping() &&
        (await chain.answers()) &&
        !(await owed().catch(() => true));
      if (healthy) {
        const recoverySeconds = (Date.now() - struck) / 1000;
        log(`[${label}] ${fault.kind} recovered after ${recoverySeconds.toFixed(1)} s`);
        return {
          ...fault,
          injected: true,
          recoverySeconds,
          chainTime: String(at),
          ...(note === undefined ? {} : { note }),
        };
      }
      if (Date.now() > limit) {
        log(
          `[${label}] ${fault.kind} NOT recovered within ${limits.recoveryLimitSeconds} s after the outage`,
        );
        return {
          ...fault,
          injected: true,
          recoverySeconds: null,
          chainTime: String(at),
          note: "not recovered within the limit",
        };
      }
      await sleep(250);
    }
  }

  /**
   * After the demo: waits for every interval to become final; if some do not within the limit,
   * moves chain time past every interval's meter deadline (the last liveness deadline) and waits
   * for the committee's keepers to release what is locked.
   */
  async function finishOrRelease(
    committee: Committee,
    redis: ChaosRedis,
    intervalIds: readonly bigint[],
    limits: RunLimits,
    label: string,
  ): Promise<RunResult["releasePhase"]> {
    const client = connectDemoChain(chain.url, addresses).publicClient;
    const prefixes = Array.from({ length: COMMITTEE.size }, (_, i) => `gridbrain-node${i}`);
    const statuses = async () =>
      intervalOutcomes(
        await readChainFacts(client, addresses, intervalIds),
        await readRedisFacts(redis.url, prefixes),
        intervalIds,
      );
    const waitAll = async (ok: (s: string) => boolean, seconds: number) => {
      const deadline = Date.now() + seconds * 1000;
      for (;;) {
        const s = await statuses();
        if (s.every((x) => x.status === "untraded" || ok(x.status))) return true;
        if (Date.now() > deadline) return false;
        await sleep(3_000);
      }
    };
    // A demo that stopped early left chain time where it was; real time would have moved on.
    // Interval by interval (one jump past the last one would close the earlier ones' meter
    // windows), move it past the reading deadline of each scheduled, unmetered interval — a
    // reading that reached no node then counts as missing — and give the committee until its
    // report lands (or the recovery limit).
    const market = connectDemoChain(chain.url, addresses);
    for (const intervalId of intervalIds) {
      const metered = async () => {
        const s = (await client.readContract({
          address: addresses.market,
          abi: market.abis.market,
          functionName: "intervalState",
          args: [intervalId],
        })) as { scheduled: boolean; meterRoot: string };
        return !s.scheduled || !/^0x0+$/.test(s.meterRoot);
      };
      if (await metered()) continue;
      const deadline =
        Number(intervalId) * TIMING.intervalSeconds + TIMING.intervalSeconds + READING_DEADLINE;
      if (((await chainTime(chain.url)) ?? 0) <= deadline) {
        await rpc(chain.url, "evm_setNextBlockTimestamp", [deadline + 1]);
        await rpc(chain.url, "evm_mine");
      }
      const until = Date.now() + limits.recoveryLimitSeconds * 1000;
      while (!(await metered()) && Date.now() < until) await sleep(1_000);
    }
    if (await waitAll((s) => s === "final", limits.finalLimitSeconds)) return { needed: false, seconds: 0 };
    log(
      `[${label}] not every interval final after ${limits.finalLimitSeconds} s; moving chain time past the meter deadlines`,
    );
    const facts = await readChainFacts(client, addresses, intervalIds);
    const last = [...facts.meterDeadlines.values()].reduce((a, b) => (a > b ? a : b), 0n);
    await rpc(chain.url, "evm_setNextBlockTimestamp", [Number(last) + 1]);
    await rpc(chain.url, "evm_mine");
    const started = Date.now();
    void committee; // the keepers are the nodes' own; nothing here releases anything
    const released = await waitAll((s) => s !== "stuck", limits.releaseLimitSeconds);
    return { needed: true, seconds: released ? (Date.now() - started) / 1000 : null };
  }

  return {
    run,
    stop: () => chain.stop(),
  };
}
