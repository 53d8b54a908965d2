/**
 * Transaction sender for one key: a viem wallet client, an in-memory nonce manager (resynced from
 * the chain on "nonce too low"), EIP-1559 gas bumping of stuck transactions (+12.5 % or more, the
 * replacement rule of geth and Hardhat), receipt waiting with a timeout, and errors classified by
 * viem's error classes as transient or permanent (a revert is permanent, with the custom error's
 * name when the ABI is given). The oracle nodes and the demo send through it.
 *
 * Nonces: broadcasting is serialised per key (signing + `eth_sendRawTransaction` only, the
 * receipt waits run in parallel), and a nonce is consumed only when its broadcast succeeded, so
 * concurrent sends get consecutive nonces and a failed broadcast leaves no gap.
 *
 * Retries, one layer per level (issue #13; before, viem × this sender × BullMQ stacked 6 × 6 × 8):
 * - an RPC call is retried by viem's transport alone (`retryCount`, `retryDelay`, `timeout` of the
 *   transport the caller gives: `createChainClients` for the nodes, `connectDemoChain` for the
 *   demo). This sender never loops around a call: a fault that outlives the transport's retries
 *   fails the send as `transient`;
 * - a send that failed transiently is retried by its caller's job (BullMQ `attempts`); the demo,
 *   which has no queue, rides chain stalls on its transport's long timeout;
 * - what this sender does repeat is not a retry of the same call but a new step: re-reading the
 *   nonce after "nonce too low" from another sender with this key, and replacing a stuck
 *   transaction with higher fees.
 * A broadcast re-sent by the transport carries the same signed bytes, so it cannot become a
 * second transaction; when the node answers the re-send with "nonce too low" (it mined the first
 * copy) or "already known", the sender finds its own hash on the node and takes that as sent.
 */
import { EventEmitter } from "node:events";
import {
  type Abi,
  type Address,
  BaseError as ViemBaseError,
  type Chain,
  ContractFunctionRevertedError,
  ExecutionRevertedError,
  type Hash,
  type Hex,
  HttpRequestError,
  InsufficientFundsError,
  InternalRpcError,
  LimitExceededRpcError,
  type LocalAccount,
  NonceTooLowError,
  type PublicClient,
  RawContractError,
  SocketClosedError,
  TimeoutError,
  type TransactionReceipt,
  TransactionNotFoundError,
  type Transport,
  type WalletClient,
  WebSocketRequestError,
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  keccak256,
} from "viem";
import { getTransactionError } from "viem/utils";
import { BaseError } from "../domain/errors.js";
import { type RevertOutcome, type SendingStep, revertOutcome } from "../domain/revert-outcomes.js";
import type { Logger } from "./logging.js";

export type TxErrorKind =
  "transient" | "nonce-too-low" | "underpriced" | "insufficient-funds" | "revert" | "timeout" | "permanent";

export class TxSendError extends BaseError {
  override name = "TxSendError";
  readonly kind: TxErrorKind;
  /** True when retrying the whole send later may succeed (BullMQ should retry the job). */
  readonly transient: boolean;
  /** Decoded custom error name of a revert, when the ABI knew it. */
  readonly errorName: string | undefined;
  readonly errorArgs: readonly unknown[] | undefined;
  readonly hash: Hash | undefined;

  constructor(
    shortMessage: string,
    options: {
      kind: TxErrorKind;
      details?: string | undefined;
      cause?: unknown;
      errorName?: string | undefined;
      errorArgs?: readonly unknown[] | undefined;
      hash?: Hash | undefined;
    },
  ) {
    super(shortMessage, { details: options.details, cause: options.cause });
    this.kind = options.kind;
    this.transient = options.kind === "transient" || options.kind === "timeout";
    this.errorName = options.errorName;
    this.errorArgs = options.errorArgs;
    this.hash = options.hash;
  }
}

