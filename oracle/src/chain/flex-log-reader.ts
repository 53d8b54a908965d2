/**
 * FlexibilityMarket's events, read once (issue 14 follow-up). collect and the keeper's tick used to
 * read FlexOrderPlaced, FlexOrderEnded and FlexStepSettled from `startBlock` to latest on every
 * call; FlexStepSettled grows by one log per active order and interval (300 batteries: 28,800 a
 * day), so each read grew without bound.
 *
 * One reader per public client, flexibility market and start block keeps the events of the blocks
 * up to `head − reorgDepth` folded (domain/flexibility/log-index.ts) and, on each call, reads only
 * the blocks after them: the new blocks up to `head − reorgDepth` are folded, the last
 * `reorgDepth` blocks are read again on every call and never kept (they may still be
 * reorganised). The depth is the node's `confirmations`, the depth its chain watcher trusts.
 *
 * A reorganisation deeper than that is caught too: the reader keeps the hash of the last block it
 * folded and compares it with the chain's on every call (the hash commits to every block before
 * it); on a mismatch it drops the fold and reads from the start block again. So the answer never
 * depends on the reader's history: a fresh reader (a restarted node, `gridbrain verify`) and a
 * long-lived one give the same answer for the same chain, the one the full read gives, and every
 * node signs the same schedule.
 *
 * Reads are paged in ranges of `blocksPerRead` blocks (providers cap getLogs ranges), one getLogs
 * per range for the three events together.
 */
import type { Address, Hash, Hex, PublicClient } from "viem";
import { flexOrderFields } from "../domain/eip712.js";
import {
  DEFAULT_FLEX_RETAIN_INTERVALS,
  type FlexDirection,
  type FlexEvent,
  FlexEventIndex,
  type FlexOrderFields,
} from "../domain/flexibility/index.js";
import { flexibilityMarketAbi } from "./abis.js";
import { DEFAULT_LOG_BLOCKS_PER_READ, blockRanges } from "./forecast-history.js";

const placedEvent = flexibilityMarketAbi.find((x) => x.type === "event" && x.name === "FlexOrderPlaced")!;
const endedEvent = flexibilityMarketAbi.find((x) => x.type === "event" && x.name === "FlexOrderEnded")!;
const stepEvent = flexibilityMarketAbi.find((x) => x.type === "event" && x.name === "FlexStepSettled")!;

/** The reads the reader makes: a PublicClient, or a wrapper around one (tests count them). */
export type FlexLogClient = Pick<PublicClient, "getLogs" | "getBlock" | "getBlockNumber">;

/** The config's default `confirmations`, for callers that have no config (`verify`). */
export const DEFAULT_FLEX_REORG_DEPTH = 2n;

export interface FlexLogReaderOptions {
  /** Blocks below the head read again on every call (config `confirmations`). */
  readonly reorgDepth?: bigint;
  /** Blocks per getLogs request (default 2,000). */
  readonly blocksPerRead?: bigint;
  /** Intervals of steps kept unfolded below the highest bound asked (log-index.ts). */
  readonly retainIntervals?: bigint;
}

/** What a read sees: the fold of the settled blocks and the events of the blocks after them. */
export interface FlexLogView {
  readonly index: FlexEventIndex;
  /** Events of blocks above the fold, in chain order, not applied to `index`. */
  readonly tail: readonly FlexEvent[];
  /** The head the read went to. */
  readonly head: bigint;
}

export class FlexLogReader {
  private index: FlexEventIndex;
  /** Every block up to `number` is applied to `index`; `hash` is that block's. */
  private through: { readonly number: bigint; readonly hash: Hash } | undefined;
  /** Reads and the queries on their result run one at a time (a read mutates the index). */
  private lock: Promise<unknown> = Promise.resolve();
  private readonly blocksPerRead: bigint;
  private readonly retainIntervals: bigint;
  /** Times the fold was dropped for a reorganisation below it, and queries answered by a fresh read. */
  readonly stats = { resets: 0, freshReads: 0 };

  constructor(
    private readonly client: FlexLogClient,
    private readonly flexibilityMarket: Address,
    private readonly fromBlock: bigint,
    options: Omit<FlexLogReaderOptions, "reorgDepth"> = {},
  ) {
    if (fromBlock < 0n) throw new RangeError(`fromBlock: must not be negative, got ${fromBlock}`);
    this.blocksPerRead = options.blocksPerRead ?? DEFAULT_LOG_BLOCKS_PER_READ;
    if (this.blocksPerRead < 1n)
      throw new RangeError(`blocksPerRead: must be >= 1, got ${this.blocksPerRead}`);
    this.retainIntervals = options.retainIntervals ?? DEFAULT_FLEX_RETAIN_INTERVALS;
    this.index = new FlexEventIndex(this.retainIntervals);
  }

  /** The last block folded, if any (tests, the bench). */
  get foldedThrough(): bigint | undefined {
    return this.through?.number;
  }

