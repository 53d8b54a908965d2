/**
 * Rolling-horizon dispatch: at interval i, solve [i, i + H) — the real orders of i, forecast
 * orders after it, every battery from its current state of charge — and commit interval i only.
 * See docs/DISPATCH.md, "Rolling horizon". Pure apart from the CPU HiGHS burns; a node runs it on
 * the solver thread (`solveRollingInWorker`, dispatch/worker.ts).
 */
import type { Highs } from "highs";
import type { Hex } from "viem";
import { z } from "zod";
import { observationSchema } from "../forecast/index.js";
import { DispatchInputError, DispatchModelError } from "../dispatch/errors.js";
import type { OrderSide } from "../eip712.js";
import {
  batterySchema,
  lineSchema,
  orderSchema,
  type Battery,
  type DispatchInstance,
} from "../dispatch/schema.js";
import { compareDecimal, indexInstance, Layout } from "../dispatch/indexed.js";
import { solveLp } from "../dispatch/model.js";
import { parseDispatchInstance, solveDispatchSync, type DispatchStats } from "../dispatch/solve.js";
import { flexCommitEntrySchema, syntheticFlexOrder, type FlexCommitEntry } from "../flexibility/plan.js";
import { flexStepKey, socAfterStep } from "../flexibility/rules.js";
import { FLEX_CHARGE, FLEX_DISCHARGE, type FlexDirection } from "../flexibility/types.js";
import type { ScheduleFill, ScheduleFlow, SchedulePrice } from "../dispatch/schedule.js";

/**
 * The quantile of interval i's PV surplus the plan should charge for (a newsvendor's critical
 * ratio). A Wh charged that the surplus does not cover is imported at `supply` and comes back
 * ×η later, where it saves `supply` again: it loses supply·(1 − η). A Wh of surplus not charged
 * is sold at `offtake` instead of saving supply·η later: it loses supply·η − offtake. Charging
 * up to the q-quantile with q = (supply·η − offtake) / (supply − offtake) minimises the expected
 * loss. η is the round trip (charge × discharge efficiency), the mean over `batteries`
 * (0.9025 for the demo's 0.95/0.95, which with 299,999 and 70,001 gives q ≈ 0.873). Returns
 * 0.5 when no battery is listed or the ratio falls outside (0, 1).
 */
export function criticalSurplusQuantile(
  supplyPricePerKwh: number,
  offtakePricePerKwh: number,
  batteries: readonly {
    readonly battery: { chargeEfficiency: number; dischargeEfficiency: number } | null;
  }[],
): number {
  const etas = batteries.flatMap((b) =>
    b.battery === null ? [] : [b.battery.chargeEfficiency * b.battery.dischargeEfficiency],
  );
  if (etas.length === 0 || supplyPricePerKwh <= offtakePricePerKwh) return 0.5;
  const eta = etas.reduce((a, b) => a + b, 0) / etas.length;
  const q = (supplyPricePerKwh * eta - offtakePricePerKwh) / (supplyPricePerKwh - offtakePricePerKwh);
  return q > 0 && q < 1 ? q : 0.5;
}

/**
 * The valuation-day rule's price for energy left at the end of the day, per kWh the battery can
 * deliver: the grid's standing offtake bid, the least the energy is certainly worth (it can be
 * sold for it in the day's last interval, and the next day's first plan starts from it). The
 * plan's horizon ends with the day, so no solve keeps energy for forecast deficits after midnight
 * that the day's books credit at the feed-in only (docs/DISPATCH.md, "End of the horizon").
 */
export function dayEndValuePerKwh(gridOfftakePricePerKwh: number): number {
  return gridOfftakePricePerKwh;
}

/**
 * The committee's premium on forecast surplus, per kWh and interval of lead: 1% of the grid's
 * supply price (3,000 at the demo's 299,999), rounded half up. A forecast offer at lead L is
 * planned at its forecast price + L × this, so the plan charges from the surplus it sees in
 * interval i's orders before counting on cheaper-looking surplus hours ahead, which on a cloudy
 * day often does not come (docs/DISPATCH.md, "Surplus now before surplus forecast").
 */
export function surplusLeadPremiumPerKwh(gridSupplyPricePerKwh: number): number {
  return Math.round(gridSupplyPricePerKwh / 100);
}

/** `defaultRollingHorizon` (the rule before): the rest of the day, but at least this many intervals. */
export const MIN_ROLLING_HORIZON = 32;

