/**
 * The flexibility orders' state at the start of interval j when earlier intervals are committed
 * but their steps are not settled yet (issue 14, liveness after a missed interval; docs/DISPATCH.md,
 * "Flexibility orders").
 *
 * FlexibilityMarket settles steps one interval at a time from its cursor. When an interval m with
 * active orders is never committed, its steps settle nowhere until the keeper closes m at its meter
 * deadline, and the cursor holds back every later interval's steps until then: m + 1, m + 2, … are
 * committed, not settled. Their steps are known anyway, from the schedules the node signed and the
 * chain committed (same root), and the contract will apply exactly them, in interval order, by its
 * integer rules. So the state at the start of j is the settled state plus those pending steps:
 *
 *   soc   ← socAfterStep(soc, direction, energyWh, battery)            (a 0 Wh step leaves it)
 *   spent ← spent + ceil(zonePrice · energyWh / 1000)   for a charge    (the contract's _spend)
 *
 * where the battery is the registry's now and the zone price that of its zone in the pending
 * interval's committed prices (what settleFlexSteps reads). A pending interval the node cannot
 * account for makes it wait, naming the interval: its schedule is not stored locally, or its root
 * differs from the committed one, or it is not committed yet while it still may be, or a step of
 * an order that matters for j would be refused by the contract now (then the interval cannot settle
 * as committed and the state at j is not known until it is settled or closed).
 *
 * Pure: the settled state, the pending intervals and the timing come in as arguments.
 */
import type { Hex } from "viem";
import { UnrecoverableInputError } from "../errors.js";
import { firstSettleableFlexInterval } from "../flex-keeper.js";
import type { KeeperTiming } from "../keeper.js";
import { costRoundedUp } from "../units.js";
import { checkFlexStep, socAfterStep } from "./rules.js";
import { FLEX_CHARGE, type ActiveFlexOrder, type FlexDirection } from "./types.js";

/** A committed step of an earlier interval, as the node's stored schedule holds it. */
export interface PendingFlexStep {
  readonly orderId: Hex;
  readonly batteryId: number;
  readonly direction: FlexDirection;
  /** Grid side: drawn from the grid (Charge) or delivered to it (Discharge). */
  readonly energyWh: bigint;
}

/**
 * An earlier interval whose steps may still settle: committed, with the node's stored schedule of it
 * (`zonePrices`, `steps`), or not accountable (`why` says what is missing).
 */
export type PendingFlexInterval =
  | {
      readonly intervalId: bigint;
      readonly zonePrices: readonly bigint[];
      readonly steps: readonly PendingFlexStep[];
    }
  | { readonly intervalId: bigint; readonly why: string };

export type FlexStateAtStart =
  | {
      readonly ready: true;
      /** The orders of j with their state at its start, in the input's order. */
      readonly active: ActiveFlexOrder[];
    }
  | {
      readonly ready: false;
      /** The earlier interval the node waits for. */
      readonly intervalId: bigint;
      readonly reason: string;
    };

export interface FlexStateAtStartParameters {
  /** j: the interval being collected. */
  readonly intervalId: bigint;
  /**
   * The orders active in j with their state from settled steps only (chain/flexibility.ts
   * `readActiveFlexOrders`, counting the steps of intervals before the market's cursor).
   */
  readonly settled: readonly ActiveFlexOrder[];
  /** The earlier intervals whose steps may still settle, each < j, strictly ascending. */
  readonly pending: readonly PendingFlexInterval[];
  readonly intervalSeconds: bigint;
}

/**
 * Each order's state at the start of j: its settled state with the steps of the pending intervals
 * applied in interval order (see the file comment). Only intervals at or after an order's first
 * interval touch it (an order active in j and in its window before j is active there too, so the
 * interval's committed schedule has its step); an interval that touches none of j's orders never
 * makes the node wait.
 *
 * @throws UnrecoverableInputError when a pending interval is not before j or the list is not
 *   strictly ascending (the field names it).
 */
