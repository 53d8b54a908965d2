import { expect } from "chai";
import {
  MAX_WINDOW_INTERVALS,
  flexWindows,
  followFlexStep,
  standingFlexOrder,
  standingOrderPriceLimits,
} from "../../../../oracle/src/domain/simulation/flex-orders.js";
import { generateNeighbourhood } from "../../../../oracle/src/domain/simulation/neighbourhood.js";
import { parseStrategyOptions } from "../../../../oracle/src/domain/simulation/strategy.js";

const neighbourhood = generateNeighbourhood({ seed: 1, prosumers: 50, zones: 3 });
const options = parseStrategyOptions();
const withBattery = neighbourhood.households.filter((h) => h.battery !== null);
const withoutBattery = neighbourhood.households.find((h) => h.battery === null)!;

describe("flexWindows", () => {
  describe("when the run fits one window", () => {
    it("returns one window covering every interval", () => {
      expect(flexWindows(96)).to.deep.equal([{ offset: 0, intervals: 96 }]);
      expect(flexWindows(MAX_WINDOW_INTERVALS)).to.deep.equal([{ offset: 0, intervals: 672 }]);
    });
  });
  describe("when the run is longer than the contract's window", () => {
    it("splits it into consecutive windows of at most the maximum, each interval once", () => {
      expect(flexWindows(1_500)).to.deep.equal([
        { offset: 0, intervals: 672 },
        { offset: 672, intervals: 672 },
        { offset: 1_344, intervals: 156 },
      ]);
      expect(flexWindows(7, 3)).to.deep.equal([
        { offset: 0, intervals: 3 },
        { offset: 3, intervals: 3 },
        { offset: 6, intervals: 1 },
      ]);
    });
  });
  describe("when an argument is invalid", () => {
    it("rejects it, naming it", () => {
      expect(() => flexWindows(-1)).to.throw(RangeError, /intervals/);
      expect(() => flexWindows(10, 0)).to.throw(RangeError, /maxWindowIntervals/);
    });
  });
});

describe("standingOrderPriceLimits", () => {
  const battery = { ...withBattery[0]!.battery!, chargeEfficiency: 0.95, dischargeEfficiency: 0.95 };

  it("charges at most the round-trip break-even against retail, ⌊R · ηc · ηd⌋", () => {
    // 300,000 × 0.95 × 0.95 = 270,750.
    expect(standingOrderPriceLimits(battery, options).chargeMaxPricePerKwh).to.equal(270_750);
    const lossy = { ...battery, chargeEfficiency: 0.9, dischargeEfficiency: 0.8 };
    expect(standingOrderPriceLimits(lossy, options).chargeMaxPricePerKwh).to.equal(216_000);
  });

  it("discharges at no less than the middle of the retail–feed-in spread, ⌈(R + F) / 2⌉", () => {
    expect(standingOrderPriceLimits(battery, options).dischargeMinPricePerKwh).to.equal(185_000);
    const tariffs = parseStrategyOptions({ retailPricePerKwh: 250_001, feedInPricePerKwh: 50_000 });
    expect(standingOrderPriceLimits(battery, tariffs)).to.deep.equal({
      chargeMaxPricePerKwh: 225_625,
      dischargeMinPricePerKwh: 150_001,
    });
  });
});

