/**
 * The meter ingest store: one Redis hash per (chain, market, interval) holding the accepted
 * reading of each meter, and one `meter-rejected` list holding every rejected item with its
 * reason (validation failures and conflicts alike): nothing submitted is lost.
 *
 * `put` runs as one Lua script, so two nodes or two requests racing on the same meter cannot
 * both win: the first reading is stored; a repeat with the same values is an idempotent
 * duplicate; a different reading for the same meter and interval marks the meter as conflicting
 * and moves both versions to `meter-rejected` (neither can be trusted), and later readings for
 * that meter and interval are rejected as conflicting too.
 *
 * Keys (all under `prefix`, so `{gridbrain}` keeps them in one Redis Cluster slot):
 *   <prefix>:meter:<chainId>:<market>:<intervalId>  hash  meter → JSON reading | conflict marker
 *   <prefix>:meter-rejected                         list  JSON { reason, code, reading, rejectedAt }
 */
import { Redis } from "ioredis";
import { type Address, getAddress, type Hex } from "viem";
import type { Logger } from "./logging.js";
import type { SignedMeterReading } from "../domain/meter/reading.js";
import {
  type MeterValidationContext,
  type MeterRejectionCode,
  verifyMeterReadings,
} from "../domain/meter/validate.js";

const PUT_SCRIPT = `
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if not existing then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 'accepted'
end
local old = cjson.decode(existing)
local new = cjson.decode(ARGV[2])
if old.conflict then
  redis.call('RPUSH', KEYS[2], cjson.encode({ code = 'conflict', reason = ARGV[3], reading = new, rejectedAt = ARGV[4] }))
  return 'conflict'
end
if old.injectedWh == new.injectedWh and old.consumedWh == new.consumedWh then
  return 'duplicate'
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({ conflict = true }))
redis.call('RPUSH', KEYS[2], cjson.encode({ code = 'conflict', reason = ARGV[3], reading = old, rejectedAt = ARGV[4] }))
redis.call('RPUSH', KEYS[2], cjson.encode({ code = 'conflict', reason = ARGV[3], reading = new, rejectedAt = ARGV[4] }))
return 'conflict'
`;

export type PutOutcome = "accepted" | "duplicate" | "conflict";

export interface RejectedRecord {
  readonly code: string;
  readonly reason: string;
  readonly reading: unknown;
  readonly rejectedAt: string;
}

interface StoredReading {
  readonly meter: string;
  readonly intervalId: string;
  readonly injectedWh: string;
  readonly consumedWh: string;
  readonly signature: string;
  readonly receivedAt: string;
}

export interface MeterStoreParameters {
  /** A connection to use (not closed by the store) or a URL to open one (closed by `close`). */
  readonly redis: Redis | string;
  readonly prefix: string;
  readonly chainId: number;
  readonly market: Address;
  readonly logger?: Logger;
  /** Clock for `receivedAt` / `rejectedAt` (default Date.now). */
  readonly now?: () => number;
}

export class MeterStore {
  private readonly redis: Redis;
  private readonly ownsConnection: boolean;
  private readonly prefix: string;
  private readonly chainId: number;
  private readonly market: Address;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;
  private closing: Promise<void> | undefined;

  constructor(params: MeterStoreParameters) {
    this.ownsConnection = typeof params.redis === "string";
    this.redis =
      typeof params.redis === "string"
        ? new Redis(params.redis, { maxRetriesPerRequest: null })
        : params.redis;
    if (this.ownsConnection)
      this.redis.on("error", (e) => this.logger?.warn({ err: e }, "meter store redis error"));
    this.prefix = params.prefix;
    this.chainId = params.chainId;
    this.market = getAddress(params.market);
    this.logger = params.logger;
    this.now = params.now ?? Date.now;
    this.redis.defineCommand("gridbrainMeterPut", { numberOfKeys: 2, lua: PUT_SCRIPT });
  }

  intervalKey(intervalId: bigint): string {
    return `${this.prefix}:meter:${this.chainId}:${this.market.toLowerCase()}:${intervalId}`;
  }

  get rejectedKey(): string {
    return `${this.prefix}:meter-rejected`;
  }

  /** Stores one validated reading atomically (see the module comment for the outcomes). */
  async put(reading: SignedMeterReading): Promise<PutOutcome> {
    const value: StoredReading = {
      meter: reading.meter,
      intervalId: reading.intervalId.toString(),
      injectedWh: reading.injectedWh.toString(),
      consumedWh: reading.consumedWh.toString(),
      signature: reading.signature,
      receivedAt: new Date(this.now()).toISOString(),
    };
    const reason = `meter ${reading.meter} sent conflicting readings for interval ${reading.intervalId}`;
    const outcome = (await (
      this.redis as unknown as { gridbrainMeterPut: (...args: string[]) => Promise<string> }
    ).gridbrainMeterPut(
      this.intervalKey(reading.intervalId),
      this.rejectedKey,
      reading.meter,
      JSON.stringify(value),
      reason,
      new Date(this.now()).toISOString(),
    )) as PutOutcome;
    if (outcome === "conflict")
      this.logger?.warn({ meter: reading.meter, intervalId: reading.intervalId }, "meter reading conflict");
    return outcome;
  }

