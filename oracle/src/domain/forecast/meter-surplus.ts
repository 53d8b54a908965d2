/**
 * The committee's surplus signal from the meters (issue 14; docs/DISPATCH.md, "Interval i's
 * surplus from the meters").
 *
 * On a cloudy day the households' orders for interval i carry a forecast made two intervals
 * before; what the batteries lose against perfect foresight is mostly the cloud change since. The
 * meter report of i − 2 is committed before i's gate closes, so the committee can plan interval i
 * (and, solar-shaped, the intervals after it) on the surplus those meters showed instead of the
 * surplus the orders offer. Batteries that follow their zone hide that surplus in their own
 * household's meter (they absorb it), so the report estimates each zone's surplus from the
 * households *without* a registered battery and scales it to the zone by the count of solar
 * meters: `zoneSurplusEstimates`, committed in every meter report (`MeterReport.zoneSurplusWh`).
 * `withMeterSurplus` is what the plan does with it, in the committee (rolling-clearing.ts) and in
 * the value bench (rolling/day.ts) alike.
 *
 * Pure and deterministic: integers out, no I/O.
 */
import { type Address, getAddress } from "viem";
import { UnrecoverableInputError } from "../errors.js";
import {
  type IntervalForecastInput,
  type ZoneIntervalForecast,
  type ZoneIntervalObservation,
  forecastForInterval,
} from "./index.js";

/**
 * The report the plan of interval i reads: i − 2. At i's gate closure (5 minutes before i starts)
 * interval i − 1 is still running; i − 2 ended 10 minutes before and its report is committed by then
 * when the meter grace period is shorter than that. Measured: lag 2 gives 80% or more of the
 * perfect-foresight value on every cloudy day of the bench, lag 1 and 3 do not (BENCHMARKS.md).
 */
export const METER_SURPLUS_LAG = 2;

/** One metered participant of an interval, as the meter report sees it. */
export interface MeteredParticipant {
  /** Its registered zone (participants without one are left out by the caller). */
  readonly zone: number;
  readonly injectedWh: bigint;
  readonly consumedWh: bigint;
  /** Its meter is registered with source "solar". */
  readonly solar: boolean;
  /** It owns a battery registered in GridRegistry. */
  readonly battery: boolean;
}

/**
 * Per zone (index = zone id, `zoneCount` entries): Σ max(0, injected − consumed) over the
 * participants without a battery, scaled by (solar meters in the zone) / (solar meters among
 * them), rounded half up. A zone whose every solar meter belongs to a battery owner has no clean
 * sample: its estimate is the sum over all its participants (what following leaves of it).
 */
export function zoneSurplusEstimates(
  zoneCount: number,
  participants: readonly MeteredParticipant[],
): bigint[] {
  if (!Number.isSafeInteger(zoneCount) || zoneCount < 0)
    throw new UnrecoverableInputError("invalid meter surplus input", {
      details: `zoneCount: must be a non-negative integer, got ${zoneCount}`,
      field: "zoneCount",
    });
  const clean = new Array<bigint>(zoneCount).fill(0n);
  const all = new Array<bigint>(zoneCount).fill(0n);
  const solarMeters = new Array<bigint>(zoneCount).fill(0n);
  const cleanSolarMeters = new Array<bigint>(zoneCount).fill(0n);
  participants.forEach((p, k) => {
    if (!Number.isSafeInteger(p.zone) || p.zone < 0 || p.zone >= zoneCount)
      throw new UnrecoverableInputError("invalid meter surplus input", {
        details: `participants[${k}].zone: must be a zone id below ${zoneCount}, got ${p.zone}`,
        field: `participants[${k}].zone`,
      });
    const surplus = p.injectedWh > p.consumedWh ? p.injectedWh - p.consumedWh : 0n;
    all[p.zone]! += surplus;
    if (p.solar) solarMeters[p.zone]! += 1n;
    if (p.battery) return;
    clean[p.zone]! += surplus;
    if (p.solar) cleanSolarMeters[p.zone]! += 1n;
  });
  return clean.map((sum, zone) => {
    const counted = cleanSolarMeters[zone]!;
    if (counted === 0n) return all[zone]!;
    return (2n * sum * solarMeters[zone]! + counted) / (2n * counted);
  });
}

/** One participant's metered energy in the interval (a leaf of the meter report). */
export interface ParticipantEnergy {
  readonly participant: Address;
  readonly injectedWh: bigint;
  readonly consumedWh: bigint;
}

/** What the registry says of the report's participants (addresses checksummed). */
export interface SurplusRegistry {
  readonly zoneOf: (participant: Address) => number | undefined;
  readonly solar: ReadonlySet<Address>;
  readonly batteryOwners: ReadonlySet<Address>;
}

