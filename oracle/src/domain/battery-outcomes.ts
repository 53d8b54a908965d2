/**
 * Every battery's run under its standing flexibility order, from FlexibilityMarket's
 * `FlexStepSettled` events alone: its committed schedule (one step per interval), its scheduled
 * state of charge, and what it earned — Σ discharge credits − Σ charge costs (`amount`).
 */
import type { Address } from "viem";
import type { LedgerFlexStep } from "./household-outcomes.js";

export interface BatteryOutcomesParameters {
  /** Each interval's settled steps, in interval order (an interval with none: the batteries idle). */
  readonly intervals: readonly { readonly flexSteps?: readonly LedgerFlexStep[] }[];
  /** Every battery: its registry id, its owner and its state of charge before the first interval. */
  readonly batteries: readonly {
    readonly batteryId: number;
    readonly owner: Address;
    readonly initialSocWh: bigint;
  }[];
}

export interface BatteryOutcome {
  readonly batteryId: number;
  readonly owner: Address;
  /** Per interval, grid side: + charged, − discharged, 0 idle or no step settled (Wh). */
  readonly stepsWh: readonly bigint[];
  /** Per interval, the scheduled state of charge after it (unchanged where no step settled). */
  readonly scheduledSocWh: readonly bigint[];
  readonly chargedWh: bigint;
  readonly dischargedWh: bigint;
  /** Σ amount of its charges (paid from the order's budget). */
  readonly chargeCost: bigint;
  /** Σ amount of its discharges (credited to its owner). */
  readonly dischargeCredit: bigint;
  /** dischargeCredit − chargeCost. */
  readonly earned: bigint;
}

export interface BatteryOutcomesReturnType {
  readonly batteries: readonly BatteryOutcome[];
  readonly chargedWh: bigint;
  readonly dischargedWh: bigint;
  readonly chargeCost: bigint;
  readonly dischargeCredit: bigint;
  readonly earned: bigint;
}

/**
 * @throws RangeError when a step names a battery that is not listed, or a battery has two steps in
 * one interval (the contract settles one per active order and a battery has one active order).
 */
export function batteryOutcomes(params: BatteryOutcomesParameters): BatteryOutcomesReturnType {
  const rows = new Map(
    params.batteries.map((b) => [
      b.batteryId,
      {
        ...b,
        stepsWh: [] as bigint[],
        scheduledSocWh: [] as bigint[],
        soc: b.initialSocWh,
        chargedWh: 0n,
        dischargedWh: 0n,
        chargeCost: 0n,
        dischargeCredit: 0n,
      },
    ]),
  );
  params.intervals.forEach((interval, index) => {
    const seen = new Set<number>();
    for (const step of interval.flexSteps ?? []) {
      const row = rows.get(step.batteryId);
      if (row === undefined) throw new RangeError(`flexSteps: battery ${step.batteryId} is not listed`);
      if (seen.has(step.batteryId))
        throw new RangeError(`flexSteps: battery ${step.batteryId} has two steps in interval ${index}`);
      seen.add(step.batteryId);
      const charge = step.direction === 0;
      row.stepsWh.push(charge ? step.energyWh : -step.energyWh);
      row.soc = step.socWh;
      if (charge) {
        row.chargedWh += step.energyWh;
        row.chargeCost += step.amount;
      } else {
        row.dischargedWh += step.energyWh;
        row.dischargeCredit += step.amount;
      }
    }
    for (const row of rows.values()) {
      if (!seen.has(row.batteryId)) row.stepsWh.push(0n);
      row.scheduledSocWh.push(row.soc);
    }
  });
  const batteries: BatteryOutcome[] = [...rows.values()].map((r) => ({
    batteryId: r.batteryId,
    owner: r.owner,
    stepsWh: r.stepsWh,
    scheduledSocWh: r.scheduledSocWh,
    chargedWh: r.chargedWh,
    dischargedWh: r.dischargedWh,
    chargeCost: r.chargeCost,
    dischargeCredit: r.dischargeCredit,
    earned: r.dischargeCredit - r.chargeCost,
  }));
  const sum = (f: (b: BatteryOutcome) => bigint) => batteries.reduce((s, b) => s + f(b), 0n);
  return {
    batteries,
    chargedWh: sum((b) => b.chargedWh),
    dischargedWh: sum((b) => b.dischargedWh),
    chargeCost: sum((b) => b.chargeCost),
    dischargeCredit: sum((b) => b.dischargeCredit),
    earned: sum((b) => b.earned),
  };
}
