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
import { type Address, type Hex, type PublicClient, zeroAddress } from "viem";
import { energyMarketAbi, flexibilityMarketAbi } from "../chain/abis.js";
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
  readZoneGrids,
} from "../chain/market.js";
import { type ScheduleReport, bigintReplacer, reportToJson, scheduleRootOf } from "../chain/reports.js";
import { flexSettledThrough, readActiveFlexOrders, readFlexibilityMarket } from "../chain/flexibility.js";
import { readForecastHistory } from "../chain/forecast-history.js";
import {
  type FlexIntervalSchedule,
  type IntervalSchedule,
  assertScheduleBudget,
  clearingInstance,
  flexIntervalSchedule,
  intervalSchedule,
} from "../domain/clearing.js";
import { stepWindow, windowAt } from "../domain/due-steps.js";
import { BaseError, UnrecoverableInputError } from "../domain/errors.js";
import { type DispatchInstanceInput, solveInWorker, solveRollingInWorker } from "../domain/dispatch/index.js";
import {
  type ActiveFlexOrder,
  type FlexOrderFields,
  type PendingFlexInterval,
  earlierFlexInterval,
  flexIntervalsStillOpen,
  flexStateAtStart,
  flexStepKey,
  flexStepViolations,
} from "../domain/flexibility/index.js";
import { type FillLeaf, scheduleCommitment, scheduleLeaves } from "../domain/schedule.js";
import { forecastForInterval } from "../domain/forecast/index.js";
import { DEFAULT_SITE_LOCATION } from "../infra/config.js";
import type { RollingInput } from "../domain/rolling/index.js";
import { committeeHorizon, rollingClearingInput } from "../domain/rolling-clearing.js";
import { loadOwn } from "./committee.js";
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
  /**
   * With active flexibility orders: the rolling horizon the committee solves instead of
   * `instance` (domain/rolling-clearing.ts), and the orders it schedules.
   */
  readonly flexibility?: { readonly rolling: RollingInput; readonly active: readonly ActiveFlexOrder[] };
}

/**
 * What the rolling horizon needs besides the chain: the market's interval length (read from the
 * market when absent) and the neighbourhood's location (config `siteLatitudeDeg`/`siteLongitudeDeg`;
 * default the config's default, the demo's neighbourhood).
 */
export interface CollectOptions {
  readonly intervalSeconds?: bigint;
  readonly location?: { readonly latitudeDeg: number; readonly longitudeDeg: number };
  /**
   * The live pipeline's view of earlier intervals committed but not settled at the flexibility
   * market (`readPendingFlex`): the orders' state at the start of the interval is the steps settled
   * before `settledBefore` plus these intervals' committed steps (domain/flexibility/pending.ts).
   * Absent (`verify`): settled steps alone.
   */
  readonly pendingFlex?: PendingFlex;
  /**
   * Blocks below the head whose flexibility events are read again on every collect rather than
   * kept (config `confirmations`; chain/flex-log-reader.ts). Absent: the config's default.
   */
  readonly reorgDepth?: bigint;
}

/** Earlier intervals whose flexibility steps are committed, or may be, but not settled yet. */
export interface PendingFlex {
  /** The flexibility market's cursor, read before anything else: steps settled before it count. */
  readonly settledBefore: bigint;
  /** Ascending. */
  readonly intervals: readonly PendingFlexInterval[];
}

/**
 * Reads the order book and the grid of `intervalId` from the chain; the instance is
 * domain/clearing.ts's rule. When the market settles with a flexibility market and orders are
 * active in the interval, also reads them (chain/flexibility.ts), the forecast's history
 * (chain/forecast-history.ts) and the zones' tariffs, and builds the rolling input
 * (domain/rolling-clearing.ts). Pure reads of the chain, so `verify` recomputes the same; with
 * `options.pendingFlex` (the live pipeline) the orders' state also counts the committed steps of
 * earlier intervals not settled yet, or the call throws NotReadyError naming the interval it
 * cannot account for (domain/flexibility/pending.ts `flexStateAtStart`).
 */
