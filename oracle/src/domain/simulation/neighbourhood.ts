/**
 * The simulated neighbourhood: N households over Z zones, some with rooftop PV, some of those
 * with a home battery, each with its own annual consumption. Generated from one seed, so the
 * same options always give the same neighbourhood. See docs/SIMULATION.md §6.
 */
import { z } from "zod";
import { UnrecoverableInputError, formatIssues } from "../errors.js";
import { DEFAULT_PV_LOSSES, type PvLossModel, type PvSystem } from "./pv.js";
import { Prng, deriveSeed } from "./random.js";
import { AMSTERDAM, type Location } from "./solar.js";
import { CENTRAL_EUROPEAN_TIME, type TimeZoneRule } from "./time.js";

/** A home battery behind a household's meter, in the units the dispatch model uses. */
export interface HomeBattery {
  readonly capacityWh: number;
  /** Largest charge or discharge power, W (grid side). */
  readonly maxPowerW: number;
  /** Stored energy per Wh drawn. */
  readonly chargeEfficiency: number;
  /** Delivered energy per Wh taken from storage. */
  readonly dischargeEfficiency: number;
  readonly minSocWh: number;
  readonly maxSocWh: number;
  /** State of charge at the start of the simulated day. */
  readonly initialSocWh: number;
}

export interface Household {
  /** Stable id, `h` + zero-padded index ("h007"); strategy orders use it as `owner`. */
  readonly id: string;
  readonly index: number;
  /** Zone number in [0, zones). */
  readonly zone: number;
  /** Annual consumption the load profile is scaled to, kWh (integer). */
  readonly annualLoadKwh: number;
  readonly pv: PvSystem | null;
  readonly battery: HomeBattery | null;
}

const range = (min: number, max: number, what: string) =>
  z
    .object({
      min: z.number().finite().min(min, `must be at least ${min}`),
      max: z.number().finite().max(max, `must be at most ${max}`),
    })
    .strict()
    .refine((r) => r.min <= r.max, { message: `${what}: min must not exceed max`, path: ["min"] });

const share = z
  .number({ invalid_type_error: "must be a number" })
  .finite("must be finite")
  .min(0, "must be at least 0")
  .max(1, "must be at most 1");

/** Options of `generateNeighbourhood`; every field has a documented default. */
export const neighbourhoodOptionsSchema = z
  .object({
    /** uint32 seed; every random choice derives from it. */
    seed: z
      .number()
      .int("must be an integer")
      .min(0, "must be at least 0")
      .max(0xffffffff, "must fit in 32 bits")
      .default(1),
    prosumers: z
      .number()
      .int("must be an integer")
      .min(1, "must be at least 1")
      .max(100_000, "must be at most 100000")
      .default(50),
    zones: z
      .number()
      .int("must be an integer")
      .min(1, "must be at least 1")
      .max(1000, "must be at most 1000")
      .default(3),
    /** Share of households with PV (all zones). */
    pvShare: share.default(0.6),
    /** Per-zone override of `pvShare`, one entry per zone (e.g. a sunny new-build zone). */
    pvShareByZone: z.array(share).optional(),
    /** Share of PV households that also own a battery. */
    batteryShareOfPv: share.default(0.4),
    /** Array size, kWp, drawn as a whole number of `moduleKwp` modules within this range. */
    pvKwp: range(0.1, 100, "pvKwp").default({ min: 2, max: 8 }),
    moduleKwp: z.number().positive("must be positive").max(1, "must be at most 1").default(0.4),
    /** Roof tilt: uniform in [mean − spread, mean + spread], degrees. */
    tiltDeg: z
      .object({ mean: z.number().min(0).max(90), spread: z.number().min(0).max(45) })
      .strict()
      .default({ mean: 35, spread: 10 }),
    /** Roof azimuth: uniform in [mean − spread, mean + spread], degrees clockwise from north. */
    azimuthDeg: z
      .object({ mean: z.number().min(0).max(360), spread: z.number().min(0).max(180) })
      .strict()
      .default({ mean: 180, spread: 45 }),
    /** DC/AC ratio: inverter AC rating = kWp · 1000 / ratio (W). */
    dcAcRatio: z.number().min(0.5, "must be at least 0.5").max(2, "must be at most 2").default(1.15),
    /** Annual consumption: lognormal with this median and log-sd, clamped to [min, max], kWh. */
    annualLoadKwh: z
      .object({
        median: z.number().positive(),
        sigma: z.number().min(0).max(2),
        min: z.number().positive(),
        max: z.number().positive(),
      })
      .strict()
      .refine((a) => a.min <= a.median && a.median <= a.max, {
        message: "need min <= median <= max",
        path: ["median"],
      })
      .default({ median: 3100, sigma: 0.12, min: 1500, max: 6000 }),
    battery: z
      .object({
        capacityWh: range(100, 1_000_000, "capacityWh").default({ min: 5000, max: 13_500 }),
        maxPowerW: range(100, 1_000_000, "maxPowerW").default({ min: 2500, max: 5000 }),
        chargeEfficiency: z.number().gt(0).max(1).default(0.95),
        dischargeEfficiency: z.number().gt(0).max(1).default(0.95),
        minSocShare: share.default(0.1),
        maxSocShare: share.default(1),
        /** Initial SoC as a share of capacity, uniform in this range (clamped to [min, max] SoC). */
        initialSocShare: range(0, 1, "initialSocShare").default({ min: 0.2, max: 0.5 }),
      })
      .strict()
      .refine((b) => b.minSocShare <= b.maxSocShare, {
        message: "minSocShare must not exceed maxSocShare",
        path: ["minSocShare"],
      })
      .default({}),
    location: z
      .object({ latitudeDeg: z.number().min(-90).max(90), longitudeDeg: z.number().min(-180).max(180) })
      .strict()
      .default({ ...AMSTERDAM }),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.pvShareByZone !== undefined && o.pvShareByZone.length !== o.zones)
      ctx.addIssue({
        code: "custom",
        path: ["pvShareByZone"],
        message: `must have one entry per zone (${o.zones}), got ${o.pvShareByZone.length}`,
      });
    if (o.zones > o.prosumers)
      ctx.addIssue({
        code: "custom",
        path: ["zones"],
        message: `must not exceed prosumers (${o.prosumers})`,
      });
  });

