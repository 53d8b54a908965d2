/**
 * The node's chain watcher on a local Hardhat network with real Redis (the e2e harness's
 * environment): a node that was down when a schedule was committed settles it after a restart,
 * with its chain-time scheduler switched off, so only the watcher can have found the commit.
 */
import { expect } from "chai";
import { type Hex, concat } from "viem";
import { energyMarketAbi } from "../../../oracle/src/chain/abis.js";
import { readCommittee } from "../../../oracle/src/chain/market.js";
import { signReport } from "../../../oracle/src/chain/reports.js";
import { jobIdFor } from "../../../oracle/src/infra/queue.js";
import { recomputeSchedule, scheduleReport } from "../../../oracle/src/jobs/schedule.js";
import { OracleNode } from "../../../oracle/src/node/node.js";
import {
  type Env,
  GATE,
  INTERVAL,
  nodeConfigs,
  placeOrders,
  setupMarket,
  startEnv,
  waitFor,
} from "../../e2e/harness.js";
import { scenarioParties } from "../../e2e/scenario.js";

/** A gauge's value from the Prometheus text, or undefined when the series is absent. */
async function gauge(node: OracleNode, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(" ").pop());
}

describe("OracleNode chain watcher", function () {
  this.timeout(240_000);
  let env: Env;
  let node: OracleNode | undefined;

  before(async () => {
    env = await startEnv();
  });
  after(async () => {
    await node?.close();
    await env?.stop();
  });

  describe("when the node was down while a schedule was committed", () => {
    it("finds the ScheduleCommitted event from its persisted cursor and settles every fill", async () => {
      const parties = scenarioParties();
      await setupMarket(env, parties, 2);
      const intervalId = (await env.now()) / INTERVAL + 2n;
      await placeOrders(env, parties, intervalId);
      const { configs } = await nodeConfigs(env, { settleStaggerMs: "0" }, 5);
      const config = configs[4]!;
      const market = env.addresses.market;

      // 1. The node runs (scheduler off) until its watcher has a cursor, then stops.
      node = new OracleNode({ config, tickMs: 300, withoutScheduler: true });
      await node.start();
      const head = await env.client.getBlockNumber({ cacheTime: 0 });
      const cursorBefore = await waitFor("watcher cursor", async () => {
        const c = await gauge(node!, "gridbrain_chain_watcher_cursor_block");
        return c !== undefined && c >= Number(head) - config.confirmations ? c : undefined;
      });
      expect(await gauge(node, "gridbrain_chain_watcher_lag_blocks")).to.be.at.least(config.confirmations);
      await node.close();
      node = undefined;

      // 2. Meanwhile the committee (three members' keys, here signed directly) commits.
      await env.setTime(intervalId * INTERVAL - GATE + 1n);
      const { schedule, ordersDigest } = await recomputeSchedule(
        env.client,
        { market, registry: env.addresses.registry },
        intervalId,
        0n,
      );
      const committee = await readCommittee(env.client, env.addresses.committee);
      const report = scheduleReport(market, intervalId, committee.epoch, ordersDigest, schedule);
      const signers = [...env.members.slice(0, 3)].sort((a, b) =>
        a.address.toLowerCase() < b.address.toLowerCase() ? -1 : 1,
      );
      const signatures = await Promise.all(
        signers.map((m) => signReport(m, 31337, { kind: "schedule", report })),
      );
      const commitHash = await env.write(env.members[0]!, market, energyMarketAbi, "commitSchedule", [
        { ...report, zonePrices: [...report.zonePrices] },
        concat(signatures) as Hex,
      ]);
      const commitBlock = (await env.client.getTransactionReceipt({ hash: commitHash })).blockNumber;
      // Confirmation depth: the event becomes visible to the watcher `confirmations` blocks later.
      for (let i = 0; i < config.confirmations; i++) await env.rpc("evm_mine", []);
      expect(schedule.orders.length, "the scenario has fills to settle").to.be.greaterThan(0);

      // 3. Restarted (same Redis prefix, so the same cursor), scheduler still off.
      node = new OracleNode({ config, tickMs: 300, withoutScheduler: true });
      await node.start();
      const settled = await waitFor("all fills settled", async () => {
        const s = await env.client.readContract({
          address: market,
          abi: energyMarketAbi,
          functionName: "intervalState",
          args: [intervalId],
        });
        return s.scheduled && s.settledCount === s.fillCount ? s : undefined;
      });
      expect(settled.fillCount).to.equal(schedule.orders.length);

      // The settlement came from the watcher's job, under the pipeline's deterministic id.
      const job = await node.context.queues
        .queue("settle-fills")
        .getJob(jobIdFor(31337, market, intervalId, "settle-fills"));
      expect(job, "settle-fills job enqueued by the watcher").to.not.equal(undefined);
      const fills = await env.client.getContractEvents({
        address: market,
        abi: energyMarketAbi,
        eventName: "FillSettled",
        fromBlock: commitBlock,
        args: { intervalId },
      });
      expect(fills, "FillSettled events after the commit").to.not.be.empty;
      for (const f of fills) {
        const tx = await env.client.getTransaction({ hash: f.transactionHash });
        expect(tx.from.toLowerCase(), "settled by the restarted node").to.equal(node.address.toLowerCase());
      }
      const cursorAfter = await gauge(node, "gridbrain_chain_watcher_cursor_block");
      expect(cursorAfter).to.be.at.least(Number(commitBlock));
      expect(cursorAfter).to.be.greaterThan(cursorBefore);
    });
  });
});
