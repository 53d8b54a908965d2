import { expect } from "chai";
import { expectClose } from "../../../helpers/approx.js";
import { UnrecoverableInputError } from "../../../../oracle/src/domain/errors.js";
import { generateNeighbourhood } from "../../../../oracle/src/domain/simulation/neighbourhood.js";
import {
  NeighbourhoodSimulator,
  initialSimulationState,
  simulateInterval,
  type IntervalSimulation,
} from "../../../../oracle/src/domain/simulation/simulator.js";

const neighbourhood = generateNeighbourhood({ seed: 5, prosumers: 20, zones: 2 });
const day = (seed?: number): IntervalSimulation[] =>
  new NeighbourhoodSimulator(neighbourhood, seed === undefined ? {} : { seed }).run(96);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe("NeighbourhoodSimulator", () => {
  const intervals = day();

  describe("when run twice with the same seed", () => {
    it("produces identical intervals", () => {
      expect(day()).to.deep.equal(intervals);
    });
  });

  describe("when the seed differs", () => {
    it("produces different weather and loads", () => {
      expect(day(99)).to.not.deep.equal(intervals);
    });
  });

  it("starts at local midnight of 2026-06-21 (22:00 UTC the day before) in 15-minute steps", () => {
    const start = Date.parse("2026-06-20T22:00:00Z") / 1000;
    intervals.forEach((iv, k) => {
      expect(iv.startUnix).to.equal(start + k * 900);
      expect(iv.intervalId).to.equal((start + k * 900) / 900);
    });
  });

  it("reports integer, non-negative Wh and net = pv − load", () => {
    for (const iv of intervals)
      for (const h of iv.households)
        for (const e of [h.forecast, h.actual]) {
          expect(Number.isInteger(e.pvWh) && e.pvWh >= 0).to.equal(true);
          expect(Number.isInteger(e.loadWh) && e.loadWh >= 0).to.equal(true);
          expect(e.netWh).to.equal(e.pvWh - e.loadWh);
        }
  });

  it("produces forecasts that differ from actuals", () => {
    const all = intervals.flatMap((iv) => iv.households);
    expect(all.filter((h) => h.forecast.loadWh !== h.actual.loadWh).length).to.be.above(0.9 * all.length);
    const sunny = all.filter((h) => h.forecast.pvWh > 100);
    expect(sunny.length).to.be.above(0);
    expect(sunny.filter((h) => h.forecast.pvWh !== h.actual.pvWh).length).to.be.above(0.9 * sunny.length);
  });

  it("keeps the forecasts unbiased over the day within 25%", () => {
    const all = intervals.flatMap((iv) => iv.households);
    const loadF = sum(all.map((h) => h.forecast.loadWh));
    const loadA = sum(all.map((h) => h.actual.loadWh));
    expect(Math.abs(loadA - loadF) / loadF).to.be.below(0.25);
  });

  it("produces no PV at night and PV around noon for PV owners", () => {
    const night = intervals[4] as IntervalSimulation; // 01:00 local
    const noon = intervals[54] as IntervalSimulation; // 13:30 local = 11:30 UTC
    expect(night.households.every((h) => h.actual.pvWh === 0 && h.forecast.pvWh === 0)).to.equal(true);
    const owners = neighbourhood.households.filter((h) => h.pv !== null).map((h) => h.id);
    expect(noon.households.filter((h) => owners.includes(h.id)).every((h) => h.forecast.pvWh > 0)).to.equal(
      true,
    );
    expect(noon.households.filter((h) => !owners.includes(h.id)).every((h) => h.actual.pvWh === 0)).to.equal(
      true,
    );
  });

  it("keeps the clear-sky index within its bounds", () => {
    for (const iv of intervals) {
      expect(iv.sharedClearSkyIndex.actual).to.be.within(0.1, 1.05);
      expect(iv.sharedClearSkyIndex.forecast).to.be.within(0.1, 1.05);
    }
  });
});

describe("simulateInterval", () => {
  describe("when branched from a saved state", () => {
    it("reproduces the same interval", () => {
      const state = initialSimulationState(neighbourhood, { seed: 12 });
      const first = simulateInterval(neighbourhood, state);
      expect(simulateInterval(neighbourhood, state)).to.deep.equal(first);
      expect(first.state.nextStartUnix).to.equal(state.nextStartUnix + 900);
    });
  });

  describe("when the forecast lead is two intervals", () => {
    it("forecasts from the index observed two intervals earlier", () => {
      const sim = new NeighbourhoodSimulator(neighbourhood, { cloud: { persistence: 0.9, mean: 0.68 } });
      const ivs = sim.run(5);
      const observed = (ivs[1] as IntervalSimulation).sharedClearSkyIndex.actual;
      const expected = 0.68 + 0.9 ** 2 * (observed - 0.68);
      expectClose(
        (ivs[3] as IntervalSimulation).sharedClearSkyIndex.forecast,
        Math.min(1.05, Math.max(0.1, expected)),
        1e-12,
      );
    });
  });
  describe("when the forecast lead is one interval", () => {
    const run = (forecastLeadSteps: number) =>
      new NeighbourhoodSimulator(neighbourhood, {
        cloud: { persistence: 0.9, mean: 0.68, forecastLeadSteps },
      }).run(12);
    const leadTwo = run(2);
    const leadOne = run(1);

    it("forecasts from the index of the interval before", () => {
      const observed = (leadOne[2] as IntervalSimulation).sharedClearSkyIndex.actual;
      const expected = 0.68 + 0.9 * (observed - 0.68);
      expectClose(
        (leadOne[3] as IntervalSimulation).sharedClearSkyIndex.forecast,
        Math.min(1.05, Math.max(0.1, expected)),
        1e-12,
      );
    });

    it("simulates the same weather and meters as the default lead: only what the agents know changes", () => {
      expect(leadOne.map((iv) => iv.sharedClearSkyIndex.actual)).to.deep.equal(
        leadTwo.map((iv) => iv.sharedClearSkyIndex.actual),
      );
      expect(leadOne.map((iv) => iv.households.map((h) => h.actual))).to.deep.equal(
        leadTwo.map((iv) => iv.households.map((h) => h.actual)),
      );
      expect(leadOne.map((iv) => iv.sharedClearSkyIndex.forecast)).to.not.deep.equal(
        leadTwo.map((iv) => iv.sharedClearSkyIndex.forecast),
      );
    });
  });
});

describe("initialSimulationState", () => {
  describe("when an option is invalid", () => {
    it("throws an UnrecoverableInputError naming the field", () => {
      expect(() => initialSimulationState(neighbourhood, { startUnix: 1000 })).to.throw(
        UnrecoverableInputError,
        /startUnix/,
      );
      expect(() => initialSimulationState(neighbourhood, { date: "21-06-2026" })).to.throw(
        UnrecoverableInputError,
        /date/,
      );
      expect(() => initialSimulationState(neighbourhood, { cloud: { persistence: 1 } })).to.throw(
        UnrecoverableInputError,
        /cloud\.persistence/,
      );
      expect(() => initialSimulationState(neighbourhood, { intervalSeconds: 30 })).to.throw(
        UnrecoverableInputError,
        /intervalSeconds/,
      );
    });
  });
});
