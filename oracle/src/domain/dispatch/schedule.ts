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

export function integerize({ ix, x, duals, solver }: IntegerizeInput): CanonicalSchedule {
  const lay = new Layout(ix);
  const { n, Z, T } = lay;
  const orders = ix.orders;

  // (1) snapped LP fills and (2) price brackets
  const xo = new Float64Array(n);
  const lo = new Float64Array(Z * T).fill(-Infinity);
  const hi = new Float64Array(Z * T).fill(Infinity);
  const group: number[][] = Array.from({ length: Z * T }, () => []);
  for (let i = 0; i < n; i++) {
    const o = orders[i]!;
    const v = clamp(snap(x[i]!), 0, o.quantityWh);
    xo[i] = v;
    const r = lay.balanceRow(o.interval - ix.first, ix.zoneIndex.get(o.zone)!);
    group[r]!.push(i);
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
  }
  const coupled = new Array<boolean>(Z).fill(false);
  for (const l of ix.lines) {
    if (l.capacityWh === 0) continue;
    coupled[ix.zoneIndex.get(l.a)!] = true;
    coupled[ix.zoneIndex.get(l.b)!] = true;
  }
  for (const b of ix.batteries) coupled[ix.zoneIndex.get(b.zone)!] = true;
  const price = new Array<number>(Z * T);
  for (let t = 0; t < T; t++) {
    for (let z = 0; z < Z; z++) {
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

  // (3)–(5), interval by interval: the SoC carried into interval t is the integer schedule's own,
  // so rounding drift never accumulates and each battery tracks the LP trajectory from where it is.
  const L = ix.lines.length;
  const sent = new Array<number>(2 * L * T).fill(0);
  const recv = new Array<number>(2 * L * T).fill(0);
  const fill = new Array<number>(n);
  for (let i = 0; i < n; i++) fill[i] = Math.floor(xo[i]!);
  const charge: number[][] = ix.batteries.map(() => new Array<number>(T).fill(0));
  const discharge: number[][] = ix.batteries.map(() => new Array<number>(T).fill(0));
  const socExact: number[][] = ix.batteries.map(() => new Array<number>(T).fill(0));
  const socPrev = ix.batteries.map((b) => b.initialSocWh);
  const byZone: number[][] = Array.from({ length: Z }, () => []);
  ix.batteries.forEach((b, k) => byZone[ix.zoneIndex.get(b.zone)!]!.push(k));

  // (6) budget balance of interval t. `E` and `absorb` are step 5's imbalance vector and loop.
  const repairBudget = (t: number, E: number[], absorb: () => void): void => {
    const p0 = Array.from({ length: Z }, (_, z) => price[lay.balanceRow(t, z)]!);
    // the price as the chain sees it (uint256: floored at 0, the one rule in domain/budget.ts)
    const onChain = (z: number) => chainZonePrice(p0[z]!);
    for (;;) {
      const flowsT: Array<{ c: number; from: number; to: number; loss: number; rent: bigint }> = [];
      ix.lines.forEach((line, l) => {
        const za = ix.zoneIndex.get(line.a)!;
        const zb = ix.zoneIndex.get(line.b)!;
        for (const d of [0, 1] as const) {
          const c = lay.flowCol(t, l, d) - n;
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
      const next = movePrices(t, -rent, flowsT, p0, true) ?? movePrices(t, -rent, flowsT, p0, false);
      if (next !== undefined) {
        next.forEach((p, z) => (price[lay.balanceRow(t, z)] = p));
        return;
      }
      // (6b) the flow with the least rent (first in line, direction order on ties): first send
      // only what its delivery needs, then deliver one Wh less; step 5 rebalances both ends.
      let worst = flowsT[0]!;
      for (const f of flowsT) if (f.rent < worst.rent) worst = f;
      const { c, from, to, loss } = worst;
      const s0 = sent[c]!;
      const r0 = recv[c]!;
      const trimmed = minSentWh(r0, loss);
      const s1 = trimmed < s0 ? trimmed : minSentWh(r0 - 1, loss);
      const r1 = receivedWh(s1, loss);
      E[from] = E[from]! + (s0 - s1);
      E[to] = E[to]! - (r0 - r1);
      sent[c] = s1;
      recv[c] = r1;
      absorb();
    }
  };
  // (6a) Raise importers' and lower exporters' prices, zones ascending, each by the least integer
  // step that covers what remains of the deficit, within the limits of the orders the integer
  // schedule fills (every matched buyer pays ≤ its bid, every matched seller gets ≥ its ask) and,
  // when `inBracket`, also within the zone's order bracket [L, U] (no unmatched order would then
  // have traded at the new price). Undefined if these limits cannot cover the deficit.
  const movePrices = (
    t: number,
    deficit: bigint,
    flowsT: ReadonlyArray<{ c: number; from: number; to: number }>,
    p0: readonly number[],
    inBracket: boolean,
  ): number[] | undefined => {
    const netImport = new Array<number>(Z).fill(0);
    for (const f of flowsT) {
      netImport[f.to] = netImport[f.to]! + recv[f.c]!;
      netImport[f.from] = netImport[f.from]! - sent[f.c]!;
    }
    const next = [...p0];
    let left = deficit;
    for (let z = 0; z < Z && left > 0n; z++) {
      const q = netImport[z]!;
      if (q === 0) continue;
      const r = lay.balanceRow(t, z);
      let up = inBracket ? hi[r]! : Infinity;
      let down = inBracket ? lo[r]! : -Infinity;
      for (const i of group[r]!) {
        if (fill[i]! === 0) continue;
        const o = orders[i]!;
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
  };

  for (let t = 0; t < T; t++) {
    // (3) line flows
    ix.lines.forEach((line, l) => {
      for (const d of [0, 1] as const) {
        const c = lay.flowCol(t, l, d);
        const s = clamp(Math.round(snap(x[c] ?? 0)), 0, line.capacityWh);
        sent[c - n] = s;
        recv[c - n] = receivedWh(s, line.lossFactor);
      }
    });
    // (4) batteries: nearest feasible rounding of the LP's charge/discharge
    const socLo = ix.batteries.map((b) => (t === T - 1 ? Math.max(b.minSocWh, b.endSocWh) : b.minSocWh));
    const socOf = (k: number, c: number, d: number) => {
      const b = ix.batteries[k]!;
      return socPrev[k]! + b.chargeEfficiency * c - d / b.dischargeEfficiency;
    };
    const socOk = (k: number, s: number) =>
      s >= socLo[k]! - SOC_TOL && s <= ix.batteries[k]!.maxSocWh + SOC_TOL;
    // Lowest SoC after interval t from which full charging could still reach the end state.
    const reachFloor = ix.batteries.map(
      (b) => Math.max(b.endSocWh, b.minSocWh) - (T - 1 - t) * b.maxChargeWh * b.chargeEfficiency,
    );
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
          const s = socOf(k, c, d);
          if (!socOk(k, s)) continue;
          const key = [s >= target - SOC_TOL ? 0 : 1, Math.abs(s - target)];
          if (key[0]! < bestKey[0]! || (key[0] === bestKey[0] && key[1]! < bestKey[1]! - 1e-12))
            [best, bestKey] = [[c, d], key];
        }
      }
      if (best === undefined) {
        // From the rounded-down pair: shed charge while too full; shed discharge, then add
        // charge, while too empty.
        let c = Math.floor(cT);
        let d = Math.floor(dT);
        while (socOf(k, c, d) > b.maxSocWh + SOC_TOL && c > 0) c--;
        while (socOf(k, c, d) < socLo[k]! - SOC_TOL && d > 0) d--;
        while (socOf(k, c, d) < socLo[k]! - SOC_TOL && c < b.maxChargeWh) c++;
        if (!socOk(k, socOf(k, c, d))) {
          throw new DispatchRoundingError(
            `battery ${b.id} interval ${ix.first + t}: no integer charge/discharge keeps SoC within limits`,
          );
        }
        best = [c, d];
      }
      charge[k]![t] = best[0];
      discharge[k]![t] = best[1];
    });

    // (5) exact balance per zone: E = supply − demand
    const E = new Array<number>(Z).fill(0);
    for (let z = 0; z < Z; z++) {
      for (const i of group[lay.balanceRow(t, z)]!)
        E[z] = E[z]! + (orders[i]!.side === "offer" ? fill[i]! : -fill[i]!);
    }
    ix.lines.forEach((line, l) => {
      const ia = ix.zoneIndex.get(line.a)!;
      const ib = ix.zoneIndex.get(line.b)!;
      const ab = lay.flowCol(t, l, 0) - n;
      const ba = lay.flowCol(t, l, 1) - n;
      E[ia] = E[ia]! - sent[ab]! + recv[ba]!;
      E[ib] = E[ib]! + recv[ab]! - sent[ba]!;
    });
    ix.batteries.forEach((b, k) => {
      const z = ix.zoneIndex.get(b.zone)!;
      E[z] = E[z]! + discharge[k]![t]! - charge[k]![t]!;
    });
    const byLimit = (dir: 1 | -1, idDir: 1 | -1) => (i: number, j: number) =>
      dir * (orders[i]!.limitPricePerKwh - orders[j]!.limitPricePerKwh) || idDir * (i - j);
    const absorb = () => {
      for (;;) {
        const z = E.findIndex((e) => e !== 0);
        if (z < 0) break;
        const r = lay.balanceRow(t, z);
        const p = price[r]!;
        const members = group[r]!;
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
        for (const k of byZone[z]!) {
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
              const s = what === 0 ? socOf(k, v, discharge[k]![t]!) : socOf(k, charge[k]![t]!, v);
              if (!socOk(k, s) || (s < socPrev[k]! && s < reachFloor[k]! - SOC_TOL)) break;
              arr[t] = v;
              // charging more or discharging less removes supply: both move E by −1·sign
              e -= sign;
            }
          }
        }
        // lines: lower imports (E > 0, the surplus moves to the exporter) or exports (E < 0, the
        // deficit moves to the importer)
        for (let l = 0; l < L && e !== 0; l++) {
          const line = ix.lines[l]!;
          const za = ix.zoneIndex.get(line.a)!;
          const zb = ix.zoneIndex.get(line.b)!;
          if (za !== z && zb !== z) continue;
          if (e > 0) {
            const into: 0 | 1 = zb === z ? 0 : 1;
            const c = lay.flowCol(t, l, into) - n;
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
            const c = lay.flowCol(t, l, out) - n;
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
    };
    absorb();

    // (6) budget: the interval's receipts must cover its payouts at the prices the chain sees
    repairBudget(t, E, absorb);

    ix.batteries.forEach((_, k) => {
      const s = socOf(k, charge[k]![t]!, discharge[k]![t]!);
      socExact[k]![t] = s;
      socPrev[k] = s;
    });
  }
  const socOut = ix.batteries.map((b, k) =>
    socExact[k]!.map((s) => clamp(Math.floor(s + 1e-9), b.minSocWh, b.maxSocWh)),
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
