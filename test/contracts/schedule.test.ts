import { expect } from "chai";
import type { Address, Hex } from "viem";
import {
  Side,
  gridBrainDomain,
  hashOrder,
  hashScheduleReport,
  hashMeterReport,
} from "../../oracle/src/domain/eip712.js";
import {
  buildFillTree,
  buildMeterTree,
  fillMultiProof,
  fillProof,
  meterProof,
  ordersDigest,
  scheduleCommitment,
} from "../../oracle/src/domain/schedule.js";
import { intervalBudget } from "../../oracle/src/domain/budget.js";
import { solveDispatch } from "../../oracle/src/domain/dispatch/index.js";
import { intervalSchedule } from "../../oracle/src/domain/clearing.js";
import { connect, deploySuite } from "./helpers/fixture.js";

const conn = await connect();
const fixture = () =>
  conn.networkHelpers.loadFixture(async function scheduledInterval() {
    const suite = await deploySuite(conn);
    const { market, alice, bob, carol, dave, interval, chainId, marketAddress } = suite;
    const domain = gridBrainDomain(chainId, marketAddress);
    const orders = [
      { signer: alice, side: Side.Buy, zoneId: 0, quantityWh: 2000n, limitPricePerKwh: 300_000n },
      { signer: bob, side: Side.Sell, zoneId: 0, quantityWh: 2000n, limitPricePerKwh: 100_000n },
      { signer: carol, side: Side.Buy, zoneId: 1, quantityWh: 1000n, limitPricePerKwh: 400_000n },
      { signer: dave, side: Side.Sell, zoneId: 1, quantityWh: 3000n, limitPricePerKwh: 150_000n },
    ].map((o) => ({
      ...o,
      order: {
        owner: o.signer.address as Address,
        intervalId: interval,
        side: o.side,
        zoneId: o.zoneId,
        quantityWh: o.quantityWh,
        limitPricePerKwh: o.limitPricePerKwh,
        nonce: 0n,
      },
    }));
    for (const o of orders) {
      const place =
        o.side === Side.Buy ? market.connect(o.signer).placeBid : market.connect(o.signer).placeOffer;
      await place(interval, o.zoneId, o.quantityWh, o.limitPricePerKwh, 0n);
    }
    const ids = orders.map((o) => hashOrder(domain, o.order));
    // Hand-made dispatch: zone 0 price 200_000, zone 1 price 250_000; bob sells 1500 Wh to alice,
    // dave sells 1000 Wh to carol.
    const fills = [1500n, 1500n, 1000n, 1000n];
    const zonePrices = [200_000n, 250_000n];
    const tree = buildFillTree(ids.map((orderId, i) => ({ orderId, filledWh: fills[i]! })));
    const report = {
      market: marketAddress,
      intervalId: interval,
      configEpoch: 1n,
      ordersDigest: ordersDigest(ids),
      scheduleRoot: tree.root as Hex,
      fillCount: ids.length,
      zonePrices,
    };
    const digest = hashScheduleReport(domain, report);
    const signatures = ("0x" +
      suite.members
        .slice(0, 3)
        .map((m) => m.signingKey.sign(digest).serialized.slice(2))
        .join("")) as Hex;
    await conn.networkHelpers.time.increaseTo(await market.gateClosure(interval));
    await market.commitSchedule(report, signatures);
    return { ...suite, domain, orders, ids, fills, zonePrices, tree, report };
  });

/**
 * An interval cleared by the dispatch engine over a lossy line (2 %, no fee), committed with the
 * committee's own mapping (domain/clearing.ts `intervalSchedule`): bob sells in zone 0 at ≥ 70,001,
 * carol buys 100 Wh in zone 1 at ≤ 90,000. The LP sends 102.04 Wh; the integer schedule sends 102
 * and delivers ⌊99.96⌋ = 99, which at the LP's prices (70,001 / 71,430) pays bob more than carol
 * pays — rounding step 6 raises zone 1's price instead.
 */
