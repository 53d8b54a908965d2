import { expect } from "chai";
import type { Address } from "viem";
import { batteryOutcomes } from "../../../oracle/src/domain/battery-outcomes.js";

const A = "0x00000000000000000000000000000000000000a1" as Address;
const B = "0x00000000000000000000000000000000000000b2" as Address;

describe("batteryOutcomes", () => {
  const batteries = [
    { batteryId: 0, owner: A, initialSocWh: 5_000n },
    { batteryId: 1, owner: B, initialSocWh: 2_000n },
  ];
  const outcome = batteryOutcomes({
    batteries,
    intervals: [
      {
        flexSteps: [
          { owner: A, batteryId: 0, direction: 0, energyWh: 1_000n, socWh: 5_950n, amount: 120_000n },
          { owner: B, batteryId: 1, direction: 0, energyWh: 0n, socWh: 2_000n, amount: 0n },
        ],
      },
      {}, // no step settled (a missed interval): the batteries keep their scheduled SoC
      {
        flexSteps: [
          { owner: A, batteryId: 0, direction: 1, energyWh: 950n, socWh: 4_950n, amount: 190_000n },
          { owner: B, batteryId: 1, direction: 1, energyWh: 190n, socWh: 1_800n, amount: 38_000n },
        ],
      },
    ],
  });
  const a = outcome.batteries.find((b) => b.batteryId === 0)!;
  const b = outcome.batteries.find((x) => x.batteryId === 1)!;

  it("lists each battery's schedule per interval, + charge and − discharge", () => {
    expect(a.stepsWh).to.deep.equal([1_000n, 0n, -950n]);
    expect(b.stepsWh).to.deep.equal([0n, 0n, -190n]);
  });

  it("carries the scheduled state of charge through intervals without a step", () => {
    expect(a.scheduledSocWh).to.deep.equal([5_950n, 5_950n, 4_950n]);
    expect(b.scheduledSocWh).to.deep.equal([2_000n, 2_000n, 1_800n]);
  });

  it("earns discharge credits minus charge costs, per battery and in total", () => {
    expect(a.earned).to.equal(70_000n);
    expect(b.earned).to.equal(38_000n);
    expect(outcome.earned).to.equal(108_000n);
    expect(outcome.chargeCost).to.equal(120_000n);
    expect(outcome.dischargeCredit).to.equal(228_000n);
    expect(outcome.chargedWh).to.equal(1_000n);
    expect(outcome.dischargedWh).to.equal(1_140n);
  });

  it("rejects a step of an unknown battery and two steps of one battery in an interval", () => {
    const step = { owner: A, batteryId: 7, direction: 0, energyWh: 1n, socWh: 1n, amount: 1n };
    expect(() => batteryOutcomes({ batteries, intervals: [{ flexSteps: [step] }] })).to.throw(
      RangeError,
      /battery 7 is not listed/,
    );
    const twice = { ...step, batteryId: 0 };
    expect(() => batteryOutcomes({ batteries, intervals: [{ flexSteps: [twice, twice] }] })).to.throw(
      RangeError,
      /two steps/,
    );
  });
});