export async function collectInterval(
  client: PublicClient,
  addresses: { market: Address; registry: Address },
  intervalId: bigint,
  fromBlock: bigint,
  options: CollectOptions = {},
): Promise<CollectedInterval> {
  const [book, grid, flexibilityMarket] = await Promise.all([
    readOrderBook(client, addresses.market, intervalId, fromBlock),
    readGrid(client, addresses.registry),
    readFlexibilityMarket(client, addresses.market),
  ]);
  const instance = clearingInstance(intervalId, book.open, grid);
  if (flexibilityMarket === zeroAddress) return { intervalId, book, grid, instance };
  const pending = options.pendingFlex;
  const settled = await readActiveFlexOrders(
    client,
    { flexibilityMarket, registry: addresses.registry },
    intervalId,
    fromBlock,
    { settledBefore: pending?.settledBefore, reorgDepth: options.reorgDepth },
  );
  if (settled.length === 0) return { intervalId, book, grid, instance };
  const toBlock = await client.getBlockNumber();
  const intervalSeconds =
    options.intervalSeconds ??
    (await client.readContract({
      address: addresses.market,
      abi: energyMarketAbi,
      functionName: "intervalSeconds",
    }));
  let active = settled;
  if (pending !== undefined) {
    const state = flexStateAtStart({ intervalId, settled, pending: pending.intervals, intervalSeconds });
    if (!state.ready)
      throw new NotReadyError("An earlier interval's flexibility steps are not settled yet", {
        details: state.reason,
        meta: { waitingFor: state.intervalId.toString() },
      });
    active = state.active;
  }
  const location = options.location ?? DEFAULT_SITE_LOCATION;
  const [history, tariffs] = await Promise.all([
    readForecastHistory({
      client,
      market: addresses.market,
      registry: addresses.registry,
      startBlock: fromBlock,
      toBlock,
      interval: intervalId,
      location,
    }),
    readZoneGrids(client, addresses.registry),
  ]);
  // A node that could not read part of the history would forecast differently from its peers:
  // it retries rather than sign a different schedule.
  if (history.failedRanges.length > 0)
    throw new NotReadyError("Part of the forecast's history could not be read", {
      details: history.failedRanges.map((r) => `${r.fromBlock}-${r.toBlock}: ${r.message}`).join("; "),
    });
  const forecast = forecastForInterval({
    interval: Number(intervalId),
    horizon: committeeHorizon(intervalId, intervalSeconds),
    zones: history.zones,
    intervalSeconds: Number(intervalSeconds),
    observations: history.observations,
    solarZones: history.solarZones,
    location: history.location,
  });
  const rolling = rollingClearingInput({
    intervalId,
    orders: book.open,
    grid,
    tariffs,
    active,
    forecast,
    intervalSeconds,
    meters: {
      surplus: history.meterSurplus,
      intervalOrders: history.observations.filter((o) => o.intervalId === Number(intervalId)),
      solarZones: history.solarZones,
      location: history.location,
    },
  });
  return { intervalId, book, grid, instance, flexibility: { rolling, active } };
}

/**
 * The earlier intervals whose flexibility steps can still change the orders' state at the start of
 * `intervalId` (domain/flexibility/pending.ts): those from the market's cursor whose meter deadline
 * is still ahead (a handful), with active orders, committed — their steps from this node's stored
 * schedule when its root is the committed one — or not committed yet while they still may be.
 * Undefined without a flexibility market.
 *
 * The collect of i thus never waits for an earlier interval's steps to settle: after a missed
 * interval m, whose close at its meter deadline holds back the settlement of m + 1, m + 2, …, each
 * of them is collected from the state their committed steps will leave.
 */
