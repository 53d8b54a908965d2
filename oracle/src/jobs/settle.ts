/**
 * settle-fills and settle-imbalance: push settlement after a commit.
 *
 * Every node enqueues both after the commit, delayed by `rank × settleStaggerMs`; each batch
 * first reads which fills (participants) are already settled on-chain and skips them, so the
 * rank-0 node pushes and the others find the work done (or take over if it died).
 *
 * Which fills are open, their order (buys before sells) and the batches under
 * `settlementBatchGasBudget` are the rules of domain/settlement-batches.ts.
 */
import type { Job } from "bullmq";
import { type Address, type Hex, encodeFunctionData } from "viem";
import { energyMarketAbi, flexibilityMarketAbi } from "../chain/abis.js";
import { flexSettledThrough, readFlexibilityMarket } from "../chain/flexibility.js";
import { type ChainOrder, chainNow, intervalTimes, readIntervalState } from "../chain/market.js";
import {
  type MeterTree,
  buildFillTree,
  buildMeterTree,
  indexedFillTree,
  scheduleCommitment,
} from "../domain/schedule.js";
import { BaseError, UnrecoverableInputError } from "../domain/errors.js";
import { fillBatches, fillOpen, imbalanceBatches } from "../domain/settlement-batches.js";
import { stepWindow, windowAt } from "../domain/due-steps.js";
import { judgeSendError } from "../infra/tx-sender.js";
import { loadOwn } from "./committee.js";
import { type IntervalJobData, type PipelineContext, logFor } from "./context.js";
import {
  type SettlementView,
  NotReadyError,
  collectOptions,
  ownScheduleView,
  readPendingFlex,
  recomputeSchedule,
  settlementFlexSteps,
  viewLeaves,
} from "./schedule.js";

/**
 * How many state reads a settlement step keeps in flight. Unbounded, a 10,000-order interval sent
 * 10,000 reads per node at once and the local Hardhat node stopped answering (bench:oracle).
 */
export const READS_IN_FLIGHT = 64;

/** `Promise.all(items.map(read))` with at most `READS_IN_FLIGHT` reads in flight; order kept. */
async function mapInChunks<T, R>(items: readonly T[], read: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += READS_IN_FLIGHT)
    results.push(...(await Promise.all(items.slice(start, start + READS_IN_FLIGHT).map(read))));
  return results;
}

/** When fills of `intervalId` may settle (domain/due-steps.ts). */
export function settleFillsWindow(ctx: PipelineContext, intervalId: bigint) {
  return stepWindow("settle-fills", intervalTimes(ctx.timing, intervalId), ctx.settings.meterGraceSeconds);
}

export type { SettlementFlexStep, SettlementView } from "./schedule.js";

/** This node's schedule of a committed interval: its own record, or recomputed from chain data. */
export async function committedSchedule(ctx: PipelineContext, intervalId: bigint): Promise<SettlementView> {
  let view = await ownScheduleView(ctx, intervalId);
  if (view === undefined) {
    // As collect would: earlier intervals committed but not settled at the flexibility market are
    // taken from this node's stored schedules (or it waits for them).
    const pendingFlex = await readPendingFlex(ctx, intervalId, await chainNow(ctx.client));
    const { schedule, active } = await recomputeSchedule(
      ctx.client,
      { market: ctx.config.marketAddress, registry: ctx.config.registryAddress },
      intervalId,
      ctx.config.startBlock,
      { ...collectOptions(ctx), ...(pendingFlex === undefined ? {} : { pendingFlex }) },
      ctx.metrics,
    );
    view = {
      orders: schedule.orders,
      filledWh: schedule.filledWh,
      zonePrices: schedule.zonePrices,
      root: schedule.scheduleRoot,
      flexSteps: "flexSteps" in schedule ? settlementFlexSteps(active, schedule.flexSteps) : [],
    };
  }
  const state = await readIntervalState(ctx.client, ctx.config.marketAddress, intervalId);
  if (!state.scheduled) throw new NotReadyError("Interval not scheduled yet");
  if (scheduleCommitment(view.root, view.zonePrices).toLowerCase() !== state.commitment.toLowerCase())
    throw new UnrecoverableInputError("The committed schedule differs from this node's", {
      details: `interval ${intervalId}: our root ${view.root}`,
    });
  return view;
}

