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
 * - batteries are not passed to the solver: the market has no flexibility-order type yet, so a
 *   battery scheduled without an order would move energy nobody pays for;
 * - zone prices: the schedule's price per zone, floored at 0 (`chainZonePrice`, domain/budget.ts:
 *   uint256 on-chain; a negative price only arises in a zone where no seller clears, and 0 keeps
 *   every buyer within its bid); a zone the schedule gives no price gets 0;
 * - schedule root: the fill tree over one leaf per order (`scheduleRootOf`);
 * - budget: the contract's per-interval rule (domain/budget.ts) on exactly these fills and
 *   prices; the dispatch engine's rounding guarantees it, and the committee checks it before
 *   signing, so a schedule that could never settle is never committed.
 *
 * Pure: the chain's data comes in as arguments.
 */
import type { Hex } from "viem";
import { type IntervalBudget, assertIntervalBudget, chainZonePrice, intervalBudget } from "./budget.js";
import type { DispatchResult } from "./dispatch/solve.js";
import type { DispatchInstanceInput } from "./dispatch/schema.js";
import { orderSide } from "./eip712.js";
import { UnrecoverableInputError } from "./errors.js";
import { scheduleRootOf } from "./schedule.js";

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
  const fills = new Map(result.schedule.fills.map((f) => [f.orderId, f.filledWh]));
  const filledWh = orders.map((o) => {
    const f = fills.get(BigInt(o.orderId).toString());
    if (f === undefined)
      throw new UnrecoverableInputError("The solver returned no fill for an order", { details: o.orderId });
    return BigInt(f);
  });
  const zonePrices = Array.from({ length: zoneCount }, () => 0n);
  for (const p of result.schedule.prices) zonePrices[p.zone] = chainZonePrice(p.pricePerKwh);
  const scheduleRoot = scheduleRootOf(orders.map((o, i) => ({ orderId: o.orderId, filledWh: filledWh[i]! })));
  return { orders, filledWh, zonePrices, scheduleRoot };
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

function budgetFills(schedule: IntervalSchedule) {
  return schedule.orders.map((o, i) => ({
    side: orderSide(o.side),
    zone: o.zoneId,
    filledWh: schedule.filledWh[i]!,
  }));
}
