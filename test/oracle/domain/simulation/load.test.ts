import { expect } from "chai";
import { expectClose } from "../../../helpers/approx.js";
import { H25_KWH_PER_QUARTER_HOUR_PER_GWH_YEAR } from "../../../../oracle/src/domain/simulation/bdewH25.js";
import {
  bdewDynamisationFactor,
  expectedLoadWh,
  h25Day,
} from "../../../../oracle/src/domain/simulation/loadProfile.js";
import { localMidnightUnix } from "../../../../oracle/src/domain/simulation/time.js";

function dayLoadWh(annualKwh: number, date: string): number {
  const start = localMidnightUnix(date);
  let total = 0;
  for (let i = 0; i < 96; i++) total += expectedLoadWh(annualKwh, start + i * 900, 900);
  return total;
}

describe("H25 data", () => {
  it("has 12 months × 3 day types × 96 non-negative quarter-hours", () => {
    expect(H25_KWH_PER_QUARTER_HOUR_PER_GWH_YEAR).to.have.length(12);
    for (const month of H25_KWH_PER_QUARTER_HOUR_PER_GWH_YEAR)
      for (const day of [month.workday, month.saturday, month.sunday]) {
        expect(day).to.have.length(96);
        expect(day.every((v) => v > 0)).to.equal(true);
      }
  });

  it("keeps the published June workday total of 2773.430 kWh (summed from the source CSV)", () => {
    expectClose(
      h25Day(6, "workday").reduce((a, b) => a + b, 0),
      2773.43,
      0.001,
    );
  });
});

describe("bdewDynamisationFactor", () => {
  it("matches the polynomial at 1 January (≈1.24203) and 21 June (day 172, ≈0.80962)", () => {
    // by hand: 1.24 + 0.0021 − 0.0000702 + 0.00000032 − 0.0000000004 = 1.2420301
    expectClose(bdewDynamisationFactor(1), 1.24203, 1e-5);
    // t = 172 (t⁴ = 875213056, t³ = 5088448, t² = 29584): −0.343084 + 1.628303 − 2.076797 + 0.3612 + 1.24 = 0.809622
    expectClose(bdewDynamisationFactor(172), 0.809622, 1e-5);
  });
});

describe("expectedLoadWh", () => {
  describe("when a whole year is integrated", () => {
    it("returns the annual consumption within 1% (BDEW normalisation to 10^6 kWh/yr)", () => {
      const start = localMidnightUnix("2026-01-01");
      const end = localMidnightUnix("2027-01-01");
      let total = 0;
      for (let t = start; t < end; t += 900) total += expectedLoadWh(3000, t, 900);
      expectClose(total / 1000, 3000, 30);
    });
  });

  describe("when the day is the default simulation day (Sunday 2026-06-21)", () => {
    it("integrates to annual / 365 within 15%", () => {
      const annual = 3100;
      expectClose(dayLoadWh(annual, "2026-06-21"), (annual * 1000) / 365, 0.15 * ((annual * 1000) / 365));
    });
  });

  describe("when the day is a June workday (Monday 2026-06-22)", () => {
    it("is annual · F(173) · ΣH25(June, workday) / 10^6", () => {
      // F(173) by hand ≈ 0.80802; ΣH25 = 2773.430 → 3100 kWh · 0.80802 · 2773.430 / 10^6 · 1000 ≈ 6947 Wh
      expectClose(dayLoadWh(3100, "2026-06-22"), 6947, 5);
    });
  });

  describe("when the interval is not aligned to a quarter-hour", () => {
    it("weights the overlapping quarter-hours pro rata", () => {
      const t = localMidnightUnix("2026-06-22") + 18 * 3600; // 18:00 local
      const a = expectedLoadWh(3000, t, 900);
      const b = expectedLoadWh(3000, t + 900, 900);
      expectClose(expectedLoadWh(3000, t + 450, 900), (a + b) / 2, 1e-9);
    });
  });

  it("peaks in the evening and bottoms out at night", () => {
    const start = localMidnightUnix("2026-06-22");
    const at = (h: number) => expectedLoadWh(3000, start + h * 3600, 900);
    expect(at(19)).to.be.above(at(3) * 1.8);
  });
});
