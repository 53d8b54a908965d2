/**
 * The client's units (client/units.ts): decimal text converts to base units exactly or fails naming
 * the field (never rounding); random nonces fit the contract's uint64; certificate ids round-trip.
 */
import { expect } from "chai";
import {
  InvalidParameterError,
  certificateId,
  certificateOf,
  parseAmount,
  parseKwh,
  parsePositiveAmount,
  randomOrderNonce,
} from "../../../oracle/src/client/index.js";

function thrown(fn: () => unknown): InvalidParameterError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidParameterError);
    return error as InvalidParameterError;
  }
  expect.fail("expected an InvalidParameterError");
}

describe("parseAmount", () => {
  describe("when the value has at most `decimals` fraction digits", () => {
    it("converts exactly, padding the fraction", () => {
      expect(parseAmount("12.5", 6, "amount")).to.equal(12_500_000n);
      expect(parseAmount("0.000001", 6, "amount")).to.equal(1n);
      expect(parseAmount("7", 0, "amount")).to.equal(7n);
      expect(parseAmount("1.234", 3, "kWh")).to.equal(1234n);
    });

    it("ignores trailing zeros beyond the token's decimals", () => {
      expect(parseAmount("1.5000000000", 6, "amount")).to.equal(1_500_000n);
    });
  });

  describe("when the value has more fraction digits than the token", () => {
    it("rejects it naming the field and the smallest unit, never rounding", () => {
      const error = thrown(() => parseAmount("1.0000001", 6, "--price"));
      expect(error.message).to.equal(
        '--price: "1.0000001" has more than 6 decimal places (the smallest unit is 10^-6)',
      );
    });

    it("rejects Wh fractions of a kWh", () => {
      expect(thrown(() => parseAmount("0.0005", 3, "--kwh")).message).to.match(/^--kwh: .*more than 3/);
    });
  });

  describe("when the value is not a non-negative decimal", () => {
    for (const bad of ["-1", "1e3", ".5", "1.", "", "abc", "1,5"])
      it(`rejects ${JSON.stringify(bad)} naming the field`, () => {
        const error = thrown(() => parseAmount(bad, 6, "amount"));
        expect(error.message).to.equal(`amount: must be a non-negative decimal number, got "${bad}"`);
      });
  });
});

describe("parseKwh", () => {
  it("converts kWh to Wh exactly", () => {
    expect(parseKwh("2.25", "--kwh")).to.equal(2_250n);
  });
});

describe("parsePositiveAmount", () => {
  it("refuses zero, naming the field", () => {
    const error = thrown(() => parsePositiveAmount("0.000", 6, "amount"));
    expect(error.field).to.equal("amount");
    expect(error.message).to.equal("amount: must be greater than zero");
  });
});

describe("randomOrderNonce", () => {
  it("stays below 2^63 and differs between calls", () => {
    const nonces = Array.from({ length: 32 }, () => randomOrderNonce());
    for (const n of nonces) expect(n >= 0n && n < 2n ** 63n, String(n)).to.equal(true);
    expect(new Set(nonces).size).to.equal(nonces.length);
  });
});

describe("certificateId", () => {
  it("is (intervalId << 8) | source, and certificateOf inverts it", () => {
    expect(certificateId(1_000n, "solar")).to.equal((1_000n << 8n) | 1n);
    expect(certificateOf(certificateId(1_000n, "wind"))).to.deep.equal({ intervalId: 1_000n, sourceCode: 2 });
  });
});
