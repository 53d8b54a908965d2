/**
 * From a solution of the dispatch LP (floats) to the canonical integer schedule that is hashed,
 * signed and settled. One rule, applied in this order (docs/DISPATCH.md, "Rounding"):
 *
 *  1. Snap: a value within 1e-6 of an integer becomes that integer (solver noise).
 *  2. Prices (per zone and interval, integer per kWh): the order bracket [L, U] of the zone is
 *     computed from the LP fills — L = max(asks of sellers with fill > 0, bids of buyers not fully
 *     filled), U = min(bids of buyers with fill > 0, asks of sellers not fully filled). Every
 *     optimal dual lies in it, and every price in it is rational for every matched order.
 *     - an isolated zone (no line with capacity, no battery): the dual set is exactly [L, U]; the
 *       price is ⌊(L + U)/2⌋, or the finite end when one end is open, or 0 when both are;
 *     - a coupled zone: the HiGHS dual (pinned solver, canonical model), rounded half up, clamped
 *       into [L, U].
 *  3. Line flows: sent = round(f); received = ⌊sent · (1 − loss)⌋ (the loss is rounded up).
 *  4. Batteries: per interval, charge and discharge are each rounded down or up, choosing the pair
 *     whose exact SoC is nearest the LP's SoC while staying inside [minSoc, maxSoc] (and ≥ endSoc at
 *     the end); ties prefer less charge, then less discharge. Reported SoC = ⌊exact SoC⌋.
 *  5. Order fills: ⌊fill⌋; then each zone's imbalance E = supply − demand (an integer) is
 *     absorbed, zones in ascending order, by, in this order:
 *       E > 0: raising bids with limit ≥ price (limit desc, id asc), lowering offers (limit desc,
 *              id desc), then lowering imports (which moves the surplus to the exporting zone);
 *       E < 0: raising offers with limit ≤ price (limit asc, id asc), lowering bids (limit asc,
 *              id desc), then lowering exports (which moves the deficit to the importing zone).
 *     Raises only go to orders whose limit is on the right side of the price, lowerings keep
 *     fills ≥ 0, so rationality and fill bounds survive; every zone balance is then exact.
 *  6. Budget, per interval: with p' = max(p, 0) (the price the chain stores), the congestion rent
 *     Σ over flows of p'_to·received − p'_from·sent − fee·sent must be ≥ 0. Step 3's
 *     ⌊sent·(1 − loss)⌋ can make it negative (4 Wh sent, 3 received: a 2 % line costs 25 %), and
 *     then the contract would revert every seller's fill with BudgetExceeded. While it is < 0:
 *     a. prices, from the step-2 prices, zones ascending: raise a net importer, lower a net
 *        exporter (not below 0), each by the least integer step covering what is left, within
 *        its bracket [L, U] and the limits of the orders it fills; if that cannot cover it, the
 *        same within the filled orders' limits only;
 *     b. else the flow with the least rent (line, direction order on ties) sends only what its
 *        delivery needs, or, if it already does, delivers one Wh less; both zones are rebalanced
 *        by step 5 at the step-2 prices, and (a) is tried again.
 *     Each (b) lowers the interval's total sent energy and step 5 never raises a flow, so it
 *     ends: with no flow the rent is 0. The contract's rule follows: buyers pay ⌈p·e/1000⌉ and
 *     sellers get ⌊p·e/1000⌋, and Σ_buyers p'e − Σ_sellers p'e = rent + fees ≥ 0.
 */
import { chainZonePrice } from "../budget.js";
import { DispatchRoundingError } from "./errors.js";
import { Layout, type IndexedInstance } from "./indexed.js";

export const SCHEDULE_FORMAT = "gridbrain-dispatch/1";

export interface ScheduleFill {
  readonly orderId: string;
  readonly filledWh: number;
}
export interface SchedulePrice {
  readonly interval: number;
  readonly zone: number;
  /** Token base units per kWh (signed; negative only where no order clears in the zone). */
  readonly pricePerKwh: number;
}
export interface ScheduleFlow {
  readonly interval: number;
  readonly from: number;
  readonly to: number;
  /** Energy leaving `from`. */
  readonly sentWh: number;
  /** Energy arriving in `to` (sent minus losses). */
  readonly receivedWh: number;
}
export interface ScheduleBatteryStep {
  readonly interval: number;
  readonly chargeWh: number;
  readonly dischargeWh: number;
  /** State of charge at the end of the interval, rounded down. */
  readonly socWh: number;
}
export interface ScheduleBattery {
  readonly batteryId: string;
  readonly steps: readonly ScheduleBatteryStep[];
}
export type SolverInfo =
  | {
      readonly engine: "highs";
      readonly packageVersion: string;
      readonly highsVersion: string;
      /** Pinned HiGHS options, values as strings. */
      readonly options: Readonly<Record<string, string>>;
    }
  | { readonly engine: "merit-order" };

