/**
 * Chain watcher: reads the logs of a set of contracts and event ABIs, `confirmations` blocks
 * behind the head, in block ranges, and hands them to `onLog` in chain order.
 *
 * State in Redis (one hash, so each update is atomic; keys share the caller's prefix/hash tag):
 *   <key>         blockNumber, blockHash   the cursor: every block up to here is done
 *                 logBlock, logIndex       high-water mark: the last log delivered past the cursor
 *   <key>:blocks  hash blockNumber → blockHash, the last `ringSize` cursor positions
 *
 * Delivery: a log is delivered after its predecessors, and once its `onLog` resolved it is
 * never delivered again, across restarts (the high-water mark is written right after). A crash
 * inside `onLog` redelivers that one log, so consumers must be idempotent for it (BullMQ job ids
 * derived from the log make them so).
 *
 * Reorgs: before each range the stored cursor hash is compared with the chain's. On a mismatch
 * the watcher walks its ring of recent cursor hashes back to the newest block still canonical,
 * calls `onReorg` / emits 'reorg' with the first orphaned block, rewinds cursor and high-water
 * mark there, and re-reads the new canonical logs. A reorg deeper than the ring is reported as
 * an error (operator action) rather than guessed at.
 */
import { EventEmitter } from "node:events";
import type { Cluster, Redis } from "ioredis";
import type { AbiEvent, Address, Hash, Log, PublicClient } from "viem";
import { BaseError } from "../domain/errors.js";
import type { Logger } from "./logging.js";

export class DeepReorgError extends BaseError {
  override name = "DeepReorgError";
}

export interface WatchedLog {
  readonly address: Address;
  readonly blockNumber: bigint;
  readonly blockHash: Hash;
  readonly logIndex: number;
  readonly transactionHash: Hash;
  readonly eventName: string | undefined;
  readonly args: unknown;
  readonly topics: readonly Hash[];
  readonly data: `0x${string}`;
}

export interface ReorgEvent {
  /** The newest block still canonical; the cursor is rewound here. */
  readonly lastGoodBlock: bigint;
  /** The first block whose logs were delivered and may be gone. Consumers undo from here. */
  readonly firstOrphanedBlock: bigint;
  /** The cursor before the rewind. */
  readonly previousCursor: bigint;
}

export interface ChainWatcherParameters {
  readonly client: PublicClient;
  /** Not closed by the watcher. On a Cluster, `key` needs a hash tag: `key` and `key:blocks` change in one MULTI. */
  readonly redis: Redis | Cluster;
  /** Redis key of the cursor, e.g. `gridbrain:watcher:31337:market`. */
  readonly key: string;
  readonly addresses: readonly Address[];
  readonly events: readonly AbiEvent[];
  readonly confirmations: number;
  /** First block to read when no cursor is stored. */
  readonly startBlock: bigint;
  readonly onLog: (log: WatchedLog) => Promise<void>;
  readonly onReorg?: (event: ReorgEvent) => Promise<void>;
  /** Largest getLogs range (default 2000 blocks; providers cap it). */
  readonly maxBlockRange?: bigint;
  /** Recent cursor hashes kept for reorg recovery (default 64). */
  readonly ringSize?: number;
  readonly pollIntervalMs?: number;
  readonly logger?: Logger;
}

interface Cursor {
  blockNumber: bigint;
  blockHash: Hash | undefined;
  logBlock: bigint;
  logIndex: number;
  /** Hash of `logBlock` when the high-water mark is past the cursor (a range cut short). */
  logBlockHash: Hash | undefined;
}

export interface TickResult {
  /** Logs delivered in this tick. */
  readonly delivered: number;
  /** The cursor after the tick (undefined before the first block is reached). */
  readonly cursor: bigint | undefined;
  /** True when the cursor reached head − confirmations. */
  readonly caughtUp: boolean;
  readonly reorg: ReorgEvent | undefined;
}

const before = (a: { b: bigint; i: number }, b: { b: bigint; i: number }): boolean =>
  a.b < b.b || (a.b === b.b && a.i <= b.i);

export class ChainWatcher extends EventEmitter {
  private readonly p: Required<Omit<ChainWatcherParameters, "onReorg" | "logger">> &
    Pick<ChainWatcherParameters, "onReorg" | "logger">;
  private running: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private inFlight: Promise<unknown> | undefined;
  private closing: Promise<void> | undefined;

  constructor(params: ChainWatcherParameters) {
    super();
    if (!Number.isInteger(params.confirmations) || params.confirmations < 0 || params.confirmations > 64)
      throw new RangeError(`confirmations: must be an integer in 0..64, got ${params.confirmations}`);
    if (params.addresses.length === 0)
      throw new RangeError("addresses: at least one contract address is required");
    if (params.events.length === 0) throw new RangeError("events: at least one event ABI is required");
    if (params.startBlock < 0n) throw new RangeError("startBlock: must not be negative");
    this.p = {
      maxBlockRange: 2_000n,
      ringSize: 64,
      pollIntervalMs: 2_000,
      ...params,
    };
    if (this.p.maxBlockRange < 1n) throw new RangeError("maxBlockRange: must be >= 1");
    if (this.p.ringSize < 2) throw new RangeError("ringSize: must be >= 2");
  }