export async function settleFillsProcessor(ctx: PipelineContext, job: Job<IntervalJobData>): Promise<string> {
  if (!ctx.config.settlementPush) return "push settlement disabled (settlementPush: false)";
  const intervalId = BigInt(job.data.intervalId);
  const log = logFor(ctx, job, intervalId);
  const state = await readIntervalState(ctx.client, ctx.config.marketAddress, intervalId);
  if (state.scheduled && state.settledCount >= state.fillCount) return "all fills settled";
  const now = await chainNow(ctx.client);
  if (windowAt(settleFillsWindow(ctx, intervalId), now) === "closed")
    throw new UnrecoverableInputError("Settlement window closed", { details: `interval ${intervalId}` });
  const view = await committedSchedule(ctx, intervalId);
  const { tree, indexOf } = indexedFillTree(viewLeaves(view));

  // Which fills are still open: the position slot holds the order id until it settles.
  const slots = await mapInChunks(view.orders, (o) =>
    ctx.client.readContract({
      address: ctx.config.marketAddress,
      abi: energyMarketAbi,
      functionName: "position",
      args: [o.owner, intervalId, o.side],
    }),
  );
  const pending = view.orders
    .map((order, i) => ({ order, side: order.side, filledWh: view.filledWh[i]! }))
    .filter((f, i) => fillOpen(slots[i]!, f.order.orderId));
  // Buyers, then the flexibility steps (charges pay in, discharges are paid from the buyers'
  // receipts), then sellers: every prefix keeps the interval's payouts within its receipts.
  const budget = ctx.settings.settlementBatchGasBudget;
  let sent = 0;
  for (const batch of fillBatches(
    pending.filter((f) => f.side === 0),
    budget,
  )) {
    await sendFillBatch(ctx, log, intervalId, view, tree, indexOf, batch);
    sent++;
  }
  if (view.flexSteps.length > 0 && (await settleFlexBatch(ctx, log, intervalId, view, tree, indexOf))) sent++;
  for (const batch of fillBatches(
    pending.filter((f) => f.side === 1),
    budget,
  )) {
    await sendFillBatch(ctx, log, intervalId, view, tree, indexOf, batch);
    sent++;
  }
  const after = await readIntervalState(ctx.client, ctx.config.marketAddress, intervalId);
  if (after.settledCount < after.fillCount)
    throw new NotReadyError("Fills still pending", { details: `${after.settledCount}/${after.fillCount}` });
  const times = intervalTimes(ctx.timing, intervalId);
  ctx.metrics.intervalLatency.observe(
    { stage: "settled" },
    Number((await chainNow(ctx.client)) - times.gateClosure),
  );
  return `settled ${pending.length} fills and ${view.flexSteps.length} flexibility steps in ${sent} transactions`;
}

type FillTreeOf = ReturnType<typeof buildFillTree>;
type PendingFill = { order: ChainOrder; side: 0 | 1; filledWh: bigint };