/** The canonical integer schedule: everything a Merkle leaf, a signature or a settlement needs. */
export interface CanonicalSchedule {
  readonly format: typeof SCHEDULE_FORMAT;
  readonly horizon: { readonly firstInterval: number; readonly intervals: number };
  readonly solver: SolverInfo;
  /** Every order of the instance, by numeric id ascending. */
  readonly fills: readonly ScheduleFill[];
  /** Every (interval, zone), interval then zone ascending. */
  readonly prices: readonly SchedulePrice[];
  /** Flows with sentWh > 0, by interval, from, to. */
  readonly flows: readonly ScheduleFlow[];
  /** Batteries by numeric id ascending, every interval. */
  readonly batteries: readonly ScheduleBattery[];
  /**
   * Welfare of the integer schedule, in thousandths of a token base unit, as a decimal string:
   * Σ bid·fill − Σ ask·fill − Σ fee·sent − Σ wear·(charge + discharge) with prices per kWh and
   * energy in Wh.
   */
  readonly welfareMilli: string;
}

const EPS = 1e-6;
/** Slack on SoC limits for float arithmetic on integer Wh (far below 1 Wh). */
const SOC_TOL = 1e-9;
/** Solver noise: a value within 1e-6 of an integer is that integer. */
export function snap(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - r) <= EPS ? r : v;
}
const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);
/** Energy arriving over a line when `sent` Wh leave: losses are rounded up. */
export function receivedWh(sent: number, lossFactor: number): number {
  return Math.floor(sent * (1 - lossFactor) + 1e-9);
}

/** Highest price the instance schema accepts: a repaired price never goes past it. */
const PRICE_MAX = 1e12;

/** Least energy to send over a line so that `receivedWh` Wh arrive (0 for 0). */
export function minSentWh(received: number, lossFactor: number): number {
  if (received <= 0) return 0;
  let s = Math.ceil(received / (1 - lossFactor));
  while (s > 0 && receivedWh(s - 1, lossFactor) >= received) s--;
  while (receivedWh(s, lossFactor) < received) s++;
  return s;
}

/**
 * Price of an isolated zone from its bracket: the midpoint, rounded down; the finite end if one
 * end is open; 0 if both are open (no orders).
 */
export function bracketPrice(lo: number, hi: number): number {
  if (lo === -Infinity && hi === Infinity) return 0;
  if (lo === -Infinity) return hi;
  if (hi === Infinity) return lo;
  return Math.floor((lo + hi) / 2);
}

export interface IntegerizeInput {
  readonly ix: IndexedInstance;
  /** Column values in `Layout` order. */
  readonly x: Float64Array;
  /** Zone prices per kWh from the LP duals (`t·Z + z`); absent on the merit path. */
  readonly duals: Float64Array | undefined;
  readonly solver: SolverInfo;
}

/**
 * The rounding rule of the header comment, one function per step. The top level reads as the
 * list of steps; everything the steps share lives in one `Rounding` state.
 */
export function integerize({ ix, x, duals, solver }: IntegerizeInput): CanonicalSchedule {
  const lay = new Layout(ix);
  const snapped = snapFills(ix, x); // (1)
  const brackets = priceBrackets(ix, lay, snapped); // (2)
  const price = zonePrices(ix, lay, brackets, duals); // (2)
  const st = roundingState(ix, lay, snapped);
  // (3)–(6), interval by interval: the SoC carried into interval t is the integer schedule's own,
  // so rounding drift never accumulates and each battery tracks the LP trajectory from where it is.
  for (let t = 0; t < lay.T; t++) {
    roundFlows(st, x, t); // (3)
    roundBatteries(st, x, t); // (4)
    const E = zoneImbalances(st, t); // (5)
    absorbImbalances(st, price, t, E); // (5)
    repairBudget(st, price, brackets, t, E); // (6)
    carrySoc(st, t);
  }
  return canonicalSchedule(st, price, solver);
}

