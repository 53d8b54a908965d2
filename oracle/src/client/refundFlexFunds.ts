/**
 * `refundFlexFunds`: returns an ended flexibility order's unspent budget to its owner's balance on
 * the flexibility market (withdraw it with `withdrawFlex`), once every interval it was active in
 * is settled or missed. Anyone may send it; the funds always go to the order's owner.
 */
import type { Hex } from "viem";
import type { WriteClients } from "./clients.js";
import { ClientError } from "./errors.js";
import {
  type FlexOrder,
  type FlexOrderRef,
  type FlexTarget,
  flexOrderArg,
  resolveFlexMarket,
  resolveFlexOrder,
  sendFlexTransaction,
} from "./flexMarket.js";

export type RefundFlexFundsParameters = FlexTarget & FlexOrderRef;

export interface RefundFlexFundsReturnType {
  readonly order: FlexOrder;
  /** Token base units credited to the owner's flexibility balance (the FlexFundsRefunded log's). */
  readonly amount: bigint;
  readonly transaction: Hex;
}

/**
 * @throws ClientError `FlexOrderNotFound`, `FlexRefundMissing` (the transaction has no
 *   FlexFundsRefunded log); a revert such as `RefundNotYet`, `AlreadyRefunded` (decode it with
 *   `decodeError`).
 */
export async function refundFlexFunds(
  clients: WriteClients,
  parameters: RefundFlexFundsParameters,
): Promise<RefundFlexFundsReturnType> {
  const { publicClient } = clients;
  const flexMarket = await resolveFlexMarket(publicClient, parameters);
  const order = await resolveFlexOrder(publicClient, flexMarket, parameters);
  const { hash, event } = await sendFlexTransaction(clients, {
    flexMarket,
    functionName: "refundFlexFunds",
    args: [flexOrderArg(order)],
    event: "FlexFundsRefunded",
    missing: (tx) =>
      new ClientError("FlexRefundMissing", "the refund transaction has no FlexFundsRefunded log", {
        details: `transaction ${tx}`,
      }),
  });
  return { order, amount: event.amount, transaction: hash };
}
