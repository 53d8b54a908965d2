/**
 * keeper-flex: the keeper's two FlexibilityMarket paths (docs/OPERATIONS.md, "Keeper"), so no
 * flexibility interval stays stuck and no unspent budget waits for its owner:
 *
 *   an interval with active orders, steps not settled by its meter deadline → closeMissedInterval
 *   (in cursor order: later intervals' steps revert FlexIntervalOutOfOrder until it is closed)
 *   an order ended and behind the cursor, not refunded, budget left        → refundFlexFunds
 *
 * The rule is domain/flex-keeper.ts. The tick (run after the interval keeper's, on every node)
 * reads the cursor and the orders (FlexOrderPlaced / FlexOrderEnded), and enqueues a job with a
 * deterministic id — the first interval it would close, or the first order it would refund — and
 * the settle steps' rank delay, so every node enqueues the same job, the rank-0 node takes it and
 * the others find the chain done ("a peer did it first" is success: domain/revert-outcomes.ts).
 * A job sends at most KEEPER_MAX_TX_PER_JOB transactions; what remains gets a new job id (the
 * cursor or the first refundable order moved) on the next tick.
 */
import type { Job } from "bullmq";
import { type Address, type Hex, encodeFunctionData, parseEventLogs, zeroAddress, zeroHash } from "viem";
import { flexibilityMarketAbi } from "../chain/abis.js";
import {
  type FlexOrderOnChain,
  flexSettledThrough,
  readFlexibilityMarket,
  readFlexOrders,
} from "../chain/flexibility.js";
import { chainNow, intervalTimes, readCommittee, readIntervalState } from "../chain/market.js";
import { dueSteps } from "../domain/due-steps.js";
import {
  type FlexOrderWindow,
  flexIntervalsToClose,
  flexOrderFinished,
  flexRefundDue,
  flexResettleRange,
} from "../domain/flex-keeper.js";
import { KEEPER_MAX_TX_PER_JOB, boundedWork } from "../domain/keeper.js";
import { rankDelayMs, submitRank } from "../domain/submit-rank.js";
import { judgeSendError } from "../infra/tx-sender.js";
import { type PipelineContext, jobId, logFor } from "./context.js";
import { READS_IN_FLIGHT } from "./settle.js";
import { enqueueNext, enqueueStep } from "./steps.js";

export interface KeeperFlexJobData {
  readonly kind: "close" | "refund";
  /** Decimal string: the first interval to close, or the cursor when the refund job was enqueued. */
  readonly intervalId: string;
}

/** Kind of lock, the `kind` label of the keeper metrics. */
type FlexLockKind = "flex-interval" | "flex-refund";

/**
 * Per node: orders the keeper is done with (refunded, or holding nothing to refund), whose state
 * is never read again. (The intervals to close need no such memory: the rule runs on what the
 * tick reads anyway, the cursor and the orders, without further reads.)
 */
const doneOrders = new WeakMap<PipelineContext, Set<string>>();
function doneOf(ctx: PipelineContext): Set<string> {
  let done = doneOrders.get(ctx);
  if (done === undefined) {
    done = new Set();
    doneOrders.set(ctx, done);
  }
  return done;
}

interface FlexView {
  readonly flexibilityMarket: Address;
  readonly cursor: bigint;
  readonly orders: readonly FlexOrderOnChain[];
  /** The orders' windows, as the rule takes them. */
  readonly windows: readonly FlexOrderWindow[];
}

async function readView(ctx: PipelineContext): Promise<FlexView | undefined> {
  const flexibilityMarket = await readFlexibilityMarket(ctx.client, ctx.config.marketAddress);
  if (flexibilityMarket === zeroAddress) return undefined;
  const [cursor, orders] = await Promise.all([
    flexSettledThrough(ctx.client, flexibilityMarket),
    readFlexOrders(ctx.client, flexibilityMarket, ctx.config.startBlock, BigInt(ctx.config.confirmations)),
  ]);
  const windows = orders.map((o) => ({ firstInterval: o.order.firstInterval, endInterval: o.endInterval }));
  return { flexibilityMarket, cursor, orders, windows };
}

function readOrderState(ctx: PipelineContext, view: FlexView, orderId: Hex) {
  return ctx.client.readContract({
    address: view.flexibilityMarket,
    abi: flexibilityMarketAbi,
    functionName: "orderState",
    args: [orderId],
  });
}

