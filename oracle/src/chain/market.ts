/**
 * Typed reads of the GridBrain contracts for the oracle (viem): chain time, market timing,
 * interval state, committee, the order book of one interval from `OrderPlaced`/`OrderCancelled`
 * logs, the grid model and the meter registry. Every value is read from the chain alone, so two
 * nodes (or `gridbrain verify`) at the same block compute the same thing.
 */
import {
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  TimeoutError,
  type Transport,
  createPublicClient,
  defineChain,
  getAddress,
  http,
  zeroAddress,
} from "viem";
import type { CommitteeView } from "../domain/committee.js";
import { ENERGY_SOURCES } from "../domain/energy-source.js";
import type { MeterRegistry, MeterSource } from "../domain/meter/validate.js";
import { ordersDigest } from "../domain/schedule.js";
import { RPC_TIMEOUT_MS } from "../infra/config.js";
import { energyMarketAbi, gridRegistryAbi, oracleCommitteeAbi } from "./abis.js";

export interface ChainClients {
  readonly chain: Chain;
  readonly transport: Transport;
  readonly publicClient: PublicClient;
}

/**
 * viem's TimeoutError with the per-request timeout that ran out: viem's own says only "The request
 * took too long to respond.", and the CLI names the wait (`rpc: <url> did not answer within <ms> ms`).
 */
export class RpcTimeoutError extends TimeoutError {
  readonly timeoutMs: number;
  constructor(parameters: { body: { [key: string]: unknown }; url: string; timeoutMs: number }) {
    super({ body: parameters.body, url: parameters.url });
    this.timeoutMs = parameters.timeoutMs;
  }
}

export interface CreateChainClientsOptions {
  /** Per-request timeout (ms) of each attempt; default the configuration's (`rpcTimeoutMs`, 20 s). */
  readonly timeoutMs?: number;
}

/**
 * A viem chain + HTTP transport (JSON-RPC batching on). The transport is the node's one retry
 * layer for RPC: 5 retries from 150 ms, doubling, `timeoutMs` (20 s) per attempt. TxSender
 * broadcasts through it with the same retries and loops around no call; a fault that outlives them
 * fails the job's attempt, which BullMQ retries (infra/tx-sender.ts, "Retries"). A request whose
 * every attempt timed out throws RpcTimeoutError.
 */
