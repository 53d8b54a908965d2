/**
 * Aggregation of an interval's accepted meter readings into per-participant metered energy, the
 * input of the meter report and of imbalance settlement.
 *
 * Missing reading rule (docs/OPERATIONS.md, "Missing meter data"): missing data must never be
 * cheaper than the truth. A meter without a reading counts as **zero injection**, and the
 * participant's consumption is **at least its scheduled consumption**:
 *
 *   injectedWh = Σ injection of the meters that reported            (missing meters inject 0)
 *   consumedWh = max(Σ consumption of the meters that reported, scheduled consumedWh)
 *
 * So a seller that does not report is short by its whole schedule (charged at the imbalance
 * price against its collateral, and no certificate is issued for undelivered energy), and a
 * buyer that does not report cannot claim an imbalance credit for energy it bought but says it
 * did not use. When every meter of a participant reported, the sums are exact and `estimated`
 * is false.
 */
import { type Address, getAddress } from "viem";
import { FLEX_DISCHARGE, type FlexDirection } from "../flexibility/types.js";
import type { SignedMeterReading } from "./reading.js";
import type { MeterRegistry } from "./validate.js";

export interface ScheduledEnergy {
  readonly injectedWh: bigint;
  readonly consumedWh: bigint;
}

export interface ParticipantMeterTotal {
  readonly participant: Address;
  readonly injectedWh: bigint;
  readonly consumedWh: bigint;
  /** True when at least one of the participant's meters did not report (the default rule applied). */
  readonly estimated: boolean;
  /** The participant's meters without a reading, ascending. */
  readonly missingMeters: readonly Address[];
}

export interface AggregateIntervalParameters {
  readonly intervalId: bigint;
  /** Accepted readings (any interval; others are ignored). At most one per meter. */
  readonly readings: readonly SignedMeterReading[];
  readonly registry: MeterRegistry;
  /** The committed schedule's energy per participant (checksummed address). */
  readonly scheduled: ReadonlyMap<Address, ScheduledEnergy>;
}

const byAddress = (a: string, b: string): number =>
  a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0;

/**
 * Per-participant totals for one interval, sorted by participant address ascending (a
 * deterministic order, so every node builds the same meter report). Covers every participant
 * that has a registered meter or a scheduled position.
 *
 * @throws Error when two readings for the same meter and interval are given (the ingest store
 * guarantees one per meter; two would be a bug upstream, not a case to average).
 */
export function aggregateInterval(params: AggregateIntervalParameters): ParticipantMeterTotal[] {
  // Addresses are compared in checksummed form whatever case the caller used.
  const scheduled = new Map([...params.scheduled].map(([p, e]) => [getAddress(p), e] as const));
  const byMeter = new Map<Address, SignedMeterReading>();
  for (const r of params.readings) {
    if (r.intervalId !== params.intervalId) continue;
    const meter = getAddress(r.meter);
    if (byMeter.has(meter))
      throw new Error(`two readings for meter ${meter} in interval ${params.intervalId}`);
    byMeter.set(meter, r);
  }

  const participants = new Map<Address, { injected: bigint; consumed: bigint; missing: Address[] }>();
  const entry = (p: Address) => {
    let e = participants.get(p);
    if (e === undefined) participants.set(p, (e = { injected: 0n, consumed: 0n, missing: [] }));
    return e;
  };
  for (const [meter, info] of params.registry) {
    const e = entry(info.participant);
    const reading = byMeter.get(meter);
    if (reading === undefined) {
      e.missing.push(meter);
      continue;
    }
    e.injected += reading.injectedWh;
    e.consumed += reading.consumedWh;
  }
  // A scheduled participant with no registered meter at all has no data: every meter is missing.
  for (const p of scheduled.keys()) entry(p);

  const withMeters = new Set([...params.registry.values()].map((m) => m.participant));
  const totals: ParticipantMeterTotal[] = [];
  for (const [participant, e] of participants) {
    const estimated = e.missing.length > 0 || !withMeters.has(participant);
    const scheduledConsumed = scheduled.get(participant)?.consumedWh ?? 0n;
    totals.push({
      participant,
      injectedWh: e.injected,
      consumedWh: estimated && e.consumed < scheduledConsumed ? scheduledConsumed : e.consumed,
      estimated,
      missingMeters: [...e.missing].sort(byAddress),
    });
  }
  return totals.sort((a, b) => byAddress(a.participant, b.participant));
}

/**
 * Each participant's scheduled energy in a committed interval: a sell fill is scheduled injection,
 * a buy fill scheduled consumption, summed per owner. The grid's accounts (`gridAccounts`,
 * checksummed) are the balancing parties: they are left out, so they are never metered nor settled
 * for imbalance (docs/MARKET_RULES.md, "The grid"). Owners are keyed checksummed.
 */
export function scheduledEnergy(
  orders: readonly { readonly owner: string; readonly side: 0 | 1 }[],
  filledWh: readonly bigint[],
  gridAccounts: ReadonlySet<Address>,
): Map<Address, ScheduledEnergy> {
  const scheduled = new Map<Address, { injectedWh: bigint; consumedWh: bigint }>();
  orders.forEach((o, i) => {
    const owner = getAddress(o.owner);
    if (gridAccounts.has(owner)) return;
    const e = scheduled.get(owner) ?? { injectedWh: 0n, consumedWh: 0n };
    if (o.side === 1) e.injectedWh += filledWh[i]!;
    else e.consumedWh += filledWh[i]!;
    scheduled.set(owner, e);
  });
  return scheduled;
}

/** A battery's committed flexibility step in an interval, with the battery's owner. */
export interface OwnedFlexStep {
  readonly owner: string;
  readonly direction: FlexDirection;
  readonly energyWh: bigint;
}

/**
 * Each participant's scheduled net injection (Wh) in a committed interval: what the meters are
 * measured against, deviation = metered net − this. Sell fills minus buy fills (`scheduled`, from
 * `scheduledEnergy`), plus the flexibility steps of the batteries it owns, a discharge adding and a
 * charge subtracting: EnergyMarket's `settleImbalance` adds FlexibilityMarket.scheduledNetWh the
 * same way. A battery's energy is inside its owner's household meter, so its step counts there.
 * Owners are keyed checksummed.
 */
export function scheduledNetWh(
  scheduled: ReadonlyMap<Address, ScheduledEnergy>,
  flexSteps: readonly OwnedFlexStep[],
): Map<Address, bigint> {
  const net = new Map<Address, bigint>();
  for (const [participant, e] of scheduled) net.set(getAddress(participant), e.injectedWh - e.consumedWh);
  for (const step of flexSteps) {
    const owner = getAddress(step.owner);
    const stepNet = step.direction === FLEX_DISCHARGE ? step.energyWh : -step.energyWh;
    net.set(owner, (net.get(owner) ?? 0n) + stepNet);
  }
  return net;
}
