/**
 * The forecast's history from the chain alone (docs/DISPATCH.md, "Forecasts"): for each zone and
 * each interval t in [i − history, i], the inflexible orders of t (`OrderPlaced` minus
 * `OrderCancelled`, the grid's orders left out) aggregated by `observeOrders`. Every node that
 * reads the same chain up to the same confirmed block gets the same records, and the same list of
 * the records it could not read, so `forecastForInterval` builds the same forecast on every node.
 *
 * Interval i itself is read too: at its gate closure its book is final, and the forecast's
 * persistence (and solarShape's base) is interval i (`forecastZones` with firstInterval = i + 1).
 */
import { type Address, type PublicClient, getAddress, zeroAddress } from "viem";
import { ENERGY_SOURCES } from "../domain/energy-source.js";
import { BaseError, UnrecoverableInputError } from "../domain/errors.js";
import { type ZoneIntervalObservation, observeOrders } from "../domain/forecast/index.js";
import { METER_SURPLUS_LAG, type ZoneMeterSurplus } from "../domain/forecast/meter-surplus.js";
import { energyMarketAbi, gridRegistryAbi } from "./abis.js";

/** Two days of 15-minute intervals: `yesterday` for leads up to a day, and two days back beyond. */
export const DEFAULT_FORECAST_HISTORY = 192;

/** Largest getLogs range, as the chain watcher's (providers cap it, commonly at 2,000 blocks). */
export const DEFAULT_LOG_BLOCKS_PER_READ = 2_000n;

/** The reads this module makes: a PublicClient, or a wrapper around one (tests inject faults). */
export type ForecastHistoryClient = Pick<PublicClient, "getLogs" | "getBlock" | "readContract">;

export interface ReadForecastHistoryParameters {
  readonly client: ForecastHistoryClient;
  readonly market: Address;
  readonly registry: Address;
  /**
   * First block read (config `startBlock`: the market's deployment). Orders can be placed any
   * time before their gate closes, so every node must read from the same block.
   */
  readonly startBlock: bigint;
  /**
   * Last block read: the caller's confirmed head, a block every honest node agrees on. Records of
   * intervals whose gate closed after its timestamp are absent (their book was not final there).
   */
  readonly toBlock: bigint;
  /** The interval being committed (i). */
  readonly interval: bigint;
  /** Past intervals read before i (default 192 = 2 days of 15 minutes). */
  readonly history?: number;
  /** The neighbourhood's location (config), passed through for solarShape. */
  readonly location: { readonly latitudeDeg: number; readonly longitudeDeg: number };
  /** Blocks per getLogs request (default 2,000). */
  readonly blocksPerRead?: bigint;
}

/** Why an interval's records are absent. */
export type AbsentReason =
  /** Its gate closed at or before the start block: the market had no book for it there. */
  | "before-start"
  /**
   * Before the first interval anyone (the grid accounts aside) placed an order for, among those
   * read: the market was not in use yet, so an empty book says nothing about demand or supply
   * (a fresh market's `yesterday` would otherwise forecast no demand at all for a whole day).
   */
  | "before-first-order"
  /** Its gate had not closed at `toBlock`: its book was not final. */
  | "gate-open"
  /** A log range that could hold its orders failed to read (RPC error after the transport's retries). */
  | "read-failed"
  /** An order's quantity or price, or a sum of them, is not a safe integer. */
  | "out-of-range";

export interface AbsentInterval {
  readonly intervalId: number;
  readonly reason: AbsentReason;
}

export interface FailedLogRange {
  readonly fromBlock: bigint;
  readonly toBlock: bigint;
  readonly message: string;
}

