/**
 * The keeper's rule for FlexibilityMarket's two liveness paths (issue 14):
 *
 * - `closeMissedInterval(j)`: the market settles flexibility steps one interval at a time, from its
 *   cursor `nextInterval`. An interval with active orders whose steps were not settled by its meter
 *   deadline (never committed, or nobody settled it) can never settle (EnergyMarket closes
 *   settlement there), and it blocks every later interval's steps until it is declared missed.
 *   The keeper closes each interval at or after the cursor that has an active order and whose
 *   meter deadline has passed, in ascending order (the contract requires the order: every
 *   interval before j must be settled, missed or idle).
 * - `refundFlexFunds(order)`: an order's unspent budget returns to its owner's balance once the
 *   order has ended (its window ran out, or a cancel or change ended it) and every interval it was
 *   active in is behind the cursor; an order ended before its window was never active and is
 *   refundable at once. The contract's condition exactly.
 *
 * An interval or an order is read from FlexOrderPlaced / FlexOrderEnded events (the window, the
 * end) and the contract's `nextInterval` and `orderState` views. Pure: all of it comes in as
 * arguments.
 */
import { type KeeperTiming, KEEPER_MAX_TX_PER_JOB } from "./keeper.js";

/** An order's window as the events give it: `endInterval` is its last active interval. */
export interface FlexOrderWindow {
  readonly firstInterval: bigint;
  /** min(lastInterval, the FlexOrderEnded endInterval); `firstInterval − 1` when it never started. */
  readonly endInterval: bigint;
}

/** The last interval an order is active in: its lastInterval, or earlier once a cancel or change ended it. */
export function flexEndInterval(lastInterval: bigint, endedAt: bigint | undefined): bigint {
  return endedAt !== undefined && endedAt < lastInterval ? endedAt : lastInterval;
}

/**
 * The highest interval whose meter deadline has passed at chain time `now` (the contract's
 * `block.timestamp >= meterDeadline`), or undefined when none has:
 * meterDeadline(i) = (i + 1)·I + M ≤ now  ⇔  i ≤ (now − M) / I − 1.
 */
export function lastPastMeterDeadline(t: KeeperTiming, now: bigint): bigint | undefined {
  const elapsed = now - t.meterWindowSeconds;
  if (elapsed < t.intervalSeconds) return undefined;
  return elapsed / t.intervalSeconds - 1n;
}

/**
 * The first interval whose flexibility steps may still settle at chain time `now`: the market's
 * cursor (every interval before it is settled, missed or idle), or, when later, the one after the
 * last interval whose meter deadline has passed (EnergyMarket settles nothing of it any more: the
 * keeper closes it as missed, its batteries idle).
 */
export function firstSettleableFlexInterval(t: KeeperTiming, cursor: bigint, now: bigint): bigint {
  const closed = lastPastMeterDeadline(t, now);
  return closed !== undefined && closed + 1n > cursor ? closed + 1n : cursor;
}

export interface FlexCloseDecision {
  /** Intervals to close now, ascending, at most `max`. */
  readonly due: readonly bigint[];
  /** More intervals are due than `max` allowed. */
  readonly more: boolean;
}

/**
 * Which intervals the keeper closes as missed: every interval at or after `cursor` in which some
 * order is active, whose meter deadline is at or before `now`, ascending, at most `max`.
 */
export function flexIntervalsToClose(
  t: KeeperTiming,
  cursor: bigint,
  orders: readonly FlexOrderWindow[],
  now: bigint,
  max: number = KEEPER_MAX_TX_PER_JOB,
): FlexCloseDecision {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`max: must be a positive integer, got ${max}`);
  if (cursor < 0n) throw new RangeError(`cursor: must not be negative, got ${cursor}`);
  const last = lastPastMeterDeadline(t, now);
  // The active stretches at or after the cursor, merged: [from, to] inclusive.
  const ranges = orders
    .filter((o) => o.endInterval >= o.firstInterval && o.endInterval >= cursor)
    .map((o) => ({ from: o.firstInterval > cursor ? o.firstInterval : cursor, to: o.endInterval }))
    .sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  const due: bigint[] = [];
  let more = false;
  let covered = cursor - 1n; // every active interval up to here is already listed
  for (const r of ranges) {
    const from = r.from > covered ? r.from : covered + 1n;
    if (from > r.to) continue;
    const lastDue = last === undefined ? from - 1n : last < r.to ? last : r.to;
    for (let i = from; i <= lastDue; i++) {
      if (due.length === max) {
        more = true;
        break;
      }
      due.push(i);
    }
    if (r.to > covered) covered = r.to;
    if (more) break;
  }
  return { due, more };
}

/**
 * Whether the order's window is over for the contract at cursor `cursor`: ended before it started
 * (never active), or its last active interval is behind the cursor (settled or missed).
 */
export function flexOrderFinished(o: FlexOrderWindow, cursor: bigint): boolean {
  return o.endInterval < o.firstInterval || cursor > o.endInterval;
}

/** What the keeper reads of `orderState` and the order for a refund. */
export interface FlexRefundFacts extends FlexOrderWindow {
  readonly chargeBudget: bigint;
  readonly spent: bigint;
  readonly refunded: boolean;
}

/**
 * Whether the keeper refunds the order: finished, not refunded yet, and something left to return
 * (an order whose budget is spent, or 0, holds nothing; a refund of 0 would only cost gas).
 */
export function flexRefundDue(o: FlexRefundFacts, cursor: bigint): boolean {
  if (o.spent > o.chargeBudget)
    throw new RangeError(`spent: must not exceed chargeBudget ${o.chargeBudget}, got ${o.spent}`);
  return !o.refunded && o.chargeBudget > o.spent && flexOrderFinished(o, cursor);
}

/**
 * The intervals whose fill settlement may have given up while `cursor` was held back, and may
 * still settle now (inclusive range), or undefined for none: from the cursor (every interval
 * before it is settled, missed or idle there), but none whose meter deadline has passed
 * (EnergyMarket settles nothing of it then), up to the last interval whose gate has closed
 * (gateClosure(i) = i·I − G ≤ now). A settle-fills job that waited for an earlier interval's
 * flexibility steps retries for about a minute (infra/queue.ts) and then fails for good, while
 * the interval that blocked it is closed only at its meter deadline, an hour later with the
 * deployed defaults: after a close, the keeper has these intervals' settlement pushed again.
 * Which of them need it is the scheduler's rule (`dueSteps` names settle-fills).
 */
export function flexResettleRange(
  t: KeeperTiming,
  cursor: bigint,
  now: bigint,
): { readonly from: bigint; readonly to: bigint } | undefined {
  const from = firstSettleableFlexInterval(t, cursor, now);
  const to = (now + t.gateClosureSeconds) / t.intervalSeconds;
  return from <= to ? { from, to } : undefined;
}