/** The order brackets [L, U] of step 2, by balance row (interval, zone). */
interface Brackets {
  /** Lowest price rational for every order of the row (L). */
  readonly lo: Float64Array;
  /** Highest price rational for every order of the row (U). */
  readonly hi: Float64Array;
}

/** What steps 3–6 read and write, interval by interval. */
interface Rounding {
  readonly ix: IndexedInstance;
  readonly lay: Layout;
  /** Order indices of each balance row (interval, zone), ascending. */
  readonly group: readonly (readonly number[])[];
  /** Battery indices of each zone, ascending. */
  readonly byZone: readonly (readonly number[])[];
  /** Integer fill per order. */
  readonly fill: number[];
  /** Integer energy sent and received per flow column (`flowCol − n`). */
  readonly sent: number[];
  readonly recv: number[];
  /** Integer charge and discharge per battery and interval. */
  readonly charge: number[][];
  readonly discharge: number[][];
  /** Exact SoC at the end of each interval of the integer schedule. */
  readonly socExact: number[][];
  /** Exact SoC carried into the interval being rounded. */
  readonly socPrev: number[];
}

/**
 * Step 1. Guarantees: every order's LP fill is snapped (solver noise removed) and clamped into
 * [0, quantityWh]; the result is still a float.
 */
function snapFills(ix: IndexedInstance, x: Float64Array): Float64Array {
  const xo = new Float64Array(ix.orders.length);
  ix.orders.forEach((o, i) => (xo[i] = clamp(snap(x[i]!), 0, o.quantityWh)));
  return xo;
}

/**
 * Step 2, brackets. Guarantees: for every (interval, zone), [lo, hi] = [L, U] of the header
 * (open ends are ∓Infinity), so every price in it is rational for every order the LP matched and
 * leaves no unmatched order wanting to trade.
 */
function priceBrackets(ix: IndexedInstance, lay: Layout, snapped: Float64Array): Brackets {
  const lo = new Float64Array(lay.Z * lay.T).fill(-Infinity);
  const hi = new Float64Array(lay.Z * lay.T).fill(Infinity);
  ix.orders.forEach((o, i) => {
    const v = snapped[i]!;
    const r = lay.balanceRow(o.interval - ix.first, ix.zoneIndex.get(o.zone)!);
    const p = o.limitPricePerKwh;
    const matched = v > EPS;
    const room = v < o.quantityWh - EPS;
    if (o.side === "bid") {
      if (matched) hi[r] = Math.min(hi[r]!, p);
      if (room) lo[r] = Math.max(lo[r]!, p);
    } else {
      if (matched) lo[r] = Math.max(lo[r]!, p);
      if (room) hi[r] = Math.min(hi[r]!, p);
    }
  });
  return { lo, hi };
}

/**
 * Step 2, prices. Guarantees: one integer price per (interval, zone), inside its bracket [L, U]:
 * `bracketPrice` for an isolated zone (or on the merit path, which has no duals), the HiGHS dual
 * rounded half up and clamped for a coupled one. Throws `DispatchRoundingError` on an empty
 * bracket (L > U: the LP solution is not optimal).
 */
function zonePrices(
  ix: IndexedInstance,
  lay: Layout,
  { lo, hi }: Brackets,
  duals: Float64Array | undefined,
): number[] {
  const coupled = new Array<boolean>(lay.Z).fill(false);
  for (const l of ix.lines) {
    if (l.capacityWh === 0) continue;
    coupled[ix.zoneIndex.get(l.a)!] = true;
    coupled[ix.zoneIndex.get(l.b)!] = true;
  }
  for (const b of ix.batteries) coupled[ix.zoneIndex.get(b.zone)!] = true;
  const price = new Array<number>(lay.Z * lay.T);
  for (let t = 0; t < lay.T; t++) {
    for (let z = 0; z < lay.Z; z++) {
      const r = lay.balanceRow(t, z);
      const L = lo[r]!;
      const U = hi[r]!;
      if (L > U) {
        throw new DispatchRoundingError(
          `empty price bracket [${L}, ${U}] in zone ${ix.zones[z]} interval ${ix.first + t}`,
        );
      }
      if (!coupled[z] || duals === undefined) {
        price[r] = bracketPrice(L, U);
      } else {
        price[r] = clamp(Math.round(snap(duals[r]!)), L, U);
      }
    }
  }
  return price;
}

