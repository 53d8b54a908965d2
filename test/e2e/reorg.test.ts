/**
 * A chain reorganisation under a committed interval, on Anvil (`anvil_reorg(depth, txs)` drops the
 * newest `depth` blocks and mines as many replacements holding only `txs`; the dropped
 * transactions are gone, not returned to the pool). The block holding `ScheduleCommitted` and
 * every settlement after it are orphaned; the committee must notice through its chain watchers,
 * commit the same schedule again and settle every fill exactly once on the final chain.
 */
import { expect } from "chai";
import { expectSettledOnceAfterReorg, intervalReads } from "./reorg-checks.js";
import type { Hash } from "viem";
import { stateKey } from "../../oracle/src/jobs/context.js";
import { createLogger } from "../../oracle/src/infra/logging.js";
import { GATE, INTERVAL, type World, nodeConfigs, startWorld, waitFor } from "./harness.js";
import { EXPECTED_PRICES, bookScenarioOrders, scenarioParties } from "./scenario.js";

/** The nodes' default confirmation depth (config `confirmations`). */
const CONFIRMATIONS = 2n;

describe("chain reorg (e2e, Anvil, 3 of a 3-of-5 committee)", function () {
  this.timeout(240_000);
  let env: World;
  const warnings: string[][] = [[], [], []];

  before(async () => {
    env = await startWorld({ chain: "anvil" });
  });
  after(async () => {
    await env?.stop();
  });

  describe("when the block holding ScheduleCommitted and the settlements after it are dropped", () => {
    it("rewinds every watcher, commits again and settles every fill exactly once on the final chain", async () => {
      const parties = scenarioParties();
      const intervalId = await bookScenarioOrders(env, parties);
      await env.setTime(intervalId * INTERVAL - GATE + 1n);

      // Three nodes are a quorum of the 3-of-5 committee; each logs its warnings to the test.
      const { configs } = await nodeConfigs(env, { confirmations: String(CONFIRMATIONS) }, 3);
      const nodes = await env.startNodes(configs, (i) => ({
        logger: createLogger({
          level: "warn",
          destination: { write: (line: string) => void warnings[i]!.push(line) },
        }),
      }));

      const { allSettled, commitsOf, fillsOf } = intervalReads(env, intervalId);

      await waitFor("all fills settled before the reorg", allSettled);
      const [first] = await commitsOf();
      const orphanBlock = first!.blockNumber;
      const orphanHash = first!.blockHash as Hash;
      expect(await fillsOf(), "six fills before the reorg").to.have.length(6);

      // Bury the commit below the confirmation depth, and wait until every watcher has passed it,
      // so the reorg reaches below what the watchers already delivered.
      for (let i = 0n; i <= CONFIRMATIONS; i++) await env.rpc("evm_mine", []);
      await waitFor("every watcher past the commit block", async () => {
        for (const node of nodes) {
          const cursor = await node.context.redis.hget(stateKey(node.context, "watcher"), "blockNumber");
          if (cursor === null || BigInt(cursor) < orphanBlock) return undefined;
        }
        return true;
      });

      const head = await env.client.getBlockNumber({ cacheTime: 0 });
      await env.rpc("anvil_reorg", [Number(head - orphanBlock + 1n), []]);
      const replaced = await env.client.getBlock({ blockNumber: orphanBlock });
      expect(replaced.hash, "the commit block was replaced").to.not.equal(orphanHash);
      expect(replaced.transactions, "the replacement holds none of the dropped transactions").to.have.length(
        0,
      );

      const state = await waitFor("all fills settled again on the new chain", allSettled, 120_000);
      expect(state.fillCount, "one leaf per open order (B4 cancelled)").to.equal(6);

      const commit = await expectSettledOnceAfterReorg(env, parties, intervalId, orphanHash);
      expect(commit.args.zonePrices).to.deep.equal(EXPECTED_PRICES);

      // Every watcher noticed the reorg and now stands on the canonical chain.
      for (const [i, node] of nodes.entries()) {
        const rewinds = warnings[i]!.filter((l) => l.includes("chain reorg: rewinding the watcher"));
        expect(rewinds.length, `node ${i + 1} rewound its watcher`).to.be.greaterThan(0);
        const cursor = await node.context.redis.hgetall(stateKey(node.context, "watcher"));
        const canonical = await env.client.getBlock({ blockNumber: BigInt(cursor["blockNumber"]!) });
        expect(cursor["blockHash"], `node ${i + 1} cursor on the final chain`).to.equal(canonical.hash);
      }
    });
  });
});
