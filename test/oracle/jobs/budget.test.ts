/** The settle step's handling of a BudgetExceeded revert (the rule itself: test/oracle/domain/clearing.test.ts). */
import { expect } from "chai";
import { BaseError, isUnrecoverable } from "../../../oracle/src/domain/errors.js";
import { TxSendError } from "../../../oracle/src/infra/tx-sender.js";
import { classifySettleFillsRevert } from "../../../oracle/src/jobs/settle.js";

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

describe("classifySettleFillsRevert, when a peer settled part of the batch (OrderNotOpen)", () => {
  it("returns a retryable error that keeps the revert as cause", () => {
    const revert = new TxSendError("Transaction reverted", { kind: "revert", errorName: "OrderNotOpen" });
    const classified = classifySettleFillsRevert(revert);
    expect(isUnrecoverable(classified), "retried").to.equal(false);
    expect((classified as Error).message).to.equal("Fills settled concurrently");
    expect((classified as BaseError).walk((e) => e === revert)).to.equal(revert);
  });
});
