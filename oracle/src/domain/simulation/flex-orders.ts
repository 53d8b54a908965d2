/**
 * A battery owner's standing flexibility order (IFlexibilityMarket, docs/DISPATCH.md "Flexibility
 * orders"), as the demo's agents place it: one order per window of the run, at the household's
 * fixed battery price thresholds, with a charging budget that cannot run out within the window.
 */
import { applyBatteryEnergy } from "./battery.js";
import type { HomeBattery, Household } from "./neighbourhood.js";
import type { BatteryPriceThresholds, StrategyOptions } from "./strategy.js";

/** FlexibilityMarket.MAX_WINDOW_INTERVALS: the longest window one order may cover (7 days of 15 minutes). */
export const MAX_WINDOW_INTERVALS = 672;

export interface FlexWindow {
  /** Index of the window's first interval within the run (0-based). */
  readonly offset: number;
  readonly intervals: number;
}

/**
 * The run's intervals split into consecutive windows of at most `maxWindowIntervals`.
 * @throws RangeError naming the argument when it is not a positive integer (0 intervals: no window).
 */
export function flexWindows(
  intervals: number,
  maxWindowIntervals: number = MAX_WINDOW_INTERVALS,
): FlexWindow[] {
  if (!Number.isSafeInteger(intervals) || intervals < 0)
    throw new RangeError(`intervals must be a non-negative integer, got ${intervals}`);
  if (!Number.isSafeInteger(maxWindowIntervals) || maxWindowIntervals < 1)
    throw new RangeError(`maxWindowIntervals must be a positive integer, got ${maxWindowIntervals}`);
  const windows: FlexWindow[] = [];
  for (let offset = 0; offset < intervals; offset += maxWindowIntervals)
    windows.push({ offset, intervals: Math.min(maxWindowIntervals, intervals - offset) });
  return windows;
}

export interface StandingFlexOrderParameters {
  readonly household: Household;
  readonly options: StrategyOptions;
  readonly firstInterval: bigint;
  readonly windowIntervals: number;
  readonly intervalSeconds: number;
  /** The battery's simulated state of charge at the start of the window (Wh). */
  readonly socWh: number;
}

/**
 * The price limits the demo's battery owners put on a standing flexibility order, which hands the
 * interval-by-interval decisions to the committee's rolling-horizon plan and only rules out trades
 * that lose money whatever happens later:
 * - charge at most ⌊R · ηc · ηd⌋: a kWh charged comes back as ηc · ηd kWh, and the most a
 *   delivered kWh can save is the retail price R (an import displaced);
 * - discharge at least ⌈(R + F) / 2⌉, the middle of the retail–feed-in spread: the plan's forecast
 *   can be wrong (on a fresh chain it has no history at all), and this floor keeps a wrong one from
 *   selling the owner's energy at the feed-in price F that it could always get later.
 * The charge limit is above the discharge limit; between them the plan decides.
 *
 * Measured (docs/BENCHMARKS.md, "Storage value"): with the household heuristic's per-interval
 * thresholds instead (`batteryPriceThresholds`: charge at most ~F + 30% of R − F), the commit
 * refused charges the plan wanted on cloudy days (zone prices ~200,000), and (c) captured 4–11
 * points less of (d) there. The discharge floor matters little to the value (F, 100,000, 150,000
 * and 185,000 within 0.5 points on cloudy days), but a floor at F let a demo run from 19:00 sell a
 * battery's energy at 0.070 and leave its household worse off than the grid alone; a floor at the
 * charge limit (one price on both sides) refused the evening's discharges and captured 42–60%.
 */
export function standingOrderPriceLimits(
  battery: HomeBattery,
  options: StrategyOptions,
): BatteryPriceThresholds {
  const breakEven = Math.floor(
    options.retailPricePerKwh * battery.chargeEfficiency * battery.dischargeEfficiency,
  );
  const midSpread = Math.ceil((options.retailPricePerKwh + options.feedInPricePerKwh) / 2);
  return { chargeMaxPricePerKwh: breakEven, dischargeMinPricePerKwh: midSpread };
}

/** The order's fields other than owner, battery id and nonce, in the contract's units. */
export interface StandingFlexOrder {
  readonly firstInterval: bigint;
  readonly lastInterval: bigint;
  readonly maxChargePricePerKwh: bigint;
  readonly minDischargePricePerKwh: bigint;
  readonly chargeBudget: bigint;
  readonly initialSocWh: bigint;
}

