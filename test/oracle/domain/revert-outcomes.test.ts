import { expect } from "chai";
import {
  JUDGED_ERROR_NAMES,
  JUDGED_ERROR_NAMES_BY_CONTRACT,
  revertOutcome,
} from "../../../oracle/src/domain/revert-outcomes.js";
import { energyMarketAbi, flexibilityMarketAbi } from "../../../oracle/src/chain/abis.js";

const revert = (errorName: string | undefined, errorArgs?: readonly unknown[]) => ({
  kind: "revert",
  errorName,
  errorArgs,
});

describe("revertOutcome", () => {
  it("takes a flexibility batch the cursor has passed as a peer's, and one it has not reached as a retry", () => {
    expect(revertOutcome("settle-flex", revert("FlexIntervalOutOfOrder", [10n, 11n])).outcome).to.equal(
      "done-by-peer",
    );
    expect(revertOutcome("settle-flex", revert("FlexIntervalOutOfOrder", [10n, 8n])).outcome).to.equal(
      "concurrent",
    );
    expect(revertOutcome("settle-flex", revert("ScheduleMismatch", [10n])).outcome).to.equal("unknown");
  });

  it("takes AlreadyScheduled / AlreadyMetered as a peer's commit, only for the matching commit", () => {
    expect(revertOutcome("commit-schedule", revert("AlreadyScheduled")).outcome).to.equal("done-by-peer");
    expect(revertOutcome("commit-meter", revert("AlreadyMetered")).outcome).to.equal("done-by-peer");
    // The other kind's error is a real rejection of this report, not someone else's success.
    expect(revertOutcome("commit-schedule", revert("AlreadyMetered")).outcome).to.equal("unrecoverable");
  });

  it("dead-letters any other commit revert, decoded or not, leaving the details to the caller", () => {
    for (const name of ["ScheduleWindowClosed", undefined]) {
      const judged = revertOutcome("commit-meter", revert(name));
      expect(judged).to.deep.equal({ outcome: "unrecoverable", reason: "Commit reverted" });
    }
  });

  it("takes a lock already released by anyone as done, for each of the keeper's three locks", () => {
    for (const name of ["OrderNotOpen", "ImbalanceAlreadySettled", "CollateralNotReleasable"])
      expect(revertOutcome("keeper-release", revert(name))).to.deep.equal({
        outcome: "done-by-peer",
        reason: name,
      });
    expect(revertOutcome("keeper-release", revert("SettlementClosed")).outcome).to.equal("unknown");
  });

  it("takes a flexibility interval a peer closed first (the cursor moved past it) as done", () => {
    // FlexIntervalOutOfOrder(intervalId, expected): expected > intervalId → closed or settled by anyone.
    expect(revertOutcome("keeper-flex", revert("FlexIntervalOutOfOrder", [7n, 8n]))).to.deep.equal({
      outcome: "done-by-peer",
      reason: "FlexIntervalOutOfOrder",
    });
    // An earlier interval still blocks it (expected < intervalId), or args not decoded: not a peer's work.
    expect(revertOutcome("keeper-flex", revert("FlexIntervalOutOfOrder", [7n, 5n])).outcome).to.equal(
      "unknown",
    );
    expect(revertOutcome("keeper-flex", revert("FlexIntervalOutOfOrder")).outcome).to.equal("unknown");
    expect(revertOutcome("keeper-flex", revert("NotMissedYet", [7n, 1n])).outcome).to.equal("unknown");
    // The same name means nothing for the market's keeper path.
    expect(revertOutcome("keeper-release", revert("FlexIntervalOutOfOrder", [7n, 8n])).outcome).to.equal(
      "unknown",
    );
  });

  it("takes a flexibility refund anyone made first as done", () => {
    expect(revertOutcome("keeper-flex", revert("AlreadyRefunded"))).to.deep.equal({
      outcome: "done-by-peer",
      reason: "AlreadyRefunded",
    });
    expect(revertOutcome("keeper-flex", revert("RefundNotYet")).outcome).to.equal("unknown");
  });

  it("retries a batch a peer partly settled, from the chain's view", () => {
    expect(revertOutcome("settle-fills", revert("OrderNotOpen")).outcome).to.equal("concurrent");
    expect(revertOutcome("settle-imbalances", revert("ImbalanceAlreadySettled")).outcome).to.equal(
      "concurrent",
    );
    // The same name means nothing for the other batch: it is left to the caller.
    expect(revertOutcome("settle-imbalances", revert("OrderNotOpen")).outcome).to.equal("unknown");
  });

  it("makes BudgetExceeded unrecoverable with the interval and the amounts", () => {
    expect(revertOutcome("settle-fills", revert("BudgetExceeded", [7n, 136451n, 136410n]))).to.deep.equal({
      outcome: "unrecoverable",
      reason: "The committed schedule cannot settle (BudgetExceeded)",
      details: "interval 7: payouts 136451 > receipts 136410",
    });
  });

  it("judges only reverts: a timeout or transient fault is left to the job's retries", () => {
    for (const kind of ["timeout", "transient", "nonce-too-low"])
      expect(revertOutcome("commit-schedule", { kind, errorName: "AlreadyScheduled" }).outcome).to.equal(
        "unknown",
      );
  });

  it("names only custom errors the ABI of the contract each step sends to declares (a renamed error would silently stop matching)", () => {
    const declared = (abi: readonly { type: string; name?: string }[]) =>
      new Set<string>(abi.filter((item) => item.type === "error").map((item) => item.name!));
    const market = declared(energyMarketAbi);
    const flex = declared(flexibilityMarketAbi);
    expect(JUDGED_ERROR_NAMES_BY_CONTRACT["energy-market"]).to.have.length(6);
    for (const name of JUDGED_ERROR_NAMES_BY_CONTRACT["energy-market"])
      expect(market.has(name), `EnergyMarket declares ${name}`).to.equal(true);
    expect(JUDGED_ERROR_NAMES_BY_CONTRACT["flexibility-market"]).to.have.members([
      "AlreadyRefunded",
      "FlexIntervalOutOfOrder",
    ]);
    for (const name of JUDGED_ERROR_NAMES_BY_CONTRACT["flexibility-market"])
      expect(flex.has(name), `FlexibilityMarket declares ${name}`).to.equal(true);
    expect(JUDGED_ERROR_NAMES).to.have.length(8);
  });
});
