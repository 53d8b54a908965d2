/**
 * The exact fast path: with no lines and no batteries, every (interval, zone) is an independent
 * single-sided auction, and the welfare-maximising fill is the merit order — bids by price
 * descending, offers by price ascending, crossed while the bid is at least the ask. O(n log n),
 * and the same welfare as the LP (a test cross-checks the two). Ties inside one price level are
 * broken by numeric order id, ascending, so the fill is deterministic.
 */
import type { IndexedInstance } from "./indexed.js";

/** True when the merit order is exact for `ix`: no lines with capacity and no batteries. */
export function meritOrderApplies(ix: IndexedInstance): boolean {
  return ix.batteries.length === 0 && ix.lines.every((l) => l.capacityWh === 0);
}

/** Fills (Wh, integers) of `ix.orders`, index-aligned; all other columns are absent. */
export function meritOrderFills(ix: IndexedInstance): Float64Array {
  const fills = new Float64Array(ix.orders.length);
  const groups = new Map<number, { bids: number[]; offers: number[] }>();
  ix.orders.forEach((o, i) => {
    const key = (o.interval - ix.first) * ix.zones.length + ix.zoneIndex.get(o.zone)!;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { bids: [], offers: [] }));
    (o.side === "bid" ? g.bids : g.offers).push(i);
  });
  const orders = ix.orders;
  for (const { bids, offers } of groups.values()) {
    // Index order is numeric-id order (`ix.orders` is sorted), so (price, index) is the merit key.
    sortByPrice(bids, orders, -1);
    sortByPrice(offers, orders, 1);
    let bi = 0;
    let oi = 0;
    let bidLeft = bids.length > 0 ? orders[bids[0]!]!.quantityWh : 0;
    let offerLeft = offers.length > 0 ? orders[offers[0]!]!.quantityWh : 0;
    while (bi < bids.length && oi < offers.length) {
      const b = bids[bi]!;
      const o = offers[oi]!;
      if (orders[b]!.limitPricePerKwh < orders[o]!.limitPricePerKwh) break;
      const q = Math.min(bidLeft, offerLeft);
      fills[b] = fills[b]! + q;
      fills[o] = fills[o]! + q;
      bidLeft -= q;
      offerLeft -= q;
      if (bidLeft === 0 && ++bi < bids.length) bidLeft = orders[bids[bi]!]!.quantityWh;
      if (offerLeft === 0 && ++oi < offers.length) offerLeft = orders[offers[oi]!]!.quantityWh;
    }
  }
  return fills;
}

/**
 * Sorts order indices by limit price (`dir` 1 ascending, −1 descending), then index ascending.
 * When price × count fits in 2^53 the pair is packed into one float and sorted natively (no
 * comparator calls); otherwise a comparator sort.
 */
function sortByPrice(idx: number[], orders: IndexedInstance["orders"], dir: 1 | -1): void {
  const m = idx.length;
  if (m < 2) return;
  let maxP = 0;
  let maxI = 0;
  for (const i of idx) {
    maxP = Math.max(maxP, orders[i]!.limitPricePerKwh);
    maxI = Math.max(maxI, i);
  }
  const span = maxI + 1;
  if ((maxP + 1) * span < Number.MAX_SAFE_INTEGER) {
    const keys = new Float64Array(m);
    for (let k = 0; k < m; k++) {
      const i = idx[k]!;
      const p = orders[i]!.limitPricePerKwh;
      keys[k] = (dir === 1 ? p : maxP - p) * span + i;
    }
    keys.sort();
    for (let k = 0; k < m; k++) idx[k] = keys[k]! % span;
    return;
  }
  idx.sort((p, q) => dir * (orders[p]!.limitPricePerKwh - orders[q]!.limitPricePerKwh) || p - q);
}
