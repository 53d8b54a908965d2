/**
 * Steps the neighbourhood through consecutive market intervals. For every interval and household
 * it produces the FORECAST (what the agent bids from, known before gate closure) and the ACTUAL
 * (what the meter will read), both as integer Wh. See docs/SIMULATION.md §7.
 *
 * Pure: `simulateInterval(neighbourhood, state)` returns the interval and the next state; the
 * same neighbourhood, options and seed give byte-identical output on every machine.
 * `NeighbourhoodSimulator` is a small stateful wrapper with `step()`.
 */
import { z } from "zod";
import { UnrecoverableInputError, formatIssues } from "../errors.js";
import {
  DEFAULT_CLOUD_MODEL,
  forecastClearSkyIndex,
  houseClearSkyIndex,
  initialClearSkyIndex,
  nextClearSkyIndex,
  type CloudModel,
} from "./cloud.js";
import { expectedLoadWh } from "./loadProfile.js";
import type { Neighbourhood } from "./neighbourhood.js";
import { pvEnergyWh } from "./pv.js";
import { Prng, deriveSeed } from "./random.js";
import { localMidnightUnix, localTime } from "./time.js";

export const simulationOptionsSchema = z
  .object({
    /** Local civil date (Europe/Amsterdam rule) whose midnight is the first interval, unless `startUnix` is given. */
    date: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, "must be YYYY-MM-DD")
      .default("2026-06-21"),
    /** Start of the first interval, Unix seconds; must be a multiple of `intervalSeconds`. Overrides `date`. */
    startUnix: z.number().int("must be an integer").min(0, "must not be negative").optional(),
    intervalSeconds: z
      .number()
      .int("must be an integer")
      .min(60, "must be at least 60")
      .max(86_400, "must be at most 86400")
      .default(900),
    /** Seed of the weather and noise streams; defaults to the neighbourhood's seed. */
    seed: z.number().int("must be an integer").min(0).max(0xffffffff, "must fit in 32 bits").optional(),
    cloud: z
      .object({
        mean: z.number().min(0).max(1.2),
        persistence: z.number().min(0).lt(1, "must be below 1"),
        stationarySd: z.number().min(0).max(1),
        min: z.number().min(0).max(1),
        max: z.number().min(0.5).max(1.5),
        houseSd: z.number().min(0).max(1),
        forecastLeadSteps: z.number().int().min(1).max(96),
      })
      .partial()
      .strict()
      .default({}),
    /** Log-sd of the per-interval multiplicative load noise (mean one). Default 0.25. */
    loadNoiseSd: z.number().min(0).max(2).default(0.25),
    /** Log-sd of the per-household, per-day load level (mean one). Default 0.1. */
    loadDayLevelSd: z.number().min(0).max(2).default(0.1),
  })
  .strict();

export type SimulationOptionsInput = z.input<typeof simulationOptionsSchema>;

/** Everything `simulateInterval` needs to continue; plain data, safe to serialise. */
export interface SimulationState {
  readonly seed: number;
  readonly intervalSeconds: number;
  /** Start of the next interval to simulate, Unix seconds. */
  readonly nextStartUnix: number;
  readonly cloud: CloudModel;
  readonly loadNoiseSd: number;
  readonly loadDayLevelSd: number;
  /** Realised shared clear-sky index of the last `forecastLeadSteps` intervals, oldest first. */
  readonly recentClearSkyIndex: readonly number[];
  /** mulberry32 state of the shared cloud stream. */
  readonly cloudRngState: number;
}

/** Energy of one household in one interval, integer Wh, all non-negative except `netWh`. */
export interface EnergyWh {
  readonly pvWh: number;
  readonly loadWh: number;
  /** pvWh − loadWh: positive is a surplus to sell, negative a deficit to buy. */
  readonly netWh: number;
}

export interface HouseholdInterval {
  readonly id: string;
  readonly zone: number;
  readonly forecast: EnergyWh;
  readonly actual: EnergyWh;
  readonly clearSkyIndex: { readonly forecast: number; readonly actual: number };
}

export interface IntervalSimulation {
  /** floor(startUnix / intervalSeconds), the protocol's intervalId. */
  readonly intervalId: number;
  readonly startUnix: number;
  readonly durationSeconds: number;
  readonly sharedClearSkyIndex: { readonly forecast: number; readonly actual: number };
  readonly households: readonly HouseholdInterval[];
}