describe("standingFlexOrder", () => {
  it("the neighbourhood has batteries to test with", () => {
    expect(withBattery.length).to.be.greaterThan(3);
  });

  it("takes its prices from the owner's standing-order limits and its SoC from the simulation", () => {
    for (const household of withBattery) {
      const t = standingOrderPriceLimits(household.battery!, options);
      const order = standingFlexOrder({
        household,
        options,
        firstInterval: 1_000n,
        windowIntervals: 96,
        intervalSeconds: 900,
        socWh: 4_321,
      });
      expect(order.maxChargePricePerKwh).to.equal(BigInt(t.chargeMaxPricePerKwh));
      expect(order.minDischargePricePerKwh).to.equal(BigInt(t.dischargeMinPricePerKwh));
      expect(order.firstInterval).to.equal(1_000n);
      expect(order.lastInterval, "window inclusive: 96 intervals").to.equal(1_095n);
      expect(order.initialSocWh).to.equal(4_321n);
    }
  });

  it("locks a budget that pays full-power charging at the maximum price in every interval, each rounded up", () => {
    const household = withBattery[0]!;
    const order = standingFlexOrder({
      household,
      options,
      firstInterval: 5n,
      windowIntervals: 3,
      intervalSeconds: 900,
      socWh: 0,
    });
    const perIntervalWh = Math.floor((Math.round(household.battery!.maxPowerW) * 900) / 3600);
    // Every interval charged at full power and the maximum price, each rounded up as the contract
    // charges it, fits exactly: the budget cannot run out within the window.
    const perStep = Math.ceil((Number(order.maxChargePricePerKwh) * perIntervalWh) / 1000);
    expect(perIntervalWh).to.be.greaterThan(0);
    expect(order.chargeBudget).to.equal(BigInt(perStep * 3));
  });

  it("rejects a household without a battery and a window beyond the contract's maximum, naming the field", () => {
    const base = { options, firstInterval: 5n, intervalSeconds: 900, socWh: 100 };
    expect(() => standingFlexOrder({ ...base, household: withoutBattery, windowIntervals: 4 })).to.throw(
      RangeError,
      /no battery/,
    );
    expect(() => standingFlexOrder({ ...base, household: withBattery[0]!, windowIntervals: 673 })).to.throw(
      RangeError,
      /windowIntervals/,
    );
    expect(() =>
      standingFlexOrder({ ...base, household: withBattery[0]!, windowIntervals: 4, socWh: -1 }),
    ).to.throw(RangeError, /socWh/);
  });
});

describe("followFlexStep", () => {
  const battery = {
    capacityWh: 10_000,
    maxPowerW: 4_000,
    chargeEfficiency: 0.95,
    dischargeEfficiency: 0.95,
    minSocWh: 1_000,
    maxSocWh: 10_000,
    initialSocWh: 5_000,
  };
  describe("when the step fits the simulated state of charge", () => {
    it("does the whole step by the simulation's rule", () => {
      expect(followFlexStep(battery, 5_000, { direction: "charge", energyWh: 1_000 })).to.deep.equal({
        chargeWh: 1_000,
        dischargeWh: 0,
        socWh: 5_950,
        followed: true,
      });
      expect(followFlexStep(battery, 5_000, { direction: "discharge", energyWh: 950 })).to.deep.equal({
        chargeWh: 0,
        dischargeWh: 950,
        socWh: 4_000,
        followed: true,
      });
    });
  });
  describe("when the simulated state of charge drifted and the step does not fit", () => {
    it("does the largest part that keeps the SoC in its window, and says it did not follow", () => {
      const charge = followFlexStep(battery, 9_900, { direction: "charge", energyWh: 1_000 });
      expect(charge.followed).to.equal(false);
      expect(charge.chargeWh, "floor(106 · 0.95) = 100 fills the last 100 Wh").to.equal(106);
      expect(charge.socWh).to.equal(10_000);
      const discharge = followFlexStep(battery, 1_100, { direction: "discharge", energyWh: 500 });
      expect(discharge.followed).to.equal(false);
      expect(discharge.dischargeWh, "ceil(95 / 0.95) = 100 empties it to the floor").to.equal(95);
      expect(discharge.socWh).to.equal(1_000);
    });
    it("stays idle when nothing fits", () => {
      expect(followFlexStep(battery, 1_000, { direction: "discharge", energyWh: 300 })).to.deep.equal({
        chargeWh: 0,
        dischargeWh: 0,
        socWh: 1_000,
        followed: false,
      });
    });
  });
  it("a 0 Wh step is followed", () => {
    expect(followFlexStep(battery, 1_000, { direction: "charge", energyWh: 0 }).followed).to.equal(true);
  });
});
