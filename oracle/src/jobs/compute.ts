/**
 * From chain data to the committee's schedule report — the one code path shared by the pipeline
 * (collect → solve → sign) and `gridbrain verify`, so the verifier recomputes exactly what the
 * nodes signed.
 *
 * Rules (docs/ORACLE.md, "From chain to report"):
 * - orders: every `OrderPlaced` of the interval minus the cancelled ones; one fill leaf each;
 * - ordersDigest: recomputed from every placed id in chain order and checked against the
 *   contract's running digest (before the commit);
 * - zones 0 .. zoneCount-1; lines as registered, fee = the higher directional fee, loss = bps/10⁴;
 * - batteries are not passed to the solver: the market has no flexibility-order type yet, so a
 *   battery scheduled without an order would move energy nobody pays for;
 * - zone prices: the schedule's price per zone, floored at 0 (uint256 on-chain; a negative
 *   price only arises in a zone where no seller clears, and 0 keeps every buyer within its bid);
 * - budget: the contract's per-interval rule (domain/budget.ts) on exactly these fills and
 *   prices; the dispatch engine's rounding guarantees it, and the committee checks it before
 *   signing, so a schedule that could never settle is never committed.
 */
import type { Address, Hex, PublicClient } from "viem";
import { type IntervalBudget, assertIntervalBudget, intervalBudget } from "../domain/budget.js";
import { UnrecoverableInputError } from "../domain/errors.js";
import type { DispatchInstanceInput, DispatchResult } from "../domain/dispatch/index.js";
import { type ChainOrder, type GridModel, type OrderBook, readGrid, readOrderBook } from "../chain/market.js";
import { type ScheduleReport, scheduleRootOf } from "../chain/reports.js";

export interface CollectedInterval {
  readonly intervalId: bigint;
  readonly book: OrderBook;
  readonly grid: GridModel;
  readonly instance: DispatchInstanceInput;
}

export function buildInstance(intervalId: bigint, book: OrderBook, grid: GridModel): DispatchInstanceInput {
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
    orders: book.open.map((o) => ({
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

/** Reads the order book and the grid of `intervalId` from the chain. */
export async function collectInterval(
  client: PublicClient,
  addresses: { market: Address; registry: Address },
  intervalId: bigint,
  fromBlock: bigint,
): Promise<CollectedInterval> {
  const [book, grid] = await Promise.all([
    readOrderBook(client, addresses.market, intervalId, fromBlock),
    readGrid(client, addresses.registry),
  ]);
  return { intervalId, book, grid, instance: buildInstance(intervalId, book, grid) };
}

/** The canonical schedule as the market needs it. */
export interface IntervalSchedule {
  readonly orders: readonly ChainOrder[];
  /** Filled Wh per order, same order as `orders`. */
  readonly filledWh: readonly bigint[];
  readonly zonePrices: readonly bigint[];
  readonly scheduleRoot: Hex;
}

export function scheduleFromResult(
  orders: readonly ChainOrder[],
  zoneCount: number,
  result: DispatchResult,
): IntervalSchedule {
  const fills = new Map(result.schedule.fills.map((f) => [f.orderId, f.filledWh]));
  const filledWh = orders.map((o) => {
    const f = fills.get(BigInt(o.orderId).toString());
    if (f === undefined)
      throw new UnrecoverableInputError("The solver returned no fill for an order", { details: o.orderId });
    return BigInt(f);
  });
  const zonePrices = Array.from({ length: zoneCount }, () => 0n);
  for (const p of result.schedule.prices) zonePrices[p.zone] = p.pricePerKwh > 0 ? BigInt(p.pricePerKwh) : 0n;
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

function budgetFills(schedule: IntervalSchedule) {
  return schedule.orders.map((o, i) => ({
    side: o.side === 0 ? ("buy" as const) : ("sell" as const),
    zone: o.zoneId,
    filledWh: schedule.filledWh[i]!,
  }));
}

export function scheduleReport(
  market: Address,
  intervalId: bigint,
  configEpoch: bigint,
  ordersDigest: Hex,
  schedule: IntervalSchedule,
): ScheduleReport {
  return {
    market,
    intervalId,
    configEpoch,
    ordersDigest,
    scheduleRoot: schedule.scheduleRoot,
    fillCount: schedule.orders.length,
    zonePrices: schedule.zonePrices,
  };
}
