import { expect } from "chai";
import type { Address, Hex } from "viem";
import type { ChainOrder } from "../../../oracle/src/chain/market.js";
import { BudgetExceededError } from "../../../oracle/src/domain/budget.js";
import { BaseError, isUnrecoverable } from "../../../oracle/src/domain/errors.js";
import { TxSendError } from "../../../oracle/src/infra/tx-sender.js";
import {
  type IntervalSchedule,
  assertScheduleBudget,
  scheduleBudget,
} from "../../../oracle/src/jobs/compute.js";
import { classifySettleFillsRevert } from "../../../oracle/src/jobs/settle.js";
import { committedBudget } from "../../../oracle/src/verify.js";

const OWNER = "0x00000000000000000000000000000000000000a1" as Address;
const chainOrder = (n: number, side: 0 | 1, zoneId: number, quantityWh: bigint): ChainOrder => ({
  orderId: `0x${n.toString(16).padStart(64, "0")}` as Hex,
  owner: OWNER,
  intervalId: 2015100n,
  side,
  zoneId,
  quantityWh,
  limitPricePerKwh: 80_000n,
  nonce: 0n,
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

describe("classifySettleFillsRevert", () => {
  describe("when settleFills reverts BudgetExceeded", () => {
    it("makes it unrecoverable (dead-lettered at once) with the interval and amounts, keeping the revert as cause", () => {
      const revert = new TxSendError("Transaction reverted", {
        kind: "revert",
        errorName: "BudgetExceeded",
        errorArgs: [2015100n, 136451n, 136410n],
      });
      const classified = classifySettleFillsRevert(revert);
      expect(isUnrecoverable(classified), "not retried").to.equal(true);
      expect((classified as Error).message).to.match(/interval 2015100: payouts 136451 > receipts 136410/);
      expect((classified as BaseError).walk((e) => e === revert)).to.equal(revert);
    });
  });
  describe("when the error is anything else", () => {
    it("returns it unchanged (a transient fault stays retryable)", () => {
      const timeout = new TxSendError("Receipt timeout", { kind: "timeout" });
      const other = new TxSendError("Transaction reverted", {
        kind: "revert",
        errorName: "SettlementClosed",
      });
      expect(classifySettleFillsRevert(timeout)).to.equal(timeout);
      expect(classifySettleFillsRevert(other)).to.equal(other);
      expect(isUnrecoverable(classifySettleFillsRevert(timeout))).to.equal(false);
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
