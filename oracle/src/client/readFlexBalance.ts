/** `readFlexBalance`: an account's balance on the flexibility market (discharge earnings and refunds, withdrawable). */
import type { Address, PublicClient } from "viem";
import { flexibilityMarketAbi } from "../chain/abis.js";
import { type FlexTarget, resolveFlexMarket } from "./flexMarket.js";

export interface ReadFlexBalanceParameters extends FlexTarget {
  readonly account: Address;
}

/** Token base units. */
export type ReadFlexBalanceReturnType = bigint;

export async function readFlexBalance(
  publicClient: PublicClient,
  parameters: ReadFlexBalanceParameters,
): Promise<ReadFlexBalanceReturnType> {
  return publicClient.readContract({
    address: await resolveFlexMarket(publicClient, parameters),
    abi: flexibilityMarketAbi,
    functionName: "balanceOf",
    args: [parameters.account],
  });
}
