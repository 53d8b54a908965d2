/**
 * `settleImbalance`: pull settlement of the wallet account's own imbalance in a metered interval,
 * with its meter leaf and proof from an oracle node (`getMeterProof`, a signed request). It settles
 * only when the contract would accept it: the meter report is committed and every fill of the
 * interval is settled; otherwise it reports why it is pending and sends nothing.
 */
import type { Address, Hex } from "viem";
import { energyMarketAbi } from "../chain/abis.js";
import { chainIdOf, type WriteClients, sendContract } from "./clients.js";
import { getMeterProof } from "./nodeProofs.js";

export interface SettleImbalanceParameters {
  readonly market: Address;
  /** An oracle node's HTTP URL (its Proof API). */
  readonly nodeUrl: string;
  readonly intervalId: bigint;
}

export type SettleImbalanceReturnType =
  | {
      readonly status: "settled now";
      readonly injectedWh: bigint;
      readonly consumedWh: bigint;
      readonly transaction: Hex;
    }
  | { readonly status: "already settled" }
  /** Not settleable yet: `reason` says what is missing. */
  | { readonly status: "pending"; readonly reason: string };

export async function settleImbalance(
  clients: WriteClients,
  parameters: SettleImbalanceParameters,
): Promise<SettleImbalanceReturnType> {
  const { publicClient, walletClient } = clients;
  const { market, intervalId } = parameters;
  const participant = walletClient.account.address;
  const [done, state] = await Promise.all([
    publicClient.readContract({
      address: market,
      abi: energyMarketAbi,
      functionName: "imbalanceSettled",
      args: [participant, intervalId],
    }),
    publicClient.readContract({
      address: market,
      abi: energyMarketAbi,
      functionName: "intervalState",
      args: [intervalId],
    }),
  ]);
  if (done) return { status: "already settled" };
  if (BigInt(state.meterRoot) === 0n)
    return { status: "pending", reason: `interval ${intervalId} has no committed meter report yet` };
  if (BigInt(state.settledCount) < BigInt(state.fillCount))
    return {
      status: "pending",
      reason: `the imbalance settles once every fill of the interval has (${state.settledCount}/${state.fillCount} settled)`,
    };
  const p = await getMeterProof(walletClient, {
    nodeUrl: parameters.nodeUrl,
    market,
    chainId: await chainIdOf(publicClient),
    intervalId,
  });
  const injectedWh = BigInt(p.leaf.injectedWh);
  const consumedWh = BigInt(p.leaf.consumedWh);
  const transaction = await sendContract(clients, {
    address: market,
    abi: energyMarketAbi,
    functionName: "settleImbalance",
    args: [participant, intervalId, injectedWh, consumedWh, p.proof],
  });
  return { status: "settled now", injectedWh, consumedWh, transaction };
}
