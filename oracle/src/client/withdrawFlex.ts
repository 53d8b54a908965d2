/**
 * `withdrawFlex`: sends part of the account's balance on the flexibility market (discharge
 * earnings and refunded budgets) to a wallet (the account's by default). The balance is separate
 * from the EnergyMarket's free balance.
 */
import type { Address, Hex } from "viem";
import { flexibilityMarketAbi } from "../chain/abis.js";
import type { WriteClients } from "./clients.js";
import { ClientError, InvalidParameterError } from "./errors.js";
import { type FlexTarget, resolveFlexMarket, sendFlexTransaction } from "./flexMarket.js";

export interface WithdrawFlexParameters extends FlexTarget {
  /** Token base units (> 0, at most the flexibility balance). */
  readonly amount: bigint;
  /** Recipient; default the wallet's account. */
  readonly to?: Address;
}

export interface WithdrawFlexReturnType {
  readonly to: Address;
  /** The flexibility balance left. */
  readonly balance: bigint;
  readonly transaction: Hex;
}

/**
 * @throws InvalidParameterError `amount` when zero or above the flexibility balance; ClientError
 *   `FlexWithdrawalMissing` (the transaction has no Withdrawn log of that amount to `to`).
 */
export async function withdrawFlex(
  clients: WriteClients,
  parameters: WithdrawFlexParameters,
): Promise<WithdrawFlexReturnType> {
  const { publicClient, walletClient } = clients;
  if (parameters.amount <= 0n) throw new InvalidParameterError("amount", "must be greater than zero");
  const flexMarket = await resolveFlexMarket(publicClient, parameters);
  const me = walletClient.account.address;
  const balanceOf = () =>
    publicClient.readContract({
      address: flexMarket,
      abi: flexibilityMarketAbi,
      functionName: "balanceOf",
      args: [me],
    });
  const held = await balanceOf();
  if (parameters.amount > held)
    throw new InvalidParameterError(
      "amount",
      `${parameters.amount} exceeds the flexibility balance of ${held} token base units`,
    );
  const to = parameters.to ?? me;
  const { hash } = await sendFlexTransaction(clients, {
    flexMarket,
    functionName: "withdraw",
    args: [parameters.amount, to],
    event: "Withdrawn",
    expect: (paid) => paid.amount === parameters.amount && paid.to.toLowerCase() === to.toLowerCase(),
    missing: (tx, paid) =>
      new ClientError("FlexWithdrawalMissing", "the withdrawal has no Withdrawn log of the amount asked", {
        details: `transaction ${tx}: expected ${parameters.amount} to ${to}, log ${paid === undefined ? "missing" : `${paid.amount} to ${paid.to}`}`,
      }),
  });
  return { to, balance: await balanceOf(), transaction: hash };
}