/** The finished orders this node is not done with, with their on-chain state: the refund candidates. */
async function refundCandidates(ctx: PipelineContext, view: FlexView) {
  const done = doneOf(ctx);
  const finished = view.orders.filter(
    (o, k) => !done.has(o.orderId) && flexOrderFinished(view.windows[k]!, view.cursor),
  );
  // At most READS_IN_FLIGHT reads at once (settle.ts's limit): a backlog of ended orders after a
  // restart must not flood the RPC node.
  const states: Awaited<ReturnType<typeof readOrderState>>[] = [];
  for (let i = 0; i < finished.length; i += READS_IN_FLIGHT)
    states.push(
      ...(await Promise.all(
        finished.slice(i, i + READS_IN_FLIGHT).map((o) => readOrderState(ctx, view, o.orderId)),
      )),
    );
  const due: FlexOrderOnChain[] = [];
  finished.forEach((o, k) => {
    const s = states[k]!;
    // The contract's end is authoritative (the events can lag the state the view read).
    const facts = {
      firstInterval: o.order.firstInterval,
      endInterval: s.endInterval,
      chargeBudget: o.order.chargeBudget,
      spent: s.spent,
      refunded: s.refunded,
    };
    if (flexRefundDue(facts, view.cursor)) due.push(o);
    else if (s.refunded || s.spent >= o.order.chargeBudget) done.add(o.orderId);
  });
  return due;
}

export interface KeeperFlexTickSummary {
  readonly enqueued: readonly string[];
}

/** One pass: enqueues a close job and a refund job when the rule finds work. */
export async function keeperFlexTick(ctx: PipelineContext): Promise<KeeperFlexTickSummary> {
  const view = await readView(ctx);
  if (view === undefined) return { enqueued: [] };
  const now = await chainNow(ctx.client);
  const enqueued: string[] = [];
  let members: readonly Address[] | undefined;
  const enqueue = async (data: KeeperFlexJobData, id: string, rankInterval: bigint) => {
    // A job already taken (or dead-lettered, with its reason) is not added twice.
    if ((await ctx.queues.queue("keeper-flex").getJob(id)) !== undefined) return;
    members ??= (await readCommittee(ctx.client, ctx.config.committeeAddress)).members;
    const rank = submitRank(members, ctx.account.address, rankInterval);
    await enqueueStep(ctx.queues, "keeper-flex", `keeper-flex-${data.kind}`, data, {
      jobId: id,
      delay: rankDelayMs(rank, ctx.settings.settleStaggerMs),
    });
    enqueued.push(id);
  };

  const close = flexIntervalsToClose(ctx.timing, view.cursor, view.windows, now);
  ctx.metrics.keeperLocksPending.set({ kind: "flex-interval" }, close.due.length);
  const first = close.due[0];
  if (first !== undefined)
    await enqueue(
      { kind: "close", intervalId: first.toString() },
      jobId(ctx, first, "keeper-flex-close"),
      first,
    );

  const refunds = await refundCandidates(ctx, view);
  ctx.metrics.keeperLocksPending.set({ kind: "flex-refund" }, refunds.length);
  const firstRefund = refunds[0];
  if (firstRefund !== undefined)
    // Keyed by the first order it refunds: once refunded, the next job has another id.
    await enqueue(
      { kind: "refund", intervalId: view.cursor.toString() },
      jobId(
        ctx,
        firstRefund.order.firstInterval,
        `keeper-flex-refund-${firstRefund.orderId.slice(2).toLowerCase()}`,
      ),
      firstRefund.order.firstInterval,
    );
  return { enqueued };
}

/**
 * After a close moved the cursor: the settle-fills jobs of the intervals it held back may have
 * failed for good meanwhile (domain/flex-keeper.ts, `flexResettleRange`); each one the scheduler's
 * rule still finds due is enqueued again on this node, replacing a failed job, with its rank delay.
 */
