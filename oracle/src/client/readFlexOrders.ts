/**
 * `readFlexOrders`: an account's flexibility orders with their state, from the flexibility
 * market's events (`FlexOrderPlaced`, `FlexOrderEnded`, `FlexStepSettled`) and views
 * (`orderState`, `batteryState`, `nextInterval`): window, price limits, budget and what was spent
 * of it, whether it is active, ended, refundable or refunded, the battery's scheduled state of
 * charge, and what the order earned.
 */
import type { Address, Hex, PublicClient } from "viem";
import { flexibilityMarketAbi } from "../chain/abis.js";
import { type FlexOrder, type FlexTarget, resolveFlexMarket } from "./flexMarket.js";
import { type FlexEarnings, flexEarnings, readStepsOf } from "./readFlexSteps.js";

/**
 * - `active`: intervals of its window are still to be settled;
 * - `refundable`: budget is unspent and every interval it was active in is settled or missed — or
 *   it was ended before its window, so it never was active (`refundFlexFunds` returns it);
 * - `ended`: no interval left and nothing to refund;
 * - `refunded`: its unspent budget was returned.
 */
export type FlexOrderStatus = "active" | "ended" | "refundable" | "refunded";

export interface FlexOrderRecord extends FlexEarnings {
  readonly orderId: Hex;
  readonly order: FlexOrder;
  /** The last interval it is active in: lastInterval, or earlier after a cancel or change. */
  readonly endInterval: bigint;
  /** A cancel or change ended it early (a FlexOrderEnded event). */
  readonly endedEarly: boolean;
  /** Charged to its budget so far. */
  readonly spent: bigint;
  /** What a refund returns (0 once refunded). */
  readonly unspent: bigint;
  readonly status: FlexOrderStatus;
  /** The battery's scheduled state of charge after `socInterval`, when this is its latest order (else null). */
  readonly scheduledSocWh: bigint | null;
  readonly socInterval: bigint | null;
  readonly steps: number;
  readonly placedInBlock: bigint;
}

export interface FlexOrderFacts {
  readonly refunded: boolean;
  readonly firstInterval: bigint;
  readonly endInterval: bigint;
  readonly unspent: bigint;
  /** The flexibility market's `nextInterval`: every earlier interval is settled, missed or idle. */
  readonly nextInterval: bigint;
}

/** An order's status (pure); see `FlexOrderStatus`. */
export function flexOrderStatus(f: FlexOrderFacts): FlexOrderStatus {
  if (f.refunded) return "refunded";
  // The contract's refund rule: ended before its window, or the cursor is past its last interval.
  const neverActive = f.endInterval < f.firstInterval;
  const settledThrough = neverActive || f.nextInterval > f.endInterval;
  if (!settledThrough) return "active";
  return f.unspent > 0n ? "refundable" : "ended";
}

export interface ReadFlexOrdersParameters extends FlexTarget {
  readonly owner: Address;
  /** Only this battery's orders. */
  readonly batteryId?: number;
  /** First block to read events from (the deployment block); default 0. */
  readonly fromBlock?: bigint;
}

export type ReadFlexOrdersReturnType = FlexOrderRecord[];

/** The owner's orders in the order they were placed. */
export async function readFlexOrders(
  publicClient: PublicClient,
  parameters: ReadFlexOrdersParameters,
): Promise<ReadFlexOrdersReturnType> {
  const flexMarket = await resolveFlexMarket(publicClient, parameters);
  const fromBlock = parameters.fromBlock ?? 0n;
  const at = { address: flexMarket, abi: flexibilityMarketAbi } as const;
  const placed = await publicClient.getContractEvents({
    ...at,
    eventName: "FlexOrderPlaced",
    args: {
      owner: parameters.owner,
      ...(parameters.batteryId === undefined ? {} : { batteryId: parameters.batteryId }),
    },
    fromBlock,
    toBlock: "latest",
  });
  if (placed.length === 0) return [];
  const ids = placed.map((e) => e.args.orderId!);
  const batteryIds = [...new Set(placed.map((e) => e.args.batteryId!))];
  const [ended, steps, nextInterval, states, batteries] = await Promise.all([
    publicClient.getContractEvents({
      ...at,
      eventName: "FlexOrderEnded",
      args: { orderId: ids },
      fromBlock,
      toBlock: "latest",
    }),
    readStepsOf(publicClient, flexMarket, ids, fromBlock),
    publicClient.readContract({ ...at, functionName: "nextInterval" }),
    Promise.all(
      ids.map((id) => publicClient.readContract({ ...at, functionName: "orderState", args: [id] })),
    ),
    Promise.all(
      batteryIds.map((b) => publicClient.readContract({ ...at, functionName: "batteryState", args: [b] })),
    ),
  ]);
  const endedIds = new Set(ended.map((e) => e.args.orderId));
  const batteryById = new Map(batteryIds.map((b, i) => [b, batteries[i]!] as const));
  return placed.map((e, i): FlexOrderRecord => {
    const orderId = ids[i]!;
    const order = e.args.order!;
    const state = states[i]!;
    const battery = batteryById.get(order.batteryId)!;
    const latest = battery.orderId === orderId && battery.socInterval > 0n;
    const unspent = state.refunded ? 0n : order.chargeBudget - state.spent;
    const own = steps.filter((s) => s.orderId === orderId);
    return {
      orderId,
      order,
      endInterval: state.endInterval,
      endedEarly: endedIds.has(orderId),
      spent: state.spent,
      unspent,
      status: flexOrderStatus({
        refunded: state.refunded,
        firstInterval: order.firstInterval,
        endInterval: state.endInterval,
        unspent,
        nextInterval,
      }),
      scheduledSocWh: latest ? battery.socWh : null,
      socInterval: latest ? battery.socInterval : null,
      steps: own.length,
      ...flexEarnings(own),
      placedInBlock: e.blockNumber,
    };
  });
}
