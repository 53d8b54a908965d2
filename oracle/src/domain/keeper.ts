/**
 * The keeper's rule: when an interval's locks become releasable, and which liveness paths of the
 * market contract apply to it then. Mirrors EnergyMarket's deadlines exactly:
 *
 *   scheduleDeadline = gateClosure + scheduleWindowSeconds   (commitSchedule closes)
 *   meterDeadline    = end + meterWindowSeconds              (settleFills, commitMeterReport close)
 *
 * - An interval not scheduled by its schedule deadline never will be: from then on every open
 *   order of it may be released (`releaseOrder`).
 * - A scheduled interval is the committee's until its meter deadline. From then on: open orders
 *   (fills never settled) are released; if it was metered, the imbalances not yet settled may
 *   still be settled (`settleImbalances` has no deadline, once no order of the participant is
 *   open); if not, each seller's collateral of its settled fill is released
 *   (`releaseCollateral`); and the interval's surplus is credited to the operator
 *   (`collectGridRevenue`), which the contract does by itself only when every fill settles.
 *
 * Pure: chain time and interval state come in as arguments.
 */

/** The market's timing parameters (seconds), as `EnergyMarket` stores them. */
export interface KeeperTiming {
  readonly intervalSeconds: bigint;
  readonly gateClosureSeconds: bigint;
  readonly scheduleWindowSeconds: bigint;
  readonly meterWindowSeconds: bigint;
}

/** What the keeper needs of `EnergyMarket.intervalState`. */
export interface KeeperIntervalState {
  readonly scheduled: boolean;
  readonly fillCount: number;
  readonly settledCount: number;
  readonly metered: boolean;
  /** receipts − payouts: charged to buyers and not yet credited to the operator or paid out. */
  readonly surplus: bigint;
}

/** A liveness path, in the order the keeper takes them (each needs the ones before it). */
export type KeeperPath =
  "release-orders" | "settle-imbalances" | "release-collateral" | "collect-grid-revenue";

export type KeeperDecision =
  | { readonly due: false; readonly dueAt: bigint }
  | { readonly due: true; readonly dueAt: bigint; readonly paths: readonly KeeperPath[] };

/** The contract's deadlines of `intervalId`. */
export function keeperDeadlines(t: KeeperTiming, intervalId: bigint) {
  if (intervalId < 0n) throw new RangeError(`intervalId: must not be negative, got ${intervalId}`);
  const start = intervalId * t.intervalSeconds;
  const gateClosure = start > t.gateClosureSeconds ? start - t.gateClosureSeconds : 0n;
  return {
    scheduleDeadline: gateClosure + t.scheduleWindowSeconds,
    meterDeadline: start + t.intervalSeconds + t.meterWindowSeconds,
  };
}

/**
 * The earliest chain time at which the keeper may have work in `intervalId` without reading its
 * state: its schedule deadline (before it, nothing of the interval is releasable).
 */
export function keeperEarliest(t: KeeperTiming, intervalId: bigint): bigint {
  return keeperDeadlines(t, intervalId).scheduleDeadline;
}

/**
 * The highest interval id whose schedule deadline has passed at chain time `now` (the keeper's
 * tick looks at no candidate above it), or undefined when none has:
 * scheduleDeadline(id) = id·I − G + W ≤ now  ⇔  id ≤ (now + G − W) / I. The gate clamp at 0
 * (interval 0 only, whose start is not past G) makes that interval's real deadline later, so the
 * bound may name it early; `keeperDecision`, applied next, then answers not due. No interval that
 * is due is ever above the bound.
 */
export function lastPastScheduleDeadline(t: KeeperTiming, now: bigint): bigint | undefined {
  const upper = now + t.gateClosureSeconds - t.scheduleWindowSeconds;
  return upper < 0n ? undefined : upper / t.intervalSeconds;
}

/**
 * Whether `intervalId` is due for the keeper at chain time `now`, and which paths apply.
 * `dueAt` is the deadline that makes (or will make) it due.
 */
export function keeperDecision(
  t: KeeperTiming,
  intervalId: bigint,
  now: bigint,
  state: KeeperIntervalState,
): KeeperDecision {
  const { scheduleDeadline, meterDeadline } = keeperDeadlines(t, intervalId);
  if (now < scheduleDeadline) return { due: false, dueAt: scheduleDeadline };
  if (!state.scheduled) return { due: true, dueAt: scheduleDeadline, paths: ["release-orders"] };
  if (now < meterDeadline) return { due: false, dueAt: meterDeadline };
  const paths: KeeperPath[] = [];
  const fillsPending = state.settledCount < state.fillCount;
  if (fillsPending) paths.push("release-orders");
  paths.push(state.metered ? "settle-imbalances" : "release-collateral");
  // With every fill settled the contract credited the surplus itself; a surplus left means fills
  // were pending (or a later settlement added to it), and after the deadline anyone may collect.
  if (state.surplus > 0n || fillsPending) paths.push("collect-grid-revenue");
  return { due: true, dueAt: meterDeadline, paths };
}

/**
 * Transactions one keeper job sends at most. `releaseOrder` and `releaseCollateral` take one
 * lock per transaction (the contract has no batch form), so an interval with thousands of open
 * orders is worked through in several jobs of this many transactions each, one after the other:
 * a job stays well inside its 60 s lock even at a few transactions a second, and a crash repeats
 * at most this many state checks.
 */
export const KEEPER_MAX_TX_PER_JOB = 40;

/** Splits `work` into what this job sends and what the next part of the job takes. */
export function boundedWork<T>(
  work: readonly T[],
  max: number = KEEPER_MAX_TX_PER_JOB,
): { readonly now: readonly T[]; readonly later: readonly T[] } {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`max: must be a positive integer, got ${max}`);
  return { now: work.slice(0, max), later: work.slice(max) };
}

/** What the keeper reads of one participant of an unmetered interval (`imbalanceSettled`, `settledFill`). */
export interface ParticipantLocks {
  readonly imbalanceSettled: boolean;
  /** The participant's buy fill: settled, and its filled energy. */
  readonly bought: { readonly settled: boolean; readonly filledWh: bigint };
  readonly sold: { readonly settled: boolean; readonly filledWh: bigint };
}

/**
 * Whether `releaseCollateral` would release something for this participant: its delivery locks of a
 * settled, non-empty fill (the imbalance collateral of either side, and a seller's withheld payout)
 * are still held. A participant with no filled energy has nothing left locked (its release would
 * move 0), and one whose imbalance is settled has been released already.
 */
export function collateralReleasable(p: ParticipantLocks): boolean {
  if (p.imbalanceSettled) return false;
  return (p.bought.settled && p.bought.filledWh > 0n) || (p.sold.settled && p.sold.filledWh > 0n);
}