export async function readPendingFlex(
  ctx: PipelineContext,
  intervalId: bigint,
  now: bigint,
): Promise<PendingFlex | undefined> {
  const flexibilityMarket = await readFlexibilityMarket(ctx.client, ctx.config.marketAddress);
  if (flexibilityMarket === zeroAddress) return undefined;
  const cursor = await flexSettledThrough(ctx.client, flexibilityMarket);
  const range = flexIntervalsStillOpen(ctx.timing, intervalId, cursor, now);
  const intervals: PendingFlexInterval[] = [];
  if (range === undefined) return { settledBefore: cursor, intervals };
  for (let k = range.from; k <= range.to; k++) {
    const [activeOrders, state] = await Promise.all([
      ctx.client.readContract({
        address: flexibilityMarket,
        abi: flexibilityMarketAbi,
        functionName: "activeOrderCount",
        args: [k],
      }),
      readIntervalState(ctx.client, ctx.config.marketAddress, k),
    ]);
    const { scheduleDeadline } = intervalTimes(ctx.timing, k);
    const kind = earlierFlexInterval(activeOrders, state.scheduled, scheduleDeadline, now);
    if (kind === "undecided")
      intervals.push({
        intervalId: k,
        why: `not committed yet, its schedule window open until ${scheduleDeadline}`,
      });
    if (kind === "committed") intervals.push(await storedPendingSteps(ctx, k, state.commitment));
  }
  return { settledBefore: cursor, intervals };
}

/** Interval `k`'s committed flexibility steps from this node's stored schedule, or why not. */
async function storedPendingSteps(
  ctx: PipelineContext,
  k: bigint,
  commitment: Hex,
): Promise<PendingFlexInterval> {
  const view = await ownScheduleView(ctx, k);
  if (view === undefined)
    return {
      intervalId: k,
      why: "this node stored no schedule of it (it did not sign it, or lost its Redis)",
    };
  if (scheduleCommitment(view.root, view.zonePrices).toLowerCase() !== commitment.toLowerCase())
    return { intervalId: k, why: `this node's stored root ${view.root} is not the committed schedule` };
  return {
    intervalId: k,
    zonePrices: view.zonePrices,
    steps: view.flexSteps.map((s) => ({
      orderId: s.orderId,
      batteryId: s.order.batteryId,
      direction: s.direction,
      energyWh: s.energyWh,
    })),
  };
}

/** The committee's report of a schedule (what `sign` signs). */
export function scheduleReport(
  market: Address,
  intervalId: bigint,
  configEpoch: bigint,
  ordersDigest: Hex,
  schedule: IntervalSchedule | FlexIntervalSchedule,
): ScheduleReport {
  return {
    market,
    intervalId,
    configEpoch,
    ordersDigest,
    scheduleRoot: schedule.scheduleRoot,
    fillCount: "fillCount" in schedule ? schedule.fillCount : schedule.orders.length,
    zonePrices: schedule.zonePrices,
  };
}

export interface SolveJobData extends IntervalJobData {
  readonly ordersDigest: Hex;
  readonly zoneCount: number;
  readonly orders: readonly ChainOrderJson[];
  readonly instance: DispatchInstanceInput;
  /** With active flexibility orders (`CollectedInterval.flexibility`), as JSON. */
  readonly flexibility?: { readonly rolling: RollingInput; readonly active: readonly ActiveFlexOrderJson[] };
}

/** `ActiveFlexOrder` with its bigints as decimal strings (BullMQ data is JSON). */
export type ActiveFlexOrderJson = ReturnType<typeof activeFlexToJson>[number];

