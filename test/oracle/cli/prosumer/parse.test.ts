/**
 * The prosumer CLI's input rules (cli/prosumer/parse.ts): schema failures become exit-code-2
 * errors naming the flag. Exact amounts are the client's (test/oracle/client/units.test.ts).
 */
import { expect } from "chai";
import { z } from "zod";
import { CliError } from "../../../../oracle/src/cli/output.js";
import { address, decimal, parse, uint } from "../../../../oracle/src/cli/prosumer/parse.js";

function thrown(fn: () => unknown): CliError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(CliError);
    return error as CliError;
  }
  expect.fail("expected a CliError");
}

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
      "--to: must be a 20-byte hex address; --interval: must be a non-negative integer; --kwh: is required",
    );
    expect(error.field, "the first bad flag").to.equal("--to");
  });
});
