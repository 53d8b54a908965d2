/**
 * `cancelFlexOrder`: ends the account's flexibility order after the last interval whose gate has
 * closed; its unspent budget becomes refundable (`refundFlexFunds`) once that interval is settled
 * or missed. Given only the id, the order's fields are read from its `FlexOrderPlaced` event.
 */
import type { Hex } from "viem";
import { flexibilityMarketAbi } from "../chain/abis.js";
import { type WriteClients, sendContract } from "./clients.js";
import { InvalidParameterError } from "./errors.js";
import {
  type FlexOrder,
  type FlexTarget,
  flexOrderArg,
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
 * @throws InvalidParameterError `orderId` (not an id, or the order is another account's);
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
  if (order.owner.toLowerCase() !== me.toLowerCase())
    throw new InvalidParameterError("orderId", `the order belongs to ${order.owner}, not to ${me}`);
  const at = { address: flexMarket, abi: flexibilityMarketAbi } as const;
  const orderId = await publicClient.readContract({
    ...at,
    functionName: "hashFlexOrder",
    args: [flexOrderArg(order)],
  });
  const transaction = await sendContract(clients, {
    ...at,
    functionName: "cancelFlexOrder",
    args: [flexOrderArg(order)],
  });
  const state = await publicClient.readContract({ ...at, functionName: "orderState", args: [orderId] });
  return { order, endInterval: state.endInterval, transaction };
}
