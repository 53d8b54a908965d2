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
    // `ix.orders` is already sorted by id, so a stable sort on price keeps id order within a level.
    bids.sort((p, q) => orders[q]!.limitPricePerKwh - orders[p]!.limitPricePerKwh);
    offers.sort((p, q) => orders[p]!.limitPricePerKwh - orders[q]!.limitPricePerKwh);
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
