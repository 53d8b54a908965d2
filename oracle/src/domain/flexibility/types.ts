/**
 * The data of standing flexibility orders as the committee reads it from chain
 * (contracts/interfaces/IFlexibilityMarket.sol, IGridRegistry.sol), in viem's shapes: uint64 and
 * wider as bigint, uint32 and narrower as number.
 */
import type { Hex } from "viem";
import type { FlexOrder } from "../eip712.js";
import type { ChainBattery } from "../registry-plan.js";

/** `IFlexibilityMarket.Direction`: the contract's enum values. */
export const FLEX_CHARGE = 0;
export const FLEX_DISCHARGE = 1;
export type FlexDirection = typeof FLEX_CHARGE | typeof FLEX_DISCHARGE;

/** `IFlexibilityMarket.FlexOrder`: the EIP-712 twin's type (domain/eip712.ts). */
export type FlexOrderFields = FlexOrder;

/** `IGridRegistry.Battery` as viem reads it; a removed battery reads as all zeros. */
export type RegisteredBattery = ChainBattery;

/** A flexibility order active in the interval being scheduled, with what the contract knows of it. */
export interface ActiveFlexOrder {
  /** The order's id (its EIP-712 digest). */
  readonly orderId: Hex;
  readonly order: FlexOrderFields;
  /** `OrderState.spent`: charged to the budget so far. */
  readonly spent: bigint;
  /**
   * The battery's scheduled state of charge at the start of the interval: the socWh of the
   * battery's last settled step since the order's first interval, else `order.initialSocWh`.
   */
  readonly socWh: bigint;
  /** The registry's battery now, or null when it was removed (the registry reads it as empty). */
  readonly battery: RegisteredBattery | null;
}
