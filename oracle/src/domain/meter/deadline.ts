/**
 * The reading deadline: when a meter's silence becomes a missing reading (docs/OPERATIONS.md,
 * "Missing meter data"). Pure: the clock, the registry and the readings are inputs.
 *
 * Readings of interval `i` are accepted from meters until `end(i) + meterDeadlineSeconds`
 * (chain time, inclusive; `meterWindow` in validate.ts). A meter report built before that
 * moment cannot know whether a silent meter is late or missing, and on-chain a committed meter
 * root is final, so:
 *
 *   every registered meter has a reading        → build the report now (nothing to wait for)
 *   some meter is silent, now ≤ reading deadline → wait (fetch from peers, look again later)
 *   some meter is silent, now > reading deadline → build; the missing-reading rule applies
 *
 * The committee still has to sign, aggregate and commit after the reading deadline, before the
 * market's own meter deadline (`end + meterWindowSeconds`); `checkMeterTiming` keeps
 * `meterCommitReserveSeconds` between the two.
 */
import type { Address } from "viem";
import type { SignedMeterReading } from "./reading.js";
import { type MeterRegistry, meterWindow } from "./validate.js";

/** Chain time (unix seconds) after which a silent meter of `intervalId` counts as missing. */
export function readingDeadline(
  intervalId: bigint,
  intervalSeconds: bigint,
  meterDeadlineSeconds: bigint,
): bigint {
  return meterWindow(intervalId, intervalSeconds, meterDeadlineSeconds).closesAt;
}

/** Registered meters without a reading for `intervalId`, ascending by address. */
export function silentMeters(
  registry: MeterRegistry,
  readings: readonly SignedMeterReading[],
  intervalId: bigint,
): Address[] {
  const reported = new Set(
    readings.filter((r) => r.intervalId === intervalId).map((r) => r.meter.toLowerCase()),
  );
  return [...registry.keys()]
    .filter((m) => !reported.has(m.toLowerCase()))
    .sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
}

export type MeterReportDecision =
  | { readonly action: "build"; readonly missingApplies: boolean }
  | { readonly action: "wait"; readonly until: bigint };

/** Whether the meter report of an interval can be built at chain time `nowSeconds`. */
export function meterReportDecision(params: {
  readonly nowSeconds: bigint;
  readonly deadline: bigint;
  readonly silentMeters: number;
}): MeterReportDecision {
  if (params.silentMeters === 0) return { action: "build", missingApplies: false };
  if (params.nowSeconds > params.deadline) return { action: "build", missingApplies: true };
  return { action: "wait", until: params.deadline };
}

export interface MeterTimingIssue {
  readonly field: "meterDeadlineSeconds";
  readonly reason: string;
}

/**
 * Checks the node's meter settings against the market's meter window (read from the chain at
 * start): the reading deadline must leave `meterCommitReserveSeconds` before the on-chain meter
 * deadline, or a report that waited for the deadline could never be committed.
 */
export function checkMeterTiming(params: {
  readonly meterDeadlineSeconds: bigint;
  readonly meterCommitReserveSeconds: bigint;
  readonly meterWindowSeconds: bigint;
}): MeterTimingIssue[] {
  const issues: MeterTimingIssue[] = [];
  const latest = params.meterWindowSeconds - params.meterCommitReserveSeconds;
  if (params.meterDeadlineSeconds > latest)
    issues.push({
      field: "meterDeadlineSeconds",
      reason:
        `must be at most ${latest} (the market's meterWindowSeconds ${params.meterWindowSeconds} − ` +
        `meterCommitReserveSeconds ${params.meterCommitReserveSeconds}), got ${params.meterDeadlineSeconds}: ` +
        "the committee needs that long after the reading deadline to commit the meter report",
    });
  return issues;
}