  private get ringKey(): string {
    return `${this.p.key}:blocks`;
  }

  private async loadCursor(): Promise<Cursor> {
    const h = await this.p.redis.hgetall(this.p.key);
    // Before the first range completes only the high-water mark may exist.
    const blockNumber = h["blockNumber"] === undefined ? this.p.startBlock - 1n : BigInt(h["blockNumber"]);
    const hash = (field: string) =>
      h[field] === undefined || h[field] === "" ? undefined : (h[field] as Hash);
    return {
      blockNumber,
      blockHash: hash("blockHash"),
      logBlock: h["logBlock"] === undefined ? blockNumber : BigInt(h["logBlock"]),
      logIndex: h["logIndex"] === undefined ? Number.MAX_SAFE_INTEGER : Number(h["logIndex"]),
      logBlockHash: hash("logBlockHash"),
    };
  }

  /** The stored cursor (block number), or undefined before the first range completed. */
  async cursor(): Promise<bigint | undefined> {
    const v = await this.p.redis.hget(this.p.key, "blockNumber");
    return v === null ? undefined : BigInt(v);
  }

  private async blockHash(blockNumber: bigint): Promise<Hash | undefined> {
    if (blockNumber < 0n) return undefined;
    const block = await this.p.client.getBlock({ blockNumber });
    return block.hash ?? undefined;
  }

  /** Finds the newest ring entry still canonical and rewinds there. */
  private async rewind(cursor: Cursor): Promise<ReorgEvent> {
    const ring = await this.p.redis.hgetall(this.ringKey);
    const entries = Object.entries(ring)
      .map(([n, h]) => [BigInt(n), h as Hash] as const)
      .filter(([n]) => n < cursor.blockNumber)
      .sort(([a], [b]) => (a > b ? -1 : a < b ? 1 : 0));
    let good: readonly [bigint, Hash] | undefined;
    for (const entry of entries) {
      if ((await this.blockHash(entry[0])) === entry[1]) {
        good = entry;
        break;
      }
    }
    if (good === undefined && (await this.p.redis.hget(this.p.key, "ringTrimmed")) === null) {
      // The ring still holds every position since the first range: nothing before startBlock
      // was ever read, so starting over from there is exact.
      good = [this.p.startBlock - 1n, "" as Hash];
    }
    if (good === undefined) {
      const oldest = entries[entries.length - 1]?.[0] ?? cursor.blockNumber;
      throw new DeepReorgError("Reorg deeper than the watcher's block ring", {
        details: `no stored block hash at or after ${oldest} is canonical; reset the cursor ${this.p.key} by hand`,
      });
    }
    const event: ReorgEvent = {
      lastGoodBlock: good[0],
      firstOrphanedBlock: good[0] + 1n,
      previousCursor: cursor.blockNumber,
    };
    // Consumers undo first: if we crash after this, the mismatch is found again and reported again.
    await this.p.onReorg?.(event);
    this.emit("reorg", event);
    this.p.logger?.warn({ ...event }, "chain reorg: rewinding the watcher");
    const orphaned = entries.filter(([n]) => n > good[0]).map(([n]) => n.toString());
    const tx = this.p.redis.multi().hset(this.p.key, {
      blockNumber: good[0].toString(),
      blockHash: good[1],
      logBlock: good[0].toString(),
      logIndex: String(Number.MAX_SAFE_INTEGER),
      logBlockHash: "",
    });
    if (orphaned.length > 0) tx.hdel(this.ringKey, ...orphaned);
    await tx.exec();
    return event;
  }

  /**
   * One step: check for a reorg, then read and deliver at most one block range. Returns what it
   * did; `start()` calls it in a loop, tests call it directly.
   */
  tick(): Promise<TickResult> {
    const run = this.doTick();
    this.inFlight = run.catch(() => undefined);
    return run;
  }