const lossyFixture = () =>
  conn.networkHelpers.loadFixture(async function lossyInterval() {
    const suite = await deploySuite(conn);
    const { market, bob, carol, interval, chainId, marketAddress } = suite;
    const domain = gridBrainDomain(chainId, marketAddress);
    const placed = [
      { signer: bob, side: Side.Sell, zoneId: 0, quantityWh: 500n, limitPricePerKwh: 70_001n },
      { signer: carol, side: Side.Buy, zoneId: 1, quantityWh: 100n, limitPricePerKwh: 90_000n },
    ];
    for (const o of placed) {
      const place =
        o.side === Side.Buy ? market.connect(o.signer).placeBid : market.connect(o.signer).placeOffer;
      await place(interval, o.zoneId, o.quantityWh, o.limitPricePerKwh, 0n);
    }
    const orders = placed.map((o) => {
      const order = {
        owner: o.signer.address as Address,
        intervalId: interval,
        side: o.side,
        zoneId: o.zoneId,
        quantityWh: o.quantityWh,
        limitPricePerKwh: o.limitPricePerKwh,
        nonce: 0n,
      };
      return { ...order, orderId: hashOrder(domain, order) };
    });
    const result = await solveDispatch({
      horizon: { firstInterval: Number(interval), intervals: 1 },
      zones: [0, 1],
      lines: [{ from: 0, to: 1, capacityWh: 1000, lossFactor: 0.02, feePerKwh: 0 }],
      orders: orders.map((o) => ({
        id: BigInt(o.orderId).toString(),
        owner: o.owner,
        zone: o.zoneId,
        side: o.side === Side.Buy ? ("bid" as const) : ("offer" as const),
        quantityWh: Number(o.quantityWh),
        limitPricePerKwh: Number(o.limitPricePerKwh),
        interval: Number(interval),
      })),
    });
    const schedule = intervalSchedule(orders, 2, result);
    const ids = orders.map((o) => o.orderId);
    const commit = async (zonePrices: readonly bigint[]) => {
      const report = {
        market: marketAddress,
        intervalId: interval,
        configEpoch: 1n,
        ordersDigest: ordersDigest(ids),
        scheduleRoot: schedule.scheduleRoot,
        fillCount: ids.length,
        zonePrices: [...zonePrices],
      };
      const digest = hashScheduleReport(domain, report);
      const signatures = ("0x" +
        suite.members
          .slice(0, 3)
          .map((m) => m.signingKey.sign(digest).serialized.slice(2))
          .join("")) as Hex;
      await conn.networkHelpers.time.increaseTo(await market.gateClosure(interval));
      await market.commitSchedule(report, signatures);
    };
    const tree = buildFillTree(ids.map((orderId, i) => ({ orderId, filledWh: schedule.filledWh[i]! })));
    const settleAll = (zonePrices: readonly bigint[]) => {
      const multi = fillMultiProof(tree, ids);
      const byId = new Map(ids.map((id, i) => [id, i]));
      const batch = multi.leaves.map((leaf) => {
        const i = byId.get(leaf.orderId)!;
        const { orderId: _id, ...order } = orders[i]!;
        return { order, filledWh: schedule.filledWh[i]! };
      });
      return market.settleFills(interval, tree.root, [...zonePrices], batch, multi.proof, multi.proofFlags);
    };
    return { ...suite, orders, result, schedule, commit, settleAll };
  });

function toFill(
  o: {
    order: {
      owner: Address;
      intervalId: bigint;
      side: number;
      zoneId: number;
      quantityWh: bigint;
      limitPricePerKwh: bigint;
      nonce: bigint;
    };
  },
  filledWh: bigint,
) {
  return { order: o.order, filledWh };
}

