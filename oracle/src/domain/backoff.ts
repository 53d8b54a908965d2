/**
 * Exponential backoff with a cap, for the node's retries towards its peers (re-sending its
 * signature below quorum, looking again for a missing meter reading). Pure and without jitter:
 * nodes start their jobs at different moments, so their retries do not line up anyway, and a
 * deterministic schedule is one a test can count.
 */

/** Delay before retry number `attempt` (0-based): `baseMs × 2^attempt`, at most `capMs`. */
export function backoffDelayMs(attempt: number, baseMs: number, capMs: number): number {
  if (!Number.isInteger(attempt) || attempt < 0)
    throw new RangeError(`attempt: must be an integer >= 0, got ${attempt}`);
  if (!(baseMs > 0) || !(capMs >= baseMs))
    throw new RangeError(`baseMs/capMs: need 0 < baseMs <= capMs, got ${baseMs}/${capMs}`);
  // 2^31 already exceeds any cap in ms; stop doubling before the number grows unbounded.
  return Math.min(capMs, baseMs * 2 ** Math.min(attempt, 31));
}

/** When a re-send is due: the count so far and the earliest time (ms) of the next one. */
export interface RetrySchedule {
  readonly sent: number;
  readonly nextAtMs: number;
}

/**
 * Whether a re-send is due at `nowMs`, and the schedule after it. The first re-send is due
 * `baseMs` after the initial send (`retryStart`), then the gaps double (2×, 4×, … `baseMs`) up
 * to `capMs`.
 */
export function retryDue(
  schedule: RetrySchedule,
  nowMs: number,
  baseMs: number,
  capMs: number,
): { readonly due: boolean; readonly next: RetrySchedule } {
  if (nowMs < schedule.nextAtMs) return { due: false, next: schedule };
  const sent = schedule.sent + 1;
  return { due: true, next: { sent, nextAtMs: nowMs + backoffDelayMs(sent, baseMs, capMs) } };
}

/** The schedule right after the initial send at `nowMs`. */
export function retryStart(nowMs: number, baseMs: number, capMs: number): RetrySchedule {
  return { sent: 0, nextAtMs: nowMs + backoffDelayMs(0, baseMs, capMs) };
}
