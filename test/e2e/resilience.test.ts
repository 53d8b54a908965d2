/**
 * Resilience of the pipeline on a real Hardhat node and real Redis: the committee's Redis
 * restarted (emptied) mid-interval, and the interval's first submitter — a separate
 * `gridbrain oracle serve` process — killed with SIGKILL during solve and during submit.
 * Every assertion is on chain state (ScheduleCommitted events, intervalState), reached by
 * polling with a deadline.
 */
import { expect } from "chai";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Address } from "viem";
import { energyMarketAbi } from "../../oracle/src/chain/abis.js";
import { PROJECT_ROOT } from "../../oracle/src/devnet/local-services.js";
import { loadOwn } from "../../oracle/src/jobs/committee.js";
import { submitRank } from "../../oracle/src/domain/submit-rank.js";
import {
  type Env,
  type World,
  type Party,
  GATE,
  INTERVAL,
  METER_GRACE,
  devKey,
  nodeConfigs,
  placeOrders,
  startWorld,
  waitFor,
} from "./harness.js";
import { scenarioParties } from "./scenario.js";

/** The interval's on-chain state and the number of ScheduleCommitted events for it. */
export async function commitState(env: Env, intervalId: bigint) {
  const state = await env.client.readContract({
    address: env.addresses.market,
    abi: energyMarketAbi,
    functionName: "intervalState",
    args: [intervalId],
  });
  const events = await env.client.getContractEvents({
    address: env.addresses.market,
    abi: energyMarketAbi,
    eventName: "ScheduleCommitted",
    fromBlock: 0n,
    args: { intervalId },
  });
  return { state, commits: events.length };
}

/** Waits until the interval is scheduled and every fill is settled; returns the final state. */
export function settled(env: Env, intervalId: bigint, timeoutMs = 90_000) {
  return waitFor(
    `interval ${intervalId} committed and settled`,
    async () => {
      const s = await commitState(env, intervalId);
      return s.state.scheduled && s.state.settledCount === s.state.fillCount ? s : undefined;
    },
    timeoutMs,
  );
}

