import { expect } from "chai";
import { expectClose } from "../../../helpers/approx.js";
import { pvEnergyWh, type PvSystem } from "../../../../oracle/src/domain/simulation/pv.js";
import { localMidnightUnix } from "../../../../oracle/src/domain/simulation/time.js";

const oneKwp: PvSystem = { peakPowerKwp: 1, tiltDeg: 35, azimuthDeg: 180, inverterAcW: 1000 };

function dayEnergyWh(system: PvSystem, date: string, clearSkyIndex = 1): number {
  const start = localMidnightUnix(date);
  let total = 0;
  for (let i = 0; i < 96; i++) total += pvEnergyWh(system, start + i * 900, 900, clearSkyIndex);
  return total;
}

describe("pvEnergyWh", () => {
  describe("when the day is clear and in June", () => {
    it("gives 5–8 kWh for 1 kWp facing south at 35°", () => {
      expect(dayEnergyWh(oneKwp, "2026-06-21") / 1000).to.be.within(5, 8);
    });

    it("gives less to an east-facing roof than to a south-facing one", () => {
      expect(dayEnergyWh({ ...oneKwp, azimuthDeg: 90 }, "2026-06-21")).to.be.below(
        dayEnergyWh(oneKwp, "2026-06-21"),
      );
    });
  });

  describe("when it is December", () => {
    it("gives much less than in June", () => {
      expect(dayEnergyWh(oneKwp, "2026-12-21")).to.be.below(0.35 * dayEnergyWh(oneKwp, "2026-06-21"));
    });
  });

  describe("when it is night", () => {
    it("gives nothing", () => {
      expect(pvEnergyWh(oneKwp, Date.parse("2026-06-21T00:00:00Z") / 1000, 900, 1)).to.equal(0);
    });
  });

  describe("when the inverter is small", () => {
    it("clips at its rating: at most rating × 0.25 h per interval", () => {
      const clipped = { ...oneKwp, peakPowerKwp: 8, inverterAcW: 2000 };
      const noon = Date.parse("2026-06-21T11:30:00Z") / 1000;
      expectClose(pvEnergyWh(clipped, noon, 900, 1), 500, 1e-6);
    });
  });

  it("scales with the clear-sky index", () => {
    const t = Date.parse("2026-06-21T10:00:00Z") / 1000;
    expect(pvEnergyWh(oneKwp, t, 900, 0.3)).to.be.below(0.45 * pvEnergyWh(oneKwp, t, 900, 1));
  });
});
