/**
 * domain/forecast/meter-surplus.ts: the meter report's surplus estimate on hand-computed cases,
 * and how the plan's offered volume follows it (the solar shape computed here from the sun's
 * position, not by the forecast module), with the fallback when a report or i's orders are missing.
 */
import { expect } from "chai";
import { type Address, getAddress } from "viem";
import { UnrecoverableInputError } from "../../../../oracle/src/domain/errors.js";
import type { ZoneIntervalObservation } from "../../../../oracle/src/domain/forecast/index.js";
import {
  type MeterSurplusInput,
  type MeteredParticipant,
  withMeterSurplus,
  zoneSurplusEstimates,
  zoneSurplusOfParticipants,
} from "../../../../oracle/src/domain/forecast/meter-surplus.js";
import { AMSTERDAM, solarPosition } from "../../../../oracle/src/domain/simulation/solar.js";

const participant = (over: Partial<MeteredParticipant>): MeteredParticipant => ({
  zone: 0,
  injectedWh: 0n,
  consumedWh: 0n,
  solar: false,
  battery: false,
  ...over,
});

describe("zoneSurplusEstimates", () => {
  it("sums the surplus of the households without a battery and scales it by the zone's solar meters", () => {
    const estimates = zoneSurplusEstimates(2, [
      participant({ zone: 0, injectedWh: 500n, consumedWh: 200n, solar: true }), // +300, counted
      participant({ zone: 0, injectedWh: 1_000n, solar: true, battery: true }), // left out, still a solar meter
      participant({ zone: 0, consumedWh: 200n }), // short: no surplus
      participant({ zone: 1, injectedWh: 800n, consumedWh: 300n, solar: true, battery: true }),
      participant({ zone: 1, injectedWh: 40n }), // not solar: counted, not a solar meter
    ]);
    // Zone 0: 300 × 2 solar meters / 1 counted. Zone 1: its only solar meter has a battery: every
    // participant's surplus, 500 + 40.
    expect(estimates).to.deep.equal([600n, 540n]);
  });

  it("rounds half up", () => {
    const estimates = zoneSurplusEstimates(1, [
      participant({ injectedWh: 301n, solar: true }),
      participant({ solar: true }),
      participant({ injectedWh: 99n, solar: true, battery: true }),
    ]);
    expect(estimates).to.deep.equal([452n]); // 301 × 3 / 2 = 451.5
  });

  it("gives 0 for a zone nobody is metered in", () => {
    expect(zoneSurplusEstimates(3, [participant({ zone: 1, injectedWh: 7n })])).to.deep.equal([0n, 7n, 0n]);
  });

  it("rejects a participant outside the zones, naming it", () => {
    expect(() => zoneSurplusEstimates(2, [participant({}), participant({ zone: 2 })]))
      .to.throw(UnrecoverableInputError)
      .with.property("field", "participants[1].zone");
  });
});

describe("zoneSurplusOfParticipants", () => {
  it("flags each participant from the registry (any address case) and leaves out those without a zone below the count", () => {
    const [a, b, c, d] = [
      "0x00000000000000000000000000000000000000aa",
      "0x00000000000000000000000000000000000000bb",
      "0x00000000000000000000000000000000000000cc",
      "0x00000000000000000000000000000000000000dd",
    ].map((x) => getAddress(x));
    const zone = new Map([
      [a!, 0],
      [b!, 0],
      [c!, 5], // registered in a zone the report has no price for
    ]);
    const estimates = zoneSurplusOfParticipants(
      1,
      [
        { participant: a!.toLowerCase() as Address, injectedWh: 900n, consumedWh: 100n }, // solar, +800
        { participant: b!, injectedWh: 5_000n, consumedWh: 0n }, // solar battery owner: scales only
        { participant: c!, injectedWh: 7_000n, consumedWh: 0n },
        { participant: d!, injectedWh: 7_000n, consumedWh: 0n }, // no zone
      ],
      { zoneOf: (p) => zone.get(p), solar: new Set([a!, b!]), batteryOwners: new Set([b!]) },
    );
    expect(estimates).to.deep.equal([1_600n]); // 800 × 2 solar meters / 1 without a battery
  });
});

