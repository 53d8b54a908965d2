/**
 * RPC faults: every oracle node talks to the Hardhat node through the fault proxy, which fails
 * 20 % of calls (10 % HTTP 503, 10 % JSON-RPC -32603, none of them forwarded) and delays
 * another 10 % by 200 ms. The interval must still commit exactly once and settle.
 */
import { expect } from "chai";
import { energyMarketAbi } from "../../oracle/src/chain/abis.js";
import { type FaultProxy, draw, startFaultProxy } from "./fault-proxy.js";
import {
  type World,
  GATE,
  INTERVAL,
  nodeConfigs,
  placeOrders,
  setupMarket,
  startWorld,
  waitFor,
} from "./harness.js";
import { EXPECTED_FILLS, scenarioParties } from "./scenario.js";

describe("fault proxy", () => {
  describe("draw", () => {
    it("gives the same sequence for the same seed and a different one for another seed", () => {
      const a = Array.from({ length: 50 }, (_, n) => draw(7, n));
      const b = Array.from({ length: 50 }, (_, n) => draw(7, n));
      const c = Array.from({ length: 50 }, (_, n) => draw(8, n));
      expect(a).to.deep.equal(b);
      expect(a).to.not.deep.equal(c);
      expect(a.every((x) => x >= 0 && x < 1)).to.equal(true);
    });
  });
});

describe("oracle pipeline under RPC faults (e2e, 3-of-5 committee)", function () {
  this.timeout(240_000);
  let env: World;
  let proxy: FaultProxy | undefined;

  before(async () => {
    env = await startWorld();
  });
  after(async () => {
    // The nodes first: they talk to the chain through the proxy.
    await env?.stopNodes();
    await proxy?.close();
    await env?.stop();
  });

  describe("when 20 % of the nodes' RPC calls fail and 10 % are delayed by 200 ms", () => {
    it("retries, commits the interval exactly once and settles every fill", async () => {
      const parties = scenarioParties().filter((p) => p.name !== "B4");
      await setupMarket(env, parties, 2);
      const intervalId = (await env.now()) / INTERVAL + 2n;
      await placeOrders(env, parties, intervalId);

      proxy = await startFaultProxy({
        upstream: env.chain.url,
        seed: 42,
        http503Rate: 0.1,
        rpcErrorRate: 0.1,
        delayRate: 0.1,
        delayMs: 200,
        lifetimeMs: 230_000,
      });
      const { configs } = await nodeConfigs(env, { rpcUrl: proxy.url });
      await env.startNodes(configs);
      await env.setTime(intervalId * INTERVAL - GATE + 1n);

      const market = env.addresses.market;
      const state = await waitFor(
        "all fills settled",
        async () => {
          const s = await env.client.readContract({
            address: market,
            abi: energyMarketAbi,
            functionName: "intervalState",
            args: [intervalId],
          });
          return s.scheduled && s.settledCount === s.fillCount ? s : undefined;
        },
        150_000,
      );
      expect(state.fillCount).to.equal(Object.keys(EXPECTED_FILLS).length);
      const committed = await env.client.getContractEvents({
        address: market,
        abi: energyMarketAbi,
        eventName: "ScheduleCommitted",
        fromBlock: 0n,
        args: { intervalId },
      });
      expect(committed, "exactly one ScheduleCommitted").to.have.length(1);

      const c = proxy.counters;
      expect(c.http503, "503s injected").to.be.greaterThan(0);
      expect(c.rpcError, "-32603 errors injected").to.be.greaterThan(0);
      expect(c.delayed, "calls delayed").to.be.greaterThan(0);
      expect(c.forwarded, "calls forwarded").to.be.greaterThan(0);
      expect(c.calls, "every call counted once").to.be.at.least(c.http503 + c.rpcError + c.forwarded);
    });
  });
});
