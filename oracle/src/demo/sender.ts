/**
 * The demo's transactions go through the oracle nodes' sender (`infra/tx-sender.ts`), one
 * `TxSender` per account, so the demo and the nodes share one nonce manager, one error
 * classification and one retry rule. What the demo adds:
 *
 * - one transaction at a time per account, so a call is simulated on the state its predecessor
 *   left (the demo's prosumers deposit, then order, then claim);
 * - fixed fee caps (no fee estimation per send) and no fee bumps: the local chain automines, a
 *   transaction is only late because the chain stalled, and then a replacement would not help;
 * - a long receipt timeout, so a chain stopped for tens of seconds (the chaos runs) is ridden
 *   through. RPC calls ride the stall on the transport (`connectDemoChain`: a 60 s timeout and
 *   viem's retries); a broadcast the transport re-sends is the same signed bytes, and TxSender
 *   takes the node's "nonce too low"/"already known" for its own transaction as sent.
 */
import { type Abi, type Chain, type Hex, type LocalAccount, type Transport, encodeFunctionData } from "viem";
import { BaseError } from "../domain/errors.js";
import { type Fees, TxSender } from "../infra/tx-sender.js";

export interface DemoSenderParameters {
  /** Transport of every call (reads and broadcasts); its timeout and retries ride chain stalls. */
  readonly transport: Transport;
  readonly chain: Chain;
  readonly fees: Fees;
  /** Give up on a transaction (simulation, broadcast, receipt) after this long. Default 300 s. */
  readonly receiptTimeoutMs?: number;
  /** Pause between receipt polls. Default 200 ms. */
  readonly pollMs?: number;
}

export interface DemoCall {
  readonly to: `0x${string}`;
  readonly abi: Abi;
  readonly functionName: string;
  readonly args: readonly unknown[];
}

export interface DemoSender {
  /**
   * Sends the call from `account` and waits for its receipt.
   * @throws BaseError naming the call, its cause a `TxSendError` (a revert carries the decoded custom error).
   */
  send(account: LocalAccount, call: DemoCall): Promise<Hex>;
}

export function createDemoSender(p: DemoSenderParameters): DemoSender {
  const senders = new Map<string, TxSender>();
  const queues = new Map<string, Promise<unknown>>();

  const senderOf = (account: LocalAccount): TxSender => {
    let sender = senders.get(account.address);
    if (sender === undefined) {
      sender = new TxSender({
        account,
        chain: p.chain,
        transport: p.transport,
        fees: p.fees,
        maxBumps: 0,
        receiptTimeoutMs: p.receiptTimeoutMs ?? 300_000,
        pollIntervalMs: p.pollMs ?? 200,
      });
      senders.set(account.address, sender);
    }
    return sender;
  };

  async function sendNow(account: LocalAccount, call: DemoCall): Promise<Hex> {
    try {
      const { hash } = await senderOf(account).send({
        to: call.to,
        data: encodeFunctionData({
          abi: call.abi,
          functionName: call.functionName,
          args: call.args as unknown[],
        }),
        abi: call.abi,
        kind: call.functionName,
      });
      return hash;
    } catch (error) {
      throw new BaseError(`${call.functionName} from ${account.address} failed`, {
        details: (error as Error).message,
        cause: error,
      });
    }
  }

  return {
    send(account, call) {
      const previous = queues.get(account.address) ?? Promise.resolve();
      const next = previous.catch(() => undefined).then(() => sendNow(account, call));
      queues.set(account.address, next);
      return next;
    },
  };
}
