/** The pure parts of the flexibility reads: an order's status (readFlexOrders.ts) and its earnings (readFlexSteps.ts). */
import { expect } from "chai";
import { type FlexStepRecord, flexEarnings, flexOrderStatus } from "../../../oracle/src/client/index.js";

describe("flexOrderStatus", () => {
  const facts = { refunded: false, firstInterval: 10n, endInterval: 13n, unspent: 5n, nextInterval: 12n };

  it("is active while an interval of the window is not settled", () => {
    expect(flexOrderStatus(facts)).to.equal("active");
    expect(flexOrderStatus({ ...facts, nextInterval: 13n }), "its last interval is next").to.equal("active");
  });

  it("is refundable once the cursor is past its last interval and budget is unspent, else ended", () => {
    expect(flexOrderStatus({ ...facts, nextInterval: 14n })).to.equal("refundable");
    expect(flexOrderStatus({ ...facts, nextInterval: 14n, unspent: 0n })).to.equal("ended");
  });

  it("is refundable at once when ended before its window (it never ran), whatever the cursor", () => {
    expect(flexOrderStatus({ ...facts, endInterval: 9n, nextInterval: 3n })).to.equal("refundable");
  });

  it("is refunded once refunded", () => {
    expect(flexOrderStatus({ ...facts, refunded: true, unspent: 0n })).to.equal("refunded");
  });
});

describe("flexEarnings", () => {
  const step = (direction: "charge" | "discharge", energyWh: bigint, amount: bigint): FlexStepRecord => ({
    orderId: `0x${"11".repeat(32)}`,
    batteryId: 0,
    intervalId: 1n,
    direction,
    energyWh,
    socWh: 0n,
    amount,
    blockNumber: 1n,
  });

  it("is credits minus costs, negative when the battery bought more than it sold", () => {
    expect(
      flexEarnings([step("charge", 2_000n, 300_001n), step("discharge", 1_500n, 450_000n)]),
    ).to.deep.equal({
      chargedWh: 2_000n,
      dischargedWh: 1_500n,
      cost: 300_001n,
      credit: 450_000n,
      earned: 149_999n,
    });
    expect(flexEarnings([step("charge", 1n, 1n)]).earned).to.equal(-1n);
    expect(flexEarnings([]).earned).to.equal(0n);
  });
});