export interface ForecastHistory {
  /** i. */
  readonly interval: number;
  /** Every zone of the registry at `toBlock`, ascending. */
  readonly zones: readonly number[];
  readonly intervalSeconds: number;
  /** One record per zone and read interval, sorted by (interval, zone). */
  readonly observations: readonly ZoneIntervalObservation[];
  /** Intervals of [i − history, i] without records, ascending, with the reason. */
  readonly absentIntervals: readonly AbsentInterval[];
  /**
   * Zones with at least one registered solar meter at `toBlock`. The registry records no PV
   * capacity; solarShape needs none (it scales by s(t)/s(i)), only whether a zone has PV.
   */
  readonly solarZones: readonly number[];
  readonly location: { readonly latitudeDeg: number; readonly longitudeDeg: number };
  /** The log ranges that failed (for the node's log); their intervals are in `absentIntervals`. */
  readonly failedRanges: readonly FailedLogRange[];
  /**
   * The committed meter reports' surplus estimates (`MeterReportCommitted.zoneSurplusWh`) of
   * [i − history, i − METER_SURPLUS_LAG], one row per zone of each report committed in a block
   * before gateClosure(i), sorted by (interval, zone): the reports every node had at the gate,
   * whenever it reads (forecast/meter-surplus.ts). A failed read of them is in `failedRanges`.
   */
  readonly meterSurplus: readonly ZoneMeterSurplus[];
}

/** A read the history cannot do without (block headers, market timing, zones, grid accounts, meters). */
export class ForecastHistoryReadError extends BaseError {
  override name = "ForecastHistoryReadError";
}

const placedEvent = energyMarketAbi.find((x) => x.type === "event" && x.name === "OrderPlaced")!;
const cancelledEvent = energyMarketAbi.find((x) => x.type === "event" && x.name === "OrderCancelled")!;
const meterReportEvent = energyMarketAbi.find(
  (x) => x.type === "event" && x.name === "MeterReportCommitted",
)!;
const meterRegisteredEvent = gridRegistryAbi.find((x) => x.type === "event" && x.name === "MeterRegistered")!;
const meterRemovedEvent = gridRegistryAbi.find((x) => x.type === "event" && x.name === "MeterRemoved")!;

interface Positioned {
  readonly blockNumber: bigint;
  readonly logIndex: number;
}
const byPosition = (a: Positioned, b: Positioned) =>
  a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1;

function invalid(field: string, reason: string): never {
  throw new UnrecoverableInputError("invalid forecast history parameters", {
    details: `${field}: ${reason}`,
    field,
  });
}

async function required<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (cause) {
    throw new ForecastHistoryReadError("forecast history: could not read " + what, {
      details: cause instanceof Error ? cause.message.split("\n")[0] : String(cause),
      cause,
    });
  }
}

/** [from, to] cut into ranges of at most `size` blocks. */
export function blockRanges(from: bigint, to: bigint, size: bigint): [bigint, bigint][] {
  const out: [bigint, bigint][] = [];
  for (let a = from; a <= to; a += size) out.push([a, a + size - 1n < to ? a + size - 1n : to]);
  return out;
}

/**
 * Reads the forecast's history for interval i. Records of intervals whose log ranges could not be
 * read are absent, never zeros; which ones, and why, is in `absentIntervals` (the forecast's
 * documented fallback then applies to them). Throws `UnrecoverableInputError` naming the field on
 * bad parameters, and `ForecastHistoryReadError` when a read it cannot do without fails (the
 * headers of `startBlock`/`toBlock`, the market's timing, the registry's zones, grid accounts and
 * solar meters): the job's retry handles those.
 */