export function activeFlexToJson(active: readonly ActiveFlexOrder[]) {
  return active.map((a) => ({
    orderId: a.orderId,
    order: {
      ...a.order,
      firstInterval: a.order.firstInterval.toString(),
      lastInterval: a.order.lastInterval.toString(),
      maxChargePricePerKwh: a.order.maxChargePricePerKwh.toString(),
      minDischargePricePerKwh: a.order.minDischargePricePerKwh.toString(),
      chargeBudget: a.order.chargeBudget.toString(),
      initialSocWh: a.order.initialSocWh.toString(),
      nonce: a.order.nonce.toString(),
    },
    spent: a.spent.toString(),
    socWh: a.socWh.toString(),
    battery:
      a.battery === null
        ? null
        : {
            ...a.battery,
            capacityWh: a.battery.capacityWh.toString(),
            maxChargeW: a.battery.maxChargeW.toString(),
            maxDischargeW: a.battery.maxDischargeW.toString(),
            minSocWh: a.battery.minSocWh.toString(),
            maxSocWh: a.battery.maxSocWh.toString(),
          },
  }));
}

export function activeFlexFromJson(active: readonly ActiveFlexOrderJson[]): ActiveFlexOrder[] {
  return active.map((a) => ({
    orderId: a.orderId,
    order: {
      ...a.order,
      firstInterval: BigInt(a.order.firstInterval),
      lastInterval: BigInt(a.order.lastInterval),
      maxChargePricePerKwh: BigInt(a.order.maxChargePricePerKwh),
      minDischargePricePerKwh: BigInt(a.order.minDischargePricePerKwh),
      chargeBudget: BigInt(a.order.chargeBudget),
      initialSocWh: BigInt(a.order.initialSocWh),
      nonce: BigInt(a.order.nonce),
    },
    spent: BigInt(a.spent),
    socWh: BigInt(a.socWh),
    battery:
      a.battery === null
        ? null
        : {
            ...a.battery,
            capacityWh: BigInt(a.battery.capacityWh),
            maxChargeW: BigInt(a.battery.maxChargeW),
            maxDischargeW: BigInt(a.battery.maxDischargeW),
            minSocWh: BigInt(a.battery.minSocWh),
            maxSocWh: BigInt(a.battery.maxSocWh),
          },
  }));
}

export type ChainOrderJson = {
  [K in keyof ChainOrder]: ChainOrder[K] extends bigint ? string : ChainOrder[K];
};

export interface ScheduleExtra {
  readonly orders: readonly ChainOrderJson[];
  readonly filledWh: readonly string[];
  readonly zonePrices: readonly string[];
  /** With active flexibility orders: the orders and one step per order, the other leaves of the tree. */
  readonly flexibility?: {
    readonly active: readonly ActiveFlexOrderJson[];
    readonly steps: readonly FlexStepJson[];
  };
}

/** A committed flexibility step as stored with the schedule (settle-fills sends it). */
export interface FlexStepJson {
  readonly orderId: Hex;
  readonly batteryId: number;
  readonly direction: 0 | 1;
  readonly energyWh: string;
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

  const pendingFlex = await readPendingFlex(ctx, intervalId, now);
  const collected = await collectInterval(
    ctx.client,
    { market: ctx.config.marketAddress, registry: ctx.config.registryAddress },
    intervalId,
    ctx.config.startBlock,
    { ...collectOptions(ctx), ...(pendingFlex === undefined ? {} : { pendingFlex }) },
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
    ...(collected.flexibility === undefined
      ? {}
      : {
          flexibility: {
            rolling: collected.flexibility.rolling,
            active: activeFlexToJson(collected.flexibility.active),
          },
        }),
  };
  await enqueueNext(ctx.queues, "collect", "solve", "solve", data, {
    jobId: jobId(ctx, intervalId, "solve"),
  });
  log.info(
    {
      orders: collected.book.open.length,
      flexibilityOrders: collected.flexibility?.active.length ?? 0,
      ordersDigest: collected.book.ordersDigest,
    },
    "interval collected",
  );
  return `collected ${collected.book.open.length} orders`;
}