/** Owner recorded on the synthetic orders built from forecasts (never on chain). */
export const FORECAST_OWNER = "0x000000000000000000000000000000000000f0ca";

/** Ids of forecast orders start here, far above any on-chain order id a test or demo uses. */
const FORECAST_ID_BASE = 10n ** 30n;

const uint = z.number().int("must be an integer").nonnegative("must not be negative").safe();

// A forecast row has the shape of an observation (forecast/index.ts).
const forecastSchema = observationSchema;

export const rollingInputSchema = z
  .object({
    /** The interval being committed (i). */
    interval: uint,
    /** H: intervals solved, i included. */
    horizon: uint.min(1, "must be at least 1").max(10_000, "must be at most 10000"),
    zones: z.array(uint).min(1, "must list at least one zone"),
    lines: z.array(lineSchema).default([]),
    /** Every battery, `initialSocWh` = its state of charge now, `endSocWh` = floor at i + H − 1. */
    batteries: z.array(batterySchema).default([]),
    /** The real orders of interval i (every one must have `interval` = i). */
    orders: z.array(orderSchema),
    /** Forecast inflexible orders per zone for intervals i+1 … i+H−1 (others are ignored). */
    forecast: z.array(forecastSchema).default([]),
    /**
     * The grid's standing rule, applied to forecast intervals: it offers at `supplyPricePerKwh`
     * the forecast bids plus what the zone's batteries could charge, and bids at
     * `offtakePricePerKwh` for the forecast offers plus what they could discharge.
     */
    grid: z.object({ supplyPricePerKwh: uint, offtakePricePerKwh: uint }).strict().optional(),
    /**
     * What energy left in a battery at the end of the horizon is worth, per kWh it can deliver:
     * the plan values each battery's final state of charge at this price × its discharge
     * efficiency (`endValuePerKwh`, docs/DISPATCH.md). Default 0: leftovers are worth nothing.
     */
    endValuePerKwh: uint.default(0),
    /**
     * Added to the forecast offers' price per interval of lead (t − i): a forecast surplus is
     * counted on less the further off it is (docs/DISPATCH.md, "Surplus now before surplus
     * forecast"). Default 0.
     */
    offerLeadPremiumPerKwh: uint.default(0),
    /**
     * The committee's own forecast of interval i's inflexible orders (rows with `intervalId` = i).
     * When given, the plan LP uses it (with the grid's rule) for interval i in place of the real
     * orders; the commit still clears the real orders with each battery pinned to the plan's move.
     */
    intervalForecast: z.array(forecastSchema).optional(),
    /**
     * Batteries under a flexibility order (each listed in `batteries`): the commit clears their
     * planned move in i as a synthetic order at the order's price limit, clamped to what the
     * contract accepts, instead of pinning them (docs/DISPATCH.md, "Flexibility orders"). Batteries
     * not listed are pinned as before.
     */
    flex: z.array(flexCommitEntrySchema).optional(),
  })
  .strict()
  .superRefine((input, ctx) => {
    const batteryIds = new Set(input.batteries.map((b) => b.id));
    const flexIds = new Set<string>();
    const flexOrders = new Set<string>();
    input.flex?.forEach((f, k) => {
      if (!batteryIds.has(f.batteryId))
        ctx.addIssue({
          code: "custom",
          path: ["flex", k, "batteryId"],
          message: `must be one of the batteries, got ${f.batteryId}`,
        });
      if (flexIds.has(f.batteryId))
        ctx.addIssue({
          code: "custom",
          path: ["flex", k, "batteryId"],
          message: `duplicate battery ${f.batteryId}`,
        });
      flexIds.add(f.batteryId);
      const orderId = f.orderId.toLowerCase();
      if (flexOrders.has(orderId))
        ctx.addIssue({
          code: "custom",
          path: ["flex", k, "orderId"],
          message: `duplicate order ${f.orderId}`,
        });
      flexOrders.add(orderId);
    });
    input.intervalForecast?.forEach((f, k) => {
      if (f.intervalId !== input.interval)
        ctx.addIssue({
          code: "custom",
          path: ["intervalForecast", k, "intervalId"],
          message: `must be the committed interval ${input.interval}, got ${f.intervalId}`,
        });
    });
    input.orders.forEach((o, k) => {
      if (o.interval !== input.interval)
        ctx.addIssue({
          code: "custom",
          path: ["orders", k, "interval"],
          message: `must be the committed interval ${input.interval}, got ${o.interval}`,
        });
    });
  });

