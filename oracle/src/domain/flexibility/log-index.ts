/**
 * The FlexibilityMarket's events folded into what the committee reads of them (issue 14 follow-up:
 * collect and the keeper no longer re-read every event from `startBlock` on every tick).
 *
 * The answers are exactly those of the full read of chain/flexibility.ts's contract (before this
 * index: three `getLogs` from `startBlock` to latest on every call):
 *
 * - the orders placed, in the order placed, each with its end: `flexEndInterval(lastInterval, the
 *   smallest FlexOrderEnded endInterval)`;
 * - for an order and a bound `before`: `spent`, the sum of its Charge steps' amounts of intervals
 *   before `before`, and the battery's last step (any order of the battery) of an interval in
 *   [order.firstInterval, before): the highest interval, the first in chain order among equals.
 *
 * Memory stays bounded by the orders and the steps of the last `retainIntervals` intervals: steps
 * of intervals below the horizon `H` are folded into one sum per order and one (interval, SoC) per
 * battery. That fold answers every `before ≥ H` exactly (a step below H counts for every such
 * `before`; the last step below H is the last of [first, before) whenever no retained step is).
 * A `before < H` is refused (`FlexHorizonPassedError`): the caller reads afresh instead.
 *
 * Events must be applied in chain order (block, log index): the tie rule of the last step depends
 * on it. Pure: no I/O; the reader in chain/flex-log-reader.ts feeds it.
 */
import type { Hex } from "viem";
import { BaseError } from "../errors.js";
import { flexEndInterval } from "../flex-keeper.js";
import { FLEX_CHARGE, type FlexDirection, type FlexOrderFields } from "./types.js";

/** One decoded FlexibilityMarket event, as the fold takes it. Order ids lower-case. */
export type FlexEvent =
  | { readonly kind: "placed"; readonly orderId: Hex; readonly order: FlexOrderFields }
  | { readonly kind: "ended"; readonly orderId: Hex; readonly endInterval: bigint }
  | {
      readonly kind: "step";
      readonly orderId: Hex;
      readonly batteryId: number;
      readonly intervalId: bigint;
      readonly direction: FlexDirection;
      readonly socWh: bigint;
      readonly amount: bigint;
    };

type StepEvent = Extract<FlexEvent, { kind: "step" }>;

/** An order as the events give it: its fields, id and last active interval (see `flexEndInterval`). */
export interface FlexOrderOnChain {
  readonly orderId: Hex;
  readonly order: FlexOrderFields;
  readonly endInterval: bigint;
}

/** What the events say of an order at the start of an interval: `ActiveFlexOrder` without the battery. */
export interface FlexOrderStateAt extends FlexOrderOnChain {
  readonly spent: bigint;
  readonly socWh: bigint;
}

/** A query below the fold's horizon: the fold no longer holds the steps it needs. */
export class FlexHorizonPassedError extends BaseError {
  override name = "FlexHorizonPassedError";
}

/** Default: two days of 15-minute intervals kept unfolded below the highest `before` asked. */
export const DEFAULT_FLEX_RETAIN_INTERVALS = 192n;

interface LastStep {
  readonly intervalId: bigint;
  readonly socWh: bigint;
}

export class FlexEventIndex {
  /** Placed orders in chain order (duplicates kept, as the full read keeps them). */
  private readonly placed: { orderId: Hex; order: FlexOrderFields }[] = [];
  /** Smallest FlexOrderEnded endInterval per order id. */
  private readonly ended = new Map<string, bigint>();
  /** Sum of the Charge amounts of steps below the horizon, per order id. */
  private readonly spentBelow = new Map<string, bigint>();
  /** The last step below the horizon per battery (highest interval, first in chain order). */
  private readonly lastBelow = new Map<number, LastStep>();
  /** Steps at or above the horizon, in chain order. */
  private retained: StepEvent[] = [];
  private horizonValue: bigint | undefined;

  constructor(private readonly retainIntervals: bigint = DEFAULT_FLEX_RETAIN_INTERVALS) {
    if (retainIntervals < 0n)
      throw new RangeError(`retainIntervals: must not be negative, got ${retainIntervals}`);
  }

  /** Intervals below this are folded; undefined while nothing is. */
  get horizon(): bigint | undefined {
    return this.horizonValue;
  }

  /** Steps kept unfolded (for the memory figure). */
  get retainedSteps(): number {
    return this.retained.length;
  }

  get orderCount(): number {
    return this.placed.length;
  }

