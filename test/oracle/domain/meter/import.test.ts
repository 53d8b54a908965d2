import { expect } from "chai";
import { readFileSync } from "node:fs";
import { findGaps, importCsv, importJson, toWattHours } from "../../../../oracle/src/domain/meter/import.js";
import { verifyMeterReadings } from "../../../../oracle/src/domain/meter/validate.js";
import { CONTEXT, FIXTURES, METERS, resolve } from "./fixtures.js";

const OPTIONS = { intervalSeconds: 900n };

describe("toWattHours", () => {
  it("converts kWh to Wh exactly, without floating point", () => {
    expect(toWattHours("x", "0.001", "kWh")).to.deep.equal({ ok: true, wh: "1" });
    expect(toWattHours("x", "1.5", "kWh")).to.deep.equal({ ok: true, wh: "1500" });
    expect(toWattHours("x", "18446744073709551.615", "kWh")).to.deep.equal({
      ok: true,
      wh: "18446744073709551615",
    });
    expect(toWattHours("x", 0.3, "kWh")).to.deep.equal({ ok: true, wh: "300" });
    expect(toWattHours("x", "2.5000", "kWh")).to.deep.equal({ ok: true, wh: "2500" });
  });
  it("keeps Wh as is", () => {
    expect(toWattHours("x", "42", "Wh")).to.deep.equal({ ok: true, wh: "42" });
  });
  describe("when the value is not a whole number of Wh", () => {
    it("rejects 0.0005 kWh", () => {
      expect(toWattHours("injected", "0.0005", "kWh")).to.deep.equal({
        ok: false,
        reason: "injected: 0.0005 kWh is a fractional number of Wh (readings are whole Wh)",
      });
    });
  });
  describe("when the unit is missing", () => {
    it("names the unit field", () => {
      expect(toWattHours("injected", "1", undefined)).to.deep.equal({
        ok: false,
        reason: 'unit: must be "Wh" or "kWh", got null',
      });
    });
  });
});

describe("importCsv", () => {
  const text = readFileSync(`${FIXTURES}interval-readings.csv`, "utf8");
  const expected = JSON.parse(readFileSync(`${FIXTURES}interval-readings.expected.json`, "utf8")) as {
    valid: Record<string, { intervalId: string; injectedWh: string; consumedWh: string }>;
    rejected: Record<string, string>;
  };
  const result = importCsv(text, OPTIONS);

  it("maps the valid Green Button rows to interval ids and Wh", () => {
    const got = Object.fromEntries(
      result.items.map((i) => [
        i.origin,
        {
          intervalId: i.item["intervalId"],
          injectedWh: i.item["injectedWh"],
          consumedWh: i.item["consumedWh"],
        },
      ]),
    );
    expect(got).to.deep.equal(expected.valid);
  });
  for (const [line, fragment] of Object.entries(expected.rejected))
    it(`rejects ${line}: ${fragment}`, () => {
      const r = result.rejected.find((x) => x.origin === line);
      expect(
        r?.reason,
        `rejections: ${JSON.stringify(result.rejected.map((x) => [x.origin, x.reason]))}`,
      ).to.include(fragment);
    });
  it("rejects nothing else", () => {
    expect(result.rejected.map((r) => r.origin).sort()).to.deep.equal(Object.keys(expected.rejected).sort());
  });
  it("yields items that pass signature verification once placeholders are resolved", async () => {
    const items = await Promise.all(result.items.map((i) => resolve(i.item)));
    const verified = await verifyMeterReadings(items, CONTEXT);
    expect(verified.rejected).to.deep.equal([]);
    expect(verified.accepted).to.have.length(3);
  });
  describe("when a required column is missing", () => {
    it("rejects the header naming the columns", () => {
      const r = importCsv("meter,intervalId,injected,consumed\n", OPTIONS);
      expect(r.rejected[0]!.reason).to.equal("header: missing column(s) unit, signature");
    });
  });
});

describe("importJson", () => {
  describe("when the file is a Green Button-style block", () => {
    it("applies the block's meter and unit to every reading", () => {
      const text = JSON.stringify({
        meter: METERS.A.address,
        unit: "kWh",
        intervalReadings: [
          { start: 1800000000, duration: 900, injected: "0.75", consumed: "0", signature: "0x" },
          { start: 1800000900, duration: 900, injected: "0.1", consumed: "1", signature: "0x" },
        ],
      });
      const r = importJson(text, OPTIONS);
      expect(r.rejected).to.deep.equal([]);
      expect(
        r.items.map((i) => [
          i.origin,
          i.item["meter"],
          i.item["intervalId"],
          i.item["injectedWh"],
          i.item["consumedWh"],
        ]),
      ).to.deep.equal([
        ["intervalReadings[0]", METERS.A.address, "2000000", "750", "0"],
        ["intervalReadings[1]", METERS.A.address, "2000001", "100", "1000"],
      ]);
    });
  });
  describe("when a reading carries both intervalId and start", () => {
    it("rejects it as ambiguous", () => {
      const r = importJson(
        JSON.stringify([
          { meter: "x", intervalId: 1, start: 900, duration: 900, injected: 1, consumed: 1, unit: "Wh" },
        ]),
        OPTIONS,
      );
      expect(r.rejected[0]!.reason).to.equal(
        "intervalId: give either intervalId or start and duration, not both",
      );
    });
  });
  describe("when the file is not JSON", () => {
    it("rejects the file", () => {
      expect(importJson("{", OPTIONS).rejected[0]!.reason).to.match(/^not valid JSON/);
    });
  });
});

describe("findGaps", () => {
  const a = METERS.A.address;
  const b = METERS.B.address;
  it("reports missing interval ranges per meter between its first and last reading", () => {
    const gaps = findGaps([
      { meter: a, intervalId: 10n },
      { meter: a, intervalId: 11n },
      { meter: a, intervalId: 14n },
      { meter: a, intervalId: 17n },
      { meter: b, intervalId: 10n },
      { meter: b, intervalId: 11n },
    ]);
    expect(gaps.get(a)).to.deep.equal([
      { from: 12n, to: 13n },
      { from: 15n, to: 16n },
    ]);
    expect(gaps.has(b)).to.equal(false);
  });
  it("reports leading and trailing gaps within an explicit range", () => {
    const gaps = findGaps([{ meter: b, intervalId: 12n }], { from: 10n, to: 14n });
    expect(gaps.get(b)).to.deep.equal([
      { from: 10n, to: 11n },
      { from: 13n, to: 14n },
    ]);
  });
});
