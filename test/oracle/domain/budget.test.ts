import { expect } from "chai";
import {
  BudgetExceededError,
  assertIntervalBudget,
  chainZonePrice,
  intervalBudget,
  scheduleBudgets,
} from "../../../oracle/src/domain/budget.js";
import { UnrecoverableInputError, isUnrecoverable } from "../../../oracle/src/domain/errors.js";
import { parseDispatchInstance, type CanonicalSchedule } from "../../../oracle/src/domain/dispatch/index.js";
import { order } from "./dispatch/fixtures.js";

describe("intervalBudget", () => {
  describe("when buyers pay at least what sellers receive", () => {
    it("charges buyers rounded up and pays sellers rounded down, as the contract does", () => {
      // 1 Wh at 1,001/kWh: the buyer is charged ⌈1.001⌉ = 2, the seller paid ⌊1.001⌋ = 1.
      const b = intervalBudget(
        [1001n],
        [
          { side: "bid", zone: 0, filledWh: 1n },
          { side: "offer", zone: 0, filledWh: 1n },
        ],
      );
      expect(b).to.deep.equal({ receipts: 2n, payouts: 1n, balanced: true });
    });
    it("is balanced at equality", () => {
      const b = intervalBudget(
        [2000n, 3000n],
        [
          { side: "bid", zone: 1, filledWh: 2n },
          { side: "offer", zone: 0, filledWh: 3n },
        ],
      );
      expect(b).to.deep.equal({ receipts: 6n, payouts: 6n, balanced: true });
    });
  });

  describe("when sellers are owed more than buyers pay", () => {
    // The chaos run's interval 2015100: zone 0 sends 4 Wh at 70,001/kWh, zone 1 receives 3 Wh at 76,532.
    const fills = [
      { side: "offer" as const, zone: 0, filledWh: 4n },
      { side: "bid" as const, zone: 1, filledWh: 3n },
    ];
    it("reports the deficit the contract would revert with", () => {
      expect(intervalBudget([70_001n, 76_532n], fills)).to.deep.equal({
        receipts: 230n, // ⌈229.596⌉
        payouts: 280n, // ⌊280.004⌋
        balanced: false,
      });
    });
    it("assertIntervalBudget throws an unrecoverable error naming the interval and the amounts", () => {
      let error: unknown;
      try {
        assertIntervalBudget(2015100n, [70_001n, 76_532n], fills);
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(BudgetExceededError);
      expect(isUnrecoverable(error), "dead-lettered, not retried").to.equal(true);
      expect((error as Error).message).to.match(/interval 2015100: payouts 280 > receipts 230/);
    });
  });

  describe("when an input is outside the contract's domain", () => {
    it("rejects a negative price, naming the zone", () => {
      expect(() => intervalBudget([5n, -1n], [])).to.throw(UnrecoverableInputError, /zonePrices\.1|negative/);
    });
    it("rejects a filled order in a zone without a price", () => {
      expect(() => intervalBudget([5n], [{ side: "bid", zone: 3, filledWh: 1n }])).to.throw(
        UnrecoverableInputError,
        /zone has no price: zone 3/,
      );
    });
    it("ignores an unfilled order in a zone without a price (no money moves)", () => {
      expect(intervalBudget([], [{ side: "offer", zone: 3, filledWh: 0n }]).balanced).to.equal(true);
    });
  });
});

describe("chainZonePrice", () => {
  it("floors negative prices at 0 and keeps the others", () => {
    expect([-7, 0, 12].map(chainZonePrice)).to.deep.equal([0n, 0n, 12n]);
  });
});

describe("scheduleBudgets", () => {
  it("applies the rule per interval with prices floored at 0, zone ids mapped to on-chain indices", () => {
    const instance = parseDispatchInstance({
      horizon: { firstInterval: 100, intervals: 2 },
      zones: [7, 3],
      orders: [
        order("1", 3, "offer", 10, 0, 100),
        order("2", 7, "bid", 10, 50, 100),
        order("3", 7, "offer", 1000, 0, 101),
        order("4", 3, "bid", 500, 10, 101),
      ],
    });
    const schedule = {
      horizon: { firstInterval: 100, intervals: 2 },
      fills: [
        { orderId: "1", filledWh: 10 },
        { orderId: "2", filledWh: 10 },
        { orderId: "3", filledWh: 1000 },
        { orderId: "4", filledWh: 500 },
      ],
      prices: [
        { interval: 100, zone: 3, pricePerKwh: 40_000 },
        { interval: 100, zone: 7, pricePerKwh: -5 },
        { interval: 101, zone: 3, pricePerKwh: 10 },
        { interval: 101, zone: 7, pricePerKwh: 9 },
      ],
    } as unknown as CanonicalSchedule;
    const b = scheduleBudgets(instance, schedule);
    // interval 100: zone 7 (index 1) buyer pays 0 (price floored), zone 3 seller is owed 400.
    expect(b.get(100)).to.deep.equal({ receipts: 0n, payouts: 400n, balanced: false });
    // interval 101: buyer ⌈10·500/1000⌉ = 5, seller ⌊9·1000/1000⌋ = 9.
    expect(b.get(101)).to.deep.equal({ receipts: 5n, payouts: 9n, balanced: false });
  });
});