/** The state before step 3: fills ⌊snapped fill⌋ (step 5's start), no flows, no battery use. */
function roundingState(ix: IndexedInstance, lay: Layout, snapped: Float64Array): Rounding {
  const { Z, T, L } = lay;
  const group: number[][] = Array.from({ length: Z * T }, () => []);
  ix.orders.forEach((o, i) =>
    group[lay.balanceRow(o.interval - ix.first, ix.zoneIndex.get(o.zone)!)]!.push(i),
  );
  const byZone: number[][] = Array.from({ length: Z }, () => []);
  ix.batteries.forEach((b, k) => byZone[ix.zoneIndex.get(b.zone)!]!.push(k));
  return {
    ix,
    lay,
    group,
    byZone,
    fill: Array.from(snapped, (v) => Math.floor(v)),
    sent: new Array<number>(2 * L * T).fill(0),
    recv: new Array<number>(2 * L * T).fill(0),
    charge: ix.batteries.map(() => new Array<number>(T).fill(0)),
    discharge: ix.batteries.map(() => new Array<number>(T).fill(0)),
    socExact: ix.batteries.map(() => new Array<number>(T).fill(0)),
    socPrev: ix.batteries.map((b) => b.initialSocWh),
  };
}

/** Exact SoC of battery k after interval being rounded, if it charges `c` and discharges `d`. */
function socAfter(st: Rounding, k: number, c: number, d: number): number {
  const b = st.ix.batteries[k]!;
  return st.socPrev[k]! + b.chargeEfficiency * c - d / b.dischargeEfficiency;
}

/** Whether SoC `s` is allowed at the end of interval t: [minSoc, maxSoc], and ≥ endSoc at the end. */
function socFits(st: Rounding, k: number, t: number, s: number): boolean {
  const b = st.ix.batteries[k]!;
  const floor = t === st.lay.T - 1 ? Math.max(b.minSocWh, b.endSocWh) : b.minSocWh;
  return s >= floor - SOC_TOL && s <= b.maxSocWh + SOC_TOL;
}

/** Lowest SoC after interval t from which full charging could still reach the end state. */
function reachFloor(st: Rounding, k: number, t: number): number {
  const b = st.ix.batteries[k]!;
  return Math.max(b.endSocWh, b.minSocWh) - (st.lay.T - 1 - t) * b.maxChargeWh * b.chargeEfficiency;
}

/**
 * Step 3. Guarantees: in interval t every line direction sends an integer sent ∈ [0, capacity]
 * (the LP flow rounded half up) and receives exactly `receivedWh(sent, loss)`.
 */
function roundFlows(st: Rounding, x: Float64Array, t: number): void {
  const { ix, lay } = st;
  ix.lines.forEach((line, l) => {
    for (const d of [0, 1] as const) {
      const c = lay.flowCol(t, l, d);
      const s = clamp(Math.round(snap(x[c] ?? 0)), 0, line.capacityWh);
      st.sent[c - lay.n] = s;
      st.recv[c - lay.n] = receivedWh(s, line.lossFactor);
    }
  });
}

/**
 * Step 4. Guarantees: in interval t every battery has integer charge ∈ [0, maxCharge] and
 * discharge ∈ [0, maxDischarge] whose exact SoC fits its limits (and endSoc in the last interval):
 * the floor/ceil pair nearest the LP's SoC, preferring pairs at or above it, ties to less charge
 * then less discharge; else a repair from the rounded-down pair. Throws `DispatchRoundingError`
 * when no integer pair fits.
 */
