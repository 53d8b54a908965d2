/**
 * `readBalances`: what the market holds for an account and what its wallet holds. `free` can be
 * withdrawn or locked in new orders; `locked` is every lock the market keeps for it (open orders,
 * the imbalance collateral of settled fills, payouts withheld until delivery); `pendingPayouts`
 * is the withheld-payout part of `locked`; `owed` are long imbalance payments the operator funds
 * could not pay yet (not part of `locked`).
 */
import type { Address, PublicClient } from "viem";
import { energyMarketAbi, testTokenAbi } from "../chain/abis.js";

export interface ReadBalancesParameters {
  readonly market: Address;
  readonly account: Address;
  /** First block to read `FillSettled` events from, for the pending payouts; default 0. */
  readonly fromBlock?: bigint;
}

export interface ReadBalancesReturnType {
  readonly token: Address;
  readonly free: bigint;
  readonly locked: bigint;
  readonly pendingPayouts: bigint;
  readonly owed: bigint;
  /** The wallet's token balance. */
  readonly wallet: bigint;
}

export async function readBalances(
  publicClient: PublicClient,
  parameters: ReadBalancesParameters,
): Promise<ReadBalancesReturnType> {
  const { market, account } = parameters;
  const read = (functionName: "balanceOf" | "lockedBalanceOf" | "imbalanceOwed") =>
    publicClient.readContract({ address: market, abi: energyMarketAbi, functionName, args: [account] });
  const [token, free, locked, owed, sold] = await Promise.all([
    publicClient.readContract({ address: market, abi: energyMarketAbi, functionName: "token" }),
    read("balanceOf"),
    read("lockedBalanceOf"),
    read("imbalanceOwed"),
    publicClient.getContractEvents({
      address: market,
      abi: energyMarketAbi,
      eventName: "FillSettled",
      args: { owner: account },
      fromBlock: parameters.fromBlock ?? 0n,
      toBlock: "latest",
    }),
  ]);
  // An account settles at most one offer per interval, so the interval's pendingPayout is that fill's.
  const intervals = [
    ...new Set(sold.filter((e) => e.args.side === 1 && e.args.amount! > 0n).map((e) => e.args.intervalId!)),
  ];
  const [wallet, ...pending] = await Promise.all([
    publicClient.readContract({
      address: token,
      abi: testTokenAbi,
      functionName: "balanceOf",
      args: [account],
    }),
    ...intervals.map((intervalId) =>
      publicClient.readContract({
        address: market,
        abi: energyMarketAbi,
        functionName: "pendingPayout",
        args: [account, intervalId],
      }),
    ),
  ]);
  return {
    token,
    free,
    locked,
    pendingPayouts: pending.reduce((sum, v) => sum + v, 0n),
    owed,
    wallet,
  };
}
