import { expect } from "chai";
import { costRoundedDown, costRoundedUp, intervalIdAt, orderLock } from "../../../oracle/src/domain/units.js";

describe("units", () => {
  describe("intervalIdAt", () => {
    it("floors unix seconds to the 15-minute interval", () => {
      expect(intervalIdAt(1_800_000_899n, 900n)).to.equal(2_000_000n);
      expect(intervalIdAt(1_800_000_900n, 900n)).to.equal(2_000_001n);
    });
    it("rejects a non-positive interval length", () => {
      expect(() => intervalIdAt(1n, 0n)).to.throw(RangeError, /intervalSeconds/);
    });
  });
  describe("cost rounding", () => {
    it("charges up and pays down so the market never pays more than it holds", () => {
      // 1 Wh at 1 unit/kWh is 0.001 units.
      expect(costRoundedUp(1n, 1n)).to.equal(1n);
      expect(costRoundedDown(1n, 1n)).to.equal(0n);
      expect(costRoundedUp(250n, 4000n)).to.equal(1000n);
      expect(costRoundedDown(250n, 4000n)).to.equal(1000n);
    });
    it("rounds a fraction of a unit as SettlementMath does (the valued day's costs, rolling/day.ts)", () => {
      expect(costRoundedUp(299_999n, 1n)).to.equal(300n); // 299.999 → 300
      expect(costRoundedDown(299_999n, 1n)).to.equal(299n);
      expect(costRoundedUp(300_000n, 2n)).to.equal(600n); // exact: no rounding
    });
  });
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
});