/** The node's settings `collectInterval` needs. */
export function collectOptions(ctx: PipelineContext): CollectOptions {
  return {
    intervalSeconds: ctx.timing.intervalSeconds,
    location: { latitudeDeg: ctx.config.siteLatitudeDeg, longitudeDeg: ctx.config.siteLongitudeDeg },
    reorgDepth: BigInt(ctx.config.confirmations),
  };
}

/**
 * Solves on a worker thread and maps the result to the market's schedule: interval i alone, or,
 * with active flexibility orders, the rolling horizon (domain/rolling-clearing.ts) whose
 * synthetic orders' fills become the orders' steps. Shared with `verify`.
 */
export async function solveSchedule(
  ctx: { metrics?: PipelineContext["metrics"] },
  orders: readonly ChainOrder[],
  zoneCount: number,
  instance: DispatchInstanceInput,
  flexibility?: { readonly rolling: RollingInput; readonly active: readonly ActiveFlexOrder[] },
): Promise<IntervalSchedule<ChainOrder> | FlexIntervalSchedule<ChainOrder>> {
  const started = performance.now();
  try {
    const schedule =
      flexibility === undefined
        ? intervalSchedule(orders, zoneCount, await solveInWorker(instance))
        : flexIntervalSchedule(
            orders,
            zoneCount,
            await solveRollingInWorker(flexibility.rolling),
            flexibility.active,
          );
    ctx.metrics?.solveDuration.observe({ outcome: "ok" }, (performance.now() - started) / 1000);
    return schedule;
  } catch (error) {
    ctx.metrics?.solveDuration.observe({ outcome: "error" }, (performance.now() - started) / 1000);
    throw error;
  }
}

/**
 * Never sign what the contract could not settle: the budget rule, and every flexibility step
 * against the contract's checks (dead-lettered with the interval, the battery and the error).
 */
export function assertSettleable(
  intervalId: bigint,
  schedule: IntervalSchedule | FlexIntervalSchedule,
  active: readonly ActiveFlexOrder[],
  intervalSeconds: bigint,
): void {
  assertScheduleBudget(intervalId, schedule);
  if (!("flexSteps" in schedule)) return;
  const violations = flexStepViolations(schedule.flexSteps, active, schedule.zonePrices, intervalSeconds);
  if (violations.length > 0)
    throw new UnrecoverableInputError("A flexibility step would not settle", {
      details: violations.map((v) => `interval ${intervalId} battery ${v.batteryId}: ${v.error}`).join("; "),
    });
}

export async function solveProcessor(ctx: PipelineContext, job: Job<SolveJobData>): Promise<string> {
  const intervalId = BigInt(job.data.intervalId);
  const log = logFor(ctx, job, intervalId);
  const orders = ordersFromJson(job.data.orders);
  const flex = job.data.flexibility;
  const active = flex === undefined ? [] : activeFlexFromJson(flex.active);
  const schedule = await solveSchedule(
    ctx,
    orders,
    job.data.zoneCount,
    job.data.instance,
    flex === undefined ? undefined : { rolling: flex.rolling, active },
  );
  assertSettleable(intervalId, schedule, active, ctx.timing.intervalSeconds);
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
    ...(flex === undefined || !("flexSteps" in schedule)
      ? {}
      : { flexibility: { active: flex.active, steps: flexStepsToJson(schedule.flexSteps) } }),
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
  log.info(
    {
      scheduleRoot: schedule.scheduleRoot,
      zonePrices: schedule.zonePrices,
      flexSteps: "flexSteps" in schedule ? schedule.flexSteps.length : 0,
    },
    "interval solved",
  );
  return schedule.scheduleRoot;
}

export function flexStepsToJson(
  steps: readonly { orderId: Hex; batteryId: number; direction: 0 | 1; energyWh: bigint }[],
): FlexStepJson[] {
  return steps.map((s) => ({
    orderId: s.orderId,
    batteryId: s.batteryId,
    direction: s.direction,
    energyWh: s.energyWh.toString(),
  }));
}

