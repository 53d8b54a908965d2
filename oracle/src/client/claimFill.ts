/**
 * `claimFill`: pull settlement of the wallet account's own fill on one side of a scheduled
 * interval, with the proof from an oracle node (`getFillProof`). The position slot says whether
 * there is an open order to settle; a settled or empty slot is reported, not sent. Claim the bid
 * side before the offer side of the same interval: the contract pays a seller only out of what the
 * interval's buyers were charged.
 */
import type { Address, Hex } from "viem";
import { energyMarketAbi } from "../chain/abis.js";
import { type OrderSide, sideCode } from "../domain/eip712.js";
import { type WriteClients, sendContract } from "./clients.js";
import { getFillProof } from "./nodeProofs.js";

export interface ClaimFillParameters {
  readonly market: Address;
  /** An oracle node's HTTP URL (its Proof API). */
  readonly nodeUrl: string;
  readonly intervalId: bigint;
  readonly side: OrderSide;
}

export type ClaimFillReturnType =
  | {
      readonly status: "claimed";
      readonly orderId: Hex;
      readonly filledWh: bigint;
      readonly transaction: Hex;
    }
  /** The fill was settled already (by the committee's push or an earlier claim). */
  | { readonly status: "settled" }
  /** No order on this side of the interval. */
  | { readonly status: "none" };

/** @throws ClientError `ProofUnavailable` with the node's reason (e.g. no committed schedule); a revert. */
export async function claimFill(
  clients: WriteClients,
  parameters: ClaimFillParameters,
): Promise<ClaimFillReturnType> {
  const { publicClient } = clients;
  const { market, intervalId } = parameters;
  const owner = clients.walletClient.account.address;
  const side = sideCode(parameters.side);
  // The slot holds the order id while the fill is open, a settled record (flag | filledWh) after.
  const [slot, [settled]] = await Promise.all([
    publicClient.readContract({
      address: market,
      abi: energyMarketAbi,
      functionName: "position",
      args: [owner, intervalId, side],
    }),
    publicClient.readContract({
      address: market,
      abi: energyMarketAbi,
      functionName: "settledFill",
      args: [owner, intervalId, side],
    }),
  ]);
  if (settled) return { status: "settled" };
  if (BigInt(slot) === 0n) return { status: "none" };
  const p = await getFillProof({ nodeUrl: parameters.nodeUrl, intervalId, orderId: slot });
  const o = p.leaf.order;
  const filledWh = BigInt(p.leaf.filledWh);
  const transaction = await sendContract(clients, {
    address: market,
    abi: energyMarketAbi,
    functionName: "claimFill",
    args: [
      p.scheduleRoot,
      p.zonePrices.map(BigInt),
      {
        order: {
          owner: o.owner,
          intervalId: BigInt(o.intervalId),
          side: o.side,
          zoneId: o.zoneId,
          quantityWh: BigInt(o.quantityWh),
          limitPricePerKwh: BigInt(o.limitPricePerKwh),
          nonce: BigInt(o.nonce),
        },
        filledWh,
      },
      p.proof,
    ],
  });
  return { status: "claimed", orderId: slot, filledWh, transaction };
}