export async function readForecastHistory(p: ReadForecastHistoryParameters): Promise<ForecastHistory> {
  const history = p.history ?? DEFAULT_FORECAST_HISTORY;
  const blocksPerRead = p.blocksPerRead ?? DEFAULT_LOG_BLOCKS_PER_READ;
  if (!Number.isSafeInteger(history) || history < 0)
    invalid("history", `must be a non-negative integer, got ${history}`);
  if (blocksPerRead < 1n) invalid("blocksPerRead", `must be at least 1, got ${blocksPerRead}`);
  if (p.startBlock < 0n) invalid("startBlock", `must not be negative, got ${p.startBlock}`);
  if (p.toBlock < p.startBlock)
    invalid("toBlock", `must not be before startBlock ${p.startBlock}, got ${p.toBlock}`);
  if (p.interval < 0n || p.interval > BigInt(Number.MAX_SAFE_INTEGER))
    invalid("interval", `must be a non-negative safe integer, got ${p.interval}`);
  const { client, market, registry } = p;
  const at = { blockNumber: p.toBlock };

  // Everything else is read at toBlock, so a later head cannot change what this call sees.
  const [startTime, headTime, intervalSeconds, gateClosureSeconds, zoneCount] = await required(
    "block headers, market timing and zone count",
    () =>
      Promise.all([
        client.getBlock({ blockNumber: p.startBlock }).then((b) => b.timestamp),
        client.getBlock({ blockNumber: p.toBlock }).then((b) => b.timestamp),
        client.readContract({
          address: market,
          abi: energyMarketAbi,
          functionName: "intervalSeconds",
          ...at,
        }),
        client.readContract({
          address: market,
          abi: energyMarketAbi,
          functionName: "gateClosureSeconds",
          ...at,
        }),
        client.readContract({ address: registry, abi: gridRegistryAbi, functionName: "zoneCount", ...at }),
      ]),
  );
  const zones = Array.from({ length: Number(zoneCount) }, (_, z) => z);
  const gridAccounts = new Set(
    (
      await required("the zones' grid accounts", () =>
        Promise.all(
          zones.map((z) =>
            client.readContract({
              address: registry,
              abi: gridRegistryAbi,
              functionName: "zoneGrid",
              args: [z],
              ...at,
            }),
          ),
        ),
      )
    )
      .map((g) => getAddress(g.account))
      .filter((a) => a !== zeroAddress),
  );
  // EnergyMarket._gateClosure.
  const gateClosure = (t: bigint) => {
    const start = t * intervalSeconds;
    return start > gateClosureSeconds ? start - gateClosureSeconds : 0n;
  };

  const i = p.interval;
  const first = i - BigInt(history) > 0n ? i - BigInt(history) : 0n;
  const absent = new Map<bigint, AbsentReason>();
  const wanted: bigint[] = [];
  for (let t = first; t <= i; t++) {
    // No order of t can be placed at or after its gate closure (EnergyMarket._requireGateOpen).
    if (gateClosure(t) <= startTime) absent.set(t, "before-start");
    else if (gateClosure(t) > headTime) absent.set(t, "gate-open");
    else wanted.push(t);
  }

  type PlacedLog = Positioned & {
    kind: "placed";
    orderId: string;
    owner: Address;
    intervalId: bigint;
    side: number;
    zoneId: number;
    quantityWh: bigint;
    limitPricePerKwh: bigint;
  };
  type CancelledLog = Positioned & { kind: "cancelled"; orderId: string; intervalId: bigint };
  const logs: (PlacedLog | CancelledLog)[] = [];
  const failedRanges: FailedLogRange[] = [];
  if (wanted.length > 0) {
    const range = (a: bigint, b: bigint) => ({
      address: market,
      fromBlock: a,
      toBlock: b,
      strict: true as const,
    });
    for (const [a, b] of blockRanges(p.startBlock, p.toBlock, blocksPerRead)) {
      try {
        // The interval id is an indexed topic: the node returns only the wanted intervals' logs.
        const [placed, cancelled] = await Promise.all([
          client.getLogs({ ...range(a, b), event: placedEvent, args: { intervalId: wanted } }),
          client.getLogs({ ...range(a, b), event: cancelledEvent, args: { intervalId: wanted } }),
        ]);
        for (const l of placed)
          if (!l.removed)
            logs.push({
              kind: "placed",
              blockNumber: l.blockNumber,
              logIndex: l.logIndex,
              orderId: l.args.orderId.toLowerCase(),
              owner: getAddress(l.args.owner),
              intervalId: l.args.intervalId,
              side: l.args.side,
              zoneId: l.args.zoneId,
              quantityWh: l.args.quantityWh,
              limitPricePerKwh: l.args.limitPricePerKwh,
            });
        for (const l of cancelled)
          if (!l.removed)
            logs.push({
              kind: "cancelled",
              blockNumber: l.blockNumber,
              logIndex: l.logIndex,
              orderId: l.args.orderId.toLowerCase(),
              intervalId: l.args.intervalId,
            });
      } catch (error) {
        failedRanges.push({
          fromBlock: a,
          toBlock: b,
          message: error instanceof Error ? error.message.split("\n")[0]! : String(error),
        });
        // The range could hold orders of every interval whose gate was still open at its first
        // block; without that block's time, of every interval read.
        let since: bigint | undefined;
        try {
          since = (await client.getBlock({ blockNumber: a })).timestamp;
        } catch {
          since = undefined;
        }
        for (const t of wanted)
          if (since === undefined || gateClosure(t) > since) absent.set(t, "read-failed");
      }
    }
  }

  // Replayed in chain order, so an order id placed again after a cancel (same fields and nonce)
  // counts as open, whatever order the node returned the logs in.
  logs.sort(byPosition);
  const open = new Map<string, PlacedLog>();
  for (const log of logs) {
    if (log.kind === "placed") open.set(log.orderId, log);
    else open.delete(log.orderId);
  }
  const byInterval = new Map<bigint, PlacedLog[]>();
  for (const order of open.values()) {
    if (gridAccounts.has(order.owner)) continue;
    const list = byInterval.get(order.intervalId);
    if (list === undefined) byInterval.set(order.intervalId, [order]);
    else list.push(order);
  }

  // The market's first interval in use: any order placed for it, even one cancelled later.
  let firstOrdered: bigint | undefined;
  for (const log of logs)
    if (log.kind === "placed" && !gridAccounts.has(log.owner))
      if (firstOrdered === undefined || log.intervalId < firstOrdered) firstOrdered = log.intervalId;

  const observations: ZoneIntervalObservation[] = [];
  for (const t of wanted) {
    if (absent.has(t)) continue;
    // With a range unread the first order may be in it: then only `read-failed` applies (and the
    // live collect retries rather than forecast from such a history).
    if (failedRanges.length === 0 && (firstOrdered === undefined || t < firstOrdered)) {
      absent.set(t, "before-first-order");
      continue;
    }
    const orders = byInterval.get(t) ?? [];
    const safe = (v: bigint) => v <= BigInt(Number.MAX_SAFE_INTEGER);
    if (!orders.every((o) => safe(o.quantityWh) && safe(o.limitPricePerKwh))) {
      absent.set(t, "out-of-range");
      continue;
    }
    const records = observeOrders(
      Number(t),
      zones,
      orders.map((o) => ({
        zone: o.zoneId,
        side: o.side === 0 ? ("bid" as const) : ("offer" as const),
        quantityWh: Number(o.quantityWh),
        limitPricePerKwh: Number(o.limitPricePerKwh),
      })),
    );
    if (!records.every((r) => Number.isSafeInteger(r.bidWh) && Number.isSafeInteger(r.offerWh))) {
      absent.set(t, "out-of-range");
      continue;
    }
    observations.push(...records);
  }

  const solarZones = await readSolarZones(client, registry, p.startBlock, p.toBlock, blocksPerRead);
  const meterSurplus = await readMeterSurplus(
    client,
    market,
    p.startBlock,
    p.toBlock,
    blocksPerRead,
    first,
    i - BigInt(METER_SURPLUS_LAG),
    gateClosure(i),
    failedRanges,
  );
  return {
    interval: Number(i),
    zones,
    intervalSeconds: Number(intervalSeconds),
    observations,
    absentIntervals: [...absent]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([t, reason]) => ({ intervalId: Number(t), reason })),
    solarZones,
    location: { latitudeDeg: p.location.latitudeDeg, longitudeDeg: p.location.longitudeDeg },
    failedRanges,
    meterSurplus,
  };
}

