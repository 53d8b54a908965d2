import { expect } from "chai";
import {
  applyBatteryEnergy,
  chargeHeadroomWh,
  dischargeHeadroomWh,
  meterReading,
} from "../../../../oracle/src/domain/simulation/battery.js";
import type { HomeBattery } from "../../../../oracle/src/domain/simulation/neighbourhood.js";

const battery: HomeBattery = {
  capacityWh: 10_000,
  maxPowerW: 4000,
  chargeEfficiency: 0.95,
  dischargeEfficiency: 0.95,
  minSocWh: 1000,
  maxSocWh: 10_000,
  initialSocWh: 5000,
};

describe("applyBatteryEnergy", () => {
  it("stores floor(charge · 0.95) and removes ceil(discharge / 0.95)", () => {
    expect(applyBatteryEnergy(battery, 5000, 1000, 0)).to.equal(5950);
    expect(applyBatteryEnergy(battery, 5000, 0, 950)).to.equal(4000);
    expect(applyBatteryEnergy(battery, 5000, 0, 951)).to.equal(3998); // 951/0.95 = 1001.05 → 1002
  });

  describe("when the result would leave the SoC window", () => {
    it("throws", () => {
      expect(() => applyBatteryEnergy(battery, 9900, 1000, 0)).to.throw(RangeError, /state of charge/);
      expect(() => applyBatteryEnergy(battery, 1100, 0, 200)).to.throw(RangeError, /state of charge/);
      expect(() => applyBatteryEnergy(battery, 5000, -1, 0)).to.throw(RangeError, /chargedWh/);
    });
  });
});

describe("chargeHeadroomWh / dischargeHeadroomWh", () => {
  it("are limited by power over 15 minutes (4000 W → 1000 Wh)", () => {
    expect(chargeHeadroomWh(battery, 5000, 900)).to.equal(1000);
    expect(dischargeHeadroomWh(battery, 5000, 900)).to.equal(1000);
  });

  it("are limited by the SoC window near full and near empty", () => {
    expect(chargeHeadroomWh(battery, 9500, 900)).to.equal(526); // 500 / 0.95 = 526.3
    expect(dischargeHeadroomWh(battery, 1200, 900)).to.equal(190); // 200 · 0.95
    expect(applyBatteryEnergy(battery, 9500, 526, 0)).to.be.at.most(10_000);
    expect(applyBatteryEnergy(battery, 1200, 0, 190)).to.be.at.least(1000);
  });
});

describe("meterReading", () => {
  it("nets PV, load and battery into injection or consumption", () => {
    expect(meterReading({ pvWh: 800, loadWh: 300 })).to.deep.equal({ injectedWh: 500, consumedWh: 0 });
    expect(meterReading({ pvWh: 800, loadWh: 300, batteryChargeWh: 700 })).to.deep.equal({
      injectedWh: 0,
      consumedWh: 200,
    });
    expect(meterReading({ pvWh: 0, loadWh: 300, batteryDischargeWh: 300 })).to.deep.equal({
      injectedWh: 0,
      consumedWh: 0,
    });
  });
});