  private async doTick(): Promise<TickResult> {
    let cursor = await this.loadCursor();
    let reorg: ReorgEvent | undefined;
    if (cursor.blockHash !== undefined && (await this.blockHash(cursor.blockNumber)) !== cursor.blockHash) {
      reorg = await this.rewind(cursor);
      cursor = await this.loadCursor();
    } else if (
      cursor.logBlock > cursor.blockNumber &&
      (await this.blockHash(cursor.logBlock)) !== cursor.logBlockHash
    ) {
      // A range was cut short (crash) and the blocks past the cursor were reorganised since:
      // the logs delivered from them may be gone.
      reorg = {
        lastGoodBlock: cursor.blockNumber,
        firstOrphanedBlock: cursor.blockNumber + 1n,
        previousCursor: cursor.blockNumber,
      };
      await this.p.onReorg?.(reorg);
      this.emit("reorg", reorg);
      await this.p.redis.hset(this.p.key, {
        logBlock: cursor.blockNumber.toString(),
        logIndex: String(Number.MAX_SAFE_INTEGER),
        logBlockHash: "",
      });
      cursor = await this.loadCursor();
    }
    // cacheTime 0: viem caches the block number for a polling interval by default.
    const head = await this.p.client.getBlockNumber({ cacheTime: 0 });
    const safe = head - BigInt(this.p.confirmations);
    const from = cursor.blockNumber + 1n;
    if (from > safe)
      return {
        delivered: 0,
        cursor: cursor.blockNumber < this.p.startBlock ? undefined : cursor.blockNumber,
        caughtUp: true,
        reorg,
      };
    const to = from + this.p.maxBlockRange - 1n < safe ? from + this.p.maxBlockRange - 1n : safe;

    const toHash = await this.blockHash(to);
    const logs = (await this.p.client.getLogs({
      address: [...this.p.addresses],
      events: [...this.p.events],
      fromBlock: from,
      toBlock: to,
    })) as Log[];
    // The range must be read from one chain: if block `to` changed meanwhile, retry next tick.
    if (
      (await this.blockHash(to)) !== toHash ||
      logs.some((l) => l.blockNumber === to && l.blockHash !== toHash)
    )
      return { delivered: 0, cursor: cursor.blockNumber, caughtUp: false, reorg };

    const ordered = logs
      .filter((l) => !l.removed && l.blockNumber !== null && l.logIndex !== null)
      .sort((a, b) =>
        a.blockNumber! === b.blockNumber!
          ? a.logIndex! - b.logIndex!
          : a.blockNumber! < b.blockNumber!
            ? -1
            : 1,
      );
    const mark = { b: cursor.logBlock, i: cursor.logIndex };
    let delivered = 0;
    for (const log of ordered) {
      const position = { b: log.blockNumber!, i: log.logIndex! };
      if (before(position, mark)) continue; // delivered before a restart
      const decoded = log as Log & { eventName?: string; args?: unknown };
      await this.p.onLog({
        address: log.address,
        blockNumber: log.blockNumber!,
        blockHash: log.blockHash!,
        logIndex: log.logIndex!,
        transactionHash: log.transactionHash!,
        eventName: decoded.eventName,
        args: decoded.args,
        topics: log.topics as Hash[],
        data: log.data,
      });
      await this.p.redis.hset(this.p.key, {
        logBlock: position.b.toString(),
        logIndex: String(position.i),
        logBlockHash: log.blockHash!,
      });
      delivered++;
    }

    // Ring: the range end plus every block we delivered a log from (finer rewind points for free).
    const positions = new Map<string, string>([[to.toString(), toHash ?? ""]]);
    for (const log of ordered) positions.set(log.blockNumber!.toString(), log.blockHash!);
    const ringFloor = to - BigInt(this.p.ringSize);
    const ring = await this.p.redis.hkeys(this.ringKey);
    const stale = ring.filter((n) => BigInt(n) <= ringFloor);
    const tx = this.p.redis
      .multi()
      .hset(this.p.key, {
        blockNumber: to.toString(),
        blockHash: toHash ?? "",
        logBlock: to.toString(),
        logIndex: String(Number.MAX_SAFE_INTEGER),
        logBlockHash: "",
      })
      .hset(this.ringKey, Object.fromEntries(positions));
    if (stale.length > 0) tx.hdel(this.ringKey, ...stale).hset(this.p.key, "ringTrimmed", "1");
    await tx.exec();
    this.emit("progress", { cursor: to, delivered });
    return { delivered, cursor: to, caughtUp: to === safe, reorg };
  }

  /** Polls until `close()`: ticks back to back while behind, then every `pollIntervalMs`. Errors are emitted and retried. */
  start(): void {
    if (this.running !== undefined || this.stopped) return;
    this.running = (async () => {
      let failures = 0;
      while (!this.stopped) {
        let wait = this.p.pollIntervalMs;
        try {
          const r = await this.tick();
          failures = 0;
          if (!r.caughtUp) wait = 0;
        } catch (error) {
          failures++;
          wait = Math.min(this.p.pollIntervalMs * 2 ** Math.min(failures, 6), 60_000);
          if (this.listenerCount("error") > 0) this.emit("error", error);
          this.p.logger?.error({ err: error, failures }, "chain watcher tick failed");
        }
        if (this.stopped) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    })();
  }

  /** Stops polling and waits for the tick in flight. Idempotent. Does not close the Redis connection or the client. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopped = true;
      this.wake?.();
      await this.running;
      await this.inFlight;
      this.removeAllListeners();
    })();
    return this.closing;
  }
}