/** A committed schedule as settlement proves it: the fills, the zone prices, the root, the steps. */
export interface SettlementView {
  readonly orders: readonly ChainOrder[];
  readonly filledWh: readonly bigint[];
  readonly zonePrices: readonly bigint[];
  readonly root: Hex;
  /** The active flexibility orders' steps (the tree's other leaves), in ascending battery id. */
  readonly flexSteps: readonly SettlementFlexStep[];
}

/** A step as settleFlexSteps takes it, with its order's id and its leaf. */
export interface SettlementFlexStep {
  readonly orderId: Hex;
  readonly order: FlexOrderFields;
  readonly direction: 0 | 1;
  readonly energyWh: bigint;
  readonly leaf: FillLeaf;
}

export function settlementFlexSteps(
  active: readonly ActiveFlexOrder[],
  steps: readonly { orderId: Hex; direction: 0 | 1; energyWh: bigint }[],
): SettlementFlexStep[] {
  const byId = new Map(active.map((a) => [a.orderId.toLowerCase(), a.order]));
  return steps.map((s) => {
    const order = byId.get(s.orderId.toLowerCase());
    if (order === undefined)
      throw new UnrecoverableInputError("A flexibility step has no active order", { details: s.orderId });
    return {
      orderId: s.orderId,
      order,
      direction: s.direction,
      energyWh: s.energyWh,
      leaf: { orderId: flexStepKey(s.orderId, s.direction), filledWh: s.energyWh },
    };
  });
}

/** The schedule tree's leaves of a view: the fills, then the flexibility steps (domain/schedule.ts). */
export function viewLeaves(view: Omit<SettlementView, "root">): FillLeaf[] {
  return scheduleLeaves(
    view.orders,
    view.filledWh,
    view.flexSteps.map((s) => s.leaf),
  );
}

/**
 * The schedule this node signed for `intervalId` (its own record, kept in its Redis), with the
 * root rebuilt from its leaves, or undefined when it holds none. Whether the chain committed it is
 * the caller's check (`scheduleCommitment` against the interval's commitment).
 */
export async function ownScheduleView(
  ctx: PipelineContext,
  intervalId: bigint,
): Promise<SettlementView | undefined> {
  const own = await loadOwn<ScheduleExtra>(ctx, "schedule", intervalId);
  if (own === undefined) return undefined;
  const orders = ordersFromJson(own.extra.orders);
  const filledWh = own.extra.filledWh.map((f) => BigInt(f));
  const flex = own.extra.flexibility;
  const flexSteps =
    flex === undefined
      ? []
      : settlementFlexSteps(
          activeFlexFromJson(flex.active),
          flex.steps.map((s) => ({ ...s, energyWh: BigInt(s.energyWh) })),
        );
  const partial = { orders, filledWh, zonePrices: own.extra.zonePrices.map((p) => BigInt(p)), flexSteps };
  return { ...partial, root: scheduleRootOf(viewLeaves(partial)) };
}

/** Recomputes the schedule of `intervalId` from chain data (for settlement after a lost Redis, and `verify`). */
export async function recomputeSchedule(
  client: PublicClient,
  addresses: { market: Address; registry: Address },
  intervalId: bigint,
  fromBlock: bigint,
  options: CollectOptions = {},
  metrics?: PipelineContext["metrics"],
): Promise<{
  schedule: IntervalSchedule<ChainOrder> | FlexIntervalSchedule<ChainOrder>;
  ordersDigest: Hex;
  active: readonly ActiveFlexOrder[];
}> {
  const collected = await collectInterval(client, addresses, intervalId, fromBlock, options);
  const schedule = await solveSchedule(
    metrics === undefined ? {} : { metrics },
    collected.book.open,
    collected.grid.zoneCount,
    collected.instance,
    collected.flexibility,
  );
  return {
    schedule,
    ordersDigest: collected.book.ordersDigest,
    active: collected.flexibility?.active ?? [],
  };
}