/**
 * The surplus estimates of the meter reports of [from, to] committed in blocks before `cutoff`
 * (gateClosure(i)). Block timestamps never decrease along the chain, so only the newest blocks
 * are looked up, until one is before the cutoff. A failed log range is added to `failedRanges`
 * (once), which makes the live collect retry rather than plan without a report its peers read.
 */
async function readMeterSurplus(
  client: ForecastHistoryClient,
  market: Address,
  startBlock: bigint,
  toBlock: bigint,
  blocksPerRead: bigint,
  from: bigint,
  to: bigint,
  cutoff: bigint,
  failedRanges: FailedLogRange[],
): Promise<ZoneMeterSurplus[]> {
  if (to < from) return [];
  const wanted: bigint[] = [];
  for (let t = from; t <= to; t++) wanted.push(t);
  const reports: (Positioned & { intervalId: bigint; zoneSurplusWh: readonly bigint[] })[] = [];
  for (const [a, b] of blockRanges(startBlock, toBlock, blocksPerRead)) {
    try {
      const logs = await client.getLogs({
        address: market,
        event: meterReportEvent,
        args: { intervalId: wanted },
        fromBlock: a,
        toBlock: b,
        strict: true,
      });
      for (const l of logs)
        if (!l.removed)
          reports.push({
            blockNumber: l.blockNumber,
            logIndex: l.logIndex,
            intervalId: l.args.intervalId,
            zoneSurplusWh: l.args.zoneSurplusWh,
          });
    } catch (error) {
      // Listed once: the orders' read of the same range may have failed too.
      if (!failedRanges.some((r) => r.fromBlock === a && r.toBlock === b))
        failedRanges.push({
          fromBlock: a,
          toBlock: b,
          message: error instanceof Error ? error.message.split("\n")[0]! : String(error),
        });
    }
  }
  reports.sort(byPosition);
  const late = new Set<bigint>();
  for (let k = reports.length - 1; k >= 0; k--) {
    const block = reports[k]!.blockNumber;
    if (late.has(block)) continue;
    const { timestamp } = await required(`block ${block}'s header`, () =>
      client.getBlock({ blockNumber: block }),
    );
    if (timestamp < cutoff) break;
    late.add(block);
  }
  const rows: ZoneMeterSurplus[] = [];
  for (const r of reports) {
    if (late.has(r.blockNumber)) continue;
    r.zoneSurplusWh.forEach((surplusWh, zone) => {
      // A report's surplus is a sum of uint64 meter readings; beyond 2^53 it is not a forecast input.
      if (surplusWh <= BigInt(Number.MAX_SAFE_INTEGER))
        rows.push({ intervalId: Number(r.intervalId), zone, surplusWh: Number(surplusWh) });
    });
  }
  return rows.sort((x, y) => x.intervalId - y.intervalId || x.zone - y.zone);
}

