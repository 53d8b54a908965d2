/** `withdraw`: sends part of the account's free market balance to a wallet (the account's by default). */
import type { Address, Hex } from "viem";
import { energyMarketAbi } from "../chain/abis.js";
import { type WriteClients, sendContract } from "./clients.js";
import { InvalidParameterError } from "./errors.js";

export interface WithdrawParameters {
  readonly market: Address;
  /** Token base units (> 0). */
  readonly amount: bigint;
  /** Recipient; default the wallet's account. */
  readonly to?: Address;
}

export interface WithdrawReturnType {
  readonly to: Address;
  readonly transaction: Hex;
}

/** @throws InvalidParameterError `amount` when zero; a revert such as `InsufficientBalance` (see `decodeError`). */
export async function withdraw(
  clients: WriteClients,
  parameters: WithdrawParameters,
): Promise<WithdrawReturnType> {
  if (parameters.amount <= 0n) throw new InvalidParameterError("amount", "must be greater than zero");
  const to = parameters.to ?? clients.walletClient.account.address;
  const transaction = await sendContract(clients, {
    address: parameters.market,
    abi: energyMarketAbi,
    functionName: "withdraw",
    args: [parameters.amount, to],
  });
  return { to, transaction };
}
