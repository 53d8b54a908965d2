/**
 * Every household's economic outcome over a run, from the market's events and the meter readings
 * (docs/MARKET_RULES.md, "The grid"; docs/BENCHMARKS.md, "Economics").
 *
 * With GridBrain, a household's net cost is what it paid for its buy fills, minus what it was paid
 * for its sell fills (`FillSettled.amount`, credited at delivery), plus its short imbalance charges
 * (`charged`, and `uncovered`: the part beyond its interval locks that the grid bills outside the
 * market), minus its long imbalance payments (`paid`, and `uncovered`: the part still owed to it),
 * plus what its battery's standing flexibility order paid for charging minus what its discharges
 * were credited (`FlexStepSettled.amount`).
 *
 * With the grid alone, the same meter readings are billed at the tariffs: consumption at retail
 * (rounded up, as a charge), injection at feed-in (rounded down, as a payment), per interval.
 *
 * The grid's revenue is its own line: what its zone accounts received for supply minus what they
 * paid for offtake, plus the short charges it bills outside the market. Households only: the grid's
 * accounts and anyone else are left out of the household figures.
 */
import type { Address } from "viem";
import { costRoundedDown as costDown, costRoundedUp as costUp } from "./units.js";

export type HouseholdClass = "battery" | "pv" | "neither";

export interface LedgerFill {
  readonly owner: Address;
  /** 0 buy, 1 sell (the contract's `Side`). */
  readonly side: number;
  readonly amount: bigint;
}

export interface LedgerImbalance {
  readonly participant: Address;
  readonly deviationWh: bigint;
  readonly charged: bigint;
  readonly paid: bigint;
  readonly uncovered: bigint;
}

export interface LedgerReading {
  readonly participant: Address;
  readonly injectedWh: bigint;
  readonly consumedWh: bigint;
}

/** A battery's settled step (FlexibilityMarket's FlexStepSettled event, with the order's owner). */
export interface LedgerFlexStep {
  readonly owner: Address;
  readonly batteryId: number;
  /** 0 charge, 1 discharge (the contract's `Direction`). */
  readonly direction: number;
  readonly energyWh: bigint;
  /** The battery's scheduled state of charge after the step. */
  readonly socWh: bigint;
  /** Paid for a charge (from the order's budget), credited for a discharge. */
  readonly amount: bigint;
}

/**
 * One interval's facts: its FillSettled, FlexStepSettled and ImbalanceSettled events and the
 * households' meter readings.
 */
export interface IntervalLedger {
  readonly fills: readonly LedgerFill[];
  /** Absent in reports written before batteries took part through flexibility orders. */
  readonly flexSteps?: readonly LedgerFlexStep[];
  readonly imbalances: readonly LedgerImbalance[];
  readonly readings: readonly LedgerReading[];
}

export interface HouseholdOutcomesParameters {
  readonly intervals: readonly IntervalLedger[];
  /** Every household's market account and class. */
  readonly households: readonly { readonly address: Address; readonly class: HouseholdClass }[];
  /** The grid's zone accounts. */
  readonly gridAccounts: readonly Address[];
  readonly retailPerKwh: bigint;
  readonly feedInPerKwh: bigint;
}

export interface HouseholdOutcome {
  readonly address: Address;
  readonly class: HouseholdClass;
  /** Paid for buy fills − received for sell fills. */
  readonly fillsNet: bigint;
  /** Its battery's charges − discharge credits (flexibility steps). */
  readonly flexNet: bigint;
  /** Short charges collected plus the uncovered part billed by the grid. */
  readonly imbalanceCharged: bigint;
  /** Long payments, paid or still owed. */
  readonly imbalancePaid: bigint;
  readonly netCost: bigint;
  readonly gridAloneCost: bigint;
  /** gridAloneCost − netCost: positive when GridBrain is cheaper. */
  readonly saving: bigint;
  readonly imbalanceWh: bigint;
}

export interface HouseholdOutcomesReturnType {
  readonly households: readonly HouseholdOutcome[];
  readonly count: number;
  readonly netCost: bigint;
  readonly gridAloneCost: bigint;
  readonly fillsNet: bigint;
  readonly flexNet: bigint;
  readonly imbalanceCharged: bigint;
  readonly imbalancePaid: bigint;
  /** Households whose net cost exceeds their grid-alone cost. */
  readonly worseOff: number;
  /** Households worse off by more than 2 % of their grid-alone bill (the target: none). */
  readonly worseOffBeyond2Percent: number;
  readonly savingMin: bigint;
  /** The lower median for an even count (an existing household's saving, an integer). */
  readonly savingMedian: bigint;
  readonly savingMax: bigint;
  /** The household with the smallest saving, and its cost split, for the "why" of the worst. */
  readonly worst: HouseholdOutcome | undefined;
  readonly imbalanceWhByClass: Readonly<Record<HouseholdClass, bigint>>;
  readonly grid: {
    /** Received for supply − paid for offtake by the grid's accounts, plus the short charges billed outside. */
    readonly revenue: bigint;
    readonly fillsNet: bigint;
    readonly billedOutsideMarket: bigint;
  };
}

