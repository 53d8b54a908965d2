/**
 * `cancelFlexOrder`: ends the account's flexibility order after the last interval whose gate has
 * closed; its unspent budget becomes refundable (`refundFlexFunds`) once that interval is settled
 * or missed. Given only the id, the order's fields are read from its `FlexOrderPlaced` event.
 */
import type { Hex } from "viem";
import { energyMarketAbi, gridRegistryAbi } from "../chain/abis.js";
import type { WriteClients } from "./clients.js";
import { ClientError, InvalidParameterError } from "./errors.js";
import {
  type FlexOrder,
  type FlexOrderRef,
  type FlexTarget,
  flexOrderArg,
  flexOrderIdOn,
  resolveFlexMarket,
  resolveFlexOrder,
  sendFlexTransaction,
} from "./flexMarket.js";

export type CancelFlexOrderParameters = FlexTarget & FlexOrderRef;

export interface CancelFlexOrderReturnType {
  readonly order: FlexOrder;
  /** The last interval the order is active in (`firstInterval - 1`: it never was). */
  readonly endInterval: bigint;
  readonly transaction: Hex;
}

/**
 * @throws InvalidParameterError `orderId` (not an id, or neither the order nor its battery is the
 *   account's);
 *   ClientError `FlexOrderNotFound`, `FlexOrderEndMissing` (the transaction has no FlexOrderEnded
 *   log for the order); a revert such as `UnknownFlexOrder` (decode it with `decodeError`).
 */
export async function cancelFlexOrder(
  clients: WriteClients,
  parameters: CancelFlexOrderParameters,
): Promise<CancelFlexOrderReturnType> {
  const { publicClient, walletClient } = clients;
  const flexMarket = await resolveFlexMarket(publicClient, parameters);
  const order = await resolveFlexOrder(publicClient, flexMarket, parameters);
  const me = walletClient.account.address;
  // The contract lets the order's owner or the battery's registered owner (after a sale) cancel it.
  if (order.owner.toLowerCase() !== me.toLowerCase()) {
    const registry = await publicClient.readContract({
      address: parameters.market,
      abi: energyMarketAbi,
      functionName: "registry",
    });
    const battery = await publicClient.readContract({
      address: registry,
      abi: gridRegistryAbi,
      functionName: "battery",
      args: [order.batteryId],
    });
    if (battery.owner.toLowerCase() !== me.toLowerCase())
      throw new InvalidParameterError(
        "orderId",
        `the order belongs to ${order.owner} and battery ${order.batteryId} to ${battery.owner}, not to ${me}`,
      );
  }
  const orderId = await flexOrderIdOn(publicClient, flexMarket, order);
  // The new end is the contract's to choose (the last closed interval); its FlexOrderEnded log says which.
  const { hash, event } = await sendFlexTransaction(clients, {
    flexMarket,
    functionName: "cancelFlexOrder",
    args: [flexOrderArg(order)],
    event: "FlexOrderEnded",
    expect: (ended) => ended.orderId === orderId,
    missing: (tx, ended) =>
      new ClientError(
        "FlexOrderEndMissing",
        "the cancel transaction has no FlexOrderEnded log for the order",
        {
          details: `transaction ${tx}: expected ${orderId}, log ${ended?.orderId ?? "missing"}`,
        },
      ),
  });
  return { order, endInterval: event.endInterval, transaction: hash };
}
