/**
 * The market's per-interval budget rule, as the contract enforces it (contracts/EnergyMarket.sol,
 * `_settleFill`): when a seller's fill settles, the interval's payouts — Σ over sellers of
 * `costDown(zonePrice, filledWh)` — must not exceed its receipts — Σ over buyers of
 * `costUp(zonePrice, filledWh)` — or the transaction reverts `BudgetExceeded(interval, payouts,
 * receipts)`. Buyers are settled before sellers (settle job), so a schedule whose totals satisfy
 * the rule settles completely; one whose totals do not can never settle.
 *
 * Prices reach the chain as uint256, floored at 0 (`chainZonePrice`: the one place of that rule,
 * applied by domain/clearing.ts and by the dispatch rounding's budget step); the math here is the
 * contract's, in BigInt.
 */
import type { OrderSide } from "./eip712.js";
import { UnrecoverableInputError } from "./errors.js";
import type { CanonicalSchedule } from "./dispatch/schedule.js";
import type { DispatchInstance } from "./dispatch/schema.js";
import { costRoundedDown, costRoundedUp } from "./units.js";

export interface BudgetFill {
  readonly side: OrderSide;
  /** Index into the interval's `zonePrices` (the on-chain zone id). */
  readonly zone: number;
  readonly filledWh: bigint;
}

export interface IntervalBudget {
  /** Σ costUp(price, filled) over buyers: what the interval charges. */
  readonly receipts: bigint;
  /** Σ costDown(price, filled) over sellers: what the interval pays out. */
  readonly payouts: bigint;
  /** `payouts ≤ receipts`: every fill of the interval can settle. */
  readonly balanced: boolean;
}

/** A schedule price as the chain sees it: uint256, negative prices floored at 0. */
export function chainZonePrice(pricePerKwh: number | bigint): bigint {
  const p = BigInt(pricePerKwh);
  return p > 0n ? p : 0n;
}

/**
 * The contract's rule for one interval: receipts and payouts of `fills` at `zonePrices` (on-chain
 * prices, uint256). A fill of 0 Wh moves no money and needs no price, as on-chain.
 *
 * @throws UnrecoverableInputError when a price is negative or a filled order's zone has no price.
 */
export function intervalBudget(zonePrices: readonly bigint[], fills: readonly BudgetFill[]): IntervalBudget {
  zonePrices.forEach((p, z) => {
    if (p < 0n)
      throw new UnrecoverableInputError("A zone price is negative", {
        field: `zonePrices.${z}`,
        details: `${p} (on-chain prices are uint256: floor with chainZonePrice)`,
      });
  });
  let receipts = 0n;
  let payouts = 0n;
  fills.forEach((f, i) => {
    if (f.filledWh < 0n)
      throw new UnrecoverableInputError("A fill is negative", {
        field: `fills.${i}.filledWh`,
        details: `${f.filledWh}`,
      });
    if (f.filledWh === 0n) return;
    const price = zonePrices[f.zone];
    if (price === undefined)
      throw new UnrecoverableInputError("A filled order's zone has no price", {
        field: `fills.${i}.zone`,
        details: `zone ${f.zone}, ${zonePrices.length} zone prices`,
      });
    if (f.side === "bid") receipts += costRoundedUp(price, f.filledWh);
    else payouts += costRoundedDown(price, f.filledWh);
  });
  return { receipts, payouts, balanced: payouts <= receipts };
}

/** The rule broken: a committed schedule like this one can never settle. Unrecoverable. */
export class BudgetExceededError extends UnrecoverableInputError {
  override name = "BudgetExceededError";
  readonly intervalId: bigint;
  readonly payouts: bigint;
  readonly receipts: bigint;
  constructor(intervalId: bigint, budget: IntervalBudget) {
    super("The schedule pays sellers more than its buyers pay (BudgetExceeded)", {
      field: "zonePrices",
      details: `interval ${intervalId}: payouts ${budget.payouts} > receipts ${budget.receipts}`,
      meta: {
        intervalId: intervalId.toString(),
        payouts: budget.payouts.toString(),
        receipts: budget.receipts.toString(),
      },
    });
    this.intervalId = intervalId;
    this.payouts = budget.payouts;
    this.receipts = budget.receipts;
  }
}

/** Throws `BudgetExceededError` (naming the interval and the amounts) unless the rule holds. */
export function assertIntervalBudget(
  intervalId: bigint,
  zonePrices: readonly bigint[],
  fills: readonly BudgetFill[],
): IntervalBudget {
  const budget = intervalBudget(zonePrices, fills);
  if (!budget.balanced) throw new BudgetExceededError(intervalId, budget);
  return budget;
}

/**
 * The rule applied to every interval of a dispatch schedule, as its orders would settle on-chain:
 * each order pays or receives its (interval, zone) price floored at 0. Batteries are not orders
 * on-chain and are left out: a battery under a flexibility order is cleared by the rolling commit
 * as a synthetic order of the instance (flexibility/plan.ts), and counts here as that order; one
 * without an order settles nothing. Keyed by interval id.
 */
export function scheduleBudgets(
  instance: DispatchInstance,
  schedule: CanonicalSchedule,
): Map<number, IntervalBudget> {
  const zones = [...instance.zones].sort((a, b) => a - b);
  const zoneIndex = new Map(zones.map((z, i) => [z, i] as const));
  const prices = new Map<number, bigint[]>();
  for (const p of schedule.prices) {
    let row = prices.get(p.interval);
    if (row === undefined) prices.set(p.interval, (row = zones.map(() => 0n)));
    row[zoneIndex.get(p.zone)!] = chainZonePrice(p.pricePerKwh);
  }
  const fills = new Map(schedule.fills.map((f) => [f.orderId, f.filledWh]));
  const byInterval = new Map<number, BudgetFill[]>();
  for (const o of instance.orders) {
    const list = byInterval.get(o.interval) ?? [];
    byInterval.set(o.interval, list);
    list.push({
      side: o.side,
      zone: zoneIndex.get(o.zone)!,
      filledWh: BigInt(fills.get(o.id) ?? 0),
    });
  }
  const out = new Map<number, IntervalBudget>();
  for (let t = 0; t < schedule.horizon.intervals; t++) {
    const interval = schedule.horizon.firstInterval + t;
    out.set(
      interval,
      intervalBudget(prices.get(interval) ?? zones.map(() => 0n), byInterval.get(interval) ?? []),
    );
  }
  return out;
}
