/**
 * The chain-time trigger's rule (jobs/scheduler.ts): which recent intervals a tick looks at, and
 * which pipeline step each one needs, from chain time and the interval's on-chain state alone —
 * so a node that lost its Redis picks up where the chain is:
 *
 *   gate closed, not scheduled, has orders, schedule window open → collect
 *   scheduled, fills pending, before the meter deadline           → settle-fills
 *   scheduled, ended + grace, not metered, before the deadline    → meter-report
 *   scheduled, metered, before the meter deadline                 → settle-imbalance
 *
 * Pure: chain time, the market's timing and the interval's state come in as arguments.
 */

/** The market's timing parameters (seconds), as `EnergyMarket` stores them. */
export interface TickTiming {
  readonly intervalSeconds: bigint;
  readonly gateClosureSeconds: bigint;
  readonly scheduleWindowSeconds: bigint;
  readonly meterWindowSeconds: bigint;
}

/** One interval's times (chain/market.ts `intervalTimes`). */
export interface StepTimes {
  readonly gateClosure: bigint;
  readonly scheduleDeadline: bigint;
  readonly end: bigint;
  readonly meterDeadline: bigint;
}

/** What the rule needs of `EnergyMarket.intervalState`. */
export interface StepState {
  readonly scheduled: boolean;
  /**
   * Some order was placed (the running orders digest is not zero), or a flexibility order is
   * active in the interval (its step must be committed even when nobody else trades).
   */
  readonly hasOrders: boolean;
  /** settledCount < fillCount. */
  readonly fillsPending: boolean;
  /** A meter root is committed. */
  readonly metered: boolean;
}

export type DueStep = "collect" | "settle-fills" | "meter-report" | "settle-imbalance";

/**
 * A step's window of chain time, the market's deadlines (EnergyMarket) plus the meter grace:
 *   collect        [gate closure, schedule deadline)   commitSchedule closes at the deadline
 *   commit-schedule                (…, schedule deadline)
 *   meter-report   [end + grace, meter deadline)       readings of the interval must be in
 *   commit-meter                   (…, meter deadline)
 *   settle-fills                   (…, meter deadline)  settleFills closes at the meter deadline
 */
export type WindowedStep = "collect" | "commit-schedule" | "meter-report" | "commit-meter" | "settle-fills";

export interface StepWindow {
  /** First chain second the step may run (0: from the start). */
  readonly opensAt: bigint;
  /** First chain second it may no longer run. */
  readonly closesAt: bigint;
}

export function stepWindow(step: WindowedStep, times: StepTimes, meterGraceSeconds: bigint): StepWindow {
  switch (step) {
    case "collect":
      return { opensAt: times.gateClosure, closesAt: times.scheduleDeadline };
    case "commit-schedule":
      return { opensAt: 0n, closesAt: times.scheduleDeadline };
    case "meter-report":
      return { opensAt: times.end + meterGraceSeconds, closesAt: times.meterDeadline };
    case "commit-meter":
    case "settle-fills":
      return { opensAt: 0n, closesAt: times.meterDeadline };
  }
}

/** Where chain time `now` is relative to `window`: a job too early retries, one too late gives up. */
export function windowAt(window: StepWindow, now: bigint): "early" | "open" | "closed" {
  if (now >= window.closesAt) return "closed";
  return now < window.opensAt ? "early" : "open";
}

/**
 * The intervals a tick at chain time `now` looks at, newest first: from the newest whose gate
 * has closed back over every interval one of whose steps can still be due (gate closure, the
 * interval itself, both windows, plus one).
 */
export function tickIntervals(
  t: TickTiming,
  now: bigint,
): { readonly newest: bigint; readonly oldest: bigint } {
  const newest = (now + t.gateClosureSeconds) / t.intervalSeconds;
  const span =
    (t.gateClosureSeconds + t.intervalSeconds + t.meterWindowSeconds + t.scheduleWindowSeconds) /
      t.intervalSeconds +
    1n;
  return { newest, oldest: newest > span ? newest - span : 0n };
}

/**
 * The steps interval `times` needs at chain time `now` (the table above). `meterGraceSeconds`:
 * how long after the interval ends the meter report is built.
 */
export function dueSteps(
  times: StepTimes,
  state: StepState,
  now: bigint,
  meterGraceSeconds: bigint,
): DueStep[] {
  const open = (step: WindowedStep) => windowAt(stepWindow(step, times, meterGraceSeconds), now) === "open";
  if (now < times.gateClosure) return [];
  if (!state.scheduled) return state.hasOrders && open("collect") ? ["collect"] : [];
  // Every step of a scheduled interval closes at the meter deadline (the keeper's turn then).
  if (!open("settle-fills")) return [];
  const steps: DueStep[] = [];
  if (state.fillsPending) steps.push("settle-fills");
  if (!state.metered) {
    if (open("meter-report")) steps.push("meter-report");
  } else steps.push("settle-imbalance");
  return steps;
}

/**
 * Effects a completed job claimed that the chain no longer shows. The chain watcher notices a
 * reorg only when it reaches its cursor, `confirmations` blocks behind the head; a shallower reorg
 * that drops a commit or a settlement leaves the job that sent it completed, and the deterministic
 * job id would keep the tick from adding the step again. So the tick compares (jobs/scheduler.ts):
 *
 *   submit (schedule) completed, interval not scheduled            → schedule-commit undone
 *   meter-submit completed, interval not metered                   → meter-commit undone
 *   settle-fills completed (push on), scheduled with fills pending → fill-settlement undone
 *
 * A submit completes only once the commit is on chain (its own or a peer's), and settle-fills only
 * once no fill is pending, so on one chain these states arise from a reorg alone. (Behind a load
 * balancer whose RPC nodes lag each other they can also arise from a stale read; the recovery is
 * then redundant but harmless: every step reads the chain before it sends.)
 */
export type UndoneEffect = "schedule-commit" | "meter-commit" | "fill-settlement";

/** Which of an interval's jobs are completed (settle-fills counts only with push settlement on). */
export interface CompletedJobs {
  readonly submitSchedule: boolean;
  readonly submitMeter: boolean;
  readonly settleFills: boolean;
}

/** The jobs whose completion the tick must look up for `state` (none for a settled interval). */
export function jobsToCheck(state: StepState, settlementPush: boolean): (keyof CompletedJobs)[] {
  const check: (keyof CompletedJobs)[] = [];
  if (!state.scheduled) check.push("submitSchedule");
  if (state.scheduled && !state.metered) check.push("submitMeter");
  if (settlementPush && state.scheduled && state.fillsPending) check.push("settleFills");
  return check;
}

export function undoneEffects(state: StepState, completed: CompletedJobs): UndoneEffect[] {
  const undone: UndoneEffect[] = [];
  if (completed.submitSchedule && !state.scheduled) undone.push("schedule-commit");
  if (completed.submitMeter && !state.metered) undone.push("meter-commit");
  if (completed.settleFills && state.scheduled && state.fillsPending) undone.push("fill-settlement");
  return undone;
}
