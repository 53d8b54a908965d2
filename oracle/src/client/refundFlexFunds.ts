/**
 * `refundFlexFunds`: returns an ended flexibility order's unspent budget to its owner's balance on
 * the flexibility market (withdraw it with `withdrawFlex`), once every interval it was active in
 * is settled or missed. Anyone may send it; the funds always go to the order's owner.
 */
import { type Hex, parseEventLogs } from "viem";
import { flexibilityMarketAbi } from "../chain/abis.js";
import { type WriteClients, sendContract } from "./clients.js";
import { ClientError } from "./errors.js";
import {
  type FlexOrder,
  type FlexTarget,
  flexOrderArg,
  readPlacedFlexOrder,
  resolveFlexMarket,
} from "./flexMarket.js";

export type RefundFlexFundsParameters = FlexTarget &
  ({ readonly order: FlexOrder } | { readonly orderId: Hex; readonly fromBlock?: bigint });

export interface RefundFlexFundsReturnType {
  readonly order: FlexOrder;
  /** Token base units credited to the owner's flexibility balance (the FlexFundsRefunded log's). */
  readonly amount: bigint;
  readonly transaction: Hex;
}

/**
 * @throws ClientError `FlexOrderNotFound`; a revert such as `RefundNotYet`, `AlreadyRefunded`
 *   (decode it with `decodeError`).
 */
export async function refundFlexFunds(
  clients: WriteClients,
  parameters: RefundFlexFundsParameters,
): Promise<RefundFlexFundsReturnType> {
  const { publicClient } = clients;
  const flexMarket = await resolveFlexMarket(publicClient, parameters);
  const order =
    "order" in parameters
      ? parameters.order
      : await readPlacedFlexOrder(publicClient, flexMarket, parameters.orderId, parameters.fromBlock ?? 0n);
  const transaction = await sendContract(clients, {
    address: flexMarket,
    abi: flexibilityMarketAbi,
    functionName: "refundFlexFunds",
    args: [flexOrderArg(order)],
  });
  const receipt = await publicClient.getTransactionReceipt({ hash: transaction });
  const [refunded] = parseEventLogs({
    abi: flexibilityMarketAbi,
    eventName: "FlexFundsRefunded",
    logs: receipt.logs,
  });
  if (refunded === undefined)
    throw new ClientError("FlexRefundMissing", "the refund transaction has no FlexFundsRefunded log", {
      details: `transaction ${transaction}`,
    });
  return { order, amount: refunded.args.amount, transaction };
}
