/**
 * The demo's transaction sender: rides through a stalled chain (a Hardhat node stopped for tens
 * of seconds, as in the chaos runs) without sending anything twice.
 *
 * - Each transaction is signed once, locally, with a fixed nonce; its hash is known before it is
 *   broadcast. A broadcast that times out or fails transiently re-sends the same signed bytes, so
 *   a retry can never become a second transaction.
 * - "already known" means the node holds it: success. "nonce too low" means the nonce is used:
 *   if by our transaction (it is mined), success; if by another, an error (nothing is re-signed
 *   behind the caller's back).
 * - The receipt is polled, transient RPC faults included, until `receiptTimeoutMs`.
 *
 * Retry layer: broadcasts are retried here only; the send client's transport does not retry
 * (`retryCount: 0`), reads go through the caller's public client and its transport's retries.
 */
import {
  type Abi,
  type Chain,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type Transport,
  createPublicClient,
  encodeFunctionData,
  keccak256,
} from "viem";
import { classifyTxError } from "../infra/tx-sender.js";

export interface DemoSenderParameters {
  readonly publicClient: PublicClient;
  /** Transport of broadcasts; give it no retries of its own (this sender re-sends the same bytes). */
  readonly sendTransport: Transport;
  readonly chain: Chain;
  readonly maxFeePerGas: bigint;
  readonly maxPriorityFeePerGas: bigint;
  /** Give up on a transaction (broadcast + receipt) after this long. Default 300 s. */
  readonly receiptTimeoutMs?: number;
  /** Pause between re-broadcasts and receipt polls. Default 200 ms. */
  readonly pollMs?: number;
  /** Called on each re-broadcast (the demo counts them for its closing report). */
  readonly onRetry?: (info: {
    readonly hash: Hex;
    readonly attempt: number;
    readonly error: unknown;
  }) => void;
}

export interface DemoCall {
  readonly to: `0x${string}`;
  readonly abi: Abi;
  readonly functionName: string;
  readonly args: readonly unknown[];
}

export interface DemoSender {
  /** Sends the call from `account` and waits for its receipt; throws on revert (naming the call). */
  send(account: LocalAccount, call: DemoCall): Promise<Hex>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function createDemoSender(p: DemoSenderParameters): DemoSender {
  const timeoutMs = p.receiptTimeoutMs ?? 300_000;
  const pollMs = p.pollMs ?? 200;
  const broadcaster = createPublicClient({ chain: p.chain, transport: p.sendTransport });
  const nonces = new Map<string, number>();
  const queues = new Map<string, Promise<unknown>>();

  /** Our transaction is on chain (or in the pool) under this hash. */
  const known = async (hash: Hex) =>
    (await p.publicClient.getTransaction({ hash }).catch(() => undefined)) !== undefined;

  async function broadcast(raw: Hex, hash: Hex, deadline: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await broadcaster.request({ method: "eth_sendRawTransaction", params: [raw] });
        return;
      } catch (error) {
        const kind = classifyTxError(error);
        if (kind === "already-known") return;
        if (kind === "nonce-too-low") {
          if (await known(hash)) return;
          throw new Error(`transaction ${hash}: its nonce was used by another transaction`, { cause: error });
        }
        const retryable = kind === "transient" || kind === "timeout";
        if (!retryable || Date.now() > deadline) throw error;
        p.onRetry?.({ hash, attempt, error });
        await sleep(pollMs);
      }
    }
  }

  async function sendNow(account: LocalAccount, call: DemoCall): Promise<Hex> {
    const deadline = Date.now() + timeoutMs;
    // Nonces are counted here: sends are serialised per account (below), so the next nonce is the
    // last one sent plus one, and a call whose gas estimate reverts sends nothing and uses none.
    const nonce =
      nonces.get(account.address) ??
      (await p.publicClient.getTransactionCount({ address: account.address, blockTag: "pending" }));
    // The estimate simulates the call: a revert surfaces here with the decoded custom error.
    const gas = await p.publicClient.estimateContractGas({
      account,
      address: call.to,
      abi: call.abi,
      functionName: call.functionName,
      args: call.args as unknown[],
    });
    const raw = await account.signTransaction!({
      chainId: p.chain.id,
      type: "eip1559",
      to: call.to,
      data: encodeFunctionData({
        abi: call.abi,
        functionName: call.functionName,
        args: call.args as unknown[],
      }),
      gas: (gas * 12n) / 10n,
      nonce,
      maxFeePerGas: p.maxFeePerGas,
      maxPriorityFeePerGas: p.maxPriorityFeePerGas,
    });
    const hash = keccak256(raw);
    try {
      await broadcast(raw, hash, deadline);
    } catch (error) {
      nonces.delete(account.address); // resynchronise from the node next time
      throw error;
    }
    nonces.set(account.address, nonce + 1);
    for (;;) {
      const receipt = await p.publicClient.getTransactionReceipt({ hash }).catch(() => undefined);
      if (receipt !== undefined) {
        if (receipt.status !== "success")
          throw new Error(`${call.functionName} from ${account.address} reverted (${hash})`);
        return hash;
      }
      if (Date.now() > deadline)
        throw new Error(
          `${call.functionName} from ${account.address}: no receipt for ${hash} in ${timeoutMs} ms`,
        );
      await sleep(pollMs);
    }
  }

  return {
    send(account, call) {
      // One transaction at a time per account, so that nonces are handed out in order and a call
      // that fails its gas estimate leaves no gap (the automining node would hold every later one).
      const previous = queues.get(account.address) ?? Promise.resolve();
      const next = previous.catch(() => undefined).then(() => sendNow(account, call));
      queues.set(account.address, next);
      return next;
    },
  };
}
