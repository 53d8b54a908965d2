/**
 * `readOrders`: orders on the market with their state, from its events (`OrderPlaced`,
 * `OrderCancelled`, `OrderReleased`, `FillSettled`, `ScheduleCommitted`) and views (gate closure,
 * collateral rate, withheld payouts). Filter by owner (an account's orders) or by intervals (the
 * order book of the next intervals), or both.
 */
import type { Address, Hex, PublicClient } from "viem";
import { energyMarketAbi } from "../chain/abis.js";
import { type OrderSide, type Side, orderSide } from "../domain/eip712.js";
import { orderLock } from "../domain/units.js";

export type OrderState = "open" | "closed" | "cancelled" | "released" | "scheduled" | "settled";

export interface OrderRecord {
  readonly orderId: Hex;
  readonly owner: Address;
  readonly intervalId: bigint;
  readonly side: OrderSide;
  readonly zoneId: number;
  readonly quantityWh: bigint;
  readonly limitPricePerKwh: bigint;
  readonly nonce: bigint;
  /** What the order locked while open (`orderLock`). */
  readonly lock: bigint;
  readonly state: OrderState;
  readonly filledWh: bigint | null;
  readonly settledAmount: bigint | null;
  /** A settled offer's payout: withheld until the seller's delivery is settled, then paid (null otherwise). */
  readonly payout: "withheld until delivery" | "paid" | null;
  /** The part of the payout still withheld (`pendingPayout` of the interval); 0 once paid. */
  readonly pendingPayout: bigint;
  readonly placedInBlock: bigint;
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

export interface ReadOrdersParameters {
  readonly market: Address;
  /** Only this account's orders. */
  readonly owner?: Address;
  /** Only orders for these intervals. */
  readonly intervalIds?: readonly bigint[];
  /** First block to read events from (the deployment block); default 0. */
  readonly fromBlock?: bigint;
}

export type ReadOrdersReturnType = OrderRecord[];

/** The matching orders in the order they were placed. */
export async function readOrders(
  publicClient: PublicClient,
  parameters: ReadOrdersParameters,
): Promise<ReadOrdersReturnType> {
  const { market, owner, intervalIds } = parameters;
  if (intervalIds !== undefined && intervalIds.length === 0) return [];
  const range = {
    address: market,
    abi: energyMarketAbi,
    fromBlock: parameters.fromBlock ?? 0n,
    toBlock: "latest" as const,
  };
  const byOwner = owner === undefined ? {} : { owner };
  const [placed, cancelled, released, fills, schedules, collateral, latest] = await Promise.all([
    publicClient.getContractEvents({
      ...range,
      eventName: "OrderPlaced",
      args: { ...byOwner, ...(intervalIds === undefined ? {} : { intervalId: [...intervalIds] }) },
    }),
    publicClient.getContractEvents({ ...range, eventName: "OrderCancelled", args: byOwner }),
    publicClient.getContractEvents({ ...range, eventName: "OrderReleased", args: byOwner }),
    publicClient.getContractEvents({ ...range, eventName: "FillSettled", args: byOwner }),
    publicClient.getContractEvents({ ...range, eventName: "ScheduleCommitted" }),
    publicClient.readContract({
      address: market,
      abi: energyMarketAbi,
      functionName: "offerCollateralPerKwh",
    }),
    publicClient.getBlock({ blockTag: "latest" }),
  ]);
  const cancelledIds = new Set(cancelled.map((e) => e.args.orderId));
  const releasedIds = new Set(released.map((e) => e.args.orderId));
  const fillById = new Map(fills.map((e) => [e.args.orderId, e.args] as const));
  const scheduledIntervals = new Set(schedules.map((e) => e.args.intervalId));
  const gateClosures = new Map<bigint, Promise<bigint>>();
  const gateOf = (intervalId: bigint) => {
    let gate = gateClosures.get(intervalId);
    if (gate === undefined) {
      gate = publicClient.readContract({
        address: market,
        abi: energyMarketAbi,
        functionName: "gateClosure",
        args: [intervalId],
      });
      gateClosures.set(intervalId, gate);
    }
    return gate;
  };
  return Promise.all(
    placed.map(async (e): Promise<OrderRecord> => {
      const a = e.args;
      const intervalId = a.intervalId!;
      const side = orderSide(a.side as Side);
      const fill = fillById.get(a.orderId);
      const sold = side === "offer" && fill !== undefined && fill.amount! > 0n;
      // One settled offer per (owner, interval) at most (its slot is never reused), so the interval's
      // withheld payout is this fill's.
      const [gateClosure, pendingPayout] = await Promise.all([
        gateOf(intervalId),
        sold
          ? publicClient.readContract({
              address: market,
              abi: energyMarketAbi,
              functionName: "pendingPayout",
              args: [a.owner!, intervalId],
            })
          : 0n,
      ]);
      return {
        orderId: a.orderId!,
        owner: a.owner!,
        intervalId,
        side,
        zoneId: a.zoneId!,
        quantityWh: a.quantityWh!,
        limitPricePerKwh: a.limitPricePerKwh!,
        nonce: a.nonce!,
        lock: orderLock(side, a.quantityWh!, a.limitPricePerKwh!, collateral),
        state: orderState({
          cancelled: cancelledIds.has(a.orderId),
          released: releasedIds.has(a.orderId),
          settled: fill !== undefined,
          scheduled: scheduledIntervals.has(intervalId),
          now: latest.timestamp,
          gateClosure,
        }),
        filledWh: fill?.filledWh ?? null,
        settledAmount: fill?.amount ?? null,
        payout: sold ? (pendingPayout > 0n ? "withheld until delivery" : "paid") : null,
        pendingPayout,
        placedInBlock: e.blockNumber,
      };
    }),
  );
}