/**
 * Prices: `standingOrderPriceLimits` of the household's battery.
 *
 * Budget: enough to charge at full registered power in every interval of the window at the order's
 * maximum price, n · ⌈maxCharge · ⌊W · s / 3600⌋ / 1000⌉ (each interval's charge rounded up, as the
 * contract charges it). The contract never charges more per interval than the power cap, nor at a
 * price above the maximum, so the budget cannot run out and
 * never limits the schedule (a smaller budget would, through the commit's budget clamp). The unspent
 * part is refundable when the order ends.
 */
export function standingFlexOrder(p: StandingFlexOrderParameters): StandingFlexOrder {
  const battery = p.household.battery;
  if (battery === null) throw new RangeError(`household ${p.household.id} has no battery`);
  if (
    !Number.isSafeInteger(p.windowIntervals) ||
    p.windowIntervals < 1 ||
    p.windowIntervals > MAX_WINDOW_INTERVALS
  )
    throw new RangeError(
      `windowIntervals must be an integer in [1, ${MAX_WINDOW_INTERVALS}], got ${p.windowIntervals}`,
    );
  if (!Number.isSafeInteger(p.intervalSeconds) || p.intervalSeconds < 1)
    throw new RangeError(`intervalSeconds must be a positive integer, got ${p.intervalSeconds}`);
  if (!Number.isSafeInteger(p.socWh) || p.socWh < 0)
    throw new RangeError(`socWh must be a non-negative integer, got ${p.socWh}`);
  const thresholds = standingOrderPriceLimits(battery, p.options);
  const maxCharge = BigInt(thresholds.chargeMaxPricePerKwh);
  // The registered power is the simulated one rounded to a watt (demo/world.ts registers it so).
  const perIntervalWh = (BigInt(Math.round(battery.maxPowerW)) * BigInt(p.intervalSeconds)) / 3600n;
  const perIntervalCost = (maxCharge * perIntervalWh + 999n) / 1000n;
  return {
    firstInterval: p.firstInterval,
    lastInterval: p.firstInterval + BigInt(p.windowIntervals - 1),
    maxChargePricePerKwh: maxCharge,
    minDischargePricePerKwh: BigInt(thresholds.dischargeMinPricePerKwh),
    chargeBudget: perIntervalCost * BigInt(p.windowIntervals),
    initialSocWh: BigInt(p.socWh),
  };
}

export interface FollowedStep {
  /** What the battery drew from / delivered to the grid (Wh); at most the scheduled step. */
  readonly chargeWh: number;
  readonly dischargeWh: number;
  /** Its simulated state of charge after the interval (Wh). */
  readonly socWh: number;
  /** False when it could not do the whole scheduled step. */
  readonly followed: boolean;
}

/**
 * The physical battery follows its settled step (direction and grid-side energy) from its simulated
 * state of charge. Where the simulated SoC drifted from the scheduled one (the contract's integer
 * rule against the simulation's, a missed interval) the full step may not fit: it then does the
 * largest part of it that keeps the SoC within its window, and its meter shows the shortfall, which
 * is settled as imbalance like any other deviation.
 */
export function followFlexStep(
  battery: HomeBattery,
  socWh: number,
  step: { readonly direction: "charge" | "discharge"; readonly energyWh: number },
): FollowedStep {
  if (!Number.isSafeInteger(step.energyWh) || step.energyWh < 0)
    throw new RangeError(`energyWh must be a non-negative integer, got ${step.energyWh}`);
  const apply = (energy: number) =>
    step.direction === "charge"
      ? applyBatteryEnergy(battery, socWh, energy, 0)
      : applyBatteryEnergy(battery, socWh, 0, energy);
  const result = (energy: number, soc: number): FollowedStep => ({
    chargeWh: step.direction === "charge" ? energy : 0,
    dischargeWh: step.direction === "discharge" ? energy : 0,
    socWh: soc,
    followed: energy === step.energyWh,
  });
  try {
    return result(step.energyWh, apply(step.energyWh));
  } catch {
    // Start from the SoC headroom (floating point, so possibly a Wh off) and step down to what fits.
    const headroom =
      step.direction === "charge"
        ? Math.floor(Math.max(0, battery.maxSocWh - socWh) / battery.chargeEfficiency) + 1
        : Math.floor(Math.max(0, socWh - battery.minSocWh) * battery.dischargeEfficiency) + 1;
    for (let energy = Math.min(step.energyWh, headroom); energy > 0; energy--) {
      try {
        return result(energy, apply(energy));
      } catch {
        // does not fit yet
      }
    }
    // A SoC already outside its window (never, from the simulation) stays where it is.
    return result(0, socWh);
  }
}
