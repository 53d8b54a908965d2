/**
 * The committee's clearing of an interval with active flexibility orders (issue 14): instead of
 * clearing interval i alone (clearing.ts), the committee solves the rolling horizon [i, i + H)
 * (rolling/index.ts) with
 *
 * - interval i's open orders and the registry's grid, exactly as `clearingInstance` maps them;
 * - the forecast of i+1 … i+H−1 (forecast/index.ts `forecastForInterval`), with the offered volume
 *   of i and later from the meter report of i − 2 when every node had it at the gate
 *   (forecast/meter-surplus.ts `withMeterSurplus`; the plan's interval i is then that forecast);
 * - every battery under an active order, from its scheduled state of charge at the start of i
 *   (flexibility/plan.ts), committed through synthetic orders at the order's price limits;
 * - the grid's standing rule: it supplies at (retail − 1) and takes surplus at (feed-in + 1), the
 *   prices its account bids and offers at in the demo and the bench (the highest retail and the
 *   lowest feed-in over the zones with tariffs, so one pair covers every zone conservatively);
 * - H: the rest of the valuation day (UTC), leftovers valued at the offtake price
 *   (`valuationDayHorizon`, `dayEndValuePerKwh`), forecast surplus at the lead premium
 *   (`surplusLeadPremiumPerKwh`) — the rules bench/value.ts measures.
 *
 * With no active flexibility order the committee keeps clearing interval i alone: nothing could
 * move energy between intervals, and the one-interval schedule is the same.
 *
 * Pure: the chain's data comes in as arguments.
 */
import { type ClearingGrid, type ClearingOrder, clearingInstance } from "./clearing.js";
import { flexBatteriesForPlan, flexCommitEntries } from "./flexibility/plan.js";
import type { ActiveFlexOrder } from "./flexibility/types.js";
import type { ZoneIntervalForecast, ZoneIntervalObservation } from "./forecast/index.js";
import { type ZoneMeterSurplus, withMeterSurplus } from "./forecast/meter-surplus.js";
import {
  type RollingInput,
  dayEndValuePerKwh,
  surplusLeadPremiumPerKwh,
  valuationDayHorizon,
} from "./rolling/index.js";

/** A zone's grid tariffs as registered (`GridRegistry.zoneGrid`); 0/0 when the zone has none. */
export interface ZoneTariffs {
  readonly retailPerKwh: bigint;
  readonly feedInPerKwh: bigint;
}

/**
 * The grid's standing prices for the forecast intervals: supply at the highest retail − 1, offtake
 * at the lowest feed-in + 1, over zones with tariffs; undefined when no zone has any (the plan then
 * sees only the forecast orders).
 */
export function gridStandingPrices(
  tariffs: readonly ZoneTariffs[],
): { supplyPricePerKwh: number; offtakePricePerKwh: number } | undefined {
  const priced = tariffs.filter((t) => t.retailPerKwh > 0n);
  if (priced.length === 0) return undefined;
  const retail = priced.reduce((m, t) => (t.retailPerKwh > m ? t.retailPerKwh : m), 0n);
  const feedIn = priced.reduce((m, t) => (t.feedInPerKwh < m ? t.feedInPerKwh : m), priced[0]!.feedInPerKwh);
  return { supplyPricePerKwh: Number(retail - 1n), offtakePricePerKwh: Number(feedIn + 1n) };
}

/** H at interval i: the rest of its UTC day, i included. */
export function committeeHorizon(intervalId: bigint, intervalSeconds: bigint): number {
  const perDay = 86_400n / intervalSeconds;
  return valuationDayHorizon(Number(intervalId % perDay), Number(perDay));
}

export interface RollingClearingParams {
  readonly intervalId: bigint;
  /** Interval i's open orders, in placement order. */
  readonly orders: readonly ClearingOrder[];
  readonly grid: ClearingGrid;
  readonly tariffs: readonly ZoneTariffs[];
  readonly active: readonly ActiveFlexOrder[];
  /** Rows for i+1 … i+H−1 (`forecastForInterval` with H = `committeeHorizon`). */
  readonly forecast: readonly ZoneIntervalForecast[];
  readonly intervalSeconds: bigint;
  /**
   * The meters' surplus (forecast/meter-surplus.ts): the committed reports' estimates up to i − 2,
   * interval i's order totals, and what the solar shape needs. Absent: the plan keeps the orders.
   */
  readonly meters?: {
    readonly surplus: readonly ZoneMeterSurplus[];
    readonly intervalOrders: readonly ZoneIntervalObservation[];
    readonly solarZones: readonly number[];
    readonly location: { readonly latitudeDeg: number; readonly longitudeDeg: number };
  };
}

/** The rolling input the committee solves for interval i (see the file comment). */
export function rollingClearingInput(p: RollingClearingParams): RollingInput {
  const one = clearingInstance(p.intervalId, p.orders, p.grid);
  const grid = gridStandingPrices(p.tariffs);
  const horizon = committeeHorizon(p.intervalId, p.intervalSeconds);
  const planned =
    p.meters === undefined
      ? undefined
      : withMeterSurplus({
          interval: Number(p.intervalId),
          horizon,
          zones: one.zones,
          intervalSeconds: Number(p.intervalSeconds),
          solarZones: p.meters.solarZones,
          location: p.meters.location,
          forecast: p.forecast,
          intervalOrders: p.meters.intervalOrders,
          meters: p.meters.surplus,
        });
  return {
    interval: Number(p.intervalId),
    horizon,
    zones: one.zones,
    lines: one.lines ?? [],
    batteries: flexBatteriesForPlan(p.active, p.intervalSeconds),
    orders: one.orders,
    forecast: (planned?.forecast ?? p.forecast).map((f) => ({ ...f })),
    ...(planned === undefined ? {} : { intervalForecast: planned.intervalForecast }),
    ...(grid === undefined
      ? {}
      : {
          grid,
          endValuePerKwh: dayEndValuePerKwh(grid.offtakePricePerKwh),
          offerLeadPremiumPerKwh: surplusLeadPremiumPerKwh(grid.supplyPricePerKwh),
        }),
    flex: flexCommitEntries(p.active, p.intervalSeconds),
  };
}
