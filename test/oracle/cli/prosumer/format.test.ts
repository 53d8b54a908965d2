/** Output helpers of cli/prosumer/format.ts. */
import { expect } from "chai";
import { fmt } from "../../../../oracle/src/cli/prosumer/format.js";

describe("fmt", () => {
  it("formats base units with the token's decimals", () => {
    expect(fmt({ decimals: 6 }, 12_500_000n)).to.equal("12.5");
    expect(fmt({ decimals: 18 }, 1n)).to.equal("0.000000000000000001");
  });
});
