/**
 * The clearing rules of one market interval: from the order book and grid read on-chain to the
 * dispatch instance the committee solves, and from the solver's canonical schedule to the
 * schedule as the market stores it. The pipeline (jobs/schedule.ts: collect → solve) and
 * `gridbrain verify` (verify.ts) both call these functions, so the verifier recomputes exactly
 * what the nodes signed.
 *
 * Rules (docs/ORACLE.md, "From chain to report"):
 * - orders: every order open at gate closure (placed minus cancelled, in placement order), one
 *   fill leaf each; side 0 (buy) is a bid, side 1 (sell) an offer;
 * - zones 0 .. zoneCount-1; lines as registered, fee = the line's fee per kWh (the registry reader
 *   already takes the higher directional fee), loss = bps/10⁴;
 * - batteries are not passed to the one-interval solver: a battery moves only under a standing
 *   flexibility order, which the rolling solve clears as a synthetic order of the interval
 *   (flexibility/plan.ts); `flexIntervalSchedule` then adds one step leaf per active order;
 * - zone prices: the schedule's price per zone, floored at 0 (`chainZonePrice`, domain/budget.ts:
 *   uint256 on-chain; a negative price only arises in a zone where no seller clears, and 0 keeps
 *   every buyer within its bid); a zone the schedule gives no price gets 0;
 * - schedule root: the fill tree over one leaf per order (`scheduleRootOf`), plus with flexibility
 *   one leaf `(flexStepKey(orderId, direction), energyWh)` per active flexibility order;
 * - budget: the contract's per-interval rule (domain/budget.ts) on exactly these fills and
 *   prices; the dispatch engine's rounding guarantees it, and the committee checks it before
 *   signing, so a schedule that could never settle is never committed.
 *
 * Pure: the chain's data comes in as arguments.
 */
import type { Hex } from "viem";
import {
  type BudgetFill,
  type IntervalBudget,
  assertIntervalBudget,
  chainZonePrice,
  intervalBudget,
} from "./budget.js";
import type { DispatchResult } from "./dispatch/solve.js";
import type { ScheduleFill, SchedulePrice } from "./dispatch/schedule.js";
import type { DispatchInstanceInput } from "./dispatch/schema.js";
import { orderSide } from "./eip712.js";
import { UnrecoverableInputError } from "./errors.js";
import { scheduleLeaves, scheduleRootOf } from "./schedule.js";
import { FLEX_CHARGE, type ActiveFlexOrder } from "./flexibility/types.js";
import { flexSteps, type FlexStep } from "./flexibility/steps.js";

/** What the clearing rules need of an on-chain order (chain/market.ts `ChainOrder` has it). */
export interface ClearingOrder {
  readonly orderId: Hex;
  readonly owner: string;
  readonly intervalId: bigint;
  /** 0 buy, 1 sell: the contract's encoding. */
  readonly side: 0 | 1;
  readonly zoneId: number;
  readonly quantityWh: bigint;
  readonly limitPricePerKwh: bigint;
}

/** What the clearing rules need of the registry's grid (chain/market.ts `GridModel` has it). */
export interface ClearingGrid {
  readonly zoneCount: number;
  readonly lines: readonly {
    readonly a: number;
    readonly b: number;
    readonly capacityWh: bigint;
    readonly lossBps: number;
    readonly feePerKwh: bigint;
  }[];
}

/**
 * The dispatch instance of `intervalId`: its open orders on the registry's grid, one interval,
 * no batteries.
 *
 * @throws UnrecoverableInputError (field `registry.zoneCount`) when the registry has no zones.
 */
export function clearingInstance(
  intervalId: bigint,
  orders: readonly ClearingOrder[],
  grid: ClearingGrid,
): DispatchInstanceInput {
  if (grid.zoneCount === 0)
    throw new UnrecoverableInputError("The registry has no zones", { field: "registry.zoneCount" });
  return {
    horizon: { firstInterval: Number(intervalId), intervals: 1 },
    zones: Array.from({ length: grid.zoneCount }, (_, i) => i),
    lines: grid.lines.map((l) => ({
      from: l.a,
      to: l.b,
      capacityWh: Number(l.capacityWh),
      lossFactor: l.lossBps / 10_000,
      feePerKwh: Number(l.feePerKwh),
    })),
    batteries: [],
    orders: orders.map((o) => ({
      id: BigInt(o.orderId).toString(),
      owner: o.owner,
      zone: o.zoneId,
      side: o.side === 0 ? ("bid" as const) : ("offer" as const),
      quantityWh: Number(o.quantityWh),
      limitPricePerKwh: Number(o.limitPricePerKwh),
      interval: Number(o.intervalId),
    })),
  };
}

/** The canonical schedule of one interval as the market needs it. */
export interface IntervalSchedule<O extends ClearingOrder = ClearingOrder> {
  readonly orders: readonly O[];
  /** Filled Wh per order, same order as `orders`. */
  readonly filledWh: readonly bigint[];
  /** On-chain zone prices (uint256), indexed by zone id. */
  readonly zonePrices: readonly bigint[];
  readonly scheduleRoot: Hex;
  /**
   * Only in a schedule with flexibility orders (`flexIntervalSchedule`): one step per active
   * order, ascending battery id; each is a leaf of `scheduleRoot` and counts in the budget.
   */
  readonly flexSteps?: readonly FlexStep[];
}

