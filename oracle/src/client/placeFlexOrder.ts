/**
 * `placeFlexOrder`: places a standing flexibility order for a battery the wallet's account owns.
 * The order is checked first (`validateFlexOrder`: every rejection names its field); the token is
 * approved for `chargeBudget` when the allowance is short (the contract takes the budget with
 * `transferFrom`); the id returned is the order's EIP-712 digest (domain/eip712.ts `flexOrderId`,
 * equal to the contract's `hashFlexOrder`), checked against the `FlexOrderPlaced` log.
 */
import type { Address, Hex } from "viem";
import { testTokenAbi } from "../chain/abis.js";
import { type WriteClients, sendContract } from "./clients.js";
import {
  type FlexOrder,
  type FlexTarget,
  flexOrderArg,
  flexOrderIdOn,
  flexOrderPlacedAs,
  sendFlexTransaction,
} from "./flexMarket.js";
import { randomOrderNonce } from "./units.js";
import { validateFlexOrder } from "./validateFlexOrder.js";

/** The order's fields but its owner (the wallet's account) and, optionally, its nonce. */
export type FlexOrderFields = Omit<FlexOrder, "owner" | "nonce"> & { readonly nonce?: bigint };

export interface PlaceFlexOrderParameters extends FlexTarget, FlexOrderFields {}

export interface PlaceFlexOrderReturnType {
  readonly orderId: Hex;
  readonly order: FlexOrder;
  readonly flexMarket: Address;
  /** The approval (when the allowance was short), then the placement. */
  readonly transactions: readonly Hex[];
}

/**
 * @throws InvalidParameterError from `validateFlexOrder`; ClientError `FlexOrderIdMismatch`; a
 *   revert such as `WindowInPast`, `FlexOrderExists` (decode it with `decodeError`).
 */
export async function placeFlexOrder(
  clients: WriteClients,
  parameters: PlaceFlexOrderParameters,
): Promise<PlaceFlexOrderReturnType> {
  const { publicClient, walletClient } = clients;
  const order = flexOrderOf(walletClient.account.address, parameters);
  const checked = await validateFlexOrder(publicClient, { ...parameters, order });
  const { flexMarket } = checked;
  const transactions = await approveShortfall(clients, checked.token, flexMarket, order.chargeBudget);
  const expected = await flexOrderIdOn(publicClient, flexMarket, order);
  const { hash } = await sendFlexTransaction(clients, {
    flexMarket,
    functionName: "placeFlexOrder",
    args: [flexOrderArg(order)],
    ...flexOrderPlacedAs(expected),
  });
  return { orderId: expected, order, flexMarket, transactions: [...transactions, hash] };
}

/** The order `owner` places with `fields` (a random nonce unless one is given). */
export function flexOrderOf(owner: Address, fields: FlexOrderFields): FlexOrder {
  return {
    owner,
    batteryId: fields.batteryId,
    firstInterval: fields.firstInterval,
    lastInterval: fields.lastInterval,
    maxChargePricePerKwh: fields.maxChargePricePerKwh,
    minDischargePricePerKwh: fields.minDischargePricePerKwh,
    chargeBudget: fields.chargeBudget,
    initialSocWh: fields.initialSocWh,
    nonce: fields.nonce ?? randomOrderNonce(),
  };
}

/** Approves `spender` for `amount` when the account's allowance is below it; the approval's hash, if sent. */
export async function approveShortfall(
  clients: WriteClients,
  token: Address,
  spender: Address,
  amount: bigint,
): Promise<Hex[]> {
  if (amount === 0n) return [];
  const allowance = await clients.publicClient.readContract({
    address: token,
    abi: testTokenAbi,
    functionName: "allowance",
    args: [clients.walletClient.account.address, spender],
  });
  if (allowance >= amount) return [];
  return [
    await sendContract(clients, {
      address: token,
      abi: testTokenAbi,
      functionName: "approve",
      args: [spender, amount],
    }),
  ];
}
