/**
 * Forecasts of the inflexible orders of each zone over the next intervals, from data every oracle
 * node reads identically (past orders per zone and interval, which zones have PV), so every
 * node computes the same integers and signs the same schedule. See docs/DISPATCH.md, "Forecasts".
 *
 * Pure and deterministic: integer outputs, no I/O, no clock. Baselines:
 *   persistence  — the last known interval (firstInterval − 1)
 *   yesterday    — the same interval one day earlier (t − intervalsPerDay)
 *   recentMean   — the mean of the last `recentIntervals` known intervals (a price: of those with
 *                  orders on its side)
 *   solarShape   — offered volume: persistence scaled by the zone's clear-sky shape
 *                  (PV capacity × sin(sun elevation)); bids and prices: persistence
 * A quantity a method cannot compute (its input is missing) falls back to persistence, then to 0.
 */
import { z } from "zod";
import type { OrderSide } from "../eip712.js";
import { UnrecoverableInputError, formatIssues } from "../errors.js";
import { solarPosition } from "../simulation/solar.js";

/**
 * What the chain reader (chain/forecast-history.ts, `readForecastHistory`) fills for one zone and
 * one past interval: the inflexible (non-battery, non-grid) orders placed there. Volumes in Wh, prices the volume-weighted mean limit (token base
 * units per kWh, rounded half up). A zone-interval with no orders is a record of zeros; a record
 * that could not be read is absent.
 */
export interface ZoneIntervalObservation {
  readonly intervalId: number;
  readonly zone: number;
  readonly bidWh: number;
  readonly bidPricePerKwh: number;
  readonly offerWh: number;
  readonly offerPricePerKwh: number;
}

export type ForecastQuantity = "bidWh" | "bidPricePerKwh" | "offerWh" | "offerPricePerKwh";
export const FORECAST_QUANTITIES: readonly ForecastQuantity[] = [
  "bidWh",
  "bidPricePerKwh",
  "offerWh",
  "offerPricePerKwh",
];

export type ForecastMethod = "persistence" | "yesterday" | "recentMean" | "solarShape";
export const FORECAST_METHODS: readonly ForecastMethod[] = [
  "persistence",
  "yesterday",
  "recentMean",
  "solarShape",
];

/** One method per quantity. */
export type ForecastRule = Readonly<Record<ForecastQuantity, ForecastMethod>>;

/**
 * The committee's rule, chosen by measurement (bench/value.ts, docs/BENCHMARKS.md "Storage
 * value"): the method with the lowest mean absolute error for each quantity over 3 seeds × a sunny
 * and a cloudy day, leads 1–32.
 */
export const DEFAULT_FORECAST_RULE: ForecastRule = Object.freeze({
  bidWh: "yesterday",
  bidPricePerKwh: "recentMean",
  offerWh: "solarShape",
  offerPricePerKwh: "yesterday",
});

/** The volume a price quantity is the mean limit of (`recentMean` skips intervals where it is 0). */
const PRICE_VOLUME: Readonly<Partial<Record<ForecastQuantity, ForecastQuantity>>> = {
  bidPricePerKwh: "bidWh",
  offerPricePerKwh: "offerWh",
};

export interface ZoneIntervalForecast {
  readonly intervalId: number;
  readonly zone: number;
  readonly bidWh: number;
  readonly bidPricePerKwh: number;
  readonly offerWh: number;
  readonly offerPricePerKwh: number;
}

const uint = z
  .number({ invalid_type_error: "must be a number" })
  .int("must be an integer")
  .nonnegative("must not be negative")
  .safe("must be a safe integer");

/** One zone and interval of observed (or forecast) inflexible orders; also the rolling horizon's forecast rows. */
export const observationSchema = z
  .object({
    intervalId: uint,
    zone: uint,
    bidWh: uint,
    bidPricePerKwh: uint,
    offerWh: uint,
    offerPricePerKwh: uint,
  })
  .strict();