  /**
   * Brings the fold up to `head − reorgDepth`, reads the blocks above it, and runs `query` on the
   * result before any other read changes the fold.
   */
  read<T>(reorgDepth: bigint, query: (view: FlexLogView) => T): Promise<T> {
    if (reorgDepth < 0n) throw new RangeError(`reorgDepth: must not be negative, got ${reorgDepth}`);
    const run = this.lock.then(async () => query(await this.update(reorgDepth)));
    this.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * `query` on a fold of every event from the start block to the head, read afresh and not kept:
   * for a bound below the cached fold's horizon (an old interval).
   */
  async readFresh<T>(query: (view: FlexLogView) => T): Promise<T> {
    this.stats.freshReads++;
    const head = await this.client.getBlockNumber({ cacheTime: 0 });
    const index = new FlexEventIndex(this.retainIntervals);
    index.apply(await this.events(this.fromBlock, head));
    return query({ index, tail: [], head });
  }

  private async update(reorgDepth: bigint): Promise<FlexLogView> {
    const head = await this.client.getBlockNumber({ cacheTime: 0 });
    const safe = head - reorgDepth;
    if (this.through !== undefined && head < this.through.number) {
      // The chain is now shorter than the fold: the blocks folded last are gone.
      this.reset();
      return this.update(reorgDepth);
    }
    // Both hashes before the logs: a reorganisation after them shows as a mismatch next call.
    const [kept, safeBlock] = await Promise.all([
      this.through === undefined ? undefined : this.client.getBlock({ blockNumber: this.through.number }),
      this.through === undefined || safe > this.through.number
        ? safe >= this.fromBlock
          ? this.client.getBlock({ blockNumber: safe })
          : undefined
        : undefined,
    ]);
    if (this.through !== undefined && kept?.hash !== this.through.hash) {
      this.reset();
      return this.update(reorgDepth);
    }
    const from = this.through === undefined ? this.fromBlock : this.through.number + 1n;
    const events = from <= head ? await this.positioned(from, head) : [];
    if (safeBlock !== undefined && safeBlock.hash !== null) {
      this.index.apply(events.filter((e) => e.blockNumber <= safe).map((e) => e.event));
      this.through = { number: safe, hash: safeBlock.hash };
    }
    const folded = this.through?.number ?? this.fromBlock - 1n;
    return {
      index: this.index,
      tail: events.filter((e) => e.blockNumber > folded).map((e) => e.event),
      head,
    };
  }

  private reset(): void {
    this.stats.resets++;
    this.index = new FlexEventIndex(this.retainIntervals);
    this.through = undefined;
  }

  private async events(from: bigint, to: bigint): Promise<FlexEvent[]> {
    return (await this.positioned(from, to)).map((e) => e.event);
  }

  /** The three events of blocks [from, to], in chain order, with their block numbers. */
  private async positioned(from: bigint, to: bigint): Promise<{ blockNumber: bigint; event: FlexEvent }[]> {
    const out: { blockNumber: bigint; event: FlexEvent }[] = [];
    for (const [a, b] of blockRanges(from, to, this.blocksPerRead)) {
      const logs = await this.client.getLogs({
        address: this.flexibilityMarket,
        events: [placedEvent, endedEvent, stepEvent],
        fromBlock: a,
        toBlock: b,
        strict: true,
      });
      // getLogs returns a range's logs in chain order, and the ranges ascend.
      for (const l of logs) {
        if (l.removed) continue;
        out.push({ blockNumber: l.blockNumber, event: decode(l.eventName, l.args) });
      }
    }
    return out;
  }
}

function decode(eventName: string, args: unknown): FlexEvent {
  if (eventName === "FlexOrderPlaced") {
    const a = args as { orderId: Hex; order: FlexOrderFields };
    return { kind: "placed", orderId: a.orderId.toLowerCase() as Hex, order: flexOrderFields(a.order) };
  }
  if (eventName === "FlexOrderEnded") {
    const a = args as { orderId: Hex; endInterval: bigint };
    return { kind: "ended", orderId: a.orderId.toLowerCase() as Hex, endInterval: a.endInterval };
  }
  const a = args as {
    orderId: Hex;
    batteryId: number;
    intervalId: bigint;
    direction: number;
    socWh: bigint;
    amount: bigint;
  };
  return {
    kind: "step",
    orderId: a.orderId.toLowerCase() as Hex,
    batteryId: a.batteryId,
    intervalId: a.intervalId,
    direction: a.direction as FlexDirection,
    socWh: a.socWh,
    amount: a.amount,
  };
}

/**
 * One reader per client, flexibility market and start block, for the life of the client (a node's
 * pipeline context; `verify` makes its own client, so its reader starts fresh).
 */
const readers = new WeakMap<FlexLogClient, Map<string, FlexLogReader>>();

export function flexLogReader(
  client: FlexLogClient,
  flexibilityMarket: Address,
  fromBlock: bigint,
): FlexLogReader {
  let byKey = readers.get(client);
  if (byKey === undefined) readers.set(client, (byKey = new Map()));
  const key = `${flexibilityMarket.toLowerCase()}:${fromBlock}`;
  let reader = byKey.get(key);
  if (reader === undefined)
    byKey.set(key, (reader = new FlexLogReader(client, flexibilityMarket, fromBlock)));
  return reader;
}
