/**
 * What the demo keeps of each interval (the report's input) and the wall time of its phases.
 */
import type { IntervalLedger, LedgerFill } from "../domain/household-outcomes.js";

export interface IntervalRecord {
  readonly intervalId: bigint;
  readonly startUnix: number;
  readonly orders: number;
  readonly zonePrices: readonly bigint[];
  /** Energy per zone: household buys, household sells, grid supply, grid offtake (Wh). */
  readonly zones: readonly ZoneEnergy[];
  readonly actualPvWh: number;
  readonly actualLoadWh: number;
  /** Every battery's simulated state of charge after the interval, summed (Wh). */
  readonly batterySocWh: number;
  /** Batteries that could not do their whole step in this interval (settled step plus zone share). */
  readonly batteriesNotFollowing: number;
  /** Of those, batteries that did less than their settled step itself (demo/delivery.ts). */
  readonly settledStepsShort?: number;
  /** What the batteries did beyond their settled steps, following their zones (demo/delivery.ts, Wh). */
  readonly batteryFollowedWh: { readonly absorbedWh: number; readonly suppliedWh: number };
  /**
   * Flexibility orders changed before this interval's gate closure to re-synchronise the scheduled SoC
   * (resync.ts): the battery and the SoC its replacement order starts this interval from.
   */
  readonly flexResyncs?: readonly FlexResync[];
  /**
   * Each zone's surplus in the committed meter report (`MeterReportCommitted.zoneSurplusWh`, Wh):
   * what the committee plans interval + 2 and later on (domain/forecast/meter-surplus.ts).
   * Empty when the report was not committed.
   */
  readonly zoneSurplusWh?: readonly bigint[];
  readonly imbalanceWh: bigint;
  /** The part of imbalanceWh where households delivered less (or used more) than scheduled. */
  readonly imbalanceShortWh: bigint;
  readonly imbalanceCharged: bigint;
  readonly imbalancePaid: bigint;
  readonly householdPaid: bigint;
  readonly householdReceived: bigint;
  /** What households would have paid net with no local market: deficits at retail, surpluses at feed-in. */
  readonly noMarketCost: bigint;
  /** Certificates claimed by buyers (Wh). */
  readonly certificatesWh: bigint;
  /** Certificates the market issued into the interval's pool (CertificatesIssued events, Wh). */
  readonly certificatesIssuedWh: bigint;
  /** Renewable energy sold and injected, as the demo computes it from fills and its meters. */
  readonly renewableDeliveredWh: bigint;
  /** Buyers with a settled fill, households and the grid (claims round down, so issued − claimed ≤ buyers). */
  readonly buyers: number;
  readonly gasUsed: bigint;
  /** The interval's FillSettled, FlexStepSettled and ImbalanceSettled events and the households' meter readings: the
   * input of every household's outcome (domain/household-outcomes.ts), kept in the JSON report so a
   * reader can recompute the summary. Each fill also carries its energy (`FillSettled.filledWh`), with which a
   * reader recomputes every imbalance's scheduled net. */
  readonly ledger: IntervalLedger & {
    readonly fills: readonly (LedgerFill & { readonly filledWh: bigint })[];
  };
  /** Wall time of each step of this interval (ms), for finding where a run spends its time. */
  readonly phaseMs: Readonly<Record<Phase, number>>;
  readonly final: boolean;
  readonly problem?: string;
}

export interface ZoneEnergy {
  bought: bigint;
  sold: bigint;
  gridSupply: bigint;
  gridOfftake: bigint;
}

/** Something the demo could not do (a node down, a send that failed); reported at the end of the run. */
export interface UndoneAction {
  readonly intervalId: bigint;
  readonly action: string;
  readonly reason: string;
}

export const PHASES = ["orders", "clearing", "meters", "imbalance", "certificates", "accounting"] as const;
export type Phase = (typeof PHASES)[number];

export interface Stopwatch {
  lap(phase: Phase): void;
  restart(): void;
  readonly ms: Record<Phase, number>;
}

/** Measures consecutive steps: `lap(phase)` charges the time since the previous lap to `phase`. */
export function stopwatch(): Stopwatch {
  const ms = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  let last = performance.now();
  return {
    ms,
    lap(phase) {
      const now = performance.now();
      ms[phase] += Math.round(now - last);
      last = now;
    },
    restart() {
      last = performance.now();
    },
  };
}

/** One re-synchronising order change (demo/resync.ts). */
export interface FlexResync {
  readonly batteryId: number;
  readonly initialSocWh: bigint;
}