export const forecastInputSchema = z
  .object({
    /** First interval to forecast; history before it is known. */
    firstInterval: uint,
    /** Number of intervals to forecast. */
    intervals: uint.min(1, "must be at least 1").max(10_000, "must be at most 10000"),
    intervalSeconds: uint.min(60, "must be at least 60"),
    zones: z.array(uint).min(1, "must list at least one zone"),
    history: z.array(observationSchema),
    /** Registered PV capacity per zone, W peak (integer); zones not listed have none. */
    pvWpByZone: z.record(z.string().regex(/^(0|[1-9][0-9]*)$/, "must be a zone number"), uint).default({}),
    location: z
      .object({ latitudeDeg: z.number().min(-90).max(90), longitudeDeg: z.number().min(-180).max(180) })
      .strict(),
    /** Intervals per day for `yesterday` (96 for 15-minute intervals). */
    intervalsPerDay: uint.min(1, "must be at least 1").default(96),
    /** Intervals averaged by `recentMean`. */
    recentIntervals: uint.min(1, "must be at least 1").max(96, "must be at most 96").default(4),
  })
  .strict();

export type ForecastInput = z.input<typeof forecastInputSchema>;

/** Below this sin(elevation) at the last known interval the solar ratio is unstable (sun < ~5.7°). */
const MIN_SUN_SINE = 0.1;

/**
 * Forecasts `intervals` intervals from `firstInterval` for every zone, with one method for every
 * quantity (`rule`) or one method for all. Output sorted by (interval, zone). Throws
 * `UnrecoverableInputError` naming the field on malformed input (a duplicate record is malformed:
 * two nodes could pick different ones).
 */
export function forecastZones(
  input: ForecastInput,
  rule: ForecastRule | ForecastMethod = DEFAULT_FORECAST_RULE,
): ZoneIntervalForecast[] {
  const parsed = forecastInputSchema.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new UnrecoverableInputError("invalid forecast input", {
      details: formatIssues(parsed.error.issues),
      field: first === undefined ? undefined : first.path.join("."),
    });
  }
  const o = parsed.data;
  const methods: ForecastRule =
    typeof rule === "string"
      ? { bidWh: rule, bidPricePerKwh: rule, offerWh: rule, offerPricePerKwh: rule }
      : rule;
  const byKey = new Map<string, ZoneIntervalObservation>();
  o.history.forEach((h, i) => {
    const key = `${h.zone}:${h.intervalId}`;
    if (byKey.has(key))
      throw new UnrecoverableInputError("invalid forecast input", {
        details: `history.${i}: duplicate record for zone ${h.zone}, interval ${h.intervalId}`,
        field: `history.${i}`,
      });
    byKey.set(key, h);
  });
  const at = (zone: number, intervalId: number) => byKey.get(`${zone}:${intervalId}`);
  const last = o.firstInterval - 1;
  const sunSine = (intervalId: number) => {
    const mid = intervalId * o.intervalSeconds + o.intervalSeconds / 2;
    return Math.max(0, Math.sin((solarPosition(mid, o.location).elevationDeg * Math.PI) / 180));
  };
  const zones = [...new Set(o.zones)].sort((a, b) => a - b);
  const out: ZoneIntervalForecast[] = [];
  for (let t = o.firstInterval; t < o.firstInterval + o.intervals; t++) {
    for (const zone of zones) {
      const persistence = (q: ForecastQuantity) => at(zone, last)?.[q] ?? 0;
      const value = (q: ForecastQuantity): number => {
        switch (methods[q]) {
          case "persistence":
            return persistence(q);
          case "yesterday": {
            // Only an interval already known: for leads beyond one day, two days back, and so on.
            let back = t - o.intervalsPerDay;
            while (back > last) back -= o.intervalsPerDay;
            return back >= 0 ? (at(zone, back)?.[q] ?? persistence(q)) : persistence(q);
          }
          case "recentMean": {
            // A price is the mean limit of the orders on its side: an interval without any has no
            // price (its record says 0), and counting it would pull the forecast towards 0.
            const volumeOf = PRICE_VOLUME[q];
            let sum = 0;
            let n = 0;
            for (let k = last; k > last - o.recentIntervals && k >= 0; k--) {
              const h = at(zone, k);
              if (h === undefined || (volumeOf !== undefined && h[volumeOf] === 0)) continue;
              sum += h[q];
              n++;
            }
            return n === 0 ? 0 : Math.round(sum / n);
          }
          case "solarShape": {
            if (q !== "offerWh") return persistence(q);
            const wp = o.pvWpByZone[String(zone)] ?? 0;
            const known = at(zone, last);
            const sLast = sunSine(last);
            if (wp === 0 || known === undefined) return persistence(q);
            const sT = sunSine(t);
            // Sun too low at the last interval for a ratio: same interval yesterday, else persistence.
            if (sLast < MIN_SUN_SINE) {
              if (sT === 0) return 0;
              const back = t - o.intervalsPerDay;
              return back >= 0 && back <= last ? (at(zone, back)?.offerWh ?? known.offerWh) : known.offerWh;
            }
            return Math.round((known.offerWh * sT) / sLast);
          }
        }
      };
      out.push({
        intervalId: t,
        zone,
        bidWh: value("bidWh"),
        bidPricePerKwh: value("bidPricePerKwh"),
        offerWh: value("offerWh"),
        offerPricePerKwh: value("offerPricePerKwh"),
      });
    }
  }
  return out;
}