export type NeighbourhoodOptionsInput = z.input<typeof neighbourhoodOptionsSchema>;
export type NeighbourhoodOptions = z.output<typeof neighbourhoodOptionsSchema>;

export interface Neighbourhood {
  readonly seed: number;
  readonly zones: number;
  readonly location: Location;
  readonly timeZone: TimeZoneRule;
  readonly pvLosses: PvLossModel;
  readonly households: readonly Household[];
}

/** Parses options (throwing UnrecoverableInputError naming the field) and applies the defaults. */
export function parseNeighbourhoodOptions(input: NeighbourhoodOptionsInput = {}): NeighbourhoodOptions {
  const parsed = neighbourhoodOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new UnrecoverableInputError("invalid neighbourhood options", {
      details: formatIssues(parsed.error.issues),
      field: first === undefined ? undefined : first.path.join("."),
    });
  }
  return parsed.data;
}

/**
 * Generates the neighbourhood. Household i sits in zone i mod Z (balanced zones); PV, battery,
 * sizes and consumption are drawn per household from a stream derived from (seed, i), so adding
 * households never changes the existing ones.
 */
export function generateNeighbourhood(input: NeighbourhoodOptionsInput = {}): Neighbourhood {
  const o = parseNeighbourhoodOptions(input);
  const width = Math.max(3, String(o.prosumers - 1).length);
  const households: Household[] = [];
  for (let index = 0; index < o.prosumers; index++) {
    const rng = new Prng(deriveSeed(o.seed, "household", index));
    const zone = index % o.zones;
    const annual = Math.round(
      Math.min(
        o.annualLoadKwh.max,
        Math.max(o.annualLoadKwh.min, o.annualLoadKwh.median * rng.lognormal(0, o.annualLoadKwh.sigma)),
      ),
    );
    const hasPv = rng.bernoulli(o.pvShareByZone?.[zone] ?? o.pvShare);
    const hasBattery = rng.bernoulli(o.batteryShareOfPv);
    // Draws happen whether or not they are used, so one household's flags never shift another's numbers.
    const minModules = Math.max(1, Math.ceil(o.pvKwp.min / o.moduleKwp - 1e-9));
    const maxModules = Math.max(minModules, Math.floor(o.pvKwp.max / o.moduleKwp + 1e-9));
    const modules = rng.integerIn(minModules, maxModules);
    const tilt = rng.uniformIn(o.tiltDeg.mean - o.tiltDeg.spread, o.tiltDeg.mean + o.tiltDeg.spread);
    const azimuth = rng.uniformIn(
      o.azimuthDeg.mean - o.azimuthDeg.spread,
      o.azimuthDeg.mean + o.azimuthDeg.spread,
    );
    const capacity =
      Math.round(rng.uniformIn(o.battery.capacityWh.min, o.battery.capacityWh.max) / 100) * 100;
    const power = Math.round(rng.uniformIn(o.battery.maxPowerW.min, o.battery.maxPowerW.max) / 100) * 100;
    const socShare = rng.uniformIn(o.battery.initialSocShare.min, o.battery.initialSocShare.max);

    const kwp = Math.round(modules * o.moduleKwp * 1000) / 1000;
    const pv: PvSystem | null = hasPv
      ? {
          peakPowerKwp: kwp,
          tiltDeg: Math.round(Math.min(90, Math.max(0, tilt)) * 10) / 10,
          azimuthDeg: Math.round((((azimuth % 360) + 360) % 360) * 10) / 10,
          inverterAcW: Math.round((kwp * 1000) / o.dcAcRatio),
        }
      : null;
    const minSocWh = Math.ceil(capacity * o.battery.minSocShare);
    const maxSocWh = Math.floor(capacity * o.battery.maxSocShare);
    const battery: HomeBattery | null =
      hasPv && hasBattery
        ? {
            capacityWh: capacity,
            maxPowerW: power,
            chargeEfficiency: o.battery.chargeEfficiency,
            dischargeEfficiency: o.battery.dischargeEfficiency,
            minSocWh,
            maxSocWh,
            initialSocWh: Math.min(maxSocWh, Math.max(minSocWh, Math.round(capacity * socShare))),
          }
        : null;
    households.push({
      id: `h${String(index).padStart(width, "0")}`,
      index,
      zone,
      annualLoadKwh: annual,
      pv,
      battery,
    });
  }
  return Object.freeze({
    seed: o.seed,
    zones: o.zones,
    location: Object.freeze({ ...o.location }),
    timeZone: CENTRAL_EUROPEAN_TIME,
    pvLosses: DEFAULT_PV_LOSSES,
    households: Object.freeze(households.map((h) => Object.freeze(h))),
  });
}
