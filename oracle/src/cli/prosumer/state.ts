/** The account's orders and their state, derived from the market's events and views. */
import type { Hex } from "viem";
import { energyMarketAbi } from "../../chain/abis.js";
import { type Side, orderSide } from "../../domain/eip712.js";
import type { Context } from "./context.js";

export type OrderState = "open" | "closed" | "cancelled" | "released" | "scheduled" | "settled";

export interface OrderRecord {
  readonly orderId: Hex;
  readonly intervalId: bigint;
  readonly side: "bid" | "offer";
  readonly zoneId: number;
  readonly quantityWh: bigint;
  readonly limitPricePerKwh: bigint;
  readonly nonce: bigint;
  readonly lock: bigint;
  readonly state: OrderState;
  readonly filledWh: bigint | null;
  readonly settledAmount: bigint | null;
  /** A settled offer's payout: withheld until the seller's delivery is settled, then paid (null for bids). */
  readonly payout: "withheld until delivery" | "paid" | null;
  /** The part of the payout still withheld (`pendingPayout` of the interval); 0 once paid. */
  readonly pendingPayout: bigint;
  readonly placedInBlock: bigint;
}

// Prices are per kWh and quantities in Wh: a lock rounds up so the market never holds too little.
const ceilDiv1000 = (v: bigint) => (v + 999n) / 1000n;

/**
 * What an order locks in token base units, as the market computes it: every order the imbalance
 * collateral, a bid also its highest payment (limit price × energy).
 */
export function orderLock(
  side: "bid" | "offer",
  quantityWh: bigint,
  limitPricePerKwh: bigint,
  collateralPerKwh: bigint,
): bigint {
  return (
    ceilDiv1000(collateralPerKwh * quantityWh) +
    (side === "bid" ? ceilDiv1000(limitPricePerKwh * quantityWh) : 0n)
  );
}

/** What the chain says happened to one order, the inputs of its state. */
export interface OrderFacts {
  readonly cancelled: boolean;
  readonly released: boolean;
  readonly settled: boolean;
  /** The order's interval has a committed schedule. */
  readonly scheduled: boolean;
  /** The latest block's timestamp and the interval's gate closure (unix seconds). */
  readonly now: bigint;
  readonly gateClosure: bigint;
}

/** An order's state; the first that applies wins: cancelled, released, settled, scheduled, open, closed. */
export function orderState(f: OrderFacts): OrderState {
  if (f.cancelled) return "cancelled";
  if (f.released) return "released";
  if (f.settled) return "settled";
  if (f.scheduled) return "scheduled";
  return f.now < f.gateClosure ? "open" : "closed";
}

export async function readOrders(ctx: Context): Promise<OrderRecord[]> {
  const { client, market, me, fromBlock } = ctx;
  const range = { address: market, abi: energyMarketAbi, fromBlock, toBlock: "latest" as const };
  const [placed, cancelled, released, fills, schedules, collateral, latest] = await Promise.all([
    client.getContractEvents({ ...range, eventName: "OrderPlaced", args: { owner: me } }),
    client.getContractEvents({ ...range, eventName: "OrderCancelled", args: { owner: me } }),
    client.getContractEvents({ ...range, eventName: "OrderReleased", args: { owner: me } }),
    client.getContractEvents({ ...range, eventName: "FillSettled", args: { owner: me } }),
    client.getContractEvents({ ...range, eventName: "ScheduleCommitted" }),
    client.readContract({ address: market, abi: energyMarketAbi, functionName: "offerCollateralPerKwh" }),
    client.getBlock({ blockTag: "latest" }),
  ]);
  const cancelledIds = new Set(cancelled.map((e) => e.args.orderId));
  const releasedIds = new Set(released.map((e) => e.args.orderId));
  const fillById = new Map(fills.map((e) => [e.args.orderId, e.args] as const));
  const scheduledIntervals = new Set(schedules.map((e) => e.args.intervalId));
  const gateClosures = new Map<bigint, bigint>();
  const records: OrderRecord[] = [];
  for (const e of placed) {
    const a = e.args;
    const intervalId = a.intervalId!;
    const side = orderSide(a.side as Side);
    const quantityWh = a.quantityWh!;
    const limit = a.limitPricePerKwh!;
    const lock = orderLock(side, quantityWh, limit, collateral);
    let gate = gateClosures.get(intervalId);
    if (gate === undefined) {
      gate = await client.readContract({
        address: market,
        abi: energyMarketAbi,
        functionName: "gateClosure",
        args: [intervalId],
      });
      gateClosures.set(intervalId, gate);
    }
    const fill = fillById.get(a.orderId);
    const state = orderState({
      cancelled: cancelledIds.has(a.orderId),
      released: releasedIds.has(a.orderId),
      settled: fill !== undefined,
      scheduled: scheduledIntervals.has(intervalId),
      now: latest.timestamp,
      gateClosure: gate,
    });
    // One settled offer per (owner, interval) at most (its slot is never reused), so the interval's
    // withheld payout is this fill's.
    const pendingPayout =
      side === "offer" && fill !== undefined && fill.amount! > 0n
        ? await client.readContract({
            address: market,
            abi: energyMarketAbi,
            functionName: "pendingPayout",
            args: [me, intervalId],
          })
        : 0n;
    const payout =
      side === "offer" && fill !== undefined && fill.amount! > 0n
        ? pendingPayout > 0n
          ? ("withheld until delivery" as const)
          : ("paid" as const)
        : null;
    records.push({
      orderId: a.orderId!,
      payout,
      pendingPayout,
      intervalId,
      side,
      zoneId: a.zoneId!,
      quantityWh,
      limitPricePerKwh: limit,
      nonce: a.nonce!,
      lock,
      state,
      filledWh: fill?.filledWh ?? null,
      settledAmount: fill?.amount ?? null,
      placedInBlock: e.blockNumber,
    });
  }
  return records;
}