async function pushSettlementAgain(ctx: PipelineContext, flexibilityMarket: Address): Promise<bigint[]> {
  const [cursor, now] = await Promise.all([
    flexSettledThrough(ctx.client, flexibilityMarket),
    chainNow(ctx.client),
  ]);
  const range = flexResettleRange(ctx.timing, cursor, now);
  if (range === undefined) return [];
  let members: readonly Address[] | undefined;
  const pushed: bigint[] = [];
  for (let k = range.from; k <= range.to; k++) {
    const s = await readIntervalState(ctx.client, ctx.config.marketAddress, k);
    const state = {
      scheduled: s.scheduled,
      hasOrders: true,
      fillsPending: s.settledCount < s.fillCount,
      metered: s.meterRoot !== zeroHash,
    };
    if (
      !dueSteps(intervalTimes(ctx.timing, k), state, now, ctx.settings.meterGraceSeconds).includes(
        "settle-fills",
      )
    )
      continue;
    members ??= (await readCommittee(ctx.client, ctx.config.committeeAddress)).members;
    await enqueueNext(
      ctx.queues,
      "keeper-flex",
      "settle-fills",
      "settle-fills",
      { intervalId: k.toString() },
      {
        jobId: jobId(ctx, k, "settle-fills"),
        delay: rankDelayMs(submitRank(members, ctx.account.address, k), ctx.settings.settleStaggerMs),
      },
    );
    pushed.push(k);
  }
  return pushed;
}

export async function keeperFlexProcessor(
  ctx: PipelineContext,
  job: Job<KeeperFlexJobData>,
): Promise<string> {
  const intervalId = BigInt(job.data.intervalId);
  const log = logFor(ctx, job, intervalId);
  const view = await readView(ctx);
  if (view === undefined) return "no flexibility market";

  /** Sends one liveness transaction; false when someone else did it first. */
  const send = async (kind: FlexLockKind, data: Hex): Promise<{ sent: boolean; amount: bigint }> => {
    try {
      const result = await ctx.sender.send({
        to: view.flexibilityMarket,
        data,
        abi: flexibilityMarketAbi,
        kind: `keeper-${kind}`,
      });
      ctx.metrics.keeperReleases.inc({ kind });
      ctx.metrics.gasSpent.inc({ kind: `keeper-${kind}` }, Number(result.receipt.gasUsed));
      let amount = 0n;
      for (const e of parseEventLogs({ abi: flexibilityMarketAbi, logs: result.receipt.logs }))
        if (e.eventName === "FlexFundsRefunded") amount += e.args.amount;
      if (amount > 0n) ctx.metrics.keeperReleasedAmount.inc({ kind }, Number(amount));
      log.info({ txHash: result.hash, kind, amount }, "keeper took a flexibility path");
      return { sent: true, amount };
    } catch (error) {
      const judged = judgeSendError("keeper-flex", error);
      if (judged.outcome === "done-by-peer") {
        log.debug({ kind, reason: judged.reason }, "flexibility path already taken");
        return { sent: false, amount: 0n };
      }
      throw error;
    }
  };

  if (job.data.kind === "close") {
    const now = await chainNow(ctx.client);
    const { due, more } = flexIntervalsToClose(ctx.timing, view.cursor, view.windows, now);
    let closed = 0;
    for (const j of due) {
      const { sent } = await send(
        "flex-interval",
        encodeFunctionData({ abi: flexibilityMarketAbi, functionName: "closeMissedInterval", args: [j] }),
      );
      if (sent) closed++;
    }
    const resettled = due.length > 0 ? await pushSettlementAgain(ctx, view.flexibilityMarket) : [];
    log.info(
      { closed, intervals: due.map(String), more, resettled: resettled.map(String) },
      "keeper closed missed flexibility intervals",
    );
    return `closed ${closed} of ${due.length} missed flexibility intervals${more ? " (more next tick)" : ""}`;
  }

  const { now: batch, later } = boundedWork(await refundCandidates(ctx, view), KEEPER_MAX_TX_PER_JOB);
  let refunded = 0;
  let amount = 0n;
  for (const o of batch) {
    const r = await send(
      "flex-refund",
      encodeFunctionData({ abi: flexibilityMarketAbi, functionName: "refundFlexFunds", args: [o.order] }),
    );
    if (r.sent) refunded++;
    amount += r.amount;
    doneOf(ctx).add(o.orderId);
  }
  log.info({ refunded, amount, left: later.length }, "keeper refunded ended flexibility orders");
  return `refunded ${refunded} orders (${amount} base units)${later.length > 0 ? `, ${later.length} next tick` : ""}`;
}