/** The first error in the `cause` chain (the error itself first) that `match` accepts. */
function findCause(error: unknown, match: (e: unknown) => boolean): unknown {
  let current: unknown = error;
  const seen = new Set<unknown>();
  while (current !== undefined && current !== null && !seen.has(current)) {
    if (match(current)) return current;
    seen.add(current);
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Revert data (`0x…`) found anywhere in the cause chain, if any. */
export function revertData(error: unknown): Hex | undefined {
  let current: unknown = error;
  const seen = new Set<unknown>();
  while (current !== undefined && current !== null && !seen.has(current)) {
    seen.add(current);
    const data = (current as { data?: unknown }).data;
    if (typeof data === "string" && /^0x[0-9a-fA-F]*$/.test(data) && data.length >= 10) return data as Hex;
    if (typeof data === "object" && data !== null) {
      const inner = (data as { data?: unknown }).data;
      if (typeof inner === "string" && /^0x[0-9a-fA-F]*$/.test(inner) && inner.length >= 10)
        return inner as Hex;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The mempool's replacement rule has no viem class (viem 2.57 files a node's answer under
 * `UnknownNodeError` then). viem itself recognises node errors by their message
 * (`NonceTooLowError.nodeMessage`); this is the same kind of pattern, read only from a viem
 * error's `details` (the node's own words), never from a message we or a library composed.
 */
const REPLACEMENT_UNDERPRICED = /replacement (transaction )?underpriced|replacement fee too low/i;

/** HTTP statuses worth another try: the list viem's transport retries (`shouldRetry`). */
const TRANSIENT_HTTP = new Set([403, 408, 413, 429, 500, 502, 503, 504]);

/**
 * Classifies a viem error by its class, anywhere in the cause chain. Unknown errors are
 * permanent: retrying blindly hides bugs.
 *
 * - `NonceTooLowError` (viem also files "already known" there): the nonce is taken, maybe by this
 *   very transaction;
 * - `InsufficientFundsError`: the key cannot pay, until someone funds it;
 * - `ExecutionRevertedError`, `ContractFunctionRevertedError`, `RawContractError`: the call reverts;
 * - `HttpRequestError` (no status: the connection failed; or a status viem retries),
 *   `TimeoutError`, `SocketClosedError`, `WebSocketRequestError`, `LimitExceededRpcError`,
 *   `InternalRpcError`: the endpoint, not the transaction, failed; the transport's retries are
 *   spent, the job may try again later.
 */
export function classifyTxError(error: unknown): TxErrorKind {
  if (error instanceof TxSendError) return error.kind;
  const has = (...classes: (abstract new (...args: never[]) => unknown)[]) =>
    findCause(error, (e) => classes.some((c) => e instanceof c)) !== undefined;
  if (has(NonceTooLowError)) return "nonce-too-low";
  if (
    findCause(error, (e) => e instanceof ViemBaseError && REPLACEMENT_UNDERPRICED.test(e.details)) !==
    undefined
  )
    return "underpriced";
  if (has(InsufficientFundsError)) return "insufficient-funds";
  if (has(ExecutionRevertedError, ContractFunctionRevertedError, RawContractError)) return "revert";
  const http = findCause(error, (e) => e instanceof HttpRequestError) as HttpRequestError | undefined;
  if (http !== undefined)
    return http.status === undefined || TRANSIENT_HTTP.has(http.status) ? "transient" : "permanent";
  if (has(TimeoutError, SocketClosedError, WebSocketRequestError, LimitExceededRpcError, InternalRpcError))
    return "transient";
  return "permanent";
}

export interface TxRequest {
  readonly to: Address;
  readonly data?: Hex;
  readonly value?: bigint;
  /** Gas limit; estimated (+20 %) when absent. */
  readonly gas?: bigint;
  /** ABI used to decode a revert's custom error. */
  readonly abi?: Abi;
  /** Free-form label for logs and metrics ("commit", "settle-fills"). */
  readonly kind?: string;
}

export interface TxResult {
  readonly hash: Hash;
  readonly nonce: number;
  readonly receipt: TransactionReceipt;
  /** Hashes broadcast for this nonce, in order (the first is the original, later ones replacements). */
  readonly broadcast: readonly Hash[];
}

export interface TxSenderParameters {
  readonly account: LocalAccount;
  readonly chain: Chain;
  readonly transport: Transport;
  readonly logger?: Logger;
  /** Give up waiting for a receipt after this long (default 120 s). */
  readonly receiptTimeoutMs?: number;
  /** Replace a transaction not mined after this long with a fee bump (default 15 s). */
  readonly bumpAfterMs?: number;
  readonly maxBumps?: number;
  /** Fee increase per bump, in per-mille (default 1250 = +25 %; at least 1125). */
  readonly bumpPerMille?: bigint;
  readonly pollIntervalMs?: number;
  /**
   * Fixed fee caps instead of estimating them per send (the demo: a local chain whose base fee
   * stays far below the cap, two RPC calls saved per transaction). Bumps still raise them.
   */
  readonly fees?: Fees;
}

export interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class TxSender extends EventEmitter {
  readonly address: Address;
  readonly publicClient: PublicClient;
  readonly walletClient: WalletClient;
  private readonly account: LocalAccount;
  private readonly chain: Chain;
  private readonly logger: Logger | undefined;
  private readonly o: Required<
    Omit<TxSenderParameters, "account" | "chain" | "transport" | "logger" | "fees">
  >;
  private readonly fixedFees: Fees | undefined;
  private nextNonce: number | undefined;
  private lock: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(params: TxSenderParameters) {
    super();
    this.account = params.account;
    this.address = params.account.address;
    this.chain = params.chain;
    this.logger = params.logger;
    this.fixedFees = params.fees;
    this.o = {
      receiptTimeoutMs: 120_000,
      bumpAfterMs: 15_000,
      maxBumps: 5,
      bumpPerMille: 1250n,
      pollIntervalMs: 500,
      ...Object.fromEntries(
        Object.entries(params).filter(
          ([k, v]) => v !== undefined && !["account", "chain", "transport", "logger", "fees"].includes(k),
        ),
      ),
    } as TxSender["o"];
    if (this.o.bumpPerMille < 1125n)
      throw new RangeError("bumpPerMille: must be >= 1125 (+12.5 %), nodes reject smaller replacements");
    this.publicClient = createPublicClient({
      chain: params.chain,
      transport: params.transport,
    }) as PublicClient;
    this.walletClient = createWalletClient({
      account: params.account,
      chain: params.chain,
      transport: params.transport,
    });
  }

  private wrap(error: unknown, request: TxRequest, hash?: Hash): TxSendError {
    if (error instanceof TxSendError) return error;
    const kind = classifyTxError(error);
    let errorName: string | undefined;
    let errorArgs: readonly unknown[] | undefined;
    if (kind === "revert") {
      const data = revertData(error);
      if (data !== undefined && request.abi !== undefined) {
        try {
          const decoded = decodeErrorResult({ abi: request.abi, data });
          errorName = decoded.errorName;
          errorArgs = decoded.args;
        } catch {
          // Not in the ABI: keep the raw data in the message.
        }
      }
      return new TxSendError("Transaction reverted", {
        kind,
        details:
          errorName === undefined
            ? `revert data ${data ?? "none"}`
            : `${errorName}(${(errorArgs ?? []).map(String).join(", ")})`,
        cause: error,
        errorName,
        errorArgs,
        hash,
      });
    }
    return new TxSendError(kind === "transient" ? "Transient RPC failure" : "Transaction failed", {
      kind,
      details: ((error as { shortMessage?: string }).shortMessage ?? (error as Error).message)?.split(
        "\n",
      )[0],
      cause: error,
      hash,
    });
  }

  /** Forgets the cached nonce; the next send reads the pending count from the chain. */
  resyncNonce(): void {
    this.nextNonce = undefined;
    this.emit("nonce-resync");
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private async fees(): Promise<Fees> {
    if (this.fixedFees !== undefined) return this.fixedFees;
    const f = await this.publicClient.estimateFeesPerGas();
    return { maxFeePerGas: f.maxFeePerGas, maxPriorityFeePerGas: f.maxPriorityFeePerGas };
  }

  private bump(f: Fees, current: Fees): Fees {
    const up = (v: bigint) => (v * this.o.bumpPerMille + 999n) / 1000n + 1n;
    const max = (a: bigint, b: bigint) => (a > b ? a : b);
    const priority = max(up(f.maxPriorityFeePerGas), current.maxPriorityFeePerGas);
    return {
      maxPriorityFeePerGas: priority,
      maxFeePerGas: max(max(up(f.maxFeePerGas), current.maxFeePerGas), priority),
    };
  }

  private async sign(request: TxRequest, nonce: number, gas: bigint, fees: Fees): Promise<Hex> {
    return this.account.signTransaction!({
      chainId: this.chain.id,
      type: "eip1559",
      to: request.to,
      data: request.data ?? "0x",
      value: request.value ?? 0n,
      gas,
      nonce,
      ...fees,
    });
  }

  /**
   * Broadcasts signed bytes, retried by the transport like any other call. viem's own
   * `sendRawTransaction` turns the transport's retries off, as a re-sent broadcast can be answered
   * "nonce too low" (the node took the first copy, whose answer was lost) or "already known"
   * (which viem files under the same class); here that answer is success when the node holds
   * this very transaction, so the re-send is safe.
   * @throws the broadcast's error as viem's `TransactionExecutionError` (node errors classified).
   */
  private async broadcast(raw: Hex): Promise<Hash> {
    const hash = keccak256(raw);
    try {
      await this.walletClient.request(
        { method: "eth_sendRawTransaction", params: [raw] },
        { retryCount: this.walletClient.transport.retryCount },
      );
      return hash;
    } catch (cause) {
      const error = getTransactionError(cause as ViemBaseError, { account: this.account, chain: this.chain });
      if (classifyTxError(error) === "nonce-too-low" && (await this.known(hash))) return hash;
      throw error;
    }
  }

  /** Whether the node has the transaction (pending or mined). */
  private async known(hash: Hash): Promise<boolean> {
    try {
      await this.publicClient.getTransaction({ hash });
      return true;
    } catch (error) {
      if (error instanceof TransactionNotFoundError) return false;
      throw error;
    }
  }

  /**
   * Simulates, signs, broadcasts and waits for the receipt of one transaction, replacing it with
   * higher fees while it is stuck.
   * @throws TxSendError: `revert` (permanent, decoded), `timeout` / `transient` (retry later), others permanent.
   */
  async send(request: TxRequest): Promise<TxResult> {
    if (this.closed) throw new TxSendError("TxSender is closed", { kind: "permanent" });
    let gas: bigint;
    try {
      await this.publicClient.call({
        account: this.address,
        to: request.to,
        data: request.data,
        value: request.value,
      });
      gas =
        request.gas ??
        ((await this.publicClient.estimateGas({
          account: this.address,
          to: request.to,
          data: request.data,
          value: request.value,
        })) *
          12n) /
          10n;
    } catch (error) {
      throw this.wrap(error, request);
    }
    let fees = await this.fees().catch((e: unknown) => {
      throw this.wrap(e, request);
    });

    const first = await this.serialised(async () => {
      for (let attempt = 0; attempt < 5; attempt++) {
        let nonce: number;
        try {
          nonce =
            this.nextNonce ??
            (await this.publicClient.getTransactionCount({ address: this.address, blockTag: "pending" }));
        } catch (error) {
          throw this.wrap(error, request);
        }
        try {
          const hash = await this.broadcast(await this.sign(request, nonce, gas, fees));
          this.nextNonce = nonce + 1;
          return { nonce, hash };
        } catch (error) {
          const kind = classifyTxError(error);
          // The nonce was used elsewhere (another process with this key, or a pending tx):
          // read it again from the chain and retry with the next free one.
          if (kind === "nonce-too-low" || kind === "underpriced") {
            this.logger?.warn({ nonce, kind }, "nonce taken, resyncing from chain");
            this.resyncNonce();
            continue;
          }
          throw this.wrap(error, request);
        }
      }
      throw new TxSendError("Could not find a free nonce", {
        kind: "transient",
        details: "5 resyncs in a row",
      });
    });
    this.emit("sent", { hash: first.hash, nonce: first.nonce });
    this.logger?.info({ txHash: first.hash, nonce: first.nonce, kind: request.kind }, "transaction sent");

    const hashes: Hash[] = [first.hash];
    const deadline = Date.now() + this.o.receiptTimeoutMs;
    let lastBroadcast = Date.now();
    let bumps = 0;
    let nonceGoneSince: number | undefined;
    for (;;) {
      for (const h of hashes) {
        const receipt = await this.publicClient.getTransactionReceipt({ hash: h }).catch(() => undefined);
        if (receipt === undefined) continue;
        if (receipt.status === "reverted")
          throw new TxSendError("Transaction reverted on chain", {
            kind: "revert",
            details: `tx ${h}`,
            hash: h,
          });
        return { hash: h, nonce: first.nonce, receipt, broadcast: [...hashes] };
      }
      if (Date.now() > deadline)
        throw new TxSendError("No receipt before the timeout", {
          kind: "timeout",
          details: `nonce ${first.nonce}, hashes ${hashes.join(", ")}`,
          hash: hashes[hashes.length - 1],
        });
      if (nonceGoneSince !== undefined && Date.now() - nonceGoneSince > this.o.bumpAfterMs)
        throw new TxSendError("The nonce was consumed by another transaction", {
          kind: "permanent",
          details: `nonce ${first.nonce}; none of ${hashes.join(", ")} was mined`,
        });
      if (
        nonceGoneSince === undefined &&
        bumps < this.o.maxBumps &&
        Date.now() - lastBroadcast >= this.o.bumpAfterMs
      ) {
        const next = this.bump(fees, await this.fees().catch(() => fees));
        try {
          const hash = await this.broadcast(await this.sign(request, first.nonce, gas, next));
          bumps++;
          fees = next;
          if (!hashes.includes(hash)) hashes.push(hash);
          lastBroadcast = Date.now();
          this.emit("replaced", { nonce: first.nonce, hash, previous: hashes[hashes.length - 2], ...next });
          this.logger?.warn(
            { txHash: hash, nonce: first.nonce, maxFeePerGas: next.maxFeePerGas },
            "transaction replaced with higher fees",
          );
        } catch (error) {
          const kind = classifyTxError(error);
          if (kind === "underpriced")
            fees = next; // bump again from here next round
          else if (kind === "nonce-too-low")
            nonceGoneSince = Date.now(); // one of ours (or a foreign tx) was mined
          else if (kind !== "transient") throw this.wrap(error, request);
          lastBroadcast = Date.now();
        }
      }
      await sleep(this.o.pollIntervalMs);
    }
  }

  /** Native balance of the key (for the signer balance gauge). */
  balance(): Promise<bigint> {
    return this.publicClient.getBalance({ address: this.address });
  }

  /** Refuses new sends; sends in flight finish. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.lock;
  }
}

/** What `error` means for `step` (domain/revert-outcomes.ts); `unknown` unless it is a TxSendError. */
export function judgeSendError(step: SendingStep, error: unknown): RevertOutcome {
  return error instanceof TxSendError ? revertOutcome(step, error) : { outcome: "unknown" };
}
