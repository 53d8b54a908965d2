/**
 * `changeFlexOrder`: replaces a standing flexibility order. The contract ends the current order
 * after the last interval whose gate has closed (its unspent budget becomes refundable once that
 * interval is settled) and places the replacement, which locks its own full budget and must start
 * at or after the first open interval. The replacement is checked like a new order first.
 */
import type { Hex } from "viem";
import type { WriteClients } from "./clients.js";
import { InvalidParameterError } from "./errors.js";
import {
  type FlexOrder,
  type FlexTarget,
  flexOrderArg,
  flexOrderIdOn,
  flexOrderPlacedAs,
  readPlacedFlexOrder,
  resolveFlexMarket,
  sendFlexTransaction,
} from "./flexMarket.js";
import { type FlexOrderFields, approveShortfall, flexOrderOf } from "./placeFlexOrder.js";
import { validateFlexOrder } from "./validateFlexOrder.js";

export type ChangeFlexOrderParameters = FlexTarget & {
  /** The replacement's fields (its battery must be the current order's). */
  readonly replacement: FlexOrderFields;
  readonly fromBlock?: bigint;
} & ({ readonly current: FlexOrder } | { readonly currentId: Hex });

export interface ChangeFlexOrderReturnType {
  readonly previous: FlexOrder;
  readonly orderId: Hex;
  readonly order: FlexOrder;
  readonly transactions: readonly Hex[];
}

/**
 * @throws InvalidParameterError `replacement.<field>` from `validateFlexOrder`, `batteryId` when the
 *   replacement is for another battery, `currentId` when it is not an order id; ClientError
 *   `FlexOrderNotFound`, `FlexOrderIdMismatch`; a revert such as `UnknownFlexOrder` (decode it with `decodeError`).
 */
export async function changeFlexOrder(
  clients: WriteClients,
  parameters: ChangeFlexOrderParameters,
): Promise<ChangeFlexOrderReturnType> {
  const { publicClient, walletClient } = clients;
  const flexMarket = await resolveFlexMarket(publicClient, parameters);
  const previous =
    "current" in parameters
      ? parameters.current
      : await readPlacedFlexOrder(publicClient, flexMarket, parameters.currentId, parameters.fromBlock ?? 0n);
  const order = flexOrderOf(walletClient.account.address, parameters.replacement);
  if (order.batteryId !== previous.batteryId)
    throw new InvalidParameterError(
      "batteryId",
      `the replacement is for battery ${order.batteryId}, the current order for battery ${previous.batteryId}`,
    );
  const checked = await validateFlexOrder(publicClient, { ...parameters, flexMarket, order });
  const transactions = await approveShortfall(clients, checked.token, flexMarket, order.chargeBudget);
  const expected = await flexOrderIdOn(publicClient, flexMarket, order);
  const { hash } = await sendFlexTransaction(clients, {
    flexMarket,
    functionName: "changeFlexOrder",
    args: [flexOrderArg(previous), flexOrderArg(order)],
    ...flexOrderPlacedAs(expected),
  });
  return { previous, orderId: expected, order, transactions: [...transactions, hash] };
}