describe("withMeterSurplus", () => {
  // Interval i at 11:00–11:15 UTC on the summer solstice: the sun is high in Amsterdam.
  const i = Date.UTC(2027, 5, 21, 11, 0, 0) / 1000 / 900;
  const sunSine = (t: number) =>
    Math.max(0, Math.sin((solarPosition(t * 900 + 450, AMSTERDAM).elevationDeg * Math.PI) / 180));
  const orders = (t: number, zone: number, offerWh: number): ZoneIntervalObservation => ({
    intervalId: t,
    zone,
    bidWh: 1_000 + zone,
    bidPricePerKwh: 250_000,
    offerWh,
    offerPricePerKwh: 90_000 + zone,
  });
  const input = (over: Partial<MeterSurplusInput> = {}): MeterSurplusInput => ({
    interval: i,
    horizon: 3,
    zones: [0, 1],
    intervalSeconds: 900,
    solarZones: [0], // zone 1 has no solar meter: its surplus persists unshaped
    location: AMSTERDAM,
    forecast: [orders(i + 1, 0, 111), orders(i + 1, 1, 222), orders(i + 2, 0, 333), orders(i + 2, 1, 444)],
    intervalOrders: [orders(i, 0, 5_000), orders(i, 1, 6_000)],
    meters: [
      { intervalId: i - 3, zone: 0, surplusWh: 1 },
      { intervalId: i - 3, zone: 1, surplusWh: 1 },
      { intervalId: i - 2, zone: 0, surplusWh: 2_000 },
      { intervalId: i - 2, zone: 1, surplusWh: 700 },
      // A report newer than i − 2 is not one the rule reads.
      { intervalId: i - 1, zone: 0, surplusWh: 9_999_999 },
      { intervalId: i - 1, zone: 1, surplusWh: 9_999_999 },
    ],
    ...over,
  });

  it("takes the offered volume of i and later from the report of i − 2, solar-shaped", () => {
    const planned = withMeterSurplus(input())!;
    const shaped = (t: number) => Math.round((2_000 * sunSine(t)) / sunSine(i - 2));
    expect(sunSine(i - 2)).to.be.above(0.5); // a ratio the rule uses, not its night fallback
    expect(planned.intervalForecast).to.deep.equal([
      { ...orders(i, 0, 5_000), offerWh: shaped(i) },
      { ...orders(i, 1, 6_000), offerWh: 700 },
    ]);
    expect(planned.forecast).to.deep.equal([
      { ...orders(i + 1, 0, 111), offerWh: shaped(i + 1) },
      { ...orders(i + 1, 1, 222), offerWh: 700 },
      { ...orders(i + 2, 0, 333), offerWh: shaped(i + 2) },
      { ...orders(i + 2, 1, 444), offerWh: 700 },
    ]);
    expect(shaped(i)).to.not.equal(2_000); // the shape moved it: the test can tell shaped from persisted
  });

  it("with lag 0 (the bench's diagnostic) takes interval i's own estimate", () => {
    const planned = withMeterSurplus(
      input({
        lag: 0,
        meters: [
          ...input().meters,
          { intervalId: i, zone: 0, surplusWh: 42 },
          { intervalId: i, zone: 1, surplusWh: 43 },
        ],
      }),
    )!;
    expect(planned.intervalForecast.map((f) => f.offerWh)).to.deep.equal([42, 43]);
  });

  it("keeps the orders when a zone's report of i − 2 is missing", () => {
    const meters = input().meters.filter((m) => !(m.intervalId === i - 2 && m.zone === 1));
    expect(withMeterSurplus(input({ meters }))).to.equal(undefined);
  });

  it("keeps the orders when interval i's order totals are missing for a zone", () => {
    expect(withMeterSurplus(input({ intervalOrders: [orders(i, 0, 5_000)] }))).to.equal(undefined);
  });

  it("rejects a negative lag, naming it", () => {
    expect(() => withMeterSurplus(input({ lag: -1 })))
      .to.throw(UnrecoverableInputError)
      .with.property("field", "lag");
  });
});
