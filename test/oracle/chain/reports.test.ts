import { expect } from "chai";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  type AnyReport,
  recoverReportSigner,
  reportDigest,
  reportFromJson,
  reportToJson,
  scheduleRootOf,
  signReport,
} from "../../../oracle/src/chain/reports.js";
import { UnrecoverableInputError } from "../../../oracle/src/domain/errors.js";

const MARKET = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const member = privateKeyToAccount(`0x${"a1".repeat(32)}`);
const other = privateKeyToAccount(`0x${"b2".repeat(32)}`);

const schedule: AnyReport = {
  kind: "schedule",
  report: {
    market: MARKET,
    intervalId: 2000000n,
    configEpoch: 1n,
    ordersDigest: `0x${"11".repeat(32)}`,
    scheduleRoot: `0x${"22".repeat(32)}`,
    fillCount: 2,
    zonePrices: [120000n, 0n],
  },
};
const meter: AnyReport = {
  kind: "meter",
  report: {
    market: MARKET,
    intervalId: 2000000n,
    configEpoch: 1n,
    meterRoot: `0x${"33".repeat(32)}`,
    scheduleRoot: `0x${"44".repeat(32)}`,
    zonePrices: [120000n, 0n],
    shortPrices: [200000n, 200000n],
    longPrices: [20000n, 0n],
    zoneSurplusWh: [5_000n, 0n],
  },
};

describe("signReport", () => {
  for (const report of [schedule, meter]) {
    describe(`when the report is a ${report.kind} report`, () => {
      it("recovers to the signing member", async () => {
        const signature = await signReport(member, 31337, report);
        expect(await recoverReportSigner(31337, report, signature)).to.equal(member.address);
      });
      it("recovers to someone else under another chain id", async () => {
        const signature = await signReport(member, 31337, report);
        expect(await recoverReportSigner(1, report, signature)).to.not.equal(member.address);
      });
    });
  }
  it("gives different digests to a schedule and a meter report of the same interval", () => {
    expect(reportDigest(31337, schedule)).to.not.equal(reportDigest(31337, meter));
  });
  it("rejects a report whose market is not an address, naming the field", () => {
    const bad = { kind: "meter", report: { ...meter.report, market: "0x1234" } } as AnyReport;
    expect(() => reportDigest(31337, bad))
      .to.throw(UnrecoverableInputError)
      .with.property("field", "market");
  });
  it("is told apart from another member's signature", async () => {
    const signature = await signReport(other, 31337, schedule);
    expect(await recoverReportSigner(31337, schedule, signature)).to.equal(other.address);
  });
});

describe("reportFromJson", () => {
  describe("when given the JSON form of a report", () => {
    it("round-trips both kinds", () => {
      expect(reportFromJson("schedule", reportToJson(schedule))).to.deep.equal(schedule);
      expect(reportFromJson("meter", reportToJson(meter))).to.deep.equal(meter);
    });
  });
});

describe("scheduleRootOf", () => {
  describe("when the interval has no orders", () => {
    it("is the zero root", () => {
      expect(scheduleRootOf([])).to.equal(`0x${"00".repeat(32)}`);
    });
  });
  describe("when the interval has orders", () => {
    it("is the root of the fill tree, which depends on every filled amount", () => {
      const a = `0x${"aa".repeat(32)}` as Hex;
      const b = `0x${"bb".repeat(32)}` as Hex;
      const root = scheduleRootOf([
        { orderId: a, filledWh: 1500n },
        { orderId: b, filledWh: 0n },
      ]);
      expect(root).to.match(/^0x[0-9a-f]{64}$/);
      expect(root).to.not.equal(`0x${"00".repeat(32)}`);
      expect(
        scheduleRootOf([
          { orderId: a, filledWh: 1501n },
          { orderId: b, filledWh: 0n },
        ]),
      ).to.not.equal(root);
    });
  });
});
