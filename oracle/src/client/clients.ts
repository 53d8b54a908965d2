/**
 * What the actions run on: a viem public client (reads, simulation, receipts) and, for the actions
 * that send, a wallet client with its account (a local key in the CLI, the browser wallet in the
 * app). `sendContract` is the one write path: simulate (a revert surfaces with its custom error
 * before anything is signed), send, wait for the receipt — unless the caller brings its own `send`.
 */
import type { Abi, Account, Address, Chain, Hex, PublicClient, Transport, WalletClient } from "viem";
import { ClientError } from "./errors.js";

export type AccountWalletClient = WalletClient<Transport, Chain | undefined, Account>;

export interface WriteClients {
  readonly publicClient: PublicClient;
  readonly walletClient: AccountWalletClient;
  /**
   * The caller's own write path, used by `sendContract` instead of simulate + `writeContract` +
   * receipt: for a sender that manages its account's nonces itself and rides out chain stalls or
   * replaces stuck transactions (the demo's sender, demo/sender.ts, built on infra/tx-sender.ts),
   * which viem's one-shot `writeContract` would race for nonces. It sends `call` from
   * `walletClient.account` (the actions read the owner's address from there) and resolves with the
   * hash only once that transaction is mined and succeeded; it throws otherwise.
   */
  readonly send?: (call: ContractCall) => Promise<Hex>;
}

export interface ContractCall {
  readonly address: Address;
  readonly abi: Abi;
  readonly functionName: string;
  readonly args: readonly unknown[];
}

/**
 * Simulates `call` from the wallet's account, sends it and waits for its receipt; with
 * `clients.send`, hands `call` to it instead (no simulation, no `writeContract`).
 * @returns the transaction hash.
 * @throws viem's ContractFunctionExecutionError (decode it with `decodeError`) when the call reverts
 *   in simulation; ClientError `TransactionReverted` when the mined transaction reverted.
 */
export async function sendContract(clients: WriteClients, call: ContractCall): Promise<Hex> {
  if (clients.send !== undefined) return clients.send(call);
  const { publicClient, walletClient } = clients;
  const account = walletClient.account;
  const { request } = await publicClient.simulateContract({
    account,
    address: call.address,
    abi: call.abi,
    functionName: call.functionName,
    args: call.args as unknown[],
  });
  const hash = await walletClient.writeContract({
    ...(request as Parameters<AccountWalletClient["writeContract"]>[0]),
    account,
    chain: walletClient.chain,
  });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success")
    throw new ClientError("TransactionReverted", `${call.functionName} reverted on chain`, {
      details: `transaction ${hash}`,
    });
  return hash;
}

/** The chain id the public client talks to (its chain's, else asked of the node). */
export async function chainIdOf(publicClient: PublicClient): Promise<number> {
  return publicClient.chain?.id ?? (await publicClient.getChainId());
}