export function flexStateAtStart(p: FlexStateAtStartParameters): FlexStateAtStart {
  p.pending.forEach((k, n) => {
    if (k.intervalId >= p.intervalId)
      throw new UnrecoverableInputError("A pending flexibility interval is not before the collected one", {
        field: `pending.${n}.intervalId`,
        details: `${k.intervalId} >= ${p.intervalId}`,
      });
    if (n > 0 && k.intervalId <= p.pending[n - 1]!.intervalId)
      throw new UnrecoverableInputError("Pending flexibility intervals must be strictly ascending", {
        field: `pending.${n}.intervalId`,
        details: `${k.intervalId} after ${p.pending[n - 1]!.intervalId}`,
      });
  });
  let active = [...p.settled];
  for (const k of p.pending) {
    const touched = active.filter((a) => a.order.firstInterval <= k.intervalId);
    if (touched.length === 0) continue;
    if (!("steps" in k))
      return {
        ready: false,
        intervalId: k.intervalId,
        reason: `interval ${k.intervalId}'s flexibility steps are not settled and cannot be accounted for: ${k.why}`,
      };
    const steps = new Map(k.steps.map((s) => [s.orderId.toLowerCase(), s]));
    const next: ActiveFlexOrder[] = [];
    for (const a of active) {
      if (a.order.firstInterval > k.intervalId) {
        next.push(a);
        continue;
      }
      const s = steps.get(a.orderId.toLowerCase());
      if (s === undefined)
        return {
          ready: false,
          intervalId: k.intervalId,
          reason: `interval ${k.intervalId}'s stored schedule has no step of order ${a.orderId} (battery ${a.order.batteryId}), active there`,
        };
      const stepped = applyStep(a, s, k.zonePrices, p.intervalSeconds);
      if ("error" in stepped)
        return {
          ready: false,
          intervalId: k.intervalId,
          reason: `the contract would refuse battery ${a.order.batteryId}'s committed step of interval ${k.intervalId} (${stepped.error}) under the battery as registered now`,
        };
      next.push(stepped.active);
    }
    active = next;
  }
  return { ready: true, active };
}

/**
 * One pending step on an order's state, by the contract's rules (`_settleStep`): a 0 Wh step is
 * accepted as is and changes nothing; any other passes `checkFlexStep` at the committed price of
 * the battery's zone, then moves the SoC and, for a charge, the spent budget.
 */
function applyStep(
  a: ActiveFlexOrder,
  s: PendingFlexStep,
  zonePrices: readonly bigint[],
  intervalSeconds: bigint,
): { readonly active: ActiveFlexOrder } | { readonly error: string } {
  if (s.energyWh === 0n) return { active: a };
  const b = a.battery;
  const price = b === null ? 0n : (zonePrices[b.zoneId] ?? null);
  if (price === null) return { error: "UnknownZonePrice" };
  const error = checkFlexStep({
    active: a,
    direction: s.direction,
    energyWh: s.energyWh,
    zonePricePerKwh: price,
    intervalSeconds,
  });
  // checkFlexStep passes a step of a battery it cannot find only at 0 Wh, handled above.
  if (error !== null || b === null) return { error: error ?? "BatteryOwnerChanged" };
  return {
    active: {
      ...a,
      socWh: socAfterStep(a.socWh, s.direction, s.energyWh, b),
      spent: s.direction === FLEX_CHARGE ? a.spent + costRoundedUp(price, s.energyWh) : a.spent,
    },
  };
}

/**
 * The earlier intervals whose steps may still change the state at the start of j (inclusive
 * range), or undefined for none: from the market's cursor (every interval before it is settled,
 * missed or idle), but none whose meter deadline has passed at chain time `now` (it can no longer
 * settle; the keeper closes it as missed, its batteries idle), up to j − 1.
 */
export function flexIntervalsStillOpen(
  t: KeeperTiming,
  intervalId: bigint,
  cursor: bigint,
  now: bigint,
): { readonly from: bigint; readonly to: bigint } | undefined {
  const from = firstSettleableFlexInterval(t, cursor, now);
  const to = intervalId - 1n;
  return from <= to ? { from, to } : undefined;
}

/**
 * What an earlier interval in `flexIntervalsStillOpen` is for the state at the start of j:
 * - "idle": no order active there, or never committed and past its schedule deadline (it will be
 *   closed as missed, its batteries idle: what the settled state already assumes);
 * - "committed": its steps are committed and will settle (pending: apply them);
 * - "undecided": not committed yet while its schedule window is open (it may still be).
 */
export function earlierFlexInterval(
  activeOrders: number,
  scheduled: boolean,
  scheduleDeadline: bigint,
  now: bigint,
): "idle" | "committed" | "undecided" {
  if (activeOrders === 0) return "idle";
  if (scheduled) return "committed";
  return now < scheduleDeadline ? "undecided" : "idle";
}
