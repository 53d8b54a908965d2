import { expect } from "chai";
import type { HomeBattery } from "../../../../oracle/src/domain/simulation/neighbourhood.js";
import { predictedStartSocWh, resyncSocWh } from "../../../../oracle/src/domain/simulation/soc-resync.js";

// 4,000 W over 900 s: at most 1,000 Wh per interval each way; 95% each way.
const battery: HomeBattery = {
  capacityWh: 10_000,
  maxPowerW: 4_000,
  chargeEfficiency: 0.95,
  dischargeEfficiency: 0.95,
  minSocWh: 1_000,
  maxSocWh: 9_000,
  initialSocWh: 5_000,
};
const input = (over: Partial<Parameters<typeof resyncSocWh>[0]>) => ({
  battery,
  meteredSocWh: 5_000,
  scheduledSocWh: 5_000,
  thresholdWh: 0,
  intervalSeconds: 900,
  ...over,
});

describe("SoC re-synchronisation", () => {
  it("predicts the start of i as i − 1's committed step applied to the SoC metered at the end of i − 2", () => {
    // Charge 400 Wh: floor(400 × 0.95) = 380 stored. Discharge 400 Wh: ceil(400 / 0.95) = 422 taken.
    expect(predictedStartSocWh(battery, 5_000, { direction: "charge", energyWh: 400 }, 900)).to.equal(5_380);
    expect(predictedStartSocWh(battery, 5_000, { direction: "discharge", energyWh: 400 }, 900)).to.equal(
      4_578,
    );
    expect(predictedStartSocWh(battery, 5_000, undefined, 900)).to.equal(5_000);
  });

  it("predicts only what the battery can do of the step from the metered SoC", () => {
    // 8,900 Wh stored: room for floor(100 / 0.95) = 105 Wh drawn, of which floor(99.75) = 99 stored.
    expect(predictedStartSocWh(battery, 8_900, { direction: "charge", energyWh: 1_000 }, 900)).to.equal(
      8_999,
    );
    const drained = predictedStartSocWh(battery, 1_200, { direction: "discharge", energyWh: 1_000 }, 900);
    expect(drained)
      .to.be.at.least(battery.minSocWh)
      .and.at.most(battery.minSocWh + 2);
  });

  it("re-synchronises only when the prediction is more than the threshold off the schedule", () => {
    const charged = { committed: { direction: "charge" as const, energyWh: 400 } };
    expect(resyncSocWh(input({ ...charged, scheduledSocWh: 5_380 }))).to.equal(undefined);
    expect(resyncSocWh(input({ ...charged, scheduledSocWh: 5_300 }))).to.equal(5_380);
    expect(resyncSocWh(input({ ...charged, scheduledSocWh: 5_300, thresholdWh: 80 }))).to.equal(undefined);
    expect(resyncSocWh(input({ ...charged, scheduledSocWh: 5_300, thresholdWh: 79 }))).to.equal(5_380);
    // Following drained the battery below what the contract believes: the order restarts lower.
    expect(resyncSocWh(input({ meteredSocWh: 2_000, scheduledSocWh: 6_000 }))).to.equal(2_000);
  });

  it("keeps the replacement's initial SoC within the registered (Wh-rounded) bounds", () => {
    const odd: HomeBattery = { ...battery, minSocWh: 1_000.4, maxSocWh: 8_999.6 };
    const full = resyncSocWh(
      input({ battery: odd, meteredSocWh: 8_999, committed: { direction: "charge", energyWh: 1_000 } }),
    );
    expect(full).to.be.at.most(9_000).and.at.least(8_999);
  });

  it("rejects a negative or fractional threshold, SoC or step with the field's name", () => {
    expect(() => resyncSocWh(input({ thresholdWh: -1 }))).to.throw(RangeError, /thresholdWh/);
    expect(() => resyncSocWh(input({ scheduledSocWh: 1.5 }))).to.throw(RangeError, /scheduledSocWh/);
    expect(() => resyncSocWh(input({ meteredSocWh: -3 }))).to.throw(RangeError, /meteredSocWh/);
    expect(() => resyncSocWh(input({ committed: { direction: "charge", energyWh: 2.5 } }))).to.throw(
      RangeError,
      /committed.energyWh/,
    );
  });
});