export type RollingInput = z.input<typeof rollingInputSchema>;

export interface RollingBatteryStep {
  readonly batteryId: string;
  readonly chargeWh: number;
  readonly dischargeWh: number;
  /** Planned state of charge at the end of interval i. */
  readonly socWh: number;
}

export interface RollingResult {
  readonly interval: number;
  readonly horizon: number;
  /** Fills of the real orders of interval i. */
  readonly fills: readonly ScheduleFill[];
  readonly prices: readonly SchedulePrice[];
  readonly flows: readonly ScheduleFlow[];
  readonly batteries: readonly RollingBatteryStep[];
  /**
   * Only with `flex` in the input: the fills of the synthetic orders of interval i (ids: decimal
   * uint256 of `flexStepKey(orderId, direction)`), which are the flex batteries' steps in
   * `batteries`. Not in `fills`.
   */
  readonly flexFills?: readonly ScheduleFill[];
  /**
   * True when the end-of-horizon SoC floors made the problem infeasible and it was re-solved with
   * every floor at minSocWh (a deterministic rule, so every node does the same).
   */
  readonly relaxedEndSoc: boolean;
  readonly stats: DispatchStats;
}

/**
 * The committee's horizon: the rest of the valuation day from `intervalOfDay` (its last interval
 * included), with what is left at the end valued at `dayEndValuePerKwh`. See docs/DISPATCH.md,
 * "End of the horizon".
 */
export function valuationDayHorizon(intervalOfDay: number, intervalsPerDay = 96): number {
  return Math.max(1, intervalsPerDay - intervalOfDay);
}

/**
 * The rule before: the rest of the day from `intervalOfDay`, but at least MIN_ROLLING_HORIZON.
 * After 16:00 it looks past midnight and keeps energy for the next morning's forecast deficits;
 * kept for comparison (bench/value.ts, "(c) before").
 */
export function defaultRollingHorizon(intervalOfDay: number, intervalsPerDay = 96): number {
  return Math.max(MIN_ROLLING_HORIZON, intervalsPerDay - intervalOfDay);
}

type ParsedRollingInput = z.output<typeof rollingInputSchema>;

function parseRollingInput(input: RollingInput): ParsedRollingInput {
  const parsed = rollingInputSchema.safeParse(input);
  if (!parsed.success) throw new DispatchInputError(parsed.error);
  return parsed.data;
}

/**
 * Builds the multi-interval dispatch instance over [i, i + H): interval i's real orders (or, with
 * `intervalForecast`, the committee's forecast of them), forecast orders after it. Validates;
 * throws DispatchInputError.
 */
export function buildRollingInstance(input: RollingInput): DispatchInstance {
  return buildPlanInstance(parseRollingInput(input));
}

function buildPlanInstance(r: ParsedRollingInput): DispatchInstance {
  const last = r.interval + r.horizon - 1;
  const chargeByZone = new Map<number, number>();
  const dischargeByZone = new Map<number, number>();
  for (const b of r.batteries) {
    chargeByZone.set(b.zone, (chargeByZone.get(b.zone) ?? 0) + b.maxChargeWh);
    dischargeByZone.set(b.zone, (dischargeByZone.get(b.zone) ?? 0) + b.maxDischargeWh);
  }
  const planned = r.intervalForecast !== undefined;
  const forecast = [
    ...(r.intervalForecast ?? []),
    ...r.forecast.filter((f) => f.intervalId > r.interval && f.intervalId <= last),
  ].sort((a, b) => a.intervalId - b.intervalId || a.zone - b.zone);
  const orders: z.input<typeof orderSchema>[] = planned ? [] : [...r.orders];
  let next = FORECAST_ID_BASE;
  const add = (f: (typeof forecast)[number], side: OrderSide, quantityWh: number, price: number) => {
    if (quantityWh > 0)
      orders.push({
        id: (next++).toString(),
        owner: FORECAST_OWNER,
        zone: f.zone,
        side,
        quantityWh,
        limitPricePerKwh: price,
        interval: f.intervalId,
      });
  };
  for (const f of forecast) {
    add(f, "bid", f.bidWh, f.bidPricePerKwh);
    add(f, "offer", f.offerWh, f.offerPricePerKwh + r.offerLeadPremiumPerKwh * (f.intervalId - r.interval));
    if (r.grid !== undefined) {
      add(f, "offer", f.bidWh + (chargeByZone.get(f.zone) ?? 0), r.grid.supplyPricePerKwh);
      add(f, "bid", f.offerWh + (dischargeByZone.get(f.zone) ?? 0), r.grid.offtakePricePerKwh);
    }
  }
  return parseDispatchInstance({
    horizon: { firstInterval: r.interval, intervals: r.horizon },
    zones: r.zones,
    lines: r.lines,
    batteries: r.batteries,
    orders,
  });
}

