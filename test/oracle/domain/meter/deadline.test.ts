import { expect } from "chai";
import { type Address, type Hex, getAddress } from "viem";
import {
  checkMeterTiming,
  meterReportDecision,
  readingDeadline,
  silentMeters,
} from "../../../../oracle/src/domain/meter/deadline.js";
import { meterRegistry } from "../../../../oracle/src/domain/meter/validate.js";

const m = (n: number): Address => getAddress(`0x${n.toString(16).padStart(40, "0")}`);
const SIG = `0x${"00".repeat(65)}` as Hex;
const registry = meterRegistry([
  [m(1), { participant: m(0xa), source: "solar" }],
  [m(2), { participant: m(0xa), source: "other" }],
  [m(3), { participant: m(0xb), source: "other" }],
]);
const read = (meter: Address, intervalId = 7n) => ({
  meter,
  intervalId,
  injectedWh: 1n,
  consumedWh: 0n,
  signature: SIG,
});

describe("readingDeadline", () => {
  it("is the interval end plus meterDeadlineSeconds", () => {
    // interval 7 of 900 s ends at 7200
    expect(readingDeadline(7n, 900n, 2700n)).to.equal(7200n + 2700n);
  });
});

describe("silentMeters", () => {
  describe("when some registered meters have no reading of the interval", () => {
    it("lists them ascending, ignoring readings of other intervals", () => {
      expect(silentMeters(registry, [read(m(2)), read(m(1), 8n)], 7n)).to.deep.equal([m(1), m(3)]);
    });
  });
  describe("when every registered meter reported", () => {
    it("is empty", () => {
      expect(silentMeters(registry, [read(m(3)), read(m(1)), read(m(2))], 7n)).to.deep.equal([]);
    });
  });
});

describe("meterReportDecision", () => {
  const deadline = 9900n;
  describe("when every meter reported", () => {
    it("builds at once, before the deadline, without the missing-reading rule", () => {
      expect(meterReportDecision({ nowSeconds: 7320n, deadline, silentMeters: 0 })).to.deep.equal({
        action: "build",
        missingApplies: false,
      });
    });
  });
  describe("when a meter is silent before or at the deadline", () => {
    it("waits until the deadline (a reading at the deadline itself is still accepted)", () => {
      for (const nowSeconds of [7320n, deadline - 1n, deadline])
        expect(
          meterReportDecision({ nowSeconds, deadline, silentMeters: 1 }),
          `at ${nowSeconds}`,
        ).to.deep.equal({
          action: "wait",
          until: deadline,
        });
    });
  });
  describe("when a meter is silent after the deadline", () => {
    it("builds with the missing-reading rule", () => {
      expect(meterReportDecision({ nowSeconds: deadline + 1n, deadline, silentMeters: 22 })).to.deep.equal({
        action: "build",
        missingApplies: true,
      });
    });
  });
});

describe("checkMeterTiming", () => {
  const ok = {
    meterDeadlineSeconds: 2700n,
    meterCommitReserveSeconds: 600n,
    meterWindowSeconds: 3600n,
  };
  it("accepts the defaults against the default 3600 s meter window", () => {
    expect(checkMeterTiming(ok)).to.deep.equal([]);
  });
  describe("when the reading deadline leaves less than the reserve before the market's meter deadline", () => {
    it("names meterDeadlineSeconds and the largest value that fits", () => {
      const issues = checkMeterTiming({ ...ok, meterDeadlineSeconds: 3600n });
      expect(issues).to.have.length(1);
      expect(issues[0]!.field).to.equal("meterDeadlineSeconds");
      expect(issues[0]!.reason).to.include("must be at most 3000");
    });
  });
});