/**
 * The solver's canonical schedule mapped onto the interval's orders: each order's fill, each
 * zone's on-chain price, and the schedule root.
 *
 * @throws UnrecoverableInputError when the solver returned no fill for one of `orders`.
 */
export function intervalSchedule<O extends ClearingOrder>(
  orders: readonly O[],
  zoneCount: number,
  result: DispatchResult,
): IntervalSchedule<O> {
  const { filledWh, zonePrices } = fillsAndPrices(
    orders,
    zoneCount,
    result.schedule.fills,
    result.schedule.prices,
  );
  const scheduleRoot = scheduleRootOf(scheduleLeaves(orders, filledWh));
  return { orders, filledWh, zonePrices, scheduleRoot };
}

function fillsAndPrices(
  orders: readonly ClearingOrder[],
  zoneCount: number,
  solved: readonly ScheduleFill[],
  prices: readonly SchedulePrice[],
) {
  const fills = new Map(solved.map((f) => [f.orderId, f.filledWh]));
  const filledWh = orders.map((o) => {
    const f = fills.get(BigInt(o.orderId).toString());
    if (f === undefined)
      throw new UnrecoverableInputError("The solver returned no fill for an order", { details: o.orderId });
    return BigInt(f);
  });
  const zonePrices = Array.from({ length: zoneCount }, () => 0n);
  for (const p of prices) zonePrices[p.zone] = chainZonePrice(p.pricePerKwh);
  return { filledWh, zonePrices };
}

/** An interval's schedule with its flexibility orders' steps. */
export interface FlexIntervalSchedule<O extends ClearingOrder = ClearingOrder> extends IntervalSchedule<O> {
  readonly flexSteps: readonly FlexStep[];
  /** Leaves of the schedule tree: the open orders plus the active flexibility orders. */
  readonly fillCount: number;
}

/**
 * The schedule of an interval with flexibility orders, from the rolling solve's result: the fills
 * of the real open orders (`fills`), one step per active flexibility order from the synthetic
 * orders' fills (`flexFills`; an order without one steps 0 Wh), the zone prices, and the root over
 * both kinds of leaf. With no active order it is `intervalSchedule`'s schedule plus `flexSteps: []`
 * and `fillCount`.
 *
 * @throws UnrecoverableInputError when the solver returned no fill for one of `orders`, or the
 *   steps are malformed (flexSteps).
 */
export function flexIntervalSchedule<O extends ClearingOrder>(
  orders: readonly O[],
  zoneCount: number,
  result: {
    readonly fills: readonly ScheduleFill[];
    readonly prices: readonly SchedulePrice[];
    readonly flexFills?: readonly ScheduleFill[] | undefined;
  },
  active: readonly ActiveFlexOrder[],
): FlexIntervalSchedule<O> {
  const { filledWh, zonePrices } = fillsAndPrices(orders, zoneCount, result.fills, result.prices);
  const steps = flexSteps(active, result.flexFills ?? []);
  const scheduleRoot = scheduleRootOf(
    scheduleLeaves(
      orders,
      filledWh,
      steps.map((s) => s.leaf),
    ),
  );
  return {
    orders,
    filledWh,
    zonePrices,
    scheduleRoot,
    flexSteps: steps,
    fillCount: orders.length + steps.length,
  };
}

/** The contract's budget rule on the schedule as it reaches the chain. */
export function scheduleBudget(schedule: IntervalSchedule): IntervalBudget {
  return intervalBudget(schedule.zonePrices, budgetFills(schedule));
}

/** Throws `BudgetExceededError` (unrecoverable, naming the interval and the amounts) unless it holds. */
export function assertScheduleBudget(intervalId: bigint, schedule: IntervalSchedule): IntervalBudget {
  return assertIntervalBudget(intervalId, schedule.zonePrices, budgetFills(schedule));
}

/**
 * The budget rule on the committed zone prices and `schedule`'s fills (`gridbrain verify`: the
 * fills are the recomputed ones, valid when the recomputed root is the committed one).
 */
export function committedBudget(zonePrices: readonly bigint[], schedule: IntervalSchedule): IntervalBudget {
  return scheduleBudget({ ...schedule, zonePrices });
}

/**
 * The fills the contract's budget counts: every order's, and every flexibility step's — a charge
 * pays like a bid (rounded up), a discharge is paid like an offer (rounded down); recordFlexibility
 * adds them to the interval's receipts and payouts.
 */
function budgetFills(schedule: IntervalSchedule): BudgetFill[] {
  const fills: BudgetFill[] = schedule.orders.map((o, i) => ({
    side: orderSide(o.side),
    zone: o.zoneId,
    filledWh: schedule.filledWh[i]!,
  }));
  for (const s of schedule.flexSteps ?? [])
    // A step without a zone (battery gone) is 0 Wh, which the budget skips before any price.
    fills.push({
      side: s.direction === FLEX_CHARGE ? "bid" : "offer",
      zone: s.zoneId ?? 0,
      filledWh: s.energyWh,
    });
  return fills;
}
