/**
 * The canonical view of an instance: everything sorted (orders and batteries by numeric id, zones
 * ascending, lines by their zone pair) so that the model, and hence the solve, does not depend
 * on the order of the input. Column and row layout of the LP is defined here once.
 */
import type { Battery, DispatchInstance, Line, Order } from "./schema.js";

/** A line with its zones ordered (`a < b`); flow direction 0 is a→b, 1 is b→a. */
export interface CanonicalLine extends Line {
  readonly a: number;
  readonly b: number;
}

export interface IndexedInstance {
  readonly instance: DispatchInstance;
  readonly first: number;
  readonly T: number;
  /** Zone ids ascending. */
  readonly zones: readonly number[];
  readonly zoneIndex: ReadonlyMap<number, number>;
  /** Orders by numeric id ascending. */
  readonly orders: readonly Order[];
  readonly lines: readonly CanonicalLine[];
  /** Batteries by numeric id ascending. */
  readonly batteries: readonly Battery[];
}

/** Compares two decimal uint strings numerically (no leading zeros, so length first). */
export function compareDecimal(x: string, y: string): number {
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

export function indexInstance(instance: DispatchInstance): IndexedInstance {
  const zones = [...instance.zones].sort((p, q) => p - q);
  const zoneIndex = new Map(zones.map((z, i) => [z, i] as const));
  const orders = [...instance.orders].sort((p, q) => compareDecimal(p.id, q.id));
  const lines = instance.lines
    .map((l) => ({ ...l, a: Math.min(l.from, l.to), b: Math.max(l.from, l.to) }))
    .sort((p, q) => p.a - q.a || p.b - q.b);
  const batteries = [...instance.batteries].sort((p, q) => compareDecimal(p.id, q.id));
  return {
    instance,
    first: instance.horizon.firstInterval,
    T: instance.horizon.intervals,
    zones,
    zoneIndex,
    orders,
    lines,
    batteries,
  };
}

/**
 * LP layout. Columns: order fills [0, n); line flows (interval t, line l, direction d) at
 * `flowCol`; battery charge/discharge/SoC (battery k, interval t) at `batteryCol`. Rows: zone
 * balance (t, z) at `t·Z + z`, then battery SoC (k, t) at `Z·T + k·T + t`.
 */
export class Layout {
  readonly n: number;
  readonly L: number;
  readonly B: number;
  readonly Z: number;
  readonly T: number;
  readonly numCols: number;
  readonly numRows: number;
  constructor(ix: IndexedInstance) {
    this.n = ix.orders.length;
    this.L = ix.lines.length;
    this.B = ix.batteries.length;
    this.Z = ix.zones.length;
    this.T = ix.T;
    this.numCols = this.n + 2 * this.L * this.T + 3 * this.B * this.T;
    this.numRows = this.Z * this.T + this.B * this.T;
  }
  flowCol(t: number, l: number, d: 0 | 1): number {
    return this.n + (t * this.L + l) * 2 + d;
  }
  batteryCol(k: number, t: number, what: 0 | 1 | 2): number {
    return this.n + 2 * this.L * this.T + (k * this.T + t) * 3 + what;
  }
  balanceRow(t: number, z: number): number {
    return t * this.Z + z;
  }
  socRow(k: number, t: number): number {
    return this.Z * this.T + k * this.T + t;
  }
}