async function sendFillBatch(
  ctx: PipelineContext,
  log: ReturnType<typeof logFor>,
  intervalId: bigint,
  view: SettlementView,
  tree: FillTreeOf,
  indexOf: ReadonlyMap<string, number>,
  batch: readonly PendingFill[],
): Promise<void> {
  const multi = tree.getMultiProof(batch.map((f) => indexOf.get(f.order.orderId.toLowerCase())!));
  const byId = new Map(batch.map((f) => [f.order.orderId.toLowerCase(), f]));
  const fills = multi.leaves.map(([orderId, filledWh]) => {
    const f = byId.get(orderId.toLowerCase())!;
    const { orderId: _id, ...order } = f.order;
    return { order, filledWh: BigInt(filledWh) };
  });
  const data = encodeFunctionData({
    abi: energyMarketAbi,
    functionName: "settleFills",
    args: [intervalId, view.root, [...view.zonePrices], fills, multi.proof as Hex[], multi.proofFlags],
  });
  try {
    const result = await ctx.sender.send({
      to: ctx.config.marketAddress,
      data,
      abi: energyMarketAbi,
      kind: "settle-fills",
    });
    ctx.metrics.gasSpent.inc({ kind: "settle-fills" }, Number(result.receipt.gasUsed));
    log.info({ txHash: result.hash, fills: batch.length, gasUsed: result.receipt.gasUsed }, "fills settled");
  } catch (error) {
    throw classifySettleFillsRevert(error);
  }
}

/**
 * Settles the interval's flexibility steps in one `settleFlexSteps` (the contract takes every
 * active order's step at once). Returns false when they are settled already (by a peer); throws
 * NotReadyError while an earlier interval with active orders is still pending at the flexibility
 * market (the revert says so: domain/revert-outcomes.ts).
 */
async function settleFlexBatch(
  ctx: PipelineContext,
  log: ReturnType<typeof logFor>,
  intervalId: bigint,
  view: SettlementView,
  tree: FillTreeOf,
  indexOf: ReadonlyMap<string, number>,
): Promise<boolean> {
  const flexibilityMarket = await readFlexibilityMarket(ctx.client, ctx.config.marketAddress);
  if ((await flexSettledThrough(ctx.client, flexibilityMarket)) > intervalId) return false;
  const multi = tree.getMultiProof(view.flexSteps.map((s) => indexOf.get(s.leaf.orderId.toLowerCase())!));
  const byKey = new Map(view.flexSteps.map((s) => [s.leaf.orderId.toLowerCase(), s]));
  const steps = multi.leaves.map(([key]) => {
    const s = byKey.get(key.toLowerCase())!;
    return { order: s.order, direction: s.direction, energyWh: s.energyWh };
  });
  const data = encodeFunctionData({
    abi: flexibilityMarketAbi,
    functionName: "settleFlexSteps",
    args: [intervalId, view.root, [...view.zonePrices], steps, multi.proof as Hex[], multi.proofFlags],
  });
  let result;
  try {
    result = await ctx.sender.send({
      to: flexibilityMarket,
      data,
      abi: flexibilityMarketAbi,
      kind: "settle-flex",
    });
  } catch (error) {
    const judged = judgeSendError("settle-flex", error);
    if (judged.outcome === "done-by-peer") return false;
    if (judged.outcome === "concurrent")
      throw new NotReadyError("An earlier interval's flexibility steps are pending", { cause: error });
    throw error;
  }
  ctx.metrics.gasSpent.inc({ kind: "settle-flex" }, Number(result.receipt.gasUsed));
  log.info(
    { txHash: result.hash, steps: steps.length, gasUsed: result.receipt.gasUsed },
    "flexibility steps settled",
  );
  return true;
}

/**
 * What a failed settle-fills send becomes (rule: domain/revert-outcomes.ts): a peer settled some of
 * these meanwhile → a retryable error (the retry starts over from the chain's view); the schedule
 * itself cannot settle (`BudgetExceeded`) → unrecoverable, dead-lettered with the reason; anything
 * else is returned unchanged.
 */
export function classifySettleFillsRevert(error: unknown): unknown {
  const judged = judgeSendError("settle-fills", error);
  if (judged.outcome === "concurrent") return new BaseError("Fills settled concurrently", { cause: error });
  if (judged.outcome === "unrecoverable")
    return new UnrecoverableInputError(judged.reason, { details: judged.details, cause: error });
  return error;
}

export interface MeterExtra {
  readonly leaves: readonly [string, string, string][];
}

/** The meter tree of this node's own meter record (what it signed; settlement and the Proof API prove against it). */
export function ownMeterTree(extra: MeterExtra): MeterTree {
  return buildMeterTree(
    extra.leaves.map(([p, i, c]) => ({
      participant: p as Address,
      injectedWh: BigInt(i),
      consumedWh: BigInt(c),
    })),
  );
}

