import { expect } from "chai";
import { scheduleBudgets } from "../../../../oracle/src/domain/budget.js";
import {
  parseDispatchInstance,
  solveDispatch,
  type DispatchInstanceInput,
} from "../../../../oracle/src/domain/dispatch/index.js";
import { order } from "./fixtures.js";

const fillsOf = (r: { schedule: { fills: readonly { orderId: string; filledWh: number }[] } }) =>
  Object.fromEntries(r.schedule.fills.map((f) => [f.orderId, f.filledWh]));

/** Each interval's on-chain budget: [receipts, payouts, balanced]. */
function budgets(input: DispatchInstanceInput, schedule: Parameters<typeof scheduleBudgets>[1]) {
  return [...scheduleBudgets(parseDispatchInstance(input), schedule)].map(([t, b]) => [
    t,
    b.receipts,
    b.payouts,
    b.balanced,
  ]);
}

describe("integerize: budget balance (issue 11, item 1)", () => {
  describe("when a small flow crosses a 2 % loss line (the chaos run's interval 2015100)", () => {
    // Zone 0 offers at 70,001/kWh, zone 1 bids 4 Wh at 76,532. The LP sends 4.08 Wh and delivers
    // 4; the old rounding sent 4 and delivered ⌊3.92⌋ = 3 at 71,430 → buyers paid 215, the seller
    // was owed 280: every settleFills reverted BudgetExceeded.
    const instance: DispatchInstanceInput = {
      horizon: { firstInterval: 2015100, intervals: 1 },
      zones: [0, 1],
      lines: [{ from: 0, to: 1, capacityWh: 1000, lossFactor: 0.02, feePerKwh: 0 }],
      orders: [order("1", 0, "offer", 10, 70_001, 2015100), order("2", 1, "bid", 4, 76_532, 2015100)],
    };
    it("the integer schedule settles under the contract's rule", async () => {
      const r = await solveDispatch(instance);
      for (const [t, receipts, payouts, ok] of budgets(instance, r.schedule))
        expect(ok, `interval ${t}: payouts ${payouts} > receipts ${receipts}`).to.equal(true);
    });
    it("drops the flow that no price within the matched orders' limits can pay for, and welfare is not negative", async () => {
      // No price within the buyer's limit (≤ 76,532) pays for 4 Wh sent at 70,001 when 3 or fewer
      // arrive, so the repair cuts the flow to 0 and both zones balance on their own.
      const r = await solveDispatch(instance);
      expect(r.schedule.flows).to.deep.equal([]);
      expect(fillsOf(r)).to.deep.equal({ "1": 0, "2": 0 });
      expect(BigInt(r.schedule.welfareMilli) >= 0n).to.equal(true);
    });
  });

  describe("when marginal orders pin both zones' prices (no price can move)", () => {
    // Zone 0 offers at 68,600, zone 1 bids at 70,000 = 68,600 / 0.98: the line is exactly break-even,
    // the LP runs it at capacity (12,345 Wh) with both orders partly filled, so L = U in both zones.
    // Delivering ⌊12,345·0.98⌋ = 12,098 Wh for 12,345 sent loses money at any rational price; step
    // 6b cuts one delivered Wh at a time to 12,054 = 49·246, the largest delivery whose sending
    // (12,300 = 12,054 / 0.98 exactly) the prices pay for.
    const instance: DispatchInstanceInput = {
      horizon: { firstInterval: 100, intervals: 1 },
      zones: [0, 1],
      lines: [{ from: 0, to: 1, capacityWh: 12_345, lossFactor: 0.02, feePerKwh: 0 }],
      orders: [order("1", 0, "offer", 5_000_000, 68_600), order("2", 1, "bid", 5_000_000, 70_000)],
    };
    it("cuts the flow to the nearest delivery with rent ≥ 0 and keeps the prices", async () => {
      const r = await solveDispatch(instance);
      expect(r.schedule.flows).to.deep.equal([
        { interval: 100, from: 0, to: 1, sentWh: 12_300, receivedWh: 12_054 },
      ]);
      expect(fillsOf(r)).to.deep.equal({ "1": 12_300, "2": 12_054 });
      expect(r.schedule.prices.map((p) => p.pricePerKwh)).to.deep.equal([68_600, 70_000]);
      for (const [t, receipts, payouts, ok] of budgets(instance, r.schedule))
        expect(ok, `interval ${t}: payouts ${payouts} > receipts ${receipts}`).to.equal(true);
    });
  });

  describe("when the brackets cannot cover the deficit but the filled orders' limits can", () => {
    // Zone 1 exports 13 Wh from an offer at 0 over a 0.1 % line (fee 4) to zone 0's bid at 48,376
    // (partly filled: zone 0 is pinned at 48,376). Zone 1's bracket is [45,884, ∞) because of its
    // unfilled bid at 45,884; at the LP prices (48,376 / 48,324) rent = 48,376·12 − 48,324·13 −
    // 4·13 = −47,752, and lowering zone 1 to 45,884 recovers only 2,440·13 = 31,720. Below the
    // bracket, within the filled offer's limit (0): ⌈47,752 / 13⌉ = 3,674 → 44,650. No energy moves.
    const instance: DispatchInstanceInput = {
      horizon: { firstInterval: 100, intervals: 1 },
      zones: [0, 1],
      lines: [{ from: 1, to: 0, capacityWh: 17, lossFactor: 0.001, feePerKwh: 4 }],
      orders: [
        order("1", 1, "offer", 13, 0),
        order("4", 0, "bid", 345, 48_376),
        order("6", 1, "bid", 2218, 45_884),
      ],
    };
    it("lowers the exporter's price below its bracket, not below its filled offer, and keeps the flow", async () => {
      const r = await solveDispatch(instance);
      expect(r.schedule.flows).to.deep.equal([{ interval: 100, from: 1, to: 0, sentWh: 13, receivedWh: 12 }]);
      expect(fillsOf(r)).to.deep.equal({ "1": 13, "4": 12, "6": 0 });
      expect(r.schedule.prices.map((p) => p.pricePerKwh)).to.deep.equal([48_376, 44_650]);
      for (const [t, receipts, payouts, ok] of budgets(instance, r.schedule))
        expect(ok, `interval ${t}: payouts ${payouts} > receipts ${receipts}`).to.equal(true);
    });
  });

  describe("when the importing zone's bracket has room", () => {
    // Zone 1 bids 100 Wh at 90,000 (fully filled: U = 90,000, no L). 100 Wh arrive for 102.04 sent:
    // sent = 102, received ⌊99.96⌋ = 99, so the importer rebalances to 99 Wh. At the LP prices
    // (70,001 / 71,430) rent = 71,430·99 − 70,001·102 = −68,532 milli-units; raising zone 1's price covers it, with
    // no change to any energy.
    const instance: DispatchInstanceInput = {
      horizon: { firstInterval: 100, intervals: 1 },
      zones: [0, 1],
      lines: [{ from: 0, to: 1, capacityWh: 1000, lossFactor: 0.02, feePerKwh: 0 }],
      orders: [order("1", 0, "offer", 500, 70_001), order("2", 1, "bid", 100, 90_000)],
    };
    it("raises the importer's price within its bracket and keeps the energy", async () => {
      const r = await solveDispatch(instance);
      expect(r.schedule.flows).to.deep.equal([
        { interval: 100, from: 0, to: 1, sentWh: 102, receivedWh: 99 },
      ]);
      expect(fillsOf(r)).to.deep.equal({ "1": 102, "2": 99 });
      const [p0, p1] = r.schedule.prices.map((p) => p.pricePerKwh);
      expect(p0).to.equal(70_001);
      // the least price with 99·p1 ≥ 102·70,001: ⌈7,140,102 / 99⌉ = ⌈72,122.2⌉ = 72,123
      expect(p1).to.equal(72_123);
      for (const [t, receipts, payouts, ok] of budgets(instance, r.schedule))
        expect(ok, `interval ${t}: payouts ${payouts} > receipts ${receipts}`).to.equal(true);
    });
  });
});