/**
 * Aggregates orders into the per-zone observation a chain reader would build: volume sums and
 * volume-weighted mean prices, rounded half up. `zones` lists every zone (a zone without orders
 * gets a record of zeros).
 */
export function observeOrders(
  intervalId: number,
  zones: readonly number[],
  orders: readonly { zone: number; side: OrderSide; quantityWh: number; limitPricePerKwh: number }[],
): ZoneIntervalObservation[] {
  return [...zones]
    .sort((a, b) => a - b)
    .map((zone) => {
      let bidWh = 0;
      let bidValue = 0n;
      let offerWh = 0;
      let offerValue = 0n;
      for (const order of orders) {
        if (order.zone !== zone) continue;
        const value = BigInt(order.limitPricePerKwh) * BigInt(order.quantityWh);
        if (order.side === "bid") {
          bidWh += order.quantityWh;
          bidValue += value;
        } else {
          offerWh += order.quantityWh;
          offerValue += value;
        }
      }
      // Integer division with half-up rounding: identical on every node.
      const mean = (value: bigint, wh: number) =>
        wh === 0 ? 0 : Number((2n * value + BigInt(wh)) / (2n * BigInt(wh)));
      return {
        intervalId,
        zone,
        bidWh,
        bidPricePerKwh: mean(bidValue, bidWh),
        offerWh,
        offerPricePerKwh: mean(offerValue, offerWh),
      };
    });
}

export interface SurplusQuantileInput {
  /** The interval whose gate closes (i). */
  readonly interval: number;
  readonly intervalSeconds: number;
  readonly zones: readonly number[];
  /** Offered volume the real orders of i put up, per zone (Wh). */
  readonly offeredWh: ReadonlyMap<number, number>;
  /** Observed orders of past intervals (ZoneIntervalObservation, `offerWh` used). */
  readonly orders: readonly ZoneIntervalObservation[];
  /** Committed meter totals of past intervals (`offerWh` = Σ metered surplus), up to i − lag. */
  readonly meters: readonly ZoneIntervalObservation[];
  /** Last interval with committed meter totals (i − 2 at gate closure). */
  readonly lastMetered: number;
  /** Past intervals looked at (the daylight ones among them are used). */
  readonly window: number;
  /** Quantile of the surplus wanted, in (0, 1). */
  readonly quantile: number;
  readonly location: { readonly latitudeDeg: number; readonly longitudeDeg: number };
}

/**
 * The committee's forecast of interval i's offered (PV surplus) volume per zone at a chosen
 * quantile, from the real orders of i corrected by how the orders have missed the meters lately:
 * for each of the last `window` metered intervals t with the sun above ~5.7° (sin ≥ 0.1), the
 * error (metered − ordered surplus) / sin(elevation at t); the nearest-rank `quantile` of those,
 * × sin(elevation at i), is added to the ordered volume (result floored at 0, rounded half up).
 * With fewer than 4 such intervals, or the sun below ~5.7° at i, the ordered volume is returned.
 * Why a quantile and not the mean: see docs/DISPATCH.md, "Surplus forecast for interval i".
 * Pure and deterministic (Math.sin: V8's fdlibm port); a missing record skips that interval.
 */
