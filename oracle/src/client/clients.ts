/**
 * What the actions run on: a viem public client (reads, simulation, receipts) and, for the actions
 * that send, a wallet client with its account (a local key in the CLI, the browser wallet in the
 * app). `sendContract` is the one write path: simulate (a revert surfaces with its custom error
 * before anything is signed), send, wait for the receipt.
 */
import type { Abi, Account, Address, Chain, Hex, PublicClient, Transport, WalletClient } from "viem";
import { ClientError } from "./errors.js";

export type AccountWalletClient = WalletClient<Transport, Chain | undefined, Account>;

export interface WriteClients {
  readonly publicClient: PublicClient;
  readonly walletClient: AccountWalletClient;
}

export interface ContractCall {
  readonly address: Address;
  readonly abi: Abi;
  readonly functionName: string;
  readonly args: readonly unknown[];
}

/**
 * Simulates `call` from the wallet's account, sends it and waits for its receipt.
 * @returns the transaction hash.
 * @throws viem's ContractFunctionExecutionError (decode it with `decodeError`) when the call reverts
 *   in simulation; ClientError `TransactionReverted` when the mined transaction reverted.
 */
export async function sendContract(clients: WriteClients, call: ContractCall): Promise<Hex> {
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