export function householdOutcomes(params: HouseholdOutcomesParameters): HouseholdOutcomesReturnType {
  const key = (a: string) => a.toLowerCase();
  const rows = new Map(
    params.households.map((h) => [
      key(h.address),
      { ...h, fillsNet: 0n, flexNet: 0n, charged: 0n, paid: 0n, gridAlone: 0n, imbalanceWh: 0n },
    ]),
  );
  const grid = new Set(params.gridAccounts.map(key));
  let gridFills = 0n;
  let billedOutside = 0n;
  for (const interval of params.intervals) {
    for (const f of interval.fills) {
      const row = rows.get(key(f.owner));
      const signed = f.side === 0 ? f.amount : -f.amount;
      if (row !== undefined) row.fillsNet += signed;
      else if (grid.has(key(f.owner))) gridFills -= signed;
    }
    for (const step of interval.flexSteps ?? []) {
      const row = rows.get(key(step.owner));
      if (row !== undefined) row.flexNet += step.direction === 0 ? step.amount : -step.amount;
    }
    for (const i of interval.imbalances) {
      const row = rows.get(key(i.participant));
      if (i.deviationWh < 0n) billedOutside += i.uncovered;
      if (row === undefined) continue;
      if (i.deviationWh < 0n) row.charged += i.charged + i.uncovered;
      else row.paid += i.paid + i.uncovered;
      row.imbalanceWh += i.deviationWh < 0n ? -i.deviationWh : i.deviationWh;
    }
    for (const r of interval.readings) {
      const row = rows.get(key(r.participant));
      if (row === undefined) continue;
      row.gridAlone +=
        costUp(params.retailPerKwh, r.consumedWh) - costDown(params.feedInPerKwh, r.injectedWh);
    }
  }
  const households: HouseholdOutcome[] = [...rows.values()].map((r) => {
    const netCost = r.fillsNet + r.flexNet + r.charged - r.paid;
    return {
      address: r.address,
      class: r.class,
      fillsNet: r.fillsNet,
      flexNet: r.flexNet,
      imbalanceCharged: r.charged,
      imbalancePaid: r.paid,
      netCost,
      gridAloneCost: r.gridAlone,
      saving: r.gridAlone - netCost,
      imbalanceWh: r.imbalanceWh,
    };
  });
  const sum = (f: (h: HouseholdOutcome) => bigint) => households.reduce((s, h) => s + f(h), 0n);
  const savings = households.map((h) => h.saving).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const worst = households.reduce<HouseholdOutcome | undefined>(
    (w, h) => (w === undefined || h.saving < w.saving ? h : w),
    undefined,
  );
  const byClass: Record<HouseholdClass, bigint> = { battery: 0n, pv: 0n, neither: 0n };
  for (const h of households) byClass[h.class] += h.imbalanceWh;
  const magnitude = (x: bigint) => (x < 0n ? -x : x);
  return {
    households,
    count: households.length,
    netCost: sum((h) => h.netCost),
    gridAloneCost: sum((h) => h.gridAloneCost),
    fillsNet: sum((h) => h.fillsNet),
    flexNet: sum((h) => h.flexNet),
    imbalanceCharged: sum((h) => h.imbalanceCharged),
    imbalancePaid: sum((h) => h.imbalancePaid),
    worseOff: households.filter((h) => h.saving < 0n).length,
    // worse off by more than 2 % of the grid-alone bill: −saving > 2 % · |gridAlone|
    worseOffBeyond2Percent: households.filter((h) => -h.saving * 100n > 2n * magnitude(h.gridAloneCost))
      .length,
    savingMin: savings[0] ?? 0n,
    savingMedian: savings[Math.floor((savings.length - 1) / 2)] ?? 0n,
    savingMax: savings[savings.length - 1] ?? 0n,
    worst,
    imbalanceWhByClass: byClass,
    grid: { revenue: gridFills + billedOutside, fillsNet: gridFills, billedOutsideMarket: billedOutside },
  };
}