function roundBatteries(st: Rounding, x: Float64Array, t: number): void {
  const { ix, lay } = st;
  ix.batteries.forEach((b, k) => {
    const cT = clamp(snap(x[lay.batteryCol(k, t, 0)]!), 0, b.maxChargeWh);
    const dT = clamp(snap(x[lay.batteryCol(k, t, 1)]!), 0, b.maxDischargeWh);
    const target = x[lay.batteryCol(k, t, 2)]!;
    // Prefer a pair that ends at or above the LP's SoC (so the end state stays reachable), then
    // the nearest; ties: less charge, then less discharge.
    let best: [number, number] | undefined;
    let bestKey = [Infinity, Infinity];
    for (const c of [Math.floor(cT), Math.ceil(cT)]) {
      for (const d of [Math.floor(dT), Math.ceil(dT)]) {
        const s = socAfter(st, k, c, d);
        if (!socFits(st, k, t, s)) continue;
        const key = [s >= target - SOC_TOL ? 0 : 1, Math.abs(s - target)];
        if (key[0]! < bestKey[0]! || (key[0] === bestKey[0] && key[1]! < bestKey[1]! - 1e-12))
          [best, bestKey] = [[c, d], key];
      }
    }
    if (best === undefined) {
      const socLo = t === lay.T - 1 ? Math.max(b.minSocWh, b.endSocWh) : b.minSocWh;
      // From the rounded-down pair: shed charge while too full; shed discharge, then add
      // charge, while too empty.
      let c = Math.floor(cT);
      let d = Math.floor(dT);
      while (socAfter(st, k, c, d) > b.maxSocWh + SOC_TOL && c > 0) c--;
      while (socAfter(st, k, c, d) < socLo - SOC_TOL && d > 0) d--;
      while (socAfter(st, k, c, d) < socLo - SOC_TOL && c < b.maxChargeWh) c++;
      if (!socFits(st, k, t, socAfter(st, k, c, d))) {
        throw new DispatchRoundingError(
          `battery ${b.id} interval ${ix.first + t}: no integer charge/discharge keeps SoC within limits`,
        );
      }
      best = [c, d];
    }
    st.charge[k]![t] = best[0];
    st.discharge[k]![t] = best[1];
  });
}

/** Step 5, start. Each zone's integer imbalance E = supply − demand in interval t, as it stands. */
function zoneImbalances(st: Rounding, t: number): number[] {
  const { ix, lay, fill, sent, recv } = st;
  const E = new Array<number>(lay.Z).fill(0);
  for (let z = 0; z < lay.Z; z++) {
    for (const i of st.group[lay.balanceRow(t, z)]!)
      E[z] = E[z]! + (ix.orders[i]!.side === "offer" ? fill[i]! : -fill[i]!);
  }
  ix.lines.forEach((line, l) => {
    const ia = ix.zoneIndex.get(line.a)!;
    const ib = ix.zoneIndex.get(line.b)!;
    const ab = lay.flowCol(t, l, 0) - lay.n;
    const ba = lay.flowCol(t, l, 1) - lay.n;
    E[ia] = E[ia]! - sent[ab]! + recv[ba]!;
    E[ib] = E[ib]! + recv[ab]! - sent[ba]!;
  });
  ix.batteries.forEach((b, k) => {
    const z = ix.zoneIndex.get(b.zone)!;
    E[z] = E[z]! + st.discharge[k]![t]! - st.charge[k]![t]!;
  });
  return E;
}

/**
 * Step 5. Guarantees, on return: E is all zeros, i.e. every zone of interval t balances exactly.
 * Fills only rise for orders whose limit is on the willing side of the zone's price and stay in
 * [0, quantityWh]; a battery move keeps the SoC within limits and never takes it below both the
 * carried SoC and the floor from which the end state stays reachable; lines only send less, never
 * more (a cut moves the imbalance to the zone at the other end, which the loop then absorbs).
 * Throws `DispatchRoundingError` if a zone's imbalance cannot be absorbed.
 */
