/**
 * collect → solve: from chain logs to this node's schedule report, handed to `sign`.
 *
 * collect reads the interval's order book and grid from the chain alone, recomputes the orders
 * digest exactly as the contract folds it and checks it against `ordersDigest(intervalId)`.
 * solve runs the dispatch on a worker thread (`solveInWorker`), so the event loop that renews
 * BullMQ job locks is never blocked, and turns the canonical schedule into fill leaves, root and
 * zone prices. Every clearing rule (the instance, the zone-price floor, the schedule root, the
 * budget check) is domain/clearing.ts's; `gridbrain verify` applies the same functions.
 */
import type { Job } from "bullmq";
import type { Address, Hex, PublicClient } from "viem";
import { energyMarketAbi } from "../chain/abis.js";
import {
  type ChainOrder,
  type GridModel,
  type OrderBook,
  chainNow,
  intervalTimes,
  readCommittee,
  readGrid,
  readIntervalState,
  readOrderBook,
} from "../chain/market.js";
import { type ScheduleReport, bigintReplacer, reportToJson } from "../chain/reports.js";
import {
  type IntervalSchedule,
  assertScheduleBudget,
  clearingInstance,
  intervalSchedule,
} from "../domain/clearing.js";
import { stepWindow, windowAt } from "../domain/due-steps.js";
import { BaseError, UnrecoverableInputError } from "../domain/errors.js";
import { type DispatchInstanceInput, solveInWorker } from "../domain/dispatch/index.js";
import { type IntervalJobData, type PipelineContext, jobId, logFor } from "./context.js";
import { enqueueNext } from "./steps.js";

/** Transient: the chain is not there yet (gate still open, logs lagging); retried with backoff. */
export class NotReadyError extends BaseError {
  override name = "NotReadyError";
}

export interface CollectedInterval {
  readonly intervalId: bigint;
  readonly book: OrderBook;
  readonly grid: GridModel;
  readonly instance: DispatchInstanceInput;
}

/** Reads the order book and the grid of `intervalId` from the chain; the instance is domain/clearing.ts's rule. */
export async function collectInterval(
  client: PublicClient,
  addresses: { market: Address; registry: Address },
  intervalId: bigint,
  fromBlock: bigint,
): Promise<CollectedInterval> {
  const [book, grid] = await Promise.all([
    readOrderBook(client, addresses.market, intervalId, fromBlock),
    readGrid(client, addresses.registry),
  ]);
  return { intervalId, book, grid, instance: clearingInstance(intervalId, book.open, grid) };
}

/** The committee's report of a schedule (what `sign` signs). */
export function scheduleReport(
  market: Address,
  intervalId: bigint,
  configEpoch: bigint,
  ordersDigest: Hex,
  schedule: IntervalSchedule,
): ScheduleReport {
  return {
    market,
    intervalId,
    configEpoch,
    ordersDigest,
    scheduleRoot: schedule.scheduleRoot,
    fillCount: schedule.orders.length,
    zonePrices: schedule.zonePrices,
  };
}

export interface SolveJobData extends IntervalJobData {
  readonly ordersDigest: Hex;
  readonly zoneCount: number;
  readonly orders: readonly ChainOrderJson[];
  readonly instance: DispatchInstanceInput;
}

export type ChainOrderJson = {
  [K in keyof ChainOrder]: ChainOrder[K] extends bigint ? string : ChainOrder[K];
};

export interface ScheduleExtra {
  readonly orders: readonly ChainOrderJson[];
  readonly filledWh: readonly string[];
  readonly zonePrices: readonly string[];
}

export function ordersToJson(orders: readonly ChainOrder[]): ChainOrderJson[] {
  return JSON.parse(JSON.stringify(orders, bigintReplacer)) as ChainOrderJson[];
}

export function ordersFromJson(orders: readonly ChainOrderJson[]): ChainOrder[] {
  return orders.map((o) => ({
    ...o,
    intervalId: BigInt(o.intervalId),
    quantityWh: BigInt(o.quantityWh),
    limitPricePerKwh: BigInt(o.limitPricePerKwh),
    nonce: BigInt(o.nonce),
  }));
}

export function scheduleFromExtra(
  extra: ScheduleExtra,
): IntervalSchedule<ChainOrder> & { orders: ChainOrder[] } {
  const orders = ordersFromJson(extra.orders);
  const filledWh = extra.filledWh.map((f) => BigInt(f));
  const zonePrices = extra.zonePrices.map((p) => BigInt(p));
  return { orders, filledWh, zonePrices, scheduleRoot: "0x" as Hex };
}