  /** Applies `events`, which follow every event applied before in chain order. */
  apply(events: readonly FlexEvent[]): void {
    for (const e of events) {
      if (e.kind === "placed") this.placed.push({ orderId: e.orderId, order: e.order });
      else if (e.kind === "ended") {
        const previous = this.ended.get(e.orderId);
        // An order ends once; were it logged twice, the earlier end is the binding one.
        if (previous === undefined || e.endInterval < previous) this.ended.set(e.orderId, e.endInterval);
      } else if (this.horizonValue !== undefined && e.intervalId < this.horizonValue) this.fold(e);
      else this.retained.push(e);
    }
  }

  /**
   * Folds the retained steps of intervals below `before − retainIntervals` (the horizon only
   * rises). Call after answering a query with `before`: later queries down to the new horizon stay
   * exact.
   */
  advance(before: bigint): void {
    const target = before - this.retainIntervals;
    if (this.horizonValue !== undefined && target <= this.horizonValue) return;
    this.horizonValue = target;
    const keep: StepEvent[] = [];
    for (const s of this.retained)
      if (s.intervalId < target) this.fold(s);
      else keep.push(s);
    this.retained = keep;
  }

  private fold(s: StepEvent): void {
    if (s.direction === FLEX_CHARGE)
      this.spentBelow.set(s.orderId, (this.spentBelow.get(s.orderId) ?? 0n) + s.amount);
    const last = this.lastBelow.get(s.batteryId);
    // Strictly higher: among equal intervals the first in chain order stays.
    if (last === undefined || s.intervalId > last.intervalId)
      this.lastBelow.set(s.batteryId, { intervalId: s.intervalId, socWh: s.socWh });
  }

  /**
   * Every order placed, in the order placed, with its end, counting `tail` (events after every
   * applied one, not applied: the blocks that may still be reorganised).
   */
  orders(tail: readonly FlexEvent[] = []): FlexOrderOnChain[] {
    const ended = new Map(this.ended);
    const placed = [...this.placed];
    for (const e of tail) {
      if (e.kind === "placed") placed.push({ orderId: e.orderId, order: e.order });
      if (e.kind === "ended") {
        const previous = ended.get(e.orderId);
        if (previous === undefined || e.endInterval < previous) ended.set(e.orderId, e.endInterval);
      }
    }
    return placed.map(({ orderId, order }) => ({
      orderId,
      order,
      endInterval: flexEndInterval(order.lastInterval, ended.get(orderId)),
    }));
  }

  /**
   * The orders active in `intervalId` (first ≤ intervalId ≤ end), in ascending battery id (stable:
   * equal ids in the order placed), each with its spent budget and its battery's SoC from the steps
   * of intervals before `before` (≤ intervalId), counting `tail`.
   * @throws FlexHorizonPassedError when `before` is below the horizon.
   */
  activeAt(intervalId: bigint, before: bigint, tail: readonly FlexEvent[] = []): FlexOrderStateAt[] {
    if (this.horizonValue !== undefined && before < this.horizonValue)
      throw new FlexHorizonPassedError("The flexibility events of that interval are folded", {
        details: `before ${before} < horizon ${this.horizonValue}`,
      });
    // Grouped once per call: per order its Charge amounts, per battery its steps in chain order.
    const spentOf = new Map<string, bigint>();
    const stepsOf = new Map<number, StepEvent[]>();
    for (const s of [...this.retained, ...tail.filter((e): e is StepEvent => e.kind === "step")]) {
      if (s.intervalId >= before) continue;
      if (s.direction === FLEX_CHARGE) spentOf.set(s.orderId, (spentOf.get(s.orderId) ?? 0n) + s.amount);
      let list = stepsOf.get(s.batteryId);
      if (list === undefined) stepsOf.set(s.batteryId, (list = []));
      list.push(s);
    }
    return this.orders(tail)
      .filter((o) => o.order.firstInterval <= intervalId && intervalId <= o.endInterval)
      .sort((a, b) => a.order.batteryId - b.order.batteryId)
      .map((o) => {
        const spent = (this.spentBelow.get(o.orderId) ?? 0n) + (spentOf.get(o.orderId) ?? 0n);
        // The folded last step precedes every retained one (its interval is below the horizon).
        const below = this.lastBelow.get(o.order.batteryId);
        let last: LastStep | undefined =
          below !== undefined && below.intervalId >= o.order.firstInterval ? below : undefined;
        for (const s of stepsOf.get(o.order.batteryId) ?? [])
          if (s.intervalId >= o.order.firstInterval && (last === undefined || s.intervalId > last.intervalId))
            last = s;
        return { ...o, spent, socWh: last === undefined ? o.order.initialSocWh : last.socWh };
      });
  }
}
