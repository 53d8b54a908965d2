/**
 * `readPosition`: an account's position on one side of one interval (`EnergyMarket.positionOf`):
 * none, an open order's id, or a settled fill with the collateral and payout still locked for it.
 */
import type { Address, Hex, PublicClient } from "viem";
import { energyMarketAbi } from "../chain/abis.js";
import { type OrderSide, sideCode } from "../domain/eip712.js";

/** The contract's `PositionStatus`, in its enum order. */
export const POSITION_STATUSES = ["none", "open", "settled"] as const;
export type PositionStatus = (typeof POSITION_STATUSES)[number];

export interface ReadPositionParameters {
  readonly market: Address;
  readonly owner: Address;
  readonly intervalId: bigint;
  readonly side: OrderSide;
}

export interface ReadPositionReturnType {
  readonly status: PositionStatus;
  /** The open order's id; 0x00… when none or settled. */
  readonly orderId: Hex;
  /** Settled energy (settled only). */
  readonly filledWh: bigint;
  /** The owner's delivery of the interval is settled (imbalance) or its locks released. */
  readonly deliverySettled: boolean;
  /** Settled: the filled part's imbalance collateral, locked until delivery is settled. */
  readonly collateralLocked: bigint;
  /** Settled offer: the payout withheld until delivery is settled (0 once paid). */
  readonly pendingPayout: bigint;
}

export async function readPosition(
  publicClient: PublicClient,
  parameters: ReadPositionParameters,
): Promise<ReadPositionReturnType> {
  const p = await publicClient.readContract({
    address: parameters.market,
    abi: energyMarketAbi,
    functionName: "positionOf",
    args: [parameters.owner, parameters.intervalId, sideCode(parameters.side)],
  });
  return {
    status: POSITION_STATUSES[p.status] ?? "none",
    orderId: p.orderId,
    filledWh: p.filledWh,
    deliverySettled: p.deliverySettled,
    collateralLocked: p.collateralLocked,
    pendingPayout: p.pendingPayout,
  };
}