export async function collectProcessor(ctx: PipelineContext, job: Job<IntervalJobData>): Promise<string> {
  const intervalId = BigInt(job.data.intervalId);
  const log = logFor(ctx, job, intervalId);
  const state = await readIntervalState(ctx.client, ctx.config.marketAddress, intervalId);
  if (state.scheduled) return "already scheduled";
  const now = await chainNow(ctx.client);
  const window = stepWindow("collect", intervalTimes(ctx.timing, intervalId), ctx.settings.meterGraceSeconds);
  const at = windowAt(window, now);
  if (at === "early")
    throw new NotReadyError("Gate closure has not passed", {
      details: `chain time ${now} < ${window.opensAt}`,
    });
  if (at === "closed")
    throw new UnrecoverableInputError("The schedule window has closed", {
      details: `chain time ${now} >= ${window.closesAt}`,
    });

  const collected = await collectInterval(
    ctx.client,
    { market: ctx.config.marketAddress, registry: ctx.config.registryAddress },
    intervalId,
    ctx.config.startBlock,
  );
  const onChain = await ctx.client.readContract({
    address: ctx.config.marketAddress,
    abi: energyMarketAbi,
    functionName: "ordersDigest",
    args: [intervalId],
  });
  if (onChain.toLowerCase() !== collected.book.ordersDigest.toLowerCase())
    // The node's RPC may lag the head; retried, then dead-lettered if it persists.
    throw new NotReadyError("Orders digest from logs differs from the contract's", {
      details: `logs ${collected.book.ordersDigest}, contract ${onChain} (${collected.book.placed.length} orders seen)`,
    });
  const instance = ctx.hooks.tamperInstance?.(collected.instance) ?? collected.instance;
  const data: SolveJobData = {
    intervalId: job.data.intervalId,
    ordersDigest: collected.book.ordersDigest,
    zoneCount: collected.grid.zoneCount,
    orders: ordersToJson(collected.book.open),
    instance,
  };
  await enqueueNext(ctx.queues, "collect", "solve", "solve", data, {
    jobId: jobId(ctx, intervalId, "solve"),
  });
  log.info(
    { orders: collected.book.open.length, ordersDigest: collected.book.ordersDigest },
    "interval collected",
  );
  return `collected ${collected.book.open.length} orders`;
}

/** Solves on a worker thread and maps the result to the market's schedule. Shared with `verify`. */
export async function solveSchedule(
  ctx: { metrics?: PipelineContext["metrics"] },
  orders: readonly ChainOrder[],
  zoneCount: number,
  instance: DispatchInstanceInput,
): Promise<IntervalSchedule<ChainOrder>> {
  const started = performance.now();
  try {
    const result = await solveInWorker(instance);
    ctx.metrics?.solveDuration.observe({ outcome: "ok" }, (performance.now() - started) / 1000);
    return intervalSchedule(orders, zoneCount, result);
  } catch (error) {
    ctx.metrics?.solveDuration.observe({ outcome: "error" }, (performance.now() - started) / 1000);
    throw error;
  }
}

export async function solveProcessor(ctx: PipelineContext, job: Job<SolveJobData>): Promise<string> {
  const intervalId = BigInt(job.data.intervalId);
  const log = logFor(ctx, job, intervalId);
  const orders = ordersFromJson(job.data.orders);
  const schedule = await solveSchedule(ctx, orders, job.data.zoneCount, job.data.instance);
  // Never sign what the contract could not settle: dead-lettered with the interval and amounts.
  assertScheduleBudget(intervalId, schedule);
  const committee = await readCommittee(ctx.client, ctx.config.committeeAddress);
  const report = scheduleReport(
    ctx.config.marketAddress,
    intervalId,
    committee.epoch,
    job.data.ordersDigest,
    schedule,
  );
  const extra: ScheduleExtra = {
    orders: job.data.orders,
    filledWh: schedule.filledWh.map(String),
    zonePrices: schedule.zonePrices.map(String),
  };
  await enqueueNext(
    ctx.queues,
    "solve",
    "sign",
    "sign",
    {
      kind: "schedule",
      intervalId: job.data.intervalId,
      report: reportToJson({ kind: "schedule", report }),
      extra,
    },
    {
      jobId: jobId(ctx, intervalId, "sign"),
    },
  );
  log.info({ scheduleRoot: schedule.scheduleRoot, zonePrices: schedule.zonePrices }, "interval solved");
  return schedule.scheduleRoot;
}

/** Recomputes the schedule of `intervalId` from chain data (for settlement after a lost Redis, and `verify`). */
export async function recomputeSchedule(
  client: PublicClient,
  addresses: { market: Address; registry: Address },
  intervalId: bigint,
  fromBlock: bigint,
  metrics?: PipelineContext["metrics"],
): Promise<{ schedule: IntervalSchedule<ChainOrder>; ordersDigest: Hex }> {
  const collected = await collectInterval(client, addresses, intervalId, fromBlock);
  const schedule = await solveSchedule(
    metrics === undefined ? {} : { metrics },
    collected.book.open,
    collected.grid.zoneCount,
    collected.instance,
  );
  return { schedule, ordersDigest: collected.book.ordersDigest };
}
