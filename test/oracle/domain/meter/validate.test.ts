import { expect } from "chai";
import { signMeterReading } from "../../../../oracle/src/domain/meter/reading.js";
import { meterWindow, verifyMeterReadings } from "../../../../oracle/src/domain/meter/validate.js";
import { ALICE, CHAIN_ID, CONTEXT, MARKET, METERS, loadCorpus, resolve } from "./fixtures.js";

const reading = (who: "A" | "B", intervalId: bigint, injectedWh: bigint, consumedWh: bigint) =>
  signMeterReading(METERS[who], CHAIN_ID, MARKET, { intervalId, injectedWh, consumedWh });

describe("meterWindow", () => {
  it("opens at the interval's end and closes deadline seconds later", () => {
    // interval 4 of 900 s ends at 5 * 900 = 4500.
    expect(meterWindow(4n, 900n, 60n)).to.deep.equal({ opensAt: 4500n, closesAt: 4560n });
  });
});

describe("verifyMeterReadings", () => {
  describe("when every reading is valid", () => {
    it("accepts each with its participant and source", async () => {
      const r = await reading("A", 2000000n, 1500n, 0n);
      const result = await verifyMeterReadings([r], CONTEXT);
      expect(result.rejected).to.deep.equal([]);
      expect(result.accepted).to.have.length(1);
      expect(result.accepted[0]!.participant).to.equal(ALICE);
      expect(result.accepted[0]!.source).to.equal("solar");
      expect(result.accepted[0]!.reading.injectedWh).to.equal(1500n);
    });
  });

  describe("at the edges of the meter window", () => {
    it("accepts at the deadline second and rejects one second later", async () => {
      const r = await reading("A", 2000000n, 1n, 1n);
      const closesAt = 2000001n * 900n + 3600n;
      expect((await verifyMeterReadings([r], { ...CONTEXT, nowSeconds: closesAt })).accepted).to.have.length(
        1,
      );
      const late = await verifyMeterReadings([r], { ...CONTEXT, nowSeconds: closesAt + 1n });
      expect(late.rejected[0]!.code).to.equal("late");
    });
  });

  describe("when the same reading is sent twice in a batch", () => {
    it("accepts it once and reports the repeat as a duplicate", async () => {
      const r = await reading("B", 1999999n, 0n, 10n);
      const result = await verifyMeterReadings([r, { ...r }], CONTEXT);
      expect(result.accepted.map((a) => a.index)).to.deep.equal([0]);
      expect(result.duplicates).to.deep.equal([{ index: 1, duplicateOf: 0 }]);
    });
  });

  describe("when a meter sends two different readings for one interval", () => {
    it("rejects both as conflicting", async () => {
      const a = await reading("B", 1999999n, 0n, 10n);
      const b = await reading("B", 1999999n, 0n, 11n);
      const result = await verifyMeterReadings([a, b], CONTEXT);
      expect(result.accepted).to.deep.equal([]);
      expect(result.rejected.map((x) => [x.index, x.code])).to.deep.equal([
        [0, "conflict"],
        [1, "conflict"],
      ]);
    });
  });

  describe("the malformed reading corpus", () => {
    it("gives every item exactly one outcome", async () => {
      const { cases, valid } = loadCorpus();
      const items = await Promise.all([...cases.map((c) => c.reading), ...valid].map(resolve));
      const result = await verifyMeterReadings(items, CONTEXT);
      const indexes = [
        ...result.accepted.map((a) => a.index),
        ...result.duplicates.map((d) => d.index),
        ...result.rejected.map((r) => r.index),
      ];
      expect(indexes.sort((x, y) => x - y)).to.deep.equal(items.map((_, i) => i));
    });
  });
});
