/**
 * How push settlement cuts its work into transactions (docs/ORACLE.md, settle-fills and
 * settle-imbalance): which fills are still open, in which order they settle, and how many go into
 * one `settleFills` / `settleImbalances` transaction under the node's gas budget per transaction
 * (`settlementBatchGasBudget`).
 *
 * - A fill is open while the market's position slot of (owner, interval, side) still holds its
 *   order id; settling (or releasing) the order clears it.
 * - Buy fills settle before sell fills: the contract checks, on each seller, that the interval's
 *   payouts stay within what its buyers were charged so far (domain/budget.ts), so every buyer must
 *   be settled before the sellers it pays for.
 * - A batch holds `⌊(budget − GAS_PER_BATCH) / gas per item⌋` items, and at least one (a budget
 *   below one item's gas still settles, one item per transaction).
 *
 * Pure: the slots and the budget come in as arguments.
 */
import type { Hex } from "viem";

/** Gas of one fill in a settleFills batch, measured on the local chain (docs/ORACLE.md), plus headroom. */
export const GAS_PER_FILL = 75_000n;
/** Fixed gas of a settlement transaction (bench:gas measured about 60,200 for settleImbalances, docs/BENCHMARKS.md). */
export const GAS_PER_BATCH = 60_000n;
/** Gas of one participant in a settleImbalances batch, measured on the local chain (bench:gas), plus headroom. */
export const GAS_PER_IMBALANCE = 90_000n;

/** Whether the fill of `orderId` is still open, given the position slot the market holds for it. */
export function fillOpen(positionSlot: Hex, orderId: Hex): boolean {
  return positionSlot.toLowerCase() === orderId.toLowerCase();
}

/** How many items of `gasPerItem` one transaction of `gasBudget` carries: at least 1. */
export function batchSize(gasBudget: bigint, gasPerItem: bigint): number {
  if (gasPerItem <= 0n) throw new RangeError(`gasPerItem: must be positive, got ${gasPerItem}`);
  return Math.max(1, Number((gasBudget - GAS_PER_BATCH) / gasPerItem));
}

/** `items` cut into consecutive batches of at most `size`, order kept. */
export function inBatches<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`size: must be a positive integer, got ${size}`);
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += size) batches.push(items.slice(start, start + size));
  return batches;
}

/**
 * The open fills of an interval as `settleFills` transactions: buys (side 0) before sells (side 1),
 * placement order kept within a side, `GAS_PER_FILL` each under `gasBudget`.
 */
export function fillBatches<F extends { readonly side: 0 | 1 }>(
  open: readonly F[],
  gasBudget: bigint,
): F[][] {
  // Array.prototype.sort is stable: placement order survives within each side.
  const ordered = [...open].sort((a, b) => a.side - b.side);
  return inBatches(ordered, batchSize(gasBudget, GAS_PER_FILL));
}

/** The open imbalances of an interval as `settleImbalances` transactions, `GAS_PER_IMBALANCE` each. */
export function imbalanceBatches<T>(open: readonly T[], gasBudget: bigint): T[][] {
  return inBatches(open, batchSize(gasBudget, GAS_PER_IMBALANCE));
}