export function createChainClients(
  rpcUrl: string,
  chainId: number,
  options: CreateChainClientsOptions = {},
): ChainClients {
  const timeoutMs = options.timeoutMs ?? RPC_TIMEOUT_MS.default;
  const chain = defineChain({
    id: chainId,
    name: `gridbrain-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const transport = withTimeoutMs(
    http(rpcUrl, {
      batch: { batchSize: 200, wait: 0 },
      retryCount: 5,
      retryDelay: 150,
      timeout: timeoutMs,
    }),
    timeoutMs,
  );
  const publicClient = createPublicClient({ chain, transport }) as PublicClient;
  return { chain, transport, publicClient };
}

/**
 * `transport` whose TimeoutError (thrown once its retries are spent) carries `timeoutMs`. Outside
 * the transport's retries, so they still see viem's own error and retry it as before.
 */
function withTimeoutMs(transport: Transport, timeoutMs: number): Transport {
  return (parameters) => {
    const inner = transport(parameters);
    const request: typeof inner.request = async (args, requestOptions) => {
      try {
        return await inner.request(args, requestOptions);
      } catch (error) {
        if (error instanceof TimeoutError && !(error instanceof RpcTimeoutError))
          throw new RpcTimeoutError({ body: { ...args }, url: error.url, timeoutMs });
        throw error;
      }
    };
    return { ...inner, request };
  };
}

/** Chain time: the latest block's timestamp (the demo moves it with evm_increaseTime; never the wall clock). */
export async function chainNow(client: PublicClient): Promise<bigint> {
  const block = await client.getBlock({ blockTag: "latest" });
  return block.timestamp;
}

export interface MarketTiming {
  readonly intervalSeconds: bigint;
  readonly gateClosureSeconds: bigint;
  readonly scheduleWindowSeconds: bigint;
  readonly meterWindowSeconds: bigint;
}

export async function readMarketTiming(client: PublicClient, market: Address): Promise<MarketTiming> {
  const read = (
    functionName: "intervalSeconds" | "gateClosureSeconds" | "scheduleWindowSeconds" | "meterWindowSeconds",
  ) => client.readContract({ address: market, abi: energyMarketAbi, functionName });
  const [intervalSeconds, gateClosureSeconds, scheduleWindowSeconds, meterWindowSeconds] = await Promise.all([
    read("intervalSeconds"),
    read("gateClosureSeconds"),
    read("scheduleWindowSeconds"),
    read("meterWindowSeconds"),
  ]);
  return { intervalSeconds, gateClosureSeconds, scheduleWindowSeconds, meterWindowSeconds };
}

/** The market's own time rules (EnergyMarket._gateClosure etc.). */
export function intervalTimes(t: MarketTiming, intervalId: bigint) {
  const start = intervalId * t.intervalSeconds;
  const gateClosure = start > t.gateClosureSeconds ? start - t.gateClosureSeconds : 0n;
  return {
    start,
    end: start + t.intervalSeconds,
    gateClosure,
    scheduleDeadline: gateClosure + t.scheduleWindowSeconds,
    meterDeadline: start + t.intervalSeconds + t.meterWindowSeconds,
  };
}

export interface IntervalState {
  readonly commitment: Hex;
  readonly scheduled: boolean;
  readonly fillCount: number;
  readonly settledCount: number;
  readonly meterRoot: Hex;
  /** Charged to buyers and not yet credited to the operator (token base units). */
  readonly receipts: bigint;
  /** Paid to sellers and not yet netted against receipts. */
  readonly payouts: bigint;
}

export async function readIntervalState(
  client: PublicClient,
  market: Address,
  intervalId: bigint,
): Promise<IntervalState> {
  const s = await client.readContract({
    address: market,
    abi: energyMarketAbi,
    functionName: "intervalState",
    args: [intervalId],
  });
  return {
    commitment: s.commitment,
    scheduled: s.scheduled,
    fillCount: s.fillCount,
    settledCount: s.settledCount,
    meterRoot: s.meterRoot,
    receipts: s.receipts,
    payouts: s.payouts,
  };
}

export interface CommitteeState {
  /** Ascending by address (the order signatures are passed in, and the submit rank order). */
  readonly members: readonly Address[];
  readonly threshold: number;
  readonly epoch: bigint;
}

export async function readCommittee(client: PublicClient, committee: Address): Promise<CommitteeState> {
  const [members, threshold, epoch] = await Promise.all([
    client.readContract({ address: committee, abi: oracleCommitteeAbi, functionName: "members" }),
    client.readContract({ address: committee, abi: oracleCommitteeAbi, functionName: "threshold" }),
    client.readContract({ address: committee, abi: oracleCommitteeAbi, functionName: "epoch" }),
  ]);
  const sorted = members
    .map((m) => getAddress(m))
    .sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
  return { members: sorted, threshold, epoch };
}

/** The market's committee with its pending change (`gridbrain market status`). */
export async function readCommitteeView(client: PublicClient, market: Address): Promise<CommitteeView> {
  const committee = await client.readContract({
    address: market,
    abi: energyMarketAbi,
    functionName: "committee",
  });
  const read = <F extends "members" | "threshold" | "epoch" | "changeDelay" | "pendingCommittee">(
    functionName: F,
  ) => client.readContract({ address: committee, abi: oracleCommitteeAbi, functionName });
  const [members, threshold, epoch, changeDelay, pending] = await Promise.all([
    read("members"),
    read("threshold"),
    read("epoch"),
    read("changeDelay"),
    read("pendingCommittee"),
  ]);
  const [pendingMembers, pendingThreshold, executableAt] = pending;
  return {
    epoch,
    threshold,
    members: members.map((m) => getAddress(m)),
    changeDelaySeconds: BigInt(changeDelay),
    pending:
      executableAt === 0n
        ? null
        : { threshold: pendingThreshold, members: pendingMembers.map((m) => getAddress(m)), executableAt },
  };
}

/** An order as placed on-chain (the struct `settleFills` takes back). */
export interface ChainOrder {
  readonly orderId: Hex;
  readonly owner: Address;
  readonly intervalId: bigint;
  readonly side: 0 | 1;
  readonly zoneId: number;
  readonly quantityWh: bigint;
  readonly limitPricePerKwh: bigint;
  readonly nonce: bigint;
}

export interface OrderBook {
  /** Orders open at gate closure, in placement order. One fill leaf each. */
  readonly open: readonly ChainOrder[];
  /** Every order id placed, in chain order (cancelled ones included). */
  readonly placed: readonly Hex[];
  /** The contract's running digest recomputed from `placed`: keccak256(abi.encode(prev, orderId)). */
  readonly ordersDigest: Hex;
}

const placedEvent = energyMarketAbi.find((x) => x.type === "event" && x.name === "OrderPlaced")!;
const cancelledEvent = energyMarketAbi.find((x) => x.type === "event" && x.name === "OrderCancelled")!;

/**
 * The order book of `intervalId` from logs alone (at or before `toBlock`, default latest).
 * The logs are sorted by (block, log index): the order the contract folded them into its digest.
 */
export async function readOrderBook(
  client: PublicClient,
  market: Address,
  intervalId: bigint,
  fromBlock: bigint,
  toBlock?: bigint,
): Promise<OrderBook> {
  const range = { fromBlock, ...(toBlock === undefined ? { toBlock: "latest" as const } : { toBlock }) };
  const [placedLogs, cancelledLogs] = await Promise.all([
    client.getLogs({ address: market, event: placedEvent, args: { intervalId }, ...range, strict: true }),
    client.getLogs({ address: market, event: cancelledEvent, args: { intervalId }, ...range, strict: true }),
  ]);
  const byPosition = <T extends { blockNumber: bigint | null; logIndex: number | null }>(a: T, b: T) =>
    a.blockNumber! === b.blockNumber! ? a.logIndex! - b.logIndex! : a.blockNumber! < b.blockNumber! ? -1 : 1;
  placedLogs.sort(byPosition);
  const cancelled = new Set(cancelledLogs.map((l) => l.args.orderId.toLowerCase()));
  const placed: Hex[] = [];
  const open: ChainOrder[] = [];
  for (const log of placedLogs) {
    const a = log.args;
    placed.push(a.orderId);
    if (cancelled.has(a.orderId.toLowerCase())) continue;
    open.push({
      orderId: a.orderId.toLowerCase() as Hex,
      owner: getAddress(a.owner),
      intervalId: a.intervalId,
      side: a.side === 0 ? 0 : 1,
      zoneId: a.zoneId,
      quantityWh: a.quantityWh,
      limitPricePerKwh: a.limitPricePerKwh,
      nonce: a.nonce,
    });
  }
  return { open, placed, ordersDigest: ordersDigest(placed) };
}

export interface GridLine {
  readonly a: number;
  readonly b: number;
  readonly capacityWh: bigint;
  readonly lossBps: number;
  /** Fee per kWh sent, either direction: the higher of the two directional registry fees (see docs/ORACLE.md). */
  readonly feePerKwh: bigint;
}

export interface GridModel {
  readonly zoneCount: number;
  readonly lines: readonly GridLine[];
}

/** Zones and lines from the registry views (every zone pair; fine for the tens of zones of a distribution grid). */
export async function readGrid(client: PublicClient, registry: Address): Promise<GridModel> {
  const zoneCount = await client.readContract({
    address: registry,
    abi: gridRegistryAbi,
    functionName: "zoneCount",
  });
  const pairs: [number, number][] = [];
  for (let a = 0; a < zoneCount; a++) for (let b = a + 1; b < zoneCount; b++) pairs.push([a, b]);
  const lines = await Promise.all(
    pairs.map(async ([a, b]) => {
      const [line, ab, ba] = await Promise.all([
        client.readContract({
          address: registry,
          abi: gridRegistryAbi,
          functionName: "lineBetween",
          args: [a, b],
        }),
        client.readContract({
          address: registry,
          abi: gridRegistryAbi,
          functionName: "gridFee",
          args: [a, b],
        }),
        client.readContract({
          address: registry,
          abi: gridRegistryAbi,
          functionName: "gridFee",
          args: [b, a],
        }),
      ]);
      if (!line.exists) return undefined;
      return { a, b, capacityWh: line.capacityWh, lossBps: line.lossBps, feePerKwh: ab > ba ? ab : ba };
    }),
  );
  return { zoneCount, lines: lines.filter((l): l is GridLine => l !== undefined) };
}

/** The grid's role in one zone (`GridRegistry.zoneGrid`): its account (zero if none) and tariffs. */
export interface ZoneGrid {
  readonly account: Address;
  readonly retailPerKwh: bigint;
  readonly feedInPerKwh: bigint;
}

/** Every zone's grid account and tariffs, index = zone id. */
export async function readZoneGrids(
  client: PublicClient,
  registry: Address,
  blockNumber?: bigint,
): Promise<ZoneGrid[]> {
  const at = blockNumber === undefined ? {} : { blockNumber };
  const zoneCount = await client.readContract({
    address: registry,
    abi: gridRegistryAbi,
    functionName: "zoneCount",
    ...at,
  });
  return Promise.all(
    Array.from({ length: zoneCount }, async (_, z) => {
      const g = await client.readContract({
        address: registry,
        abi: gridRegistryAbi,
        functionName: "zoneGrid",
        args: [z],
        ...at,
      });
      return { account: getAddress(g.account), retailPerKwh: g.retailPerKwh, feedInPerKwh: g.feedInPerKwh };
    }),
  );
}

/**
 * Each participant's registered zone (`GridRegistry.participantZone`, at `blockNumber` if given), or
 * undefined when it has none; keys checksummed. The reads are independent: issued together, the
 * transport batches them.
 */
export async function readParticipantZones(
  client: PublicClient,
  registry: Address,
  participants: readonly Address[],
  blockNumber?: bigint,
): Promise<Map<Address, number | undefined>> {
  const zones = await Promise.all(
    participants.map(async (participant) => {
      const [registered, zone] = await client.readContract({
        address: registry,
        abi: gridRegistryAbi,
        functionName: "participantZone",
        args: [participant],
        ...(blockNumber === undefined ? {} : { blockNumber }),
      });
      return [getAddress(participant), registered ? Number(zone) : undefined] as const;
    }),
  );
  return new Map(zones);
}

/** The grid's accounts (non-zero), checksummed: the balancing parties, never metered nor settled for imbalance. */
export function gridAccounts(grids: readonly ZoneGrid[]): Set<Address> {
  return new Set(grids.map((g) => g.account).filter((a) => a !== zeroAddress));
}

/** The registered meters (MeterRegistered / MeterRemoved logs up to `toBlock`, default latest, replayed in chain order). */
export async function readMeterRegistry(
  client: PublicClient,
  registry: Address,
  fromBlock: bigint,
  toBlock?: bigint,
): Promise<MeterRegistry> {
  const registered = gridRegistryAbi.find((x) => x.type === "event" && x.name === "MeterRegistered")!;
  const removed = gridRegistryAbi.find((x) => x.type === "event" && x.name === "MeterRemoved")!;
  const logs = await client.getLogs({
    address: registry,
    events: [registered, removed],
    fromBlock,
    toBlock: toBlock ?? "latest",
    strict: true,
  });
  logs.sort((a, b) =>
    a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1,
  );
  const meters = new Map<Address, { participant: Address; source: MeterSource }>();
  for (const log of logs) {
    if (log.eventName === "MeterRegistered") {
      const args = log.args as { meter: Address; participant: Address; source: number };
      meters.set(getAddress(args.meter), {
        participant: getAddress(args.participant),
        source: ENERGY_SOURCES[args.source] ?? "other",
      });
    } else {
      meters.delete(getAddress((log.args as { meter: Address }).meter));
    }
  }
  return meters;
}

/**
 * The batteries registered in GridRegistry at `blockNumber` (default latest), ascending id; a
 * removed battery keeps its id with a zero owner and is left out. The reads are issued together.
 */
export async function readRegisteredBatteries(client: PublicClient, registry: Address, blockNumber?: bigint) {
  const at = blockNumber === undefined ? {} : { blockNumber };
  const count = await client.readContract({
    address: registry,
    abi: gridRegistryAbi,
    functionName: "batteryCount",
    ...at,
  });
  const batteries = await Promise.all(
    Array.from({ length: Number(count) }, async (_, id) => ({
      id,
      battery: await client.readContract({
        address: registry,
        abi: gridRegistryAbi,
        functionName: "battery",
        args: [id],
        ...at,
      }),
    })),
  );
  return batteries.filter(({ battery }) => battery.owner !== zeroAddress);
}

/** The owners of the registered batteries (checksummed): the meter report's surplus leaves them out. */
export async function readBatteryOwners(
  client: PublicClient,
  registry: Address,
  blockNumber?: bigint,
): Promise<Set<Address>> {
  const batteries = await readRegisteredBatteries(client, registry, blockNumber);
  return new Set(batteries.map(({ battery }) => getAddress(battery.owner)));
}