/**
 * `zoneSurplusEstimates` of the report's participants, flagged from the registry: the meter job
 * and `gridbrain verify` compute the committed figure with it. A participant without a registered
 * zone below `zoneCount` is left out, as the imbalance prices leave it out of the zones.
 */
export function zoneSurplusOfParticipants(
  zoneCount: number,
  entries: readonly ParticipantEnergy[],
  registry: SurplusRegistry,
): bigint[] {
  return zoneSurplusEstimates(
    zoneCount,
    entries.flatMap((e) => {
      const participant = getAddress(e.participant);
      const zone = registry.zoneOf(participant);
      if (zone === undefined || zone >= zoneCount) return [];
      return [
        {
          zone,
          injectedWh: e.injectedWh,
          consumedWh: e.consumedWh,
          solar: registry.solar.has(participant),
          battery: registry.batteryOwners.has(participant),
        },
      ];
    }),
  );
}

/** A committed report's estimate for one zone (`MeterReportCommitted.zoneSurplusWh`). */
export interface ZoneMeterSurplus {
  readonly intervalId: number;
  readonly zone: number;
  readonly surplusWh: number;
}

/** The forecast's own input (i, H, zones, the solar shape's zones and site), and: */
export interface MeterSurplusInput extends Omit<IntervalForecastInput, "observations"> {
  /** The forecast rows of i + 1 … i + H − 1 from the orders (`forecastForInterval`). */
  readonly forecast: readonly ZoneIntervalForecast[];
  /** Interval i's own order totals (`observeOrders` of its open inflexible orders), one per zone. */
  readonly intervalOrders: readonly ZoneIntervalObservation[];
  /** Committed estimates of intervals up to i − lag (older ones feed the forecast's `yesterday`). */
  readonly meters: readonly ZoneMeterSurplus[];
  /** Default METER_SURPLUS_LAG. 0 is a diagnostic of the bench (knowing i's own meters). */
  readonly lag?: number;
}

/**
 * The plan's orders with the offered volume taken from the meters: for interval i and every later
 * one, the committee's forecast rule run on the committed estimates up to i − lag (solarShape
 * scales the last one by the sun), in place of the offered volume of the orders' forecast; bids
 * and prices stay the orders'. `intervalForecast` is interval i's order totals with that offered
 * volume (`RollingInput.intervalForecast`: the plan's interval i; the commit still clears the real
 * orders). Undefined, and the plan keeps the orders, when the estimates of i − lag are missing for
 * any zone (its report was not committed before the gate closed) or i's order totals are.
 */
export function withMeterSurplus(
  input: MeterSurplusInput,
): { forecast: ZoneIntervalForecast[]; intervalForecast: ZoneIntervalForecast[] } | undefined {
  const lag = input.lag ?? METER_SURPLUS_LAG;
  if (!Number.isSafeInteger(lag) || lag < 0)
    throw new UnrecoverableInputError("invalid meter surplus input", {
      details: `lag: must be a non-negative integer, got ${lag}`,
      field: "lag",
    });
  const i = input.interval;
  const latest = i - lag;
  const known = input.meters.filter((m) => m.intervalId <= latest);
  const complete = (rows: readonly { intervalId: number; zone: number }[], t: number) =>
    input.zones.every((zone) => rows.some((r) => r.intervalId === t && r.zone === zone));
  // Without i − lag's report for every zone, or i's order totals, the plan keeps i's real orders.
  if (!complete(known, latest) || !complete(input.intervalOrders, i)) return undefined;
  const key = (zone: number, t: number) => `${zone}:${t}`;
  const offered = new Map<string, number>();
  // Rows i − lag + 1 … i + H − 1 from the estimates (with lag 0, interval i is its own estimate).
  for (const f of forecastForInterval({
    interval: latest,
    horizon: input.horizon + lag,
    zones: input.zones,
    intervalSeconds: input.intervalSeconds,
    observations: known.map((m) => ({
      intervalId: m.intervalId,
      zone: m.zone,
      bidWh: 0,
      bidPricePerKwh: 0,
      offerWh: m.surplusWh,
      offerPricePerKwh: 0,
    })),
    solarZones: input.solarZones,
    location: input.location,
  }))
    offered.set(key(f.zone, f.intervalId), f.offerWh);
  if (lag === 0) for (const m of known) if (m.intervalId === i) offered.set(key(m.zone, i), m.surplusWh);
  const withMeters = (f: ZoneIntervalForecast): ZoneIntervalForecast => ({
    ...f,
    offerWh: offered.get(key(f.zone, f.intervalId)) ?? f.offerWh,
  });
  return {
    forecast: input.forecast.map(withMeters),
    intervalForecast: input.intervalOrders.filter((o) => o.intervalId === i).map(withMeters),
  };
}