/**
 * The plan's model with every group of orders that the LP cannot tell apart — same interval,
 * zone, side and limit price — merged into one order of their summed quantity (id: the group's
 * smallest, so the result does not depend on input order). Exact: any fill of the merged order
 * splits over the group with the same welfare and balance, and any fill of the group sums to one,
 * so the optimal welfare is the same (a test checks it on random instances); only which of
 * several optimal plans HiGHS returns may differ. Used for the plan only: the commit clears the
 * real orders one by one.
 */
export function aggregatePlanOrders(instance: DispatchInstance): DispatchInstance {
  const groups = new Map<string, DispatchInstance["orders"][number]>();
  for (const o of [...instance.orders].sort((a, b) => compareDecimal(a.id, b.id))) {
    const key = `${o.interval}:${o.zone}:${o.side}:${o.limitPricePerKwh}`;
    const g = groups.get(key);
    groups.set(key, g === undefined ? o : { ...g, quantityWh: g.quantityWh + o.quantityWh });
  }
  return { ...instance, orders: [...groups.values()] };
}

/**
 * Plans [i, i + H) with the LP and commits interval i: the multi-interval LP (continuous) gives
 * each battery's net move in interval i; interval i alone is then cleared as an ordinary
 * one-interval instance with every battery pinned to that move (charge limit = planned net charge
 * and an end floor that forces it, or discharge limit = planned net discharge), and that
 * instance's canonical integer schedule is the result. Only interval i is ever rounded: the
 * forecast intervals are advisory and never committed, and rounding them can fail where no
 * forecast order is willing at the zone price (seen on the demo's data: "imbalance of −1 Wh cannot
 * be absorbed" in a forecast interval).
 *
 * A battery listed in `flex` is not pinned: its move becomes a synthetic order of interval i at its
 * flexibility order's price limit, clamped to what the contract accepts, whose fill is its step
 * (`flexFills`; docs/DISPATCH.md, "Flexibility orders"). Without `flex` the result is as before.
 *
 * If the end-of-horizon SoC floors make the plan infeasible, it is re-solved once with every
 * floor at minSocWh (`relaxedEndSoc`).
 */
