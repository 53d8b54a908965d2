import { expect } from "chai";
import { UnrecoverableInputError } from "../../../../oracle/src/domain/errors.js";
import { generateNeighbourhood } from "../../../../oracle/src/domain/simulation/neighbourhood.js";

describe("generateNeighbourhood", () => {
  describe("when called twice with the same options", () => {
    it("returns identical neighbourhoods", () => {
      expect(generateNeighbourhood({ seed: 3, prosumers: 40 })).to.deep.equal(
        generateNeighbourhood({ seed: 3, prosumers: 40 }),
      );
    });
  });

  describe("when the seed changes", () => {
    it("returns a different neighbourhood", () => {
      expect(generateNeighbourhood({ seed: 3 }).households).to.not.deep.equal(
        generateNeighbourhood({ seed: 4 }).households,
      );
    });
  });

  describe("when more households are added", () => {
    it("keeps the existing ones unchanged", () => {
      const small = generateNeighbourhood({ seed: 8, prosumers: 10, zones: 2 }).households;
      const large = generateNeighbourhood({ seed: 8, prosumers: 120, zones: 2 }).households.slice(0, 10);
      expect(large.map(({ id: _id, ...rest }) => rest)).to.deep.equal(
        small.map(({ id: _id, ...rest }) => rest),
      );
    });
  });

  describe("with the default shares and sizes (600 prosumers, 3 zones)", () => {
    const n = generateNeighbourhood({ seed: 1, prosumers: 600 });

    it("spreads households evenly over the zones", () => {
      const counts = [0, 1, 2].map((z) => n.households.filter((h) => h.zone === z).length);
      expect(counts).to.deep.equal([200, 200, 200]);
    });

    it("sizes PV in 0.4 kWp modules between 2 and 8 kWp, facing roughly south", () => {
      for (const h of n.households) {
        if (h.pv === null) continue;
        expect(h.pv.peakPowerKwp).to.be.within(2, 8);
        expect(Math.abs(h.pv.peakPowerKwp / 0.4 - Math.round(h.pv.peakPowerKwp / 0.4))).to.be.below(1e-9);
        expect(h.pv.azimuthDeg).to.be.within(135, 225);
        expect(h.pv.tiltDeg).to.be.within(25, 45);
        expect(h.pv.inverterAcW).to.equal(Math.round((h.pv.peakPowerKwp * 1000) / 1.15));
      }
    });

    it("gives about 60% of households PV and about 40% of those a battery", () => {
      const pv = n.households.filter((h) => h.pv !== null).length;
      const batteries = n.households.filter((h) => h.battery !== null).length;
      // binomial sd: sqrt(600·0.6·0.4) ≈ 12 → ±48 is four sd; of ~360 PV homes, sd ≈ 9.3 → ±38
      expect(pv).to.be.within(360 - 48, 360 + 48);
      expect(batteries).to.be.within(0.4 * pv - 38, 0.4 * pv + 38);
    });

    it("gives only PV owners a battery, sized within the stated ranges", () => {
      for (const h of n.households) {
        if (h.battery === null) continue;
        const b = h.battery;
        expect(h.pv).to.not.equal(null);
        expect(b.capacityWh).to.be.within(5000, 13_500);
        expect(b.maxPowerW).to.be.within(2500, 5000);
        expect(b.chargeEfficiency).to.equal(0.95);
        expect(b.dischargeEfficiency).to.equal(0.95);
        expect(b.minSocWh).to.equal(Math.ceil(b.capacityWh * 0.1));
        expect(b.maxSocWh).to.equal(b.capacityWh);
        expect(b.initialSocWh).to.be.within(b.minSocWh, b.maxSocWh);
      }
    });

    it("draws annual consumption around a 3,100 kWh median", () => {
      const loads = n.households.map((h) => h.annualLoadKwh).sort((a, b) => a - b);
      const median = loads[loads.length / 2] as number;
      expect(median).to.be.within(2950, 3250);
      expect(loads.every((l) => Number.isInteger(l) && l >= 1500 && l <= 6000)).to.equal(true);
    });
  });

  describe("when pvShareByZone is given", () => {
    it("applies each zone's share", () => {
      const n = generateNeighbourhood({ seed: 2, prosumers: 90, zones: 3, pvShareByZone: [1, 0, 0.5] });
      expect(n.households.filter((h) => h.zone === 0).every((h) => h.pv !== null)).to.equal(true);
      expect(n.households.filter((h) => h.zone === 1).every((h) => h.pv === null)).to.equal(true);
    });
  });

  describe("when an option is invalid", () => {
    it("throws an UnrecoverableInputError naming the field", () => {
      expect(() => generateNeighbourhood({ prosumers: 0 })).to.throw(UnrecoverableInputError, /prosumers/);
      expect(() => generateNeighbourhood({ pvShare: 1.5 })).to.throw(UnrecoverableInputError, /pvShare/);
      expect(() => generateNeighbourhood({ zones: 3, pvShareByZone: [1] })).to.throw(
        UnrecoverableInputError,
        /pvShareByZone/,
      );
      expect(() => generateNeighbourhood({ prosumers: 2, zones: 3 })).to.throw(
        UnrecoverableInputError,
        /zones/,
      );
    });
  });
});