function absorbImbalances(st: Rounding, price: readonly number[], t: number, E: number[]): void {
  const { ix, lay, fill, sent, recv, charge, discharge } = st;
  const orders = ix.orders;
  const byLimit = (dir: 1 | -1, idDir: 1 | -1) => (i: number, j: number) =>
    dir * (orders[i]!.limitPricePerKwh - orders[j]!.limitPricePerKwh) || idDir * (i - j);
  for (;;) {
    const z = E.findIndex((e) => e !== 0);
    if (z < 0) break;
    const r = lay.balanceRow(t, z);
    const p = price[r]!;
    const members = st.group[r]!;
    let e = E[z]!;
    // orders: raise the willing side, then lower the other
    const sign = e > 0 ? 1 : -1;
    const raiseSide = e > 0 ? "bid" : "offer";
    const up = members
      .filter((i) => {
        const o = orders[i]!;
        const willing = o.side === "bid" ? o.limitPricePerKwh >= p : o.limitPricePerKwh <= p;
        return o.side === raiseSide && willing && fill[i]! < o.quantityWh;
      })
      .sort(e > 0 ? byLimit(-1, 1) : byLimit(1, 1));
    for (const i of up) {
      if (e === 0) break;
      const d = Math.min(sign * e, orders[i]!.quantityWh - fill[i]!);
      fill[i] = fill[i]! + d;
      e -= sign * d;
    }
    const down = members
      .filter((i) => orders[i]!.side !== raiseSide && fill[i]! > 0)
      .sort(e > 0 ? byLimit(-1, -1) : byLimit(1, -1));
    for (const i of down) {
      if (e === 0) break;
      const d = Math.min(sign * e, fill[i]!);
      fill[i] = fill[i]! - d;
      e -= sign * d;
    }
    // batteries in the zone (id ascending), within their SoC limits for this interval
    for (const k of st.byZone[z]!) {
      if (e === 0) break;
      const b = ix.batteries[k]!;
      // E > 0: discharge less, then charge more; E < 0: charge less, then discharge more.
      const steps: Array<[0 | 1, 1 | -1]> =
        e > 0
          ? [
              [1, -1],
              [0, 1],
            ]
          : [
              [0, -1],
              [1, 1],
            ];
      for (const [what, dir] of steps) {
        const arr = what === 0 ? charge[k]! : discharge[k]!;
        const cap = what === 0 ? b.maxChargeWh : b.maxDischargeWh;
        while (e !== 0) {
          const v = arr[t]! + dir;
          if (v < 0 || v > cap) break;
          const s = what === 0 ? socAfter(st, k, v, discharge[k]![t]!) : socAfter(st, k, charge[k]![t]!, v);
          if (!socFits(st, k, t, s) || (s < st.socPrev[k]! && s < reachFloor(st, k, t) - SOC_TOL)) break;
          arr[t] = v;
          // charging more or discharging less removes supply: both move E by −1·sign
          e -= sign;
        }
      }
    }
    // lines: lower imports (E > 0, the surplus moves to the exporter) or exports (E < 0, the
    // deficit moves to the importer)
    for (let l = 0; l < lay.L && e !== 0; l++) {
      const line = ix.lines[l]!;
      const za = ix.zoneIndex.get(line.a)!;
      const zb = ix.zoneIndex.get(line.b)!;
      if (za !== z && zb !== z) continue;
      if (e > 0) {
        const into: 0 | 1 = zb === z ? 0 : 1;
        const c = lay.flowCol(t, l, into) - lay.n;
        const targetRecv = Math.max(0, recv[c]! - e);
        let s = sent[c]!;
        while (s > 0 && receivedWh(s, line.lossFactor) > targetRecv) s--;
        const from = into === 0 ? za : zb;
        E[from] = E[from]! + (sent[c]! - s);
        e -= recv[c]! - receivedWh(s, line.lossFactor);
        sent[c] = s;
        recv[c] = receivedWh(s, line.lossFactor);
      } else {
        const out: 0 | 1 = za === z ? 0 : 1;
        const c = lay.flowCol(t, l, out) - lay.n;
        const s = Math.max(0, sent[c]! + e);
        const to = out === 0 ? zb : za;
        e += sent[c]! - s;
        E[to] = E[to]! - (recv[c]! - receivedWh(s, line.lossFactor));
        sent[c] = s;
        recv[c] = receivedWh(s, line.lossFactor);
      }
    }
    if (e !== 0) {
      throw new DispatchRoundingError(
        `zone ${ix.zones[z]} interval ${ix.first + t}: imbalance of ${e} Wh cannot be absorbed`,
      );
    }
    E[z] = 0;
  }
}

/** A flow of interval t with its congestion rent at the step-2 prices as the chain stores them. */
interface RentedFlow {
  readonly c: number;
  readonly from: number;
  readonly to: number;
  readonly loss: number;
  readonly rent: bigint;
}

/**
 * Step 6. Guarantees, on return: interval t's congestion rent at the prices the chain stores
 * (p' = max(p, 0)) is ≥ 0, so the contract can pay every seller out of what buyers are charged;
 * every zone still balances exactly (step 5 reruns after each flow cut) and every price stays
 * within the limits of the orders it fills. Terminates: each (6b) lowers the interval's total
 * sent energy and step 5 never raises a flow.
 */