describe("schedule twin (oracle/src/domain/schedule.ts)", function () {
  describe("ordersDigest", function () {
    describe("when computed from the placed order ids", function () {
      it("was accepted by commitSchedule and the commitment matches", async function () {
        const { market, interval, tree, zonePrices } = await fixture();
        const state = await market.intervalState(interval);
        expect(state.scheduled).to.equal(true);
        expect(state.commitment).to.equal(scheduleCommitment(tree.root as Hex, zonePrices));
      });
    });
  });

  describe("fillMultiProof", function () {
    describe("when every fill is settled in one batch", function () {
      it("settles them all on-chain with the TS-built multiproof", async function () {
        const { market, interval, tree, ids, orders, fills, zonePrices, alice, dave, operator } =
          await fixture();
        const multi = fillMultiProof(tree, ids);
        const byId = new Map(ids.map((id, i) => [id, i]));
        const batch = multi.leaves.map((leaf) => {
          const i = byId.get(leaf.orderId)!;
          return toFill(orders[i]!, fills[i]!);
        });
        await market
          .connect(operator)
          .settleFills(interval, tree.root, zonePrices, batch, multi.proof, multi.proofFlags);
        expect((await market.intervalState(interval)).settledCount).to.equal(4n);
        // alice: 1500 Wh at 200_000/kWh = 300_000 charged; the imbalance collateral of the 1500 Wh bought (150_000)
        // stays locked until her delivery is settled.
        expect(await market.balanceOf(alice.address)).to.equal(1_000_000_000n - 300_000n - 150_000n);
        // dave: 1000 Wh at 250_000 = 250_000 withheld until delivery; collateral for 2000 unfilled Wh released,
        // 1000 Wh kept (100_000).
        expect(await market.balanceOf(dave.address)).to.equal(1_000_000_000n - 100_000n);
        expect(await market.pendingPayout(dave.address, interval)).to.equal(250_000n);
        // Surplus: receipts 300_000 + 250_000 − payouts 300_000 + 250_000 = 0 (no congestion here).
        expect(await market.operatorFunds()).to.equal(0n);
      });
    });
  });

  describe("fillProof", function () {
    describe("when a user pulls one fill", function () {
      it("settles it on-chain with the TS-built proof", async function () {
        const { market, tree, ids, orders, fills, zonePrices, carol } = await fixture();
        await market.claimFill(
          tree.root,
          zonePrices,
          toFill(orders[2]!, fills[2]!),
          fillProof(tree, ids[2]!),
        );
        // carol: 1000 Wh at 250_000 = 250_000 charged out of a 400_000 lock; 100_000 of imbalance collateral kept.
        expect(await market.balanceOf(carol.address)).to.equal(1_000_000_000n - 250_000n - 100_000n);
      });
    });

    describe("when the fill is altered", function () {
      it("is rejected on-chain", async function () {
        const { market, tree, ids, orders, zonePrices } = await fixture();
        await expect(
          market.claimFill(tree.root, zonePrices, toFill(orders[2]!, 999n), fillProof(tree, ids[2]!)),
        ).to.be.revertedWithCustomError(market, "InvalidProof");
      });
    });
  });

  describe("a lossy two-zone schedule from the dispatch engine", function () {
    describe("when it is committed as the committee maps it", function () {
      it("settles every fill without BudgetExceeded, and the operator keeps the congestion rent", async function () {
        const { market, interval, schedule, result, commit, settleAll, bob, carol } = await lossyFixture();
        expect(result.schedule.flows, "energy crosses the lossy line").to.deep.equal([
          { interval: Number(interval), from: 0, to: 1, sentWh: 102, receivedWh: 99 },
        ]);
        expect(schedule.filledWh).to.deep.equal([102n, 99n]);
        expect(schedule.zonePrices).to.deep.equal([70_001n, 72_123n]);
        await commit(schedule.zonePrices);
        await settleAll(schedule.zonePrices);
        expect((await market.intervalState(interval)).settledCount).to.equal(2n);
        // carol pays ⌈99·72,123/1000⌉ = 7,141, and the imbalance collateral of her 99 Wh
        // (⌈99·100,000/1000⌉ = 9,900) stays locked until her delivery settles.
        expect(await market.balanceOf(carol.address)).to.equal(1_000_000_000n - 7_141n - 9_900n);
        expect(await market.operatorFunds(), "receipts − payouts").to.equal(1n);
        // bob earns ⌊102·70,001/1000⌋ = 7,140, withheld until his delivery settles (sellers are paid
        // after delivery); the collateral of his 102 Wh (10,200) stays locked, that of the 398
        // unfilled Wh is released.
        expect(await market.balanceOf(bob.address)).to.equal(1_000_000_000n - 10_200n);
        expect(await market.pendingPayout(bob.address, interval), "bob's withheld payout").to.equal(7_140n);
      });
    });

    describe("when it is committed at the prices of the old rounding (the LP's, 70,001 / 71,430)", function () {
      it("reverts BudgetExceeded with exactly the amounts the domain's budget rule predicts", async function () {
        const { market, interval, orders, schedule, commit, settleAll } = await lossyFixture();
        const oldPrices = [70_001n, 71_430n];
        const predicted = intervalBudget(
          oldPrices,
          orders.map((o, i) => ({
            side: o.side === Side.Buy ? ("bid" as const) : ("offer" as const),
            zone: o.zoneId,
            filledWh: schedule.filledWh[i]!,
          })),
        );
        expect(predicted).to.deep.equal({ receipts: 7_072n, payouts: 7_140n, balanced: false });
        await commit(oldPrices);
        await expect(settleAll(oldPrices))
          .to.be.revertedWithCustomError(market, "BudgetExceeded")
          .withArgs(interval, predicted.payouts, predicted.receipts);
      });
    });
  });

  describe("meterProof", function () {
    describe("when the meter report is built in TS", function () {
      it("settles an imbalance on-chain with the TS-built proof", async function () {
        const {
          market,
          interval,
          tree,
          ids,
          orders,
          fills,
          zonePrices,
          domain,
          members,
          marketAddress,
          alice,
          bob,
          carol,
          dave,
        } = await fixture();
        const multi = fillMultiProof(tree, ids);
        const byId = new Map(ids.map((id, i) => [id, i]));
        const batch = multi.leaves.map((leaf) =>
          toFill(orders[byId.get(leaf.orderId)!]!, fills[byId.get(leaf.orderId)!]!),
        );
        await market.settleFills(interval, tree.root, zonePrices, batch, multi.proof, multi.proofFlags);
        const meterTree = buildMeterTree([
          { participant: alice.address as Address, injectedWh: 0n, consumedWh: 1600n },
          { participant: bob.address as Address, injectedWh: 1500n, consumedWh: 0n },
          { participant: carol.address as Address, injectedWh: 0n, consumedWh: 1000n },
          { participant: dave.address as Address, injectedWh: 1000n, consumedWh: 0n },
        ]);
        const report = {
          market: marketAddress,
          intervalId: interval,
          configEpoch: 1n,
          meterRoot: meterTree.root as Hex,
          scheduleRoot: tree.root as Hex,
          zonePrices,
          shortPrices: [400_000n, 400_000n],
          longPrices: [50_000n, 50_000n],
          zoneSurplusWh: [0n, 0n],
        };
        const digest = hashMeterReport(domain, report);
        const signatures = ("0x" +
          members
            .slice(0, 3)
            .map((m) => m.signingKey.sign(digest).serialized.slice(2))
            .join("")) as Hex;
        await conn.networkHelpers.time.increaseTo((interval + 1n) * 900n);
        await market.commitMeterReport(report, signatures);
        const before = await market.balanceOf(alice.address);
        await market.settleImbalance(
          alice.address,
          interval,
          0n,
          1600n,
          meterProof(meterTree, alice.address as Address),
        );
        // Short 100 Wh at 400_000/kWh = 40_000, taken from her imbalance collateral of the 1500 Wh bought
        // (100_000/kWh × 1.5 kWh = 150_000), which comes back net of it.
        expect(await market.balanceOf(alice.address)).to.equal(before + 150_000n - 40_000n);
      });
    });
  });
});