  /** Appends rejected items (with their reasons) to `meter-rejected`. */
  async recordRejected(
    items: ReadonlyArray<{ code: string; reason: string; reading: unknown }>,
  ): Promise<void> {
    if (items.length === 0) return;
    const rejectedAt = new Date(this.now()).toISOString();
    const records = items.map((i) =>
      JSON.stringify({ code: i.code, reason: i.reason, reading: i.reading, rejectedAt }, (_k, v: unknown) =>
        typeof v === "bigint" ? v.toString() : v,
      ),
    );
    await this.redis.rpush(this.rejectedKey, ...records);
    for (const i of items) this.logger?.info({ code: i.code, reason: i.reason }, "meter reading rejected");
  }

  /** The accepted (non-conflicting) readings of an interval, sorted by meter address. */
  async readings(intervalId: bigint): Promise<SignedMeterReading[]> {
    const all = await this.redis.hgetall(this.intervalKey(intervalId));
    const out: SignedMeterReading[] = [];
    for (const raw of Object.values(all)) {
      const v = JSON.parse(raw) as StoredReading | { conflict: true };
      if ("conflict" in v) continue;
      out.push({
        meter: getAddress(v.meter),
        intervalId: BigInt(v.intervalId),
        injectedWh: BigInt(v.injectedWh),
        consumedWh: BigInt(v.consumedWh),
        signature: v.signature as Hex,
      });
    }
    return out.sort((a, b) => (a.meter.toLowerCase() < b.meter.toLowerCase() ? -1 : 1));
  }

  /** Meters of an interval marked conflicting. */
  async conflictingMeters(intervalId: bigint): Promise<Address[]> {
    const all = await this.redis.hgetall(this.intervalKey(intervalId));
    return Object.entries(all)
      .filter(([, raw]) => "conflict" in (JSON.parse(raw) as object))
      .map(([m]) => getAddress(m));
  }

  /** Rejected records, oldest first. */
  async rejected(start = 0, stop = -1): Promise<RejectedRecord[]> {
    return (await this.redis.lrange(this.rejectedKey, start, stop)).map(
      (r) => JSON.parse(r) as RejectedRecord,
    );
  }

  close(): Promise<void> {
    this.closing ??= this.ownsConnection
      ? this.redis.quit().then(
          () => undefined,
          () => this.redis.disconnect(),
        )
      : Promise.resolve();
    return this.closing;
  }
}

export type IngestItemStatus =
  | { readonly index: number; readonly status: "accepted" }
  | { readonly index: number; readonly status: "duplicate" }
  | {
      readonly index: number;
      readonly status: "rejected";
      readonly code: MeterRejectionCode;
      readonly reason: string;
    };

export interface IngestResult {
  readonly accepted: number;
  readonly rejected: number;
  readonly items: readonly IngestItemStatus[];
}

export const MAX_INGEST_BATCH = 5_000;

/**
 * Validates a batch (domain rules) and stores it: every item gets a status, every rejection is
 * recorded in `meter-rejected`. `context` is evaluated per call (registry and clock change).
 */
export async function ingestMeterReadings(
  store: MeterStore,
  items: readonly unknown[],
  context: MeterValidationContext,
): Promise<IngestResult> {
  const result = await verifyMeterReadings(items, context);
  const statuses: IngestItemStatus[] = [];
  const toRecord: { code: string; reason: string; reading: unknown }[] = [];
  for (const r of result.rejected) {
    statuses.push({ index: r.index, status: "rejected", code: r.code, reason: r.reason });
    toRecord.push({ code: r.code, reason: r.reason, reading: r.input });
  }
  for (const d of result.duplicates) statuses.push({ index: d.index, status: "duplicate" });
  // Sequential on purpose: the order of puts decides which item of a conflicting pair came first.
  for (const a of result.accepted) {
    const outcome = await store.put(a.reading);
    if (outcome === "conflict")
      statuses.push({
        index: a.index,
        status: "rejected",
        code: "conflict",
        reason: `meter ${a.reading.meter} already sent a different reading for interval ${a.reading.intervalId}; both are rejected`,
      });
    else statuses.push({ index: a.index, status: outcome });
  }
  await store.recordRejected(toRecord);
  statuses.sort((x, y) => x.index - y.index);
  return {
    accepted: statuses.filter((s) => s.status !== "rejected").length,
    rejected: statuses.filter((s) => s.status === "rejected").length,
    items: statuses,
  };
}