/** Validates options and builds the state before the first interval. */
export function initialSimulationState(
  neighbourhood: Neighbourhood,
  input: SimulationOptionsInput = {},
): SimulationState {
  const parsed = simulationOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new UnrecoverableInputError("invalid simulation options", {
      details: formatIssues(parsed.error.issues),
      field: first === undefined ? undefined : first.path.join("."),
    });
  }
  const o = parsed.data;
  const cloud: CloudModel = Object.freeze({ ...DEFAULT_CLOUD_MODEL, ...definedOnly(o.cloud) });
  if (cloud.min > cloud.max)
    throw new UnrecoverableInputError("invalid simulation options", {
      details: "cloud.min: must not exceed cloud.max",
      field: "cloud.min",
    });
  let startUnix: number;
  try {
    startUnix = o.startUnix ?? localMidnightUnix(o.date, neighbourhood.timeZone);
  } catch (cause) {
    throw new UnrecoverableInputError("invalid simulation options", {
      details: `date: ${(cause as Error).message}`,
      field: "date",
      cause,
    });
  }
  if (startUnix % o.intervalSeconds !== 0)
    throw new UnrecoverableInputError("invalid simulation options", {
      details: `startUnix: ${startUnix} is not a multiple of intervalSeconds (${o.intervalSeconds})`,
      field: "startUnix",
    });
  const seed = o.seed ?? neighbourhood.seed;
  // The cloud process starts `forecastLeadSteps` intervals before the first interval, so the
  // first forecasts have an observation to start from. It always draws at least the default lead's
  // two warm-up steps, so that a shorter lead changes what the agents know, not the weather
  // (bench/value.ts compares the same day under leads 1 and 2).
  const rng = new Prng(deriveSeed(seed, "cloud", startUnix));
  const drawn: number[] = [initialClearSkyIndex(cloud, rng)];
  while (drawn.length < Math.max(cloud.forecastLeadSteps, DEFAULT_CLOUD_MODEL.forecastLeadSteps))
    drawn.push(nextClearSkyIndex(drawn[drawn.length - 1] as number, cloud, rng));
  const recent = drawn.slice(-cloud.forecastLeadSteps);
  return Object.freeze({
    seed,
    intervalSeconds: o.intervalSeconds,
    nextStartUnix: startUnix,
    cloud,
    loadNoiseSd: o.loadNoiseSd,
    loadDayLevelSd: o.loadDayLevelSd,
    recentClearSkyIndex: Object.freeze(recent),
    cloudRngState: rng.state,
  });
}

/** Drops keys whose value is undefined, so they do not overwrite defaults when spread. */
function definedOnly(value: Partial<Record<keyof CloudModel, number | undefined>>): Partial<CloudModel> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<CloudModel>;
}

/** Simulates the interval starting at `state.nextStartUnix`; returns it and the state after it. */
export function simulateInterval(
  neighbourhood: Neighbourhood,
  state: SimulationState,
): { interval: IntervalSimulation; state: SimulationState } {
  const { cloud, intervalSeconds } = state;
  const startUnix = state.nextStartUnix;
  const intervalId = Math.floor(startUnix / intervalSeconds);

  const cloudRng = new Prng(state.cloudRngState);
  const observed = state.recentClearSkyIndex[0];
  const last = state.recentClearSkyIndex[state.recentClearSkyIndex.length - 1];
  if (observed === undefined || last === undefined)
    throw new RangeError("simulation state has no cloud history");
  const sharedForecast = forecastClearSkyIndex(observed, cloud, cloud.forecastLeadSteps);
  const sharedActual = nextClearSkyIndex(last, cloud, cloudRng);

  const local = localTime(startUnix, neighbourhood.timeZone);
  const localDate = `${local.year}-${local.month}-${local.day}`;

  const households = neighbourhood.households.map((house): HouseholdInterval => {
    const noise = new Prng(deriveSeed(state.seed, "house-interval", intervalId, house.index));
    const dayLevel = new Prng(deriveSeed(state.seed, "house-day", localDate, house.index)).meanOneLognormal(
      state.loadDayLevelSd,
    );
    const houseIndex = houseClearSkyIndex(sharedActual, cloud, noise);
    const loadNoise = noise.meanOneLognormal(state.loadNoiseSd);

    const expectedLoad = expectedLoadWh(
      house.annualLoadKwh,
      startUnix,
      intervalSeconds,
      neighbourhood.timeZone,
    );
    const pvOf = (index: number) =>
      house.pv === null
        ? 0
        : pvEnergyWh(
            house.pv,
            startUnix,
            intervalSeconds,
            index,
            neighbourhood.location,
            neighbourhood.pvLosses,
          );

    const forecastPv = Math.round(pvOf(sharedForecast));
    const forecastLoad = Math.round(expectedLoad);
    const actualPv = Math.round(pvOf(houseIndex));
    const actualLoad = Math.round(expectedLoad * dayLevel * loadNoise);
    return {
      id: house.id,
      zone: house.zone,
      forecast: { pvWh: forecastPv, loadWh: forecastLoad, netWh: forecastPv - forecastLoad },
      actual: { pvWh: actualPv, loadWh: actualLoad, netWh: actualPv - actualLoad },
      clearSkyIndex: { forecast: sharedForecast, actual: houseIndex },
    };
  });

  const next: SimulationState = Object.freeze({
    ...state,
    nextStartUnix: startUnix + intervalSeconds,
    recentClearSkyIndex: Object.freeze([...state.recentClearSkyIndex.slice(1), sharedActual]),
    cloudRngState: cloudRng.state,
  });
  return {
    interval: Object.freeze({
      intervalId,
      startUnix,
      durationSeconds: intervalSeconds,
      sharedClearSkyIndex: { forecast: sharedForecast, actual: sharedActual },
      households: Object.freeze(households),
    }),
    state: next,
  };
}

/** Stateful convenience wrapper: `step()` simulates the next interval. */
export class NeighbourhoodSimulator {
  readonly neighbourhood: Neighbourhood;
  #state: SimulationState;

  constructor(neighbourhood: Neighbourhood, options: SimulationOptionsInput = {}) {
    this.neighbourhood = neighbourhood;
    this.#state = initialSimulationState(neighbourhood, options);
  }

  /** The state before the next `step()`; pass it to `simulateInterval` to branch. */
  get state(): SimulationState {
    return this.#state;
  }

  step(): IntervalSimulation {
    const { interval, state } = simulateInterval(this.neighbourhood, this.#state);
    this.#state = state;
    return interval;
  }

  /** `count` consecutive steps. */
  run(count: number): IntervalSimulation[] {
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`count must be a non-negative integer, got ${count}`);
    return Array.from({ length: count }, () => this.step());
  }
}