function repairBudget(st: Rounding, price: number[], brackets: Brackets, t: number, E: number[]): void {
  const { ix, lay, sent, recv } = st;
  const p0 = Array.from({ length: lay.Z }, (_, z) => price[lay.balanceRow(t, z)]!);
  // the price as the chain sees it (uint256: floored at 0, the one rule in domain/budget.ts)
  const onChain = (z: number) => chainZonePrice(p0[z]!);
  for (;;) {
    const flowsT: RentedFlow[] = [];
    ix.lines.forEach((line, l) => {
      const za = ix.zoneIndex.get(line.a)!;
      const zb = ix.zoneIndex.get(line.b)!;
      for (const d of [0, 1] as const) {
        const c = lay.flowCol(t, l, d) - lay.n;
        if (sent[c] === 0) continue;
        const [from, to] = d === 0 ? [za, zb] : [zb, za];
        // congestion rent: what the receiving zone pays for the energy, minus what the sending
        // zone is paid for it, minus the grid's fee on every Wh sent
        const rent =
          onChain(to) * BigInt(recv[c]!) -
          onChain(from) * BigInt(sent[c]!) -
          BigInt(line.feePerKwh) * BigInt(sent[c]!);
        flowsT.push({ c, from, to, loss: line.lossFactor, rent });
      }
    });
    // Zones balance exactly, so buyers' minus sellers' money (before the per-fill rounding,
    // which only favours the market) is Σ_z p'_z·(imports − exports); less the fees, that is
    // Σ over flows of this rent. Rent ≥ 0 pays the fees and the contract's rule follows.
    const rent = flowsT.reduce((a, f) => a + f.rent, 0n);
    if (rent >= 0n) return;
    // (6a) prices: within the order brackets, else within the filled orders' limits alone;
    // no energy changes
    const next =
      movePrices(st, brackets, t, -rent, flowsT, p0, true) ??
      movePrices(st, brackets, t, -rent, flowsT, p0, false);
    if (next !== undefined) {
      next.forEach((p, z) => (price[lay.balanceRow(t, z)] = p));
      return;
    }
    cutWorstFlow(st, flowsT, E);
    absorbImbalances(st, price, t, E);
  }
}

/**
 * Step 6b. Guarantees: the flow with the least rent (first in line, direction order on ties)
 * first sends only what its delivery needs, else delivers one Wh less; the energy this frees or
 * withholds is added to E of both ends, for step 5 to rebalance. The interval's total sent energy
 * strictly falls.
 */
function cutWorstFlow(st: Rounding, flowsT: readonly RentedFlow[], E: number[]): void {
  let worst = flowsT[0]!;
  for (const f of flowsT) if (f.rent < worst.rent) worst = f;
  const { c, from, to, loss } = worst;
  const s0 = st.sent[c]!;
  const r0 = st.recv[c]!;
  const trimmed = minSentWh(r0, loss);
  const s1 = trimmed < s0 ? trimmed : minSentWh(r0 - 1, loss);
  const r1 = receivedWh(s1, loss);
  E[from] = E[from]! + (s0 - s1);
  E[to] = E[to]! - (r0 - r1);
  st.sent[c] = s1;
  st.recv[c] = r1;
}

/**
 * Step 6a. Raise importers' and lower exporters' prices, zones ascending, each by the least
 * integer step that covers what remains of the deficit, within the limits of the orders the
 * integer schedule fills (every matched buyer pays ≤ its bid, every matched seller gets ≥ its ask)
 * and, when `inBracket`, also within the zone's order bracket [L, U] (no unmatched order would
 * then have traded at the new price). Guarantees: the returned prices raise the interval's rent by
 * at least `deficit`; undefined if these limits cannot cover it. No energy changes.
 */
