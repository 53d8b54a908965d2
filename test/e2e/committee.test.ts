import { expect } from "chai";
import { energyMarketAbi } from "../../oracle/src/chain/abis.js";
import { signaturesFor } from "../../oracle/src/jobs/committee.js";
import { loadOwn } from "../../oracle/src/jobs/committee.js";
import type { DispatchInstanceInput } from "../../oracle/src/domain/dispatch/index.js";
import { verifyInterval } from "../../oracle/src/cli/verify.js";
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
import { byName, scenarioParties } from "./scenario.js";

/** The tamper: B1's quantity is inflated from 4000 to 5000 Wh in the solver's input (ids kept). */
const inflateB1 =
  (b1Id: string) =>
  (instance: DispatchInstanceInput): DispatchInstanceInput => ({
    ...instance,
    orders: instance.orders.map((o) => (o.id === b1Id ? { ...o, quantityWh: 5000 } : o)),
  });

describe("committee disagreement and verify (e2e)", function () {
  this.timeout(240_000);
  let env: World;

  before(async () => {
    env = await startWorld();
  });
  // Each test's nodes stop after it, passed or failed: a committee left running would commit the
  // next test's interval itself.
  afterEach(async () => {
    await env?.stopNodes();
  });
  after(async () => {
    await env?.stop();
  });

  describe("when one of five nodes solves a tampered order set", () => {
    it("commits the honest root; the tampered node collects no peer signature for its forged root", async () => {
      const parties = scenarioParties().filter((p) => p.name !== "B4");
      await setupMarket(env, parties, 2);
      const intervalId = (await env.now()) / INTERVAL + 2n;
      await placeOrders(env, parties, intervalId);
      await env.setTime(intervalId * INTERVAL - GATE + 1n);
      const b1Id = BigInt(byName(parties, "B1").orderId!).toString();
      const { configs } = await nodeConfigs(env);
      const nodes = await env.startNodes(configs, (i) =>
        i === 0 ? { hooks: { tamperInstance: inflateB1(b1Id) } } : {},
      );

      await waitFor("schedule committed", async () => {
        const s = await env.client.readContract({
          address: env.addresses.market,
          abi: energyMarketAbi,
          functionName: "intervalState",
          args: [intervalId],
        });
        return s.scheduled ? true : undefined;
      });
      const result = await verifyInterval({
        client: env.client,
        market: env.addresses.market,
        registry: env.addresses.registry,
        intervalId,
      });
      expect(result.status, "verify of the committed schedule").to.equal("ok");

      const tampered = nodes[0]!.context;
      const forged = await waitFor("the tampered node's own report", () =>
        loadOwn(tampered, "schedule", intervalId),
      );
      const honest = await loadOwn(nodes[1]!.context, "schedule", intervalId);
      expect(forged.digest, "the tampered node signed a different report").to.not.equal(honest!.digest);
      const members = env.members.map((m) => m.address);
      const held = await signaturesFor(tampered, "schedule", intervalId, forged.digest, members);
      expect(
        held.map((s) => s.signer),
        "only its own signature backs the forged root",
      ).to.deep.equal([tampered.account.address]);
      // A peer that had not computed its own report when the forged signature arrived keeps it under
      // its digest (domain/peer-signatures.ts: it would count only if the peer computed the same
      // report). So a peer may hold the tampered node's signature, but no honest member's.
      for (const peer of nodes.slice(1)) {
        const atPeer = await signaturesFor(peer.context, "schedule", intervalId, forged.digest, members);
        expect(
          atPeer.map((s) => s.signer),
          `peer ${peer.address}: no honest member signed the forged root`,
        ).to.satisfy((signers: string[]) => signers.every((a) => a === tampered.account.address));
      }
    });
  });

  describe("when a quorum of nodes commits a tampered schedule", () => {
    it("verify recomputes from chain data and reports the mismatch and the differing fills", async () => {
      const parties = scenarioParties().filter((p) => p.name !== "B4");
      const intervalId = (await env.now()) / INTERVAL + 2n;
      await placeOrders(env, parties, intervalId);
      await env.setTime(intervalId * INTERVAL - GATE + 1n);
      const b1Id = BigInt(byName(parties, "B1").orderId!).toString();
      // Three colluding members (the threshold), all given the same tampered order set.
      const { configs } = await nodeConfigs(env, {}, 3);
      await env.startNodes(configs, () => ({ hooks: { tamperInstance: inflateB1(b1Id) } }));
      await waitFor("schedule committed", async () => {
        const s = await env.client.readContract({
          address: env.addresses.market,
          abi: energyMarketAbi,
          functionName: "intervalState",
          args: [intervalId],
        });
        return s.scheduled ? true : undefined;
      });
      await env.stopNodes();
      const result = await verifyInterval({
        client: env.client,
        market: env.addresses.market,
        registry: env.addresses.registry,
        intervalId,
      });
      expect(result.status).to.equal("mismatch");
      if (result.status !== "mismatch") return;
      expect(result.differences.some((d) => d.startsWith("scheduleRoot"))).to.equal(true);
      // Honest clearing: B1 gets 4000 Wh; the colluders' input let B1 take all 5000 Wh of S1.
      const b1 = result.fills.find(
        (f) => f.orderId.toLowerCase() === byName(parties, "B1").orderId!.toLowerCase(),
      );
      expect(b1?.recomputedWh, "B1's recomputed fill is listed").to.equal(4000n);
    });
  });
});