/** One oracle node as its own OS process (`gridbrain oracle serve --config`), log lines observable. */
interface NodeProcess {
  readonly child: ChildProcess;
  /** Resolves with the first JSON log line whose `msg` is `msg`. */
  /** The first log line with this `msg` whose fields include `fields` (e.g. this interval's id). */
  waitForLog(
    msg: string,
    fields?: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  kill9(): Promise<void>;
}

function spawnNode(configPath: string): NodeProcess {
  const child = spawn(
    process.execPath,
    [join(PROJECT_ROOT, "bin", "gridbrain.mjs"), "oracle", "serve", "--config", configPath],
    { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  const seen: Record<string, unknown>[] = [];
  const waiters: {
    matches: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }[] = [];
  createInterface({ input: child.stdout! }).on("line", (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    seen.push(line);
    for (const w of waiters.filter((x) => x.matches(line))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(line);
    }
  });
  child.stderr!.resume();
  return {
    child,
    waitForLog: (msg, fields = {}, timeoutMs = 90_000) =>
      new Promise((resolve, reject) => {
        // A fresh node may also work on earlier intervals (its scheduler and chain watcher catch
        // up), so a bare message could come from another interval than the one under test.
        const matches = (l: Record<string, unknown>) =>
          l["msg"] === msg && Object.entries(fields).every(([k, v]) => l[k] === v);
        const found = seen.find(matches);
        if (found !== undefined) return resolve(found);
        const timer = setTimeout(
          () => reject(new Error(`no "${msg}" log line within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          matches,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        child.once("exit", (code, signal) =>
          reject(new Error(`node process exited (${code ?? signal}) before logging "${msg}"`)),
        );
      }),
    kill9: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((done) => child.once("exit", () => done()));
      child.kill("SIGKILL");
      await exited;
    },
  };
}

describe("oracle pipeline resilience (e2e, 3-of-5 committee)", function () {
  this.timeout(300_000);
  let env: World;
  let parties: Party[];
  let processes: NodeProcess[] = [];
  const workDir = mkdtempSync(join(tmpdir(), "gridbrain-resilience-"));
  const stopAll = async () => {
    await Promise.allSettled([env?.stopNodes(), ...processes.map((p) => p.kill9())]);
    processes = [];
  };

  before(async () => {
    parties = scenarioParties().filter((p) => p.name !== "B4");
    env = await startWorld({ market: { parties, zones: 2 } });
  });
  after(async () => {
    await stopAll();
    await env?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });
  afterEach(stopAll);

  /** Places the scenario's orders in the next-but-one interval; returns its id (gate not yet closed). */
  const nextInterval = async (): Promise<bigint> => {
    const intervalId = (await env.now()) / INTERVAL + 2n;
    await placeOrders(env, parties, intervalId);
    return intervalId;
  };
  const closeGate = (intervalId: bigint) => env.setTime(intervalId * INTERVAL - GATE + 1n);

  describe("when Redis restarts after gate closure, before the commit", () => {
    it("commits the interval exactly once and settles every fill", async () => {
      const intervalId = await nextInterval();
      const { configs } = await nodeConfigs(env);
      const nodes = await env.startNodes(configs);
      // Blocks are mined only on request until the restart, so no commit can land before it.
      await env.rpc("evm_setAutomine", [false]);
      try {
        await closeGate(intervalId);
        await waitFor("a node's own signed schedule report", async () => {
          for (const n of nodes)
            if ((await loadOwn(n.context, "schedule", intervalId)) !== undefined) return true;
          return undefined;
        });
        const before = await commitState(env, intervalId);
        expect(before.state.scheduled, "not committed before the restart").to.equal(false);
        await env.redis.restart();
        const emptied = await loadOwn(nodes[0]!.context, "schedule", intervalId);
        expect(emptied, "the restarted Redis holds no report").to.equal(undefined);
      } finally {
        await env.rpc("evm_setAutomine", [true]);
        await env.rpc("evm_mine", []);
      }
      const after = await settled(env, intervalId);
      expect(after.commits, "exactly one ScheduleCommitted").to.equal(1);
      expect(after.state.fillCount).to.equal(parties.length);
    });
  });

  /**
   * Runs one interval with the first submitter as a separate process and four in-process
   * nodes; SIGKILLs the process when it logs `killAt`.
   */
  const killDuring = async (killAt: string, fields: Record<string, unknown>) => {
    const intervalId = await nextInterval();
    const { configs, ports } = await nodeConfigs(env);
    // submitRank takes the members in ascending address order, as the committee reads them.
    const sorted = env.members
      .map((m) => m.address as Address)
      .sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
    const first = env.members.findIndex((m) => submitRank(sorted, m.address, intervalId) === 0);
    expect(first, "a rank-0 member").to.be.at.least(0);
    const configPath = join(workDir, `node-${intervalId}.json`);
    writeFileSync(
      configPath,
      JSON.stringify({
        rpcUrl: env.chain.url,
        chainId: 31337,
        redisUrl: env.redis.url,
        queuePrefix: `proc${first + 1}-${intervalId}`,
        marketAddress: env.addresses.market,
        registryAddress: env.addresses.registry,
        committeeAddress: env.addresses.committee,
        devInsecurePrivateKey: devKey(first + 1),
        httpPort: ports[first],
        logLevel: "info",
        pollIntervalMs: 300,
        peerUrls: ports.filter((_, j) => j !== first).map((p) => `http://127.0.0.1:${p}`),
        submitStaggerMs: 1500,
        settleStaggerMs: 2500,
        aggregateRetryMs: 300,
        meterGraceSeconds: Number(METER_GRACE),
      }),
      { mode: 0o600 },
    );
    const proc = spawnNode(configPath);
    processes = [proc];
    await env.startNodes(configs.filter((_, i) => i !== first));
    await proc.waitForLog("oracle node started");
    await closeGate(intervalId);
    const line = await proc.waitForLog(killAt, { intervalId: intervalId.toString(), ...fields });
    await proc.kill9();
    expect(proc.child.signalCode, "the process died of SIGKILL").to.equal("SIGKILL");
    return { intervalId, line };
  };

  describe("when the first submitter's process is killed with SIGKILL during solve", () => {
    it("another node commits exactly once and every fill settles", async () => {
      const { intervalId } = await killDuring("interval collected", {});
      const after = await settled(env, intervalId);
      expect(after.commits, "exactly one ScheduleCommitted").to.equal(1);
      expect(after.state.fillCount).to.equal(parties.length);
    });
  });

  describe("when the first submitter's process is killed with SIGKILL as it submits", () => {
    it("exactly one commit lands and every fill settles", async () => {
      const { intervalId, line } = await killDuring("quorum reached", { kind: "schedule" });
      expect(line["rank"], "the killed node was the rank-0 submitter").to.equal(0);
      const after = await settled(env, intervalId);
      expect(after.commits, "exactly one ScheduleCommitted").to.equal(1);
      expect(after.state.fillCount).to.equal(parties.length);
    });
  });
});