export function surplusQuantileForecast(input: SurplusQuantileInput): Map<number, number> {
  const sunSine = (intervalId: number) => {
    const mid = intervalId * input.intervalSeconds + input.intervalSeconds / 2;
    return Math.max(0, Math.sin((solarPosition(mid, input.location).elevationDeg * Math.PI) / 180));
  };
  const key = (zone: number, t: number) => `${zone}:${t}`;
  const ordered = new Map(input.orders.map((o) => [key(o.zone, o.intervalId), o.offerWh]));
  const metered = new Map(input.meters.map((m) => [key(m.zone, m.intervalId), m.offerWh]));
  const sNow = sunSine(input.interval);
  const out = new Map<number, number>();
  for (const zone of input.zones) {
    const base = input.offeredWh.get(zone) ?? 0;
    const errors: number[] = [];
    for (let t = input.lastMetered; t > input.lastMetered - input.window; t--) {
      const s = sunSine(t);
      const o = ordered.get(key(zone, t));
      const m = metered.get(key(zone, t));
      if (s < MIN_SUN_SINE || o === undefined || m === undefined) continue;
      errors.push((m - o) / s);
    }
    if (errors.length < 4 || sNow < MIN_SUN_SINE) {
      out.set(zone, base);
      continue;
    }
    errors.sort((a, b) => a - b);
    const rank = Math.min(errors.length, Math.max(1, Math.ceil(input.quantile * errors.length)));
    out.set(zone, Math.max(0, Math.round(base + errors[rank - 1]! * sNow)));
  }
  return out;
}

export interface IntervalForecastInput {
  /** The interval being committed (i): its orders are the last known ones. */
  readonly interval: number;
  /** H: intervals of the rolling horizon, i included; rows are given for i+1 … i+H−1. */
  readonly horizon: number;
  readonly zones: readonly number[];
  readonly intervalSeconds: number;
  /** Records of [i − history, i] (`readForecastHistory`); absent ones are simply missing. */
  readonly observations: readonly ZoneIntervalObservation[];
  /** Zones with a registered solar meter: solarShape shapes their offers, others use persistence. */
  readonly solarZones: readonly number[];
  readonly location: { readonly latitudeDeg: number; readonly longitudeDeg: number };
}

/**
 * The committee's forecast for the rolling horizon at the gate closure of i: `forecastZones` from
 * i + 1 for H − 1 intervals, sorted by (interval, zone), in the shape of `RollingInput.forecast`
 * (empty for H = 1). Missing records take the documented fallback (module doc,
 * docs/DISPATCH.md "Forecasts"). A day must hold a whole number of intervals (`yesterday`).
 * Throws `UnrecoverableInputError` naming the field on bad input.
 */
export function forecastForInterval(
  input: IntervalForecastInput,
  rule: ForecastRule | ForecastMethod = DEFAULT_FORECAST_RULE,
): ZoneIntervalForecast[] {
  const bad = (field: string, reason: string): never => {
    throw new UnrecoverableInputError("invalid forecast input", { details: `${field}: ${reason}`, field });
  };
  if (!Number.isSafeInteger(input.horizon) || input.horizon < 1)
    bad("horizon", `must be an integer of at least 1, got ${input.horizon}`);
  if (
    !Number.isSafeInteger(input.intervalSeconds) ||
    input.intervalSeconds < 1 ||
    86_400 % input.intervalSeconds !== 0
  )
    bad("intervalSeconds", `must divide a day (86400 s), got ${input.intervalSeconds}`);
  if (input.horizon === 1) return [];
  // The registry records no PV capacity. solarShape scales the last offer by s(t)/s(i), so the
  // capacity cancels out; forecastZones only asks whether a zone has any (> 0): 1 W marks it.
  const pvWpByZone: Record<string, number> = {};
  for (const zone of input.solarZones) pvWpByZone[String(zone)] = 1;
  return forecastZones(
    {
      firstInterval: input.interval + 1,
      intervals: input.horizon - 1,
      intervalSeconds: input.intervalSeconds,
      zones: [...input.zones],
      history: input.observations.map((o) => ({ ...o })),
      pvWpByZone,
      location: { latitudeDeg: input.location.latitudeDeg, longitudeDeg: input.location.longitudeDeg },
      intervalsPerDay: 86_400 / input.intervalSeconds,
    },
    rule,
  );
}
