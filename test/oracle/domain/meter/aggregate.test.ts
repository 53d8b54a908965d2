import { expect } from "chai";
import { type Address, type Hex, getAddress } from "viem";
import {
  aggregateInterval,
  scheduledEnergy,
  scheduledNetWh,
} from "../../../../oracle/src/domain/meter/aggregate.js";
import { FLEX_CHARGE, FLEX_DISCHARGE } from "../../../../oracle/src/domain/flexibility/types.js";
import { meterRegistry } from "../../../../oracle/src/domain/meter/validate.js";

const m = (n: number): Address => getAddress(`0x${n.toString(16).padStart(40, "0")}`);
const ALICE = m(0xa);
const BOB = m(0xb);
const CAROL = m(0xc);
const SIG = `0x${"00".repeat(65)}` as Hex;
const registry = meterRegistry([
  [m(1), { participant: ALICE, source: "solar" }],
  [m(2), { participant: ALICE, source: "other" }],
  [m(3), { participant: BOB, source: "other" }],
]);
const read = (meter: Address, injectedWh: bigint, consumedWh: bigint, intervalId = 7n) => ({
  meter,
  intervalId,
  injectedWh,
  consumedWh,
  signature: SIG,
});

describe("aggregateInterval", () => {
  describe("when every meter reported", () => {
    it("sums readings per participant, exact and not estimated", () => {
      const totals = aggregateInterval({
        intervalId: 7n,
        readings: [read(m(1), 500n, 0n), read(m(2), 0n, 120n), read(m(3), 0n, 300n), read(m(3), 1n, 1n, 8n)],
        registry,
        scheduled: new Map([[BOB, { injectedWh: 0n, consumedWh: 1000n }]]),
      });
      expect(totals).to.deep.equal([
        { participant: ALICE, injectedWh: 500n, consumedWh: 120n, estimated: false, missingMeters: [] },
        // Bob used less than scheduled and reported it: the truth counts.
        { participant: BOB, injectedWh: 0n, consumedWh: 300n, estimated: false, missingMeters: [] },
      ]);
    });
  });

  describe("when meters are missing (the documented default rule)", () => {
    it("counts missing injection as zero and consumption as at least the schedule", () => {
      const totals = aggregateInterval({
        intervalId: 7n,
        readings: [read(m(2), 0n, 50n)],
        registry,
        scheduled: new Map([
          [ALICE, { injectedWh: 800n, consumedWh: 200n }],
          [BOB, { injectedWh: 0n, consumedWh: 400n }],
          [CAROL, { injectedWh: 100n, consumedWh: 0n }],
        ]),
      });
      expect(totals).to.deep.equal([
        // Alice's solar meter is silent: 0 injected; her consumption meter says 50 < 200 scheduled.
        { participant: ALICE, injectedWh: 0n, consumedWh: 200n, estimated: true, missingMeters: [m(1)] },
        { participant: BOB, injectedWh: 0n, consumedWh: 400n, estimated: true, missingMeters: [m(3)] },
        // Carol has no meter at all: no data, so no delivery.
        { participant: CAROL, injectedWh: 0n, consumedWh: 0n, estimated: true, missingMeters: [] },
      ]);
    });
    it("keeps a reported consumption above the schedule", () => {
      const totals = aggregateInterval({
        intervalId: 7n,
        readings: [read(m(2), 0n, 900n)],
        registry,
        scheduled: new Map([[ALICE, { injectedWh: 0n, consumedWh: 200n }]]),
      });
      expect(totals[0]).to.deep.include({ participant: ALICE, consumedWh: 900n, estimated: true });
    });
  });

  describe("when two readings for one meter are given", () => {
    it("throws instead of guessing", () => {
      expect(() =>
        aggregateInterval({
          intervalId: 7n,
          readings: [read(m(1), 1n, 0n), read(m(1), 2n, 0n)],
          registry,
          scheduled: new Map(),
        }),
      ).to.throw(/two readings for meter/);
    });
  });
});

describe("scheduledEnergy", () => {
  const GRID = m(0x6);
  const fills = [
    { owner: ALICE, side: 1 as const },
    { owner: BOB.toLowerCase(), side: 0 as const },
    { owner: ALICE, side: 0 as const },
    { owner: GRID, side: 1 as const },
    { owner: BOB, side: 0 as const },
  ];

  describe("when the interval has sell and buy fills", () => {
    it("sums sells as injection and buys as consumption per owner, keyed checksummed", () => {
      const e = scheduledEnergy(fills, [400n, 100n, 30n, 9_000n, 5n], new Set([GRID]));
      expect(e.get(ALICE)).to.deep.equal({ injectedWh: 400n, consumedWh: 30n });
      expect(e.get(BOB)).to.deep.equal({ injectedWh: 0n, consumedWh: 105n });
    });
  });
  describe("when a fill belongs to a grid account", () => {
    it("leaves the grid out (the balancing party is never metered)", () => {
      const e = scheduledEnergy(fills, [400n, 100n, 30n, 9_000n, 5n], new Set([GRID]));
      expect(e.has(GRID)).to.equal(false);
      expect([...e.keys()]).to.deep.equal([ALICE, BOB]);
    });
    it("keeps it as a participant when it is not a grid account", () => {
      expect(scheduledEnergy(fills, [1n, 1n, 1n, 9_000n, 1n], new Set()).get(GRID)).to.deep.equal({
        injectedWh: 9_000n,
        consumedWh: 0n,
      });
    });
  });
});

describe("scheduledNetWh", () => {
  const scheduled = new Map([
    [ALICE, { injectedWh: 400n, consumedWh: 30n }],
    [BOB, { injectedWh: 0n, consumedWh: 105n }],
  ]);

  describe("when the interval has no flexibility steps", () => {
    it("is sold minus bought per participant", () => {
      expect([...scheduledNetWh(scheduled, [])]).to.deep.equal([
        [ALICE, 370n],
        [BOB, -105n],
      ]);
    });
  });
  describe("when batteries were scheduled", () => {
    it("adds its owner's discharges and subtracts its charges, as settleImbalance does", () => {
      const net = scheduledNetWh(scheduled, [
        { owner: BOB.toLowerCase(), direction: FLEX_DISCHARGE, energyWh: 250n },
        { owner: ALICE, direction: FLEX_CHARGE, energyWh: 500n },
        // An owner without fills: its battery's step is its whole schedule.
        { owner: CAROL, direction: FLEX_CHARGE, energyWh: 40n },
        { owner: CAROL, direction: FLEX_DISCHARGE, energyWh: 0n },
      ]);
      expect(net.get(ALICE)).to.equal(-130n);
      expect(net.get(BOB)).to.equal(145n);
      expect(net.get(CAROL)).to.equal(-40n);
    });
  });
});
