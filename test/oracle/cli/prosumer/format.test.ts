/** Output helpers of cli/prosumer/format.ts. */
import { expect } from "chai";
import { fmt, jsonText } from "../../../../oracle/src/cli/prosumer/format.js";

describe("jsonText", () => {
  it("writes bigints as decimal strings, exactly, beyond 2^53", () => {
    expect(JSON.parse(jsonText({ amount: 2n ** 64n + 1n, nested: [1n] }))).to.deep.equal({
      amount: "18446744073709551617",
      nested: ["1"],
    });
  });
});

describe("fmt", () => {
  it("formats base units with the token's decimals", () => {
    expect(fmt({ decimals: 6 }, 12_500_000n)).to.equal("12.5");
    expect(fmt({ decimals: 18 }, 1n)).to.equal("0.000000000000000001");
  });
});
