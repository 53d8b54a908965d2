/**
 * `cancelFlexOrder`: ends the account's flexibility order after the last interval whose gate has
 * closed; its unspent budget becomes refundable (`refundFlexFunds`) once that interval is settled
 * or missed. Given only the id, the order's fields are read from its `FlexOrderPlaced` event.
 */
import type { Hex } from "viem";
import { energyMarketAbi, flexibilityMarketAbi, gridRegistryAbi } from "../chain/abis.js";
import { type WriteClients, sendContract } from "./clients.js";
import { InvalidParameterError } from "./errors.js";
import {
  type FlexOrder,
  type FlexTarget,
  flexOrderArg,
  flexOrderIdOn,
  readPlacedFlexOrder,
  resolveFlexMarket,
} from "./flexMarket.js";

export type CancelFlexOrderParameters = FlexTarget &
  ({ readonly order: FlexOrder } | { readonly orderId: Hex; readonly fromBlock?: bigint });

export interface CancelFlexOrderReturnType {
  readonly order: FlexOrder;
  /** The last interval the order is active in (`firstInterval - 1`: it never was). */
  readonly endInterval: bigint;
  readonly transaction: Hex;
}

/**
 * @throws InvalidParameterError `orderId` (not an id, or neither the order nor its battery is the
 *   account's);
 *   ClientError `FlexOrderNotFound`; a revert such as `UnknownFlexOrder` (decode it with `decodeError`).
 */
export async function cancelFlexOrder(
  clients: WriteClients,
  parameters: CancelFlexOrderParameters,
): Promise<CancelFlexOrderReturnType> {
  const { publicClient, walletClient } = clients;
  const flexMarket = await resolveFlexMarket(publicClient, parameters);
  const order =
    "order" in parameters
      ? parameters.order
      : await readPlacedFlexOrder(publicClient, flexMarket, parameters.orderId, parameters.fromBlock ?? 0n);
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
  const at = { address: flexMarket, abi: flexibilityMarketAbi } as const;
  const orderId = await flexOrderIdOn(publicClient, flexMarket, order);
  const transaction = await sendContract(clients, {
    ...at,
    functionName: "cancelFlexOrder",
    args: [flexOrderArg(order)],
  });
  const state = await publicClient.readContract({ ...at, functionName: "orderState", args: [orderId] });
  return { order, endInterval: state.endInterval, transaction };
}
