import { expect } from "chai";
import { costRoundedDown, costRoundedUp, intervalIdAt } from "../../../oracle/src/domain/units.js";

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
  });
});
