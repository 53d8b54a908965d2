/**
 * `readFlexSteps`: the settled steps of one flexibility order, from its `FlexStepSettled` events —
 * each interval's direction, grid-side energy, the battery's scheduled state of charge after it and
 * the amount paid (charge) or credited (discharge) — and what the order earned:
 * Σ discharge credits − Σ charge costs (negative when it bought more than it sold).
 */
import type { Address, Hex, PublicClient } from "viem";
import { flexibilityMarketAbi } from "../chain/abis.js";
import {
  type FlexDirection,
  type FlexTarget,
  checkFlexOrderId,
  flexDirection,
  resolveFlexMarket,
} from "./flexMarket.js";

export interface FlexStepRecord {
  readonly orderId: Hex;
  readonly batteryId: number;
  readonly intervalId: bigint;
  readonly direction: FlexDirection;
  /** Grid side: drawn from the grid (charge) or delivered to it (discharge). */
  readonly energyWh: bigint;
  /** The battery's scheduled state of charge after the step. */
  readonly socWh: bigint;
  /** Token base units paid (charge, rounded up) or credited (discharge, rounded down). */
  readonly amount: bigint;
  readonly blockNumber: bigint;
}

/** What an order's steps add up to. */
export interface FlexEarnings {
  readonly chargedWh: bigint;
  readonly dischargedWh: bigint;
  /** Σ of the charge steps' amounts. */
  readonly cost: bigint;
  /** Σ of the discharge steps' amounts. */
  readonly credit: bigint;
  /** credit − cost. */
  readonly earned: bigint;
}

export interface ReadFlexStepsParameters extends FlexTarget {
  readonly orderId: Hex;
  /** First block to read events from (the deployment block); default 0. */
  readonly fromBlock?: bigint;
}

export interface ReadFlexStepsReturnType extends FlexEarnings {
  /** In interval order. */
  readonly steps: readonly FlexStepRecord[];
}

/** @throws InvalidParameterError `orderId` when it is not 32 bytes of hex. */
export async function readFlexSteps(
  publicClient: PublicClient,
  parameters: ReadFlexStepsParameters,
): Promise<ReadFlexStepsReturnType> {
  checkFlexOrderId(parameters.orderId);
  const flexMarket = await resolveFlexMarket(publicClient, parameters);
  const steps = await readStepsOf(publicClient, flexMarket, [parameters.orderId], parameters.fromBlock ?? 0n);
  return { steps, ...flexEarnings(steps) };
}

/** The FlexStepSettled events of `orderIds`, in interval order. */
export async function readStepsOf(
  publicClient: PublicClient,
  flexMarket: Address,
  orderIds: readonly Hex[],
  fromBlock: bigint,
): Promise<FlexStepRecord[]> {
  if (orderIds.length === 0) return [];
  const events = await publicClient.getContractEvents({
    address: flexMarket,
    abi: flexibilityMarketAbi,
    eventName: "FlexStepSettled",
    args: { orderId: [...orderIds] },
    fromBlock,
    toBlock: "latest",
  });
  return events
    .map((e) => ({
      orderId: e.args.orderId!,
      batteryId: e.args.batteryId!,
      intervalId: e.args.intervalId!,
      direction: flexDirection(e.args.direction!),
      energyWh: e.args.energyWh!,
      socWh: e.args.socWh!,
      amount: e.args.amount!,
      blockNumber: e.blockNumber,
    }))
    .sort((a, b) => (a.intervalId < b.intervalId ? -1 : a.intervalId > b.intervalId ? 1 : 0));
}

/** The totals of `steps` (pure). */
export function flexEarnings(steps: readonly FlexStepRecord[]): FlexEarnings {
  let chargedWh = 0n;
  let dischargedWh = 0n;
  let cost = 0n;
  let credit = 0n;
  for (const s of steps)
    if (s.direction === "charge") {
      chargedWh += s.energyWh;
      cost += s.amount;
    } else {
      dischargedWh += s.energyWh;
      credit += s.amount;
    }
  return { chargedWh, dischargedWh, cost, credit, earned: credit - cost };
}
