/**
 * The rules cli/prosumer/state.ts derives an order's lock and state with (the `orders` and
 * `balance` commands and the `bid`/`offer` lock preview use them).
 */
import { expect } from "chai";
import { type OrderFacts, orderLock, orderState } from "../../../../oracle/src/cli/prosumer/state.js";

describe("orderLock", () => {
  // 6-decimal token: 0.25 per kWh collateral, 0.10 per kWh limit price.
  const collateral = 250_000n;
  const price = 100_000n;

  it("locks only the imbalance collateral for an offer", () => {
    expect(orderLock("offer", 2_000n, price, collateral)).to.equal(500_000n);
  });

  it("locks the collateral and the highest payment for a bid", () => {
    expect(orderLock("bid", 2_000n, price, collateral)).to.equal(500_000n + 200_000n);
  });

  it("rounds each part up to the next base unit (per kWh × Wh / 1000)", () => {
    // 1 Wh at 1 base unit per kWh is 0.001 of a unit: the market locks 1, not 0.
    expect(orderLock("offer", 1n, 0n, 1n)).to.equal(1n);
    expect(orderLock("bid", 1n, 1n, 1n)).to.equal(2n);
    expect(orderLock("bid", 1_000n, 1n, 1n)).to.equal(2n);
    expect(orderLock("bid", 1_001n, 1n, 1n)).to.equal(4n);
  });
});

describe("orderState", () => {
  const none: OrderFacts = {
    cancelled: false,
    released: false,
    settled: false,
    scheduled: false,
    now: 100n,
    gateClosure: 200n,
  };

  it("is open before gate closure and closed from it on", () => {
    expect(orderState(none)).to.equal("open");
    expect(orderState({ ...none, now: 199n })).to.equal("open");
    expect(orderState({ ...none, now: 200n })).to.equal("closed");
  });

  it("is scheduled once its interval's schedule is committed, whatever the time", () => {
    expect(orderState({ ...none, scheduled: true })).to.equal("scheduled");
    expect(orderState({ ...none, scheduled: true, now: 300n })).to.equal("scheduled");
  });

  it("is settled once its fill is, over scheduled", () => {
    expect(orderState({ ...none, scheduled: true, settled: true })).to.equal("settled");
  });

  it("is cancelled or released over everything else, cancelled first", () => {
    const all = { ...none, scheduled: true, settled: true, released: true };
    expect(orderState(all)).to.equal("released");
    expect(orderState({ ...all, cancelled: true })).to.equal("cancelled");
  });
});
