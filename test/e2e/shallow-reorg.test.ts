/**
 * A reorg shallower than the nodes' `confirmations` under a committed interval, on Anvil. The
 * watchers read `confirmations` blocks behind the head, so they never see the dropped blocks;
 * what notices is the scheduler's tick: the submit job is completed but the chain shows the
 * interval unscheduled (domain/due-steps.ts, `undoneEffects`). The committee must commit the same
 * schedule again and settle every fill exactly once on the final chain. (Before the tick checked
 * this, the completed job's deterministic id kept the step from being added again: the interval
 * stayed unscheduled until the keeper released its locks at the deadline.)
 */
import { expect } from "chai";
import { expectSettledOnceAfterReorg, intervalReads } from "./reorg-checks.js";
import type { Hash } from "viem";
import { jobId, stateKey } from "../../oracle/src/jobs/context.js";
import { createLogger } from "../../oracle/src/infra/logging.js";
import type { OracleNode } from "../../oracle/src/node/node.js";
import { type Env, GATE, INTERVAL, nodeConfigs, startEnv, startNodes, waitFor } from "./harness.js";
import { bookScenarioOrders, scenarioParties } from "./scenario.js";

/** Deeper than the reorg below, so no watcher reaches the dropped blocks. */
const CONFIRMATIONS = 20n;

describe("chain reorg shallower than confirmations (e2e, Anvil, 3 of a 3-of-5 committee)", function () {
  this.timeout(240_000);
  let env: Env;
  let nodes: OracleNode[] = [];
  const warnings: string[][] = [[], [], []];

  before(async () => {
    env = await startEnv({ chain: "anvil" });
  });
  after(async () => {
    await Promise.allSettled(nodes.map((n) => n.close()));
    await env?.stop();
  });

  it("is noticed by the tick, which commits again and settles every fill exactly once", async () => {
    const parties = scenarioParties();
    const intervalId = await bookScenarioOrders(env, parties);
    await env.setTime(intervalId * INTERVAL - GATE + 1n);
    const { configs } = await nodeConfigs(env, { confirmations: String(CONFIRMATIONS) }, 3);
    nodes = await startNodes(configs, (i) => ({
      logger: createLogger({
        level: "warn",
        destination: { write: (line: string) => void warnings[i]!.push(line) },
      }),
    }));
    const { allSettled, commitsOf } = intervalReads(env, intervalId);

    await waitFor("all fills settled before the reorg", allSettled);
    // And no node still holds a submit or settle job waiting its turn (they are staggered by
    // rank): such a job would commit again by itself after the reorg, and the tick's check would
    // go untested.
    await waitFor("every node's submit and settle-fills jobs finished", async () => {
      for (const node of nodes)
        for (const step of ["submit", "settle-fills"]) {
          const job = await node.context.queues.queue(step).getJob(jobId(node.context, intervalId, step));
          if (job !== undefined && !(await job.isCompleted()) && !(await job.isFailed())) return undefined;
        }
      return true;
    });
    const [first] = await commitsOf();
    const orphanBlock = first!.blockNumber;
    const orphanHash = first!.blockHash as Hash;
    const head = await env.client.getBlockNumber({ cacheTime: 0 });
    const depth = head - orphanBlock + 1n;
    expect(depth, "the reorg is shallower than the watchers' depth").to.be.lessThan(CONFIRMATIONS);
    for (const node of nodes) {
      const cursor = await node.context.redis.hget(stateKey(node.context, "watcher"), "blockNumber");
      expect(cursor === null || BigInt(cursor) < orphanBlock, "no watcher reached the commit block").to.equal(
        true,
      );
    }

    await env.rpc("anvil_reorg", [Number(depth), []]);
    const replaced = await env.client.getBlock({ blockNumber: orphanBlock });
    expect(replaced.hash, "the commit block was replaced").to.not.equal(orphanHash);
    expect(await allSettled(), "the reorg undid the commit").to.equal(undefined);

    const state = await waitFor("all fills settled again on the new chain", allSettled, 120_000);
    expect(state.fillCount).to.equal(6);
    await expectSettledOnceAfterReorg(env, parties, intervalId, orphanHash);
    const noticed = warnings.flat().filter((l) => l.includes("completed steps undone on chain"));
    expect(noticed.length, "some node's tick noticed the undone commit").to.be.greaterThan(0);
  });
});