export function solveRollingHorizonSync(input: RollingInput, highs: Highs): RollingResult {
  const t0 = performance.now();
  const r = parseRollingInput(input);
  let instance = aggregatePlanOrders(buildPlanInstance(r));
  const solvePlan = (inst: DispatchInstance) => {
    const ix = indexInstance(inst);
    // Leftover energy is worth the rule's price for what it can deliver: × η_dis per Wh stored.
    const endSocValuePerKwh = ix.batteries.map((b) => r.endValuePerKwh * b.dischargeEfficiency);
    return solveLp(ix, highs, { endSocValuePerKwh });
  };
  let relaxedEndSoc = false;
  let plan;
  try {
    plan = solvePlan(instance);
  } catch (error) {
    const floors = instance.batteries.some((b: Battery) => b.endSocWh > b.minSocWh);
    if (!(error instanceof DispatchModelError) || error.status !== "infeasible" || !floors) throw error;
    relaxedEndSoc = true;
    instance = { ...instance, batteries: instance.batteries.map((b) => ({ ...b, endSocWh: b.minSocWh })) };
    plan = solvePlan(instance);
  }
  const ix = indexInstance(instance);
  const lay = new Layout(ix);
  const i = instance.horizon.firstInterval;
  const flex = new Map((r.flex ?? []).map((f) => [f.batteryId, f]));
  const netOf = (k: number) => plan.x[lay.batteryCol(k, 0, 0)]! - plan.x[lay.batteryCol(k, 0, 1)]!;
  // A flex battery's planned move becomes a synthetic order of interval i (flexibility/plan.ts).
  const synthetic = ix.batteries.flatMap((b, k) => {
    const entry = flex.get(b.id);
    const order = entry === undefined ? null : syntheticFlexOrder(i, entry, b, netOf(k));
    return order === null ? [] : [order];
  });
  // Every other battery is pinned to its net planned move in interval i, floored to whole Wh (a
  // 1e-6 tolerance absorbs the LP's float noise around integers).
  const pin = (b: Battery, net: number): Battery => {
    const q = Math.floor(Math.abs(net) + 1e-6);
    if (net > 0) {
      const target = Math.min(b.maxSocWh, b.initialSocWh + Math.floor(q * b.chargeEfficiency));
      return { ...b, maxChargeWh: q, maxDischargeWh: 0, endSocWh: Math.max(b.minSocWh, target) };
    }
    return { ...b, maxChargeWh: 0, maxDischargeWh: net < 0 ? q : 0, endSocWh: b.minSocWh };
  };
  const pinned = ix.batteries.flatMap((b, k) => (flex.has(b.id) ? [] : [pin(b, netOf(k))]));
  const commit = solveDispatchSync(
    {
      horizon: { firstInterval: i, intervals: 1 },
      zones: instance.zones,
      lines: instance.lines,
      batteries: pinned,
      orders: [...r.orders, ...synthetic],
    },
    highs,
  );
  const s = commit.schedule;
  const pinnedSteps = s.batteries.map((b): RollingBatteryStep => {
    const step = b.steps[0];
    return {
      batteryId: b.batteryId,
      chargeWh: step?.chargeWh ?? 0,
      dischargeWh: step?.dischargeWh ?? 0,
      socWh: step?.socWh ?? 0,
    };
  });
  // With flex: the synthetic fills are the flex batteries' steps, kept apart from the real fills.
  const syntheticIds = new Set(synthetic.map((o) => o.id));
  const flexFills = s.fills.filter((f) => syntheticIds.has(f.orderId));
  const batteries =
    r.flex === undefined
      ? pinnedSteps
      : [...pinnedSteps, ...flexBatterySteps(r.flex, flexFills)].sort((a, b) =>
          compareDecimal(a.batteryId, b.batteryId),
        );
  return {
    interval: i,
    horizon: instance.horizon.intervals,
    fills: r.flex === undefined ? s.fills : s.fills.filter((f) => !syntheticIds.has(f.orderId)),
    prices: s.prices,
    flows: s.flows,
    batteries,
    ...(r.flex === undefined ? {} : { flexFills }),
    relaxedEndSoc,
    stats: {
      ...commit.stats,
      columns: plan.stats.columns,
      rows: plan.stats.rows,
      nonzeros: plan.stats.nonzeros,
      simplexIterations: plan.stats.simplexIterations,
      lpWelfare: plan.objective,
      buildMs: plan.stats.buildMs,
      solveMs: plan.stats.solveMs,
      totalMs: performance.now() - t0,
    },
  };
}

/**
 * The flex batteries' steps of interval i: the fill of each one's synthetic order (none: idle), and
 * the state of charge after it by the contract's integer rule, from the contract's state of charge.
 */
function flexBatterySteps(
  entries: readonly FlexCommitEntry[],
  fills: readonly ScheduleFill[],
): RollingBatteryStep[] {
  const filled = new Map(fills.map((f) => [f.orderId, f.filledWh]));
  const fillOf = (orderId: string, direction: FlexDirection) =>
    filled.get(BigInt(flexStepKey(orderId as Hex, direction)).toString()) ?? 0;
  return entries.map((e) => {
    const chargeWh = fillOf(e.orderId, FLEX_CHARGE);
    const dischargeWh = fillOf(e.orderId, FLEX_DISCHARGE);
    const efficiencies = {
      chargeEfficiencyBps: e.chargeEfficiencyBps,
      dischargeEfficiencyBps: e.dischargeEfficiencyBps,
    };
    const soc = BigInt(e.socWh);
    const after =
      dischargeWh > 0
        ? socAfterStep(soc, FLEX_DISCHARGE, BigInt(dischargeWh), efficiencies)
        : socAfterStep(soc, FLEX_CHARGE, BigInt(chargeWh), efficiencies);
    return { batteryId: e.batteryId, chargeWh, dischargeWh, socWh: Number(after) };
  });
}
