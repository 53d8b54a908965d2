/**
 * Seeded fault plans. One PRNG (mulberry32) seeded by the run's seed draws every random choice:
 * when each fault strikes, how long it lasts and which nodes it hits, so a seed names a plan.
 */

export const FAULT_KINDS = ["node-kill", "redis-kill", "chain-stall", "quorum-loss"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface PlannedFault {
  readonly kind: FaultKind;
  /**
   * Chain-time offset from the first interval's start: the fault strikes once the demo has moved
   * chain time to or past it (the demo's clock jumps step by step, so this picks a pipeline step).
   */
  readonly atChainOffsetSeconds: number;
  /** Wall time after that moment, so the fault lands inside the step rather than at its start. */
  readonly delayMs: number;
  /** How long the process stays down (stopped, for the chain). */
  readonly downMs: number;
  /** Oracle node indices hit (node-kill: one, quorum-loss: three). */
  readonly nodes: readonly number[];
}

export interface FaultDurations {
  /** [min, max] wall ms of the outage per kind. */
  readonly downMs: Readonly<Record<FaultKind, readonly [number, number]>>;
}

/** The short plan's outages: a chain stall over viem's 10 s request timeout, a quorum loss of ~20 s. */
export const SHORT_DURATIONS: FaultDurations = {
  downMs: {
    "node-kill": [1_000, 4_000],
    "redis-kill": [2_000, 6_000],
    "chain-stall": [11_000, 16_000],
    "quorum-loss": [15_000, 25_000],
  },
};

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PlanParameters {
  readonly seed: number;
  readonly kinds: readonly FaultKind[];
  /** Intervals the demo runs; faults strike between the first gate closure and the last meter report. */
  readonly intervals: number;
  readonly intervalSeconds: number;
  readonly gateClosureSeconds: number;
  readonly committeeSize: number;
  readonly durations: FaultDurations;
}

/** One fault per entry of `kinds`, in chain-time order of their moments. */
export function planFaults(p: PlanParameters): PlannedFault[] {
  if (p.committeeSize < 3)
    throw new RangeError(`committeeSize: needs at least 3 nodes, got ${p.committeeSize}`);
  const random = mulberry32(p.seed);
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pickNodes = (n: number) => {
    const all = Array.from({ length: p.committeeSize }, (_, i) => i);
    const chosen: number[] = [];
    while (chosen.length < n) chosen.push(all.splice(between(0, all.length - 1), 1)[0]!);
    return chosen.sort((a, b) => a - b);
  };
  // From the first gate closure to the last interval's end: every step of every interval.
  const first = -p.gateClosureSeconds;
  const last = (p.intervals - 1) * p.intervalSeconds + p.intervalSeconds;
  return p.kinds
    .map((kind) => ({
      kind,
      atChainOffsetSeconds: between(first, last),
      delayMs: between(0, 2_000),
      downMs: between(...p.durations.downMs[kind]),
      nodes: kind === "node-kill" ? pickNodes(1) : kind === "quorum-loss" ? pickNodes(3) : [],
    }))
    .sort((a, b) => a.atChainOffsetSeconds - b.atChainOffsetSeconds);
}
