/**
 * Transaction sender for one key: a viem wallet client, an in-memory nonce manager (resynced from
 * the chain on "nonce too low"), EIP-1559 gas bumping of stuck transactions (+12.5 % or more, the
 * replacement rule of geth and Hardhat), receipt waiting with a timeout, retries of transient
 * RPC faults with exponential backoff, and errors classified as transient or permanent (a revert
 * is permanent, with the custom error's name when the ABI is given).
 *
 * Nonces: broadcasting is serialised per key (signing + `eth_sendRawTransaction` only, the
 * receipt waits run in parallel), and a nonce is consumed only when its broadcast succeeded, so
 * concurrent sends get consecutive nonces and a failed broadcast leaves no gap.
 */
import { EventEmitter } from "node:events";
import {
  type Abi,
  type Address,
  type Chain,
  type Hash,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  keccak256,
} from "viem";
import { BaseError } from "../domain/errors.js";
import type { Logger } from "./logging.js";

export type TxErrorKind =
  | "transient"
  | "nonce-too-low"
  | "underpriced"
  | "already-known"
  | "insufficient-funds"
  | "revert"
  | "timeout"
  | "permanent";

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

function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  const seen = new Set<unknown>();
  while (current !== undefined && current !== null && !seen.has(current) && parts.length < 10) {
    seen.add(current);
    const e = current as {
      name?: unknown;
      message?: unknown;
      details?: unknown;
      code?: unknown;
      status?: unknown;
    };
    parts.push(
      `${String(e.name ?? "")} ${String(e.message ?? "")} ${String(e.details ?? "")} code=${String(e.code ?? "")} status=${String(e.status ?? "")}`,
    );
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(" | ");
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

/** Classifies an RPC / viem error. Unknown errors are permanent: retrying blindly hides bugs. */
export function classifyTxError(error: unknown): TxErrorKind {
  const text = errorText(error);
  if (/nonce too low|nonce has already been used|NonceTooLowError|nonce.*too low/i.test(text))
    return "nonce-too-low";
  if (
    /replacement (transaction )?underpriced|replacement fee too low|transaction underpriced|ReplacementUnderpriced/i.test(
      text,
    )
  )
    return "underpriced";
  if (/already known|known transaction|AlreadyKnown/i.test(text)) return "already-known";
  if (/insufficient funds|InsufficientFundsError/i.test(text)) return "insufficient-funds";
  if (/execution reverted|reverted|ContractFunctionRevertedError|ExecutionRevertedError/i.test(text))
    return "revert";
  if (
    /HttpRequestError|TimeoutError|SocketClosedError|WebSocketRequestError|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|socket hang up|fetch failed|rate limit|too many requests|status=429|status=50[234]|code=-32005|header not found|LimitExceededRpcError/i.test(
      text,
    )
  )
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
  /** Retries of a transient RPC fault per call (default 5, backoff from 200 ms). */
  readonly rpcRetries?: number;
  readonly rpcRetryDelayMs?: number;
}

interface Fees {
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
  private readonly o: Required<Omit<TxSenderParameters, "account" | "chain" | "transport" | "logger">>;
  private nextNonce: number | undefined;
  private lock: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(params: TxSenderParameters) {
    super();
    this.account = params.account;
    this.address = params.account.address;
    this.chain = params.chain;
    this.logger = params.logger;
    this.o = {
      receiptTimeoutMs: 120_000,
      bumpAfterMs: 15_000,
      maxBumps: 5,
      bumpPerMille: 1250n,
      pollIntervalMs: 500,
      rpcRetries: 5,
      rpcRetryDelayMs: 200,
      ...Object.fromEntries(
        Object.entries(params).filter(
          ([k, v]) => v !== undefined && !["account", "chain", "transport", "logger"].includes(k),
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

  /** Runs an RPC call, retrying transient faults with exponential backoff. */
  private async rpc<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (classifyTxError(error) !== "transient" || attempt >= this.o.rpcRetries) throw error;
        this.logger?.warn({ err: error, attempt, what }, "transient RPC error, retrying");
        await sleep(this.o.rpcRetryDelayMs * 2 ** attempt);
      }
    }
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
      details: (error as Error).message?.split("\n")[0],
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
    const f = await this.rpc("estimateFeesPerGas", () => this.publicClient.estimateFeesPerGas());
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

  private async broadcast(raw: Hex): Promise<Hash> {
    try {
      return await this.rpc("sendRawTransaction", () =>
        this.walletClient.sendRawTransaction({ serializedTransaction: raw }),
      );
    } catch (error) {
      if (classifyTxError(error) === "already-known") return keccak256(raw);
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
      await this.rpc("call", () =>
        this.publicClient.call({
          account: this.address,
          to: request.to,
          data: request.data,
          value: request.value,
        }),
      );
      gas =
        request.gas ??
        ((await this.rpc("estimateGas", () =>
          this.publicClient.estimateGas({
            account: this.address,
            to: request.to,
            data: request.data,
            value: request.value,
          }),
        )) *
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
        const nonce =
          this.nextNonce ??
          (await this.rpc("getTransactionCount", () =>
            this.publicClient.getTransactionCount({ address: this.address, blockTag: "pending" }),
          ));
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