export async function settleImbalanceProcessor(
  ctx: PipelineContext,
  job: Job<IntervalJobData>,
): Promise<string> {
  if (!ctx.config.settlementPush) return "push settlement disabled (settlementPush: false)";
  const intervalId = BigInt(job.data.intervalId);
  const settled = await settleOpenImbalances(ctx, intervalId, logFor(ctx, job, intervalId));
  return `settled ${settled} imbalances`;
}

/**
 * Settles every participant of a metered interval whose imbalance is still open, in
 * `settleImbalances` batches; returns how many it settled. Before the meter deadline every fill
 * must be settled first; after it the contract settles against the fills that did settle (the
 * keeper releases the other orders first, jobs/keeper.ts).
 */
export async function settleOpenImbalances(
  ctx: PipelineContext,
  intervalId: bigint,
  log: ReturnType<typeof logFor>,
): Promise<number> {
  const state = await readIntervalState(ctx.client, ctx.config.marketAddress, intervalId);
  if (state.meterRoot === `0x${"0".repeat(64)}`) throw new NotReadyError("Interval not metered yet");
  // While fills may still settle, imbalances wait for them; after the window they settle against
  // the fills that did.
  if (
    state.settledCount < state.fillCount &&
    windowAt(settleFillsWindow(ctx, intervalId), await chainNow(ctx.client)) !== "closed"
  )
    throw new NotReadyError("Fills not all settled yet");
  const own = await loadOwn<MeterExtra>(ctx, "meter", intervalId);
  if (own === undefined)
    // Readings live in this node's Redis; without them another committee node settles (it holds them too).
    throw new NotReadyError("No own meter report (readings lost?)", { details: `interval ${intervalId}` });
  const tree = ownMeterTree(own.extra);
  if (tree.root.toLowerCase() !== state.meterRoot.toLowerCase())
    throw new UnrecoverableInputError("The committed meter root differs from this node's", {
      details: tree.root,
    });
  // Which participants are still open, then one settleImbalances multiproof per gas-budget batch.
  const entries = [...tree.entries()];
  const done = await mapInChunks(entries, ([, [participant]]) =>
    ctx.client.readContract({
      address: ctx.config.marketAddress,
      abi: energyMarketAbi,
      functionName: "imbalanceSettled",
      args: [participant as Address, intervalId],
    }),
  );
  const open = entries.filter((_, i) => !done[i]).map(([index]) => index);
  let settled = 0;
  for (const indices of imbalanceBatches(open, ctx.settings.settlementBatchGasBudget)) {
    const multi = tree.getMultiProof(indices);
    const batch = multi.leaves.map(([participant, injectedWh, consumedWh]) => ({
      participant: participant as Address,
      injectedWh: BigInt(injectedWh),
      consumedWh: BigInt(consumedWh),
    }));
    const data = encodeFunctionData({
      abi: energyMarketAbi,
      functionName: "settleImbalances",
      args: [intervalId, batch, multi.proof as Hex[], multi.proofFlags],
    });
    try {
      const result = await ctx.sender.send({
        to: ctx.config.marketAddress,
        data,
        abi: energyMarketAbi,
        kind: "settle-imbalance",
      });
      ctx.metrics.gasSpent.inc({ kind: "settle-imbalance" }, Number(result.receipt.gasUsed));
      log.info(
        { txHash: result.hash, participants: batch.length, gasUsed: result.receipt.gasUsed },
        "imbalances settled",
      );
      settled += batch.length;
    } catch (error) {
      // Another node settled some of these meanwhile (the batch reverts as a whole): start over from
      // the chain's view on the retry.
      if (judgeSendError("settle-imbalances", error).outcome === "concurrent")
        throw new BaseError("Imbalances settled concurrently", { cause: error });
      throw error;
    }
  }
  return settled;
}
