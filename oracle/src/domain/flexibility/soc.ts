/**
 * The battery's scheduled state of charge at the start of an interval, as the contract will have it
 * once every step committed before that interval is settled: at gate closure of i the latest
 * committed steps (i − 1, sometimes earlier) are often not settled yet, so the contract's
 * `BatteryState` alone is behind.
 */
import { UnrecoverableInputError } from "../errors.js";
import { socAfterStep } from "./rules.js";
import type { FlexDirection, FlexOrderFields, RegisteredBattery } from "./types.js";

/** `IFlexibilityMarket.BatteryState` as viem reads it (orderId not needed here). */
export interface FlexBatteryState {
  readonly socWh: bigint;
  /** The last interval whose step was settled (0 if none). */
  readonly socInterval: bigint;
}

/** A step committed in an earlier schedule and not settled yet. */
export interface PendingFlexStep {
  readonly intervalId: bigint;
  /** The order the step belongs to (a changed order's replacement starts from its own initialSocWh). */
  readonly order: Pick<FlexOrderFields, "firstInterval" | "initialSocWh">;
  readonly direction: FlexDirection;
  readonly energyWh: bigint;
}

/**
 * The SoC at the start of `interval` for `order`, by the contract's settlement rule: an order's
 * first interval starts from its `initialSocWh`; any other continues from the battery's state,
 * carried through the `pending` steps (strictly after `state.socInterval` and before `interval`,
 * each settled in turn, in interval order) with the contract's integer rule.
 *
 * @throws UnrecoverableInputError when a pending step is not after `state.socInterval` and before
 *   `interval`, or two share an interval.
 */
export function scheduledSocAt(
  interval: bigint,
  order: Pick<FlexOrderFields, "firstInterval" | "initialSocWh">,
  state: FlexBatteryState,
  pending: readonly PendingFlexStep[],
  battery: Pick<RegisteredBattery, "chargeEfficiencyBps" | "dischargeEfficiencyBps">,
): bigint {
  if (interval === order.firstInterval) return order.initialSocWh;
  const steps = [...pending].sort((a, b) =>
    a.intervalId < b.intervalId ? -1 : a.intervalId > b.intervalId ? 1 : 0,
  );
  let soc = state.socWh;
  let last = state.socInterval;
  steps.forEach((s, k) => {
    if (s.intervalId <= last || s.intervalId >= interval)
      throw new UnrecoverableInputError("A pending flexibility step is out of range", {
        field: `pending.${k}.intervalId`,
        details: `${s.intervalId}: must be after ${last} and before ${interval}`,
      });
    last = s.intervalId;
    const start = s.intervalId === s.order.firstInterval ? s.order.initialSocWh : soc;
    soc = socAfterStep(start, s.direction, s.energyWh, battery);
  });
  return soc;
}