/**
 * Zones where a participant has a registered solar meter at `toBlock` (MeterRegistered /
 * MeterRemoved replayed in chain order, zones from `participantZone` at `toBlock`).
 */
async function readSolarZones(
  client: ForecastHistoryClient,
  registry: Address,
  startBlock: bigint,
  toBlock: bigint,
  blocksPerRead: bigint,
): Promise<number[]> {
  const solar = ENERGY_SOURCES.indexOf("solar");
  const logs: (Positioned & { meter: Address; participant: Address; source: number | undefined })[] = [];
  for (const [a, b] of blockRanges(startBlock, toBlock, blocksPerRead)) {
    const found = await required(`the registry's meter logs in blocks ${a}–${b}`, () =>
      client.getLogs({
        address: registry,
        events: [meterRegisteredEvent, meterRemovedEvent],
        fromBlock: a,
        toBlock: b,
        strict: true,
      }),
    );
    for (const l of found) {
      if (l.removed) continue;
      const args = l.args as { meter: Address; participant: Address; source?: number };
      logs.push({
        blockNumber: l.blockNumber,
        logIndex: l.logIndex,
        meter: getAddress(args.meter),
        participant: getAddress(args.participant),
        source: l.eventName === "MeterRegistered" ? args.source : undefined,
      });
    }
  }
  logs.sort(byPosition);
  const meters = new Map<Address, { participant: Address; source: number }>();
  for (const l of logs) {
    if (l.source === undefined) meters.delete(l.meter);
    else meters.set(l.meter, { participant: l.participant, source: l.source });
  }
  const participants = [
    ...new Set([...meters.values()].filter((m) => m.source === solar).map((m) => m.participant)),
  ];
  const zones = await required("the solar meters' participant zones", () =>
    Promise.all(
      participants.map((participant) =>
        client.readContract({
          address: registry,
          abi: gridRegistryAbi,
          functionName: "participantZone",
          args: [participant],
          blockNumber: toBlock,
        }),
      ),
    ),
  );
  return [...new Set(zones.filter(([registered]) => registered).map(([, zone]) => Number(zone)))].sort(
    (a, b) => a - b,
  );
}
