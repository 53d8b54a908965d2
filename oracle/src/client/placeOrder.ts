/**
 * `placeOrder` (and `placeBid`, `placeOffer`): puts a bid or an offer for one interval and zone on
 * the market's book. The order id is the EIP-712 digest of the order under the market's domain
 * (domain/eip712.ts, the contract's `hashOrder`), computed here without a call.
 */
import type { Address, Hex } from "viem";
import { energyMarketAbi } from "../chain/abis.js";
import { type OrderSide, gridBrainDomain, hashOrder, sideCode } from "../domain/eip712.js";
import { chainIdOf, type WriteClients, sendContract } from "./clients.js";
import { InvalidParameterError } from "./errors.js";
import { randomOrderNonce } from "./units.js";

export interface PlaceOrderParameters {
  readonly market: Address;
  readonly side: OrderSide;
  readonly intervalId: bigint;
  readonly zoneId: number;
  /** Energy in Wh (> 0). */
  readonly quantityWh: bigint;
  /** A bid's highest or an offer's lowest price, token base units per kWh. */
  readonly limitPricePerKwh: bigint;
  /** Default: random (`randomOrderNonce`). */
  readonly nonce?: bigint;
}

export interface PlaceOrderReturnType {
  readonly orderId: Hex;
  readonly nonce: bigint;
  readonly transaction: Hex;
}

/** @throws InvalidParameterError `quantityWh` when zero; a revert such as `GateClosed`, `InsufficientBalance`. */
export async function placeOrder(
  clients: WriteClients,
  parameters: PlaceOrderParameters,
): Promise<PlaceOrderReturnType> {
  const { market, side, intervalId, zoneId, quantityWh, limitPricePerKwh } = parameters;
  if (quantityWh <= 0n) throw new InvalidParameterError("quantityWh", "must be greater than zero");
  const nonce = parameters.nonce ?? randomOrderNonce();
  const orderId = hashOrder(gridBrainDomain(await chainIdOf(clients.publicClient), market), {
    owner: clients.walletClient.account.address,
    intervalId,
    side: sideCode(side),
    zoneId,
    quantityWh,
    limitPricePerKwh,
    nonce,
  });
  const transaction = await sendContract(clients, {
    address: market,
    abi: energyMarketAbi,
    functionName: side === "bid" ? "placeBid" : "placeOffer",
    args: [intervalId, zoneId, quantityWh, limitPricePerKwh, nonce],
  });
  return { orderId, nonce, transaction };
}

export type PlaceSideParameters = Omit<PlaceOrderParameters, "side">;

/** A buy order: locks limit price × energy plus the imbalance collateral until settlement. */
export const placeBid = (clients: WriteClients, parameters: PlaceSideParameters) =>
  placeOrder(clients, { ...parameters, side: "bid" });

/** A sell order: locks the imbalance collateral; paid once the delivery is settled. */
export const placeOffer = (clients: WriteClients, parameters: PlaceSideParameters) =>
  placeOrder(clients, { ...parameters, side: "offer" });
