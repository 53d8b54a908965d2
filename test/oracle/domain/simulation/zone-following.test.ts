import { expect } from "chai";
import type { HomeBattery } from "../../../../oracle/src/domain/simulation/neighbourhood.js";
import {
  type BatteryStep,
  zoneFollowingSteps,
} from "../../../../oracle/src/domain/simulation/zone-following.js";

// 4,000 W over 900 s: at most 1,000 Wh per interval each way; 2,000 W: 500 Wh.
const battery = (maxPowerW: number): HomeBattery => ({
  capacityWh: 10_000,
  maxPowerW,
  chargeEfficiency: 0.95,
  dischargeEfficiency: 0.95,
  minSocWh: 1_000,
  maxSocWh: 9_000,
  initialSocWh: 5_000,
});
const idle: BatteryStep = { direction: "charge", energyWh: 0 };
const follower = (id: string, zone: number, maxPowerW: number, committed: BatteryStep = idle) => ({
  id,
  zone,
  battery: battery(maxPowerW),
  committed,
});

describe("zoneFollowingSteps", () => {
  describe("when a zone has unscheduled surplus", () => {
    it("shares it among the zone's batteries by power, and leaves other zones' batteries on their step", () => {
      const steps = zoneFollowingSteps(
        [
          follower("a", 0, 4_000),
          follower("b", 0, 2_000),
          follower("c", 1, 4_000, { direction: "discharge", energyWh: 300 }),
        ],
        new Map([[0, 600]]),
        900,
      );
      expect(steps.get("a")).to.deep.equal({ direction: "charge", energyWh: 400 });
      expect(steps.get("b")).to.deep.equal({ direction: "charge", energyWh: 200 });
      expect(steps.get("c")).to.deep.equal({ direction: "discharge", energyWh: 300 });
    });
  });
  describe("when a zone is short", () => {
    it("adds the share to a committed discharge, turns a smaller committed charge into a discharge", () => {
      const steps = zoneFollowingSteps(
        [
          follower("a", 0, 4_000, { direction: "discharge", energyWh: 250 }),
          follower("b", 0, 4_000, { direction: "charge", energyWh: 100 }),
        ],
        new Map([[0, -700]]),
        900,
      );
      expect(steps.get("a")).to.deep.equal({ direction: "discharge", energyWh: 600 });
      expect(steps.get("b")).to.deep.equal({ direction: "discharge", energyWh: 250 });
    });
  });
  describe("when the share exceeds the battery's power", () => {
    it("caps the step at the interval's power limit", () => {
      const steps = zoneFollowingSteps(
        [follower("a", 0, 2_000, { direction: "charge", energyWh: 400 })],
        new Map([[0, 5_000]]),
        900,
      );
      expect(steps.get("a")).to.deep.equal({ direction: "charge", energyWh: 500 });
      const short = zoneFollowingSteps([follower("a", 0, 2_000)], new Map([[0, -5_000]]), 900);
      expect(short.get("a")).to.deep.equal({ direction: "discharge", energyWh: 500 });
    });
  });
  describe("when the zone has no deviation", () => {
    it("returns the committed steps unchanged", () => {
      const committed = { direction: "discharge", energyWh: 321 } as const;
      const steps = zoneFollowingSteps([follower("a", 2, 4_000, committed)], new Map(), 900);
      expect(steps.get("a")).to.deep.equal(committed);
    });
  });
  describe("when an input is not an integer", () => {
    it("names the field", () => {
      expect(() =>
        zoneFollowingSteps([follower("a", 0, 4_000, { direction: "charge", energyWh: 1.5 })], new Map(), 900),
      ).to.throw(RangeError, "committed.energyWh of a must be a non-negative integer, got 1.5");
      expect(() => zoneFollowingSteps([follower("a", 0, 4_000)], new Map([[0, 0.5]]), 900)).to.throw(
        RangeError,
        "zoneDeviationWh of zone 0 must be an integer, got 0.5",
      );
    });
  });
});
