import { expect } from "chai";
import type { Address, Hex } from "viem";
import { BudgetExceededError } from "../../../oracle/src/domain/budget.js";
import {
  type ClearingOrder,
  type IntervalSchedule,
  assertScheduleBudget,
  clearingInstance,
  committedBudget,
  intervalSchedule,
  scheduleBudget,
} from "../../../oracle/src/domain/clearing.js";
import type { DispatchResult } from "../../../oracle/src/domain/dispatch/index.js";
import { UnrecoverableInputError, isUnrecoverable } from "../../../oracle/src/domain/errors.js";
import { ZERO_DIGEST, buildFillTree } from "../../../oracle/src/domain/schedule.js";

const OWNER = "0x00000000000000000000000000000000000000a1" as Address;
const chainOrder = (n: number, side: 0 | 1, zoneId: number, quantityWh: bigint): ClearingOrder => ({
  orderId: `0x${n.toString(16).padStart(64, "0")}` as Hex,
  owner: OWNER,
  intervalId: 2015100n,
  side,
  zoneId,
  quantityWh,
  limitPricePerKwh: 80_000n,
});

/** A solver result carrying only what the mapping reads (fills and prices). */
const solved = (
  fills: readonly { orderId: string; filledWh: number }[],
  prices: readonly { zone: number; pricePerKwh: number }[],
): DispatchResult =>
  ({
    schedule: { fills, prices: prices.map((p) => ({ interval: 2015100, ...p })) },
  }) as unknown as DispatchResult;

describe("clearingInstance", () => {
  const grid = {
    zoneCount: 3,
    lines: [{ a: 0, b: 2, capacityWh: 5_000n, lossBps: 250, feePerKwh: 1_200n }],
  };

  describe("when the registry has zones", () => {
    const instance = clearingInstance(2015100n, [chainOrder(1, 0, 2, 400n), chainOrder(2, 1, 0, 900n)], grid);

    it("solves one interval, the given one, over zones 0 .. zoneCount-1", () => {
      expect(instance.horizon).to.deep.equal({ firstInterval: 2015100, intervals: 1 });
      expect(instance.zones).to.deep.equal([0, 1, 2]);
    });
    it("maps each line's loss from basis points and keeps its capacity and fee", () => {
      expect(instance.lines).to.deep.equal([
        { from: 0, to: 2, capacityWh: 5_000, lossFactor: 0.025, feePerKwh: 1_200 },
      ]);
    });
    it("passes no batteries (the market has no flexibility order yet)", () => {
      expect(instance.batteries).to.deep.equal([]);
    });
    it("makes side 0 a bid and side 1 an offer, with the order id in decimal", () => {
      expect(instance.orders).to.deep.equal([
        {
          id: "1",
          owner: OWNER,
          zone: 2,
          side: "bid",
          quantityWh: 400,
          limitPricePerKwh: 80_000,
          interval: 2015100,
        },
        {
          id: "2",
          owner: OWNER,
          zone: 0,
          side: "offer",
          quantityWh: 900,
          limitPricePerKwh: 80_000,
          interval: 2015100,
        },
      ]);
    });
  });

  describe("when the registry has no zones", () => {
    it("throws an unrecoverable error naming registry.zoneCount", () => {
      expect(() => clearingInstance(1n, [], { zoneCount: 0, lines: [] }))
        .to.throw(UnrecoverableInputError, /no zones/)
        .with.property("field", "registry.zoneCount");
    });
  });
});

describe("intervalSchedule", () => {
  const orders = [chainOrder(1, 0, 1, 10n), chainOrder(2, 1, 0, 10n)];

  describe("when the solver prices a zone below 0", () => {
    it("floors that zone's on-chain price at 0 and keeps the others", () => {
      const s = intervalSchedule(
        orders,
        2,
        solved(
          [
            { orderId: "2", filledWh: 7 },
            { orderId: "1", filledWh: 7 },
          ],
          [
            { zone: 0, pricePerKwh: -15 },
            { zone: 1, pricePerKwh: 71_000 },
          ],
        ),
      );
      expect(s.zonePrices).to.deep.equal([0n, 71_000n]);
    });
  });

  describe("when the solver returns fills in another order", () => {
    it("lists each order's fill in the orders' order and roots the fill tree over them", () => {
      const s = intervalSchedule(
        orders,
        2,
        solved(
          [
            { orderId: "2", filledWh: 6 },
            { orderId: "1", filledWh: 4 },
          ],
          [{ zone: 0, pricePerKwh: 5 }],
        ),
      );
      expect(s.filledWh).to.deep.equal([4n, 6n]);
      expect(s.orders).to.equal(orders);
      const root = buildFillTree([
        { orderId: orders[0]!.orderId, filledWh: 4n },
        { orderId: orders[1]!.orderId, filledWh: 6n },
      ]).root;
      expect(s.scheduleRoot).to.equal(root);
      // zone 1 has no price from the solver: 0 on-chain
      expect(s.zonePrices).to.deep.equal([5n, 0n]);
    });
  });

  describe("when the interval has no orders", () => {
    it("commits the zero root and a zero price per zone", () => {
      const s = intervalSchedule([], 3, solved([], []));
      expect(s.scheduleRoot).to.equal(ZERO_DIGEST);
      expect(s.zonePrices).to.deep.equal([0n, 0n, 0n]);
    });
  });

  describe("when the solver returned no fill for an order", () => {
    it("throws an unrecoverable error naming the order", () => {
      expect(() => intervalSchedule(orders, 2, solved([{ orderId: "1", filledWh: 1 }], [])))
        .to.throw(UnrecoverableInputError, /no fill for an order/)
        .that.satisfies((e: { details?: string }) => e.details === orders[1]!.orderId);
    });
  });
});

/** The chaos run's interval 2015100 as the old rounding committed it: 4 Wh sold in zone 0, 3 bought in zone 1. */
const unsettleable: IntervalSchedule = {
  orders: [chainOrder(1, 1, 0, 10n), chainOrder(2, 0, 1, 4n)],
  filledWh: [4n, 3n],
  zonePrices: [70_001n, 76_532n],
  scheduleRoot: "0x" as Hex,
};

describe("assertScheduleBudget (the check before signing)", () => {
  describe("when the schedule pays sellers more than its buyers pay", () => {
    it("throws an unrecoverable BudgetExceededError naming the interval and the amounts", () => {
      expect(() => assertScheduleBudget(2015100n, unsettleable))
        .to.throw(BudgetExceededError, /interval 2015100: payouts 280 > receipts 230/)
        .that.satisfies((e: unknown) => isUnrecoverable(e));
    });
  });
  describe("when the budget holds", () => {
    it("returns receipts and payouts", () => {
      const ok = { ...unsettleable, filledWh: [3n, 3n], zonePrices: [70_001n, 70_001n] };
      expect(assertScheduleBudget(2015100n, ok)).to.deep.equal({
        receipts: 211n,
        payouts: 210n,
        balanced: true,
      });
      expect(scheduleBudget(ok).balanced).to.equal(true);
    });
  });
});

describe("committedBudget (verify)", () => {
  it("applies the rule at the committed prices to the recomputed fills", () => {
    const recomputed = { ...unsettleable, zonePrices: [1n, 1n] };
    expect(committedBudget([70_001n, 76_532n], recomputed)).to.deep.equal({
      receipts: 230n,
      payouts: 280n,
      balanced: false,
    });
  });
});
