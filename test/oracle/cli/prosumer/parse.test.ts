/**
 * The prosumer CLI's input rules (cli/prosumer/parse.ts): amounts convert to base units exactly or
 * fail naming the field, and schema failures become exit-code-2 errors naming the flag.
 */
import { expect } from "chai";
import { z } from "zod";
import { CliError } from "../../../../oracle/src/cli/prosumer/errors.js";
import { address, decimal, parse, toBaseUnits, uint } from "../../../../oracle/src/cli/prosumer/parse.js";

function thrown(fn: () => unknown): CliError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(CliError);
    return error as CliError;
  }
  expect.fail("expected a CliError");
}

describe("toBaseUnits", () => {
  describe("when the value has at most `decimals` fraction digits", () => {
    it("converts exactly, padding the fraction", () => {
      expect(toBaseUnits("12.5", 6, "amount")).to.equal(12_500_000n);
      expect(toBaseUnits("0.000001", 6, "amount")).to.equal(1n);
      expect(toBaseUnits("7", 0, "amount")).to.equal(7n);
      expect(toBaseUnits("1.234", 3, "kWh")).to.equal(1234n);
    });

    it("ignores trailing zeros beyond the token's decimals", () => {
      expect(toBaseUnits("1.5000000000", 6, "amount")).to.equal(1_500_000n);
    });
  });

  describe("when the value has more fraction digits than the token", () => {
    it("rejects it naming the field and the smallest unit, never rounding", () => {
      const error = thrown(() => toBaseUnits("1.0000001", 6, "--price"));
      expect(error.code).to.equal(2);
      expect(error.message).to.equal(
        '--price: "1.0000001" has more than 6 decimal places (the smallest unit is 10^-6)',
      );
    });

    it("rejects Wh fractions of a kWh", () => {
      expect(thrown(() => toBaseUnits("0.0005", 3, "--kwh")).message).to.match(/^--kwh: .*more than 3/);
    });
  });

  describe("when the value is not a non-negative decimal", () => {
    for (const bad of ["-1", "1e3", ".5", "1.", "", "abc", "1,5"])
      it(`rejects ${JSON.stringify(bad)} naming the field`, () => {
        const error = thrown(() => toBaseUnits(bad, 6, "amount"));
        expect(error.code).to.equal(2);
        expect(error.message).to.equal(`amount: must be a non-negative decimal number, got "${bad}"`);
      });
  });
});

describe("parse", () => {
  const schema = z.object({ "--to": address, "--interval": uint, "--kwh": decimal });

  it("returns the transformed values: a checksummed address and a bigint", () => {
    const parsed = parse(schema, {
      "--to": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
      "--interval": "42",
      "--kwh": "1.5",
    });
    expect(parsed).to.deep.equal({
      "--to": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      "--interval": 42n,
      "--kwh": "1.5",
    });
  });

  it("rejects with exit code 2, naming every bad flag and its reason", () => {
    const error = thrown(() => parse(schema, { "--to": "0x1234", "--interval": "-3" }));
    expect(error.code).to.equal(2);
    expect(error.message).to.equal(
      "Invalid arguments: --to: must be a 20-byte hex address; --interval: must be a non-negative integer; --kwh: is required",
    );
  });
});