function movePrices(
  st: Rounding,
  { lo, hi }: Brackets,
  t: number,
  deficit: bigint,
  flowsT: ReadonlyArray<{ c: number; from: number; to: number }>,
  p0: readonly number[],
  inBracket: boolean,
): number[] | undefined {
  const { ix, lay, fill } = st;
  const netImport = new Array<number>(lay.Z).fill(0);
  for (const f of flowsT) {
    netImport[f.to] = netImport[f.to]! + st.recv[f.c]!;
    netImport[f.from] = netImport[f.from]! - st.sent[f.c]!;
  }
  const next = [...p0];
  let left = deficit;
  for (let z = 0; z < lay.Z && left > 0n; z++) {
    const q = netImport[z]!;
    if (q === 0) continue;
    const r = lay.balanceRow(t, z);
    let up = inBracket ? hi[r]! : Infinity;
    let down = inBracket ? lo[r]! : -Infinity;
    for (const i of st.group[r]!) {
      if (fill[i]! === 0) continue;
      const o = ix.orders[i]!;
      if (o.side === "bid") up = Math.min(up, o.limitPricePerKwh);
      else down = Math.max(down, o.limitPricePerKwh);
    }
    // a price below 0 reaches the chain as 0: lowering it there gains nothing
    const current = Number(chainZonePrice(p0[z]!));
    const room = q > 0 ? Math.min(up, PRICE_MAX) - current : current - Math.max(down, 0);
    if (room <= 0) continue;
    const perUnit = BigInt(Math.abs(q));
    const need = (left + perUnit - 1n) / perUnit;
    const step = need < BigInt(room) ? need : BigInt(room);
    next[z] = current + (q > 0 ? 1 : -1) * Number(step);
    left -= step * perUnit;
  }
  return left > 0n ? undefined : next;
}

/** After interval t: its exact SoC becomes the SoC carried into interval t + 1. */
function carrySoc(st: Rounding, t: number): void {
  st.ix.batteries.forEach((_, k) => {
    const s = socAfter(st, k, st.charge[k]![t]!, st.discharge[k]![t]!);
    st.socExact[k]![t] = s;
    st.socPrev[k] = s;
  });
}

/**
 * The output. Guarantees: the order of every list as `CanonicalSchedule` documents it, reported
 * SoC = ⌊exact SoC⌋ within [minSoc, maxSoc], and the exact welfare of the integer schedule.
 */
function canonicalSchedule(st: Rounding, price: readonly number[], solver: SolverInfo): CanonicalSchedule {
  const { ix, lay, fill, sent, recv, charge, discharge } = st;
  const { n, Z, T } = lay;
  const orders = ix.orders;
  const socOut = ix.batteries.map((b, k) =>
    st.socExact[k]!.map((s) => clamp(Math.floor(s + 1e-9), b.minSocWh, b.maxSocWh)),
  );

  // welfare of the integer schedule, exact
  let welfare = 0n;
  for (let i = 0; i < n; i++) {
    const o = orders[i]!;
    const v = BigInt(o.limitPricePerKwh) * BigInt(fill[i]!);
    welfare += o.side === "bid" ? v : -v;
  }
  for (let t = 0; t < T; t++) {
    ix.lines.forEach((line, l) => {
      for (const d of [0, 1] as const)
        welfare -= BigInt(line.feePerKwh) * BigInt(sent[lay.flowCol(t, l, d) - n]!);
    });
  }
  ix.batteries.forEach((b, k) => {
    for (let t = 0; t < T; t++)
      welfare -= BigInt(b.degradationCostPerKwh) * BigInt(charge[k]![t]! + discharge[k]![t]!);
  });

  const flows: ScheduleFlow[] = [];
  for (let t = 0; t < T; t++) {
    ix.lines.forEach((line, l) => {
      for (const d of [0, 1] as const) {
        const c = lay.flowCol(t, l, d) - n;
        if (sent[c]! > 0) {
          flows.push({
            interval: ix.first + t,
            from: d === 0 ? line.a : line.b,
            to: d === 0 ? line.b : line.a,
            sentWh: sent[c]!,
            receivedWh: recv[c]!,
          });
        }
      }
    });
  }
  const prices: SchedulePrice[] = [];
  for (let t = 0; t < T; t++) {
    for (let z = 0; z < Z; z++)
      prices.push({ interval: ix.first + t, zone: ix.zones[z]!, pricePerKwh: price[lay.balanceRow(t, z)]! });
  }
  return {
    format: SCHEDULE_FORMAT,
    horizon: { firstInterval: ix.first, intervals: T },
    solver,
    fills: orders.map((o, i) => ({ orderId: o.id, filledWh: fill[i]! })),
    prices,
    flows,
    batteries: ix.batteries.map((b, k) => ({
      batteryId: b.id,
      steps: charge[k]!.map((c, t) => ({
        interval: ix.first + t,
        chargeWh: c,
        dischargeWh: discharge[k]![t]!,
        socWh: socOut[k]![t]!,
      })),
    })),
    welfareMilli: welfare.toString(),
  };
}
