/**
 * `cancelOrder`: cancels an open order before its gate closure; its lock returns to the free
 * balance. The contract takes the order's fields; given only the id, they are read from its
 * `OrderPlaced` event.
 */
import type { Address, Hex, PublicClient } from "viem";
import { energyMarketAbi } from "../chain/abis.js";
import type { Order } from "../domain/eip712.js";
import { type WriteClients, sendContract } from "./clients.js";
import { ClientError, InvalidParameterError } from "./errors.js";

export type CancelOrderParameters =
  | { readonly market: Address; readonly order: Order }
  | { readonly market: Address; readonly orderId: Hex; readonly fromBlock?: bigint };

export interface CancelOrderReturnType {
  readonly order: Order;
  readonly transaction: Hex;
}

/**
 * @throws InvalidParameterError `orderId` when it is not 32 bytes of hex; ClientError `OrderNotFound`
 *   when no OrderPlaced event has that id; a revert such as `OrderNotOpen` or `GateClosed`.
 */
export async function cancelOrder(
  clients: WriteClients,
  parameters: CancelOrderParameters,
): Promise<CancelOrderReturnType> {
  const order =
    "order" in parameters
      ? parameters.order
      : await readPlacedOrder(
          clients.publicClient,
          parameters.market,
          parameters.orderId,
          parameters.fromBlock ?? 0n,
        );
  const transaction = await sendContract(clients, {
    address: parameters.market,
    abi: energyMarketAbi,
    functionName: "cancelOrder",
    args: [order],
  });
  return { order, transaction };
}

/** The fields of order `orderId`, from its OrderPlaced event. */
export async function readPlacedOrder(
  publicClient: PublicClient,
  market: Address,
  orderId: Hex,
  fromBlock = 0n,
): Promise<Order> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(orderId))
    throw new InvalidParameterError("orderId", `must be a 32-byte hex order id, got "${orderId}"`);
  const [event] = await publicClient.getContractEvents({
    address: market,
    abi: energyMarketAbi,
    eventName: "OrderPlaced",
    args: { orderId },
    fromBlock,
    toBlock: "latest",
  });
  if (event === undefined)
    throw new ClientError("OrderNotFound", `no OrderPlaced event for ${orderId} on this market`, {
      details: `searched from block ${fromBlock}`,
    });
  const a = event.args;
  return {
    owner: a.owner!,
    intervalId: a.intervalId!,
    side: a.side as Order["side"],
    zoneId: a.zoneId!,
    quantityWh: a.quantityWh!,
    limitPricePerKwh: a.limitPricePerKwh!,
    nonce: a.nonce!,
  };
}
