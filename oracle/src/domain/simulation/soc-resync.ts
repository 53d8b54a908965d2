/**
 * Re-synchronising a battery's scheduled state of charge (issue 14; docs/DISPATCH.md, "Zone
 * following"). The committee plans a battery's steps from the state of charge FlexibilityMarket
 * keeps: its order's `initialSocWh` plus every settled step. A battery that also follows its zone
 * in real time (zone-following.ts) moves off that figure, and the committee then asks an empty
 * battery to discharge or a full one to charge. Its owner's controller re-synchronises the contract
 * with `changeFlexOrder`: the replacement order, active from the next gate closure, carries the
 * controller's prediction of the SoC there as its `initialSocWh` (the contract's rule: a window
 * starts from the owner's measured state of charge).
 *
 * At the gate closure of interval i, interval i − 1 is still running, so the controller predicts
 * the SoC at the start of i from what it has measured: the SoC at the end of i − 2, plus i − 1's
 * committed step, as much of it as the battery can do from there. The following it does in i − 1
 * is not in the prediction; the next re-synchronisation corrects it. The value bench plans from the
 * same prediction (`socSync: "lag"` in domain/rolling/day.ts).
 *
 * Pure: the demo's owners (oracle/src/demo/resync.ts) and the bench take the same rule.
 */
import { applyBatteryEnergy, chargeHeadroomWh, dischargeHeadroomWh } from "./battery.js";
import type { HomeBattery } from "./neighbourhood.js";
import type { BatteryStep } from "./zone-following.js";

/**
 * The demo's default threshold (`--soc-resync-wh`) and the value bench's (c): an owner changes its
 * order when its prediction is more than 300 Wh off. Chosen on the bench (docs/BENCHMARKS.md, "The
 * state of charge the plan starts from"): on seeds 1–3 it gave up 0–1.0 points of storage value
 * against re-synchronising at every Wh of drift, and on 16 days it took 4–85 order changes a day
 * over 8 batteries.
 */
export const DEFAULT_SOC_RESYNC_WH = 300;

export interface SocResyncInput {
  readonly battery: HomeBattery;
  /** The battery's SoC metered at the end of interval i − 2 (Wh, an integer). */
  readonly meteredSocWh: number;
  /** Its committed (settled) step of i − 1; none when it had no step. */
  readonly committed?: BatteryStep;
  /** The contract's scheduled SoC at the start of i (after i − 1's settled step), Wh. */
  readonly scheduledSocWh: number;
  /** Re-synchronise only when the prediction differs from the schedule by more than this (Wh, ≥ 0). */
  readonly thresholdWh: number;
  readonly intervalSeconds: number;
}

/**
 * The controller's prediction of the SoC at the start of interval i: i − 1's committed step, as
 * much of it as the battery's power and SoC allow, applied to the SoC metered at the end of i − 2.
 * @throws RangeError naming the field when an energy is not a non-negative integer.
 */
export function predictedStartSocWh(
  battery: HomeBattery,
  meteredSocWh: number,
  committed: BatteryStep | undefined,
  intervalSeconds: number,
): number {
  if (!Number.isSafeInteger(meteredSocWh) || meteredSocWh < 0)
    throw new RangeError(`meteredSocWh must be a non-negative integer, got ${meteredSocWh}`);
  if (committed === undefined) return meteredSocWh;
  if (!Number.isSafeInteger(committed.energyWh) || committed.energyWh < 0)
    throw new RangeError(`committed.energyWh must be a non-negative integer, got ${committed.energyWh}`);
  return committed.direction === "charge"
    ? applyBatteryEnergy(
        battery,
        meteredSocWh,
        Math.min(committed.energyWh, chargeHeadroomWh(battery, meteredSocWh, intervalSeconds)),
        0,
      )
    : applyBatteryEnergy(
        battery,
        meteredSocWh,
        0,
        Math.min(committed.energyWh, dischargeHeadroomWh(battery, meteredSocWh, intervalSeconds)),
      );
}

/**
 * The `initialSocWh` of the re-synchronising replacement order, or undefined when the prediction is
 * within `thresholdWh` of the contract's scheduled SoC (no transaction). The value is kept within
 * the battery's SoC bounds as registered (rounded to a Wh, as demo/world.ts registers them), which
 * the contract requires of an order's `initialSocWh`.
 * @throws RangeError naming the field on a negative or non-integer threshold or SoC.
 */
export function resyncSocWh(input: SocResyncInput): number | undefined {
  if (!Number.isSafeInteger(input.thresholdWh) || input.thresholdWh < 0)
    throw new RangeError(`thresholdWh must be a non-negative integer, got ${input.thresholdWh}`);
  if (!Number.isSafeInteger(input.scheduledSocWh) || input.scheduledSocWh < 0)
    throw new RangeError(`scheduledSocWh must be a non-negative integer, got ${input.scheduledSocWh}`);
  const predicted = predictedStartSocWh(
    input.battery,
    input.meteredSocWh,
    input.committed,
    input.intervalSeconds,
  );
  const bounded = Math.min(
    Math.round(input.battery.maxSocWh),
    Math.max(Math.round(input.battery.minSocWh), predicted),
  );
  return Math.abs(bounded - input.scheduledSocWh) > input.thresholdWh ? bounded : undefined;
}
