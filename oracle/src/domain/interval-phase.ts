/**
 * The phase of a market interval as `gridbrain market status` shows it, from chain time, the
 * interval's deadlines and what the market recorded (docs/ONBOARDING.md, "The interval
 * lifecycle"). Pure: the caller reads the chain.
 *
 * The market keeps no per-interval count of settled imbalances (only `imbalanceSettled(participant,
 * interval)`), so the last phase this rule can see is `metered`; which participants are settled is
 * per participant.
 */
export type IntervalPhase =
  | "open"
  | "closed"
  | "expired (not scheduled)"
  | "scheduled"
  | "delivery"
  | "awaiting meter report"
  | "expired (not metered)"
  | "metered";

export interface IntervalPhaseInput {
  /** Chain time, unix seconds. */
  readonly now: bigint;
  readonly times: {
    readonly gateClosure: bigint;
    readonly scheduleDeadline: bigint;
    readonly start: bigint;
    readonly end: bigint;
    readonly meterDeadline: bigint;
  };
  readonly scheduled: boolean;
  readonly metered: boolean;
}

/**
 * `open` until gate closure, `closed` until the schedule deadline, then `expired (not scheduled)`
 * (every order releasable in full) unless a schedule was committed. A scheduled interval is
 * `scheduled` before it starts, `delivery` while it runs, `awaiting meter report` until the meter
 * deadline and `expired (not metered)` after it (collateral and withheld payouts releasable), or
 * `metered` once the meter root is committed. Deadlines are exclusive, as in the contract.
 */
export function intervalPhase(input: IntervalPhaseInput): IntervalPhase {
  const { now, times } = input;
  if (!input.scheduled) {
    if (now < times.gateClosure) return "open";
    if (now < times.scheduleDeadline) return "closed";
    return "expired (not scheduled)";
  }
  if (input.metered) return "metered";
  if (now < times.start) return "scheduled";
  if (now < times.end) return "delivery";
  if (now < times.meterDeadline) return "awaiting meter report";
  return "expired (not metered)";
}
