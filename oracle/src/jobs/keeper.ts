/**
 * keeper: takes every liveness path the market contract leaves to "anyone" once an interval's
 * deadline has passed, so no lock waits for an outsider (docs/OPERATIONS.md, "Keeper"):
 *
 *   not scheduled by the schedule deadline  → releaseOrder for each open order
 *   scheduled, past the meter deadline      → releaseOrder for each order whose fill never settled,
 *                                             then settleImbalances (metered) or releaseCollateral
 *                                             (not metered) for each participant with a fill, then collectGridRevenue
 *
 * Which intervals: every interval with an order. A chain watcher of its own (cursor in Redis,
 * like the commit watcher) reads `OrderPlaced` and adds the interval to a sorted set; the tick
 * looks only at the set's intervals whose schedule deadline has passed, asks the domain rule
 * (domain/keeper.ts) whether one is due, and enqueues its job with a deterministic id and the
 * settle steps' rank delay, so every node enqueues the same job and the rank-0 node takes it
 * while the others, waking later, find the chain already clean. An interval leaves the set when
 * its job finds nothing left to release.
 *
 * Every lock is checked on-chain right before its transaction (and the send simulates first), so
 * a retry after a crash, or two nodes racing, costs at most a reverted simulation.
 */
import type { Job } from "bullmq";
import { type AbiEvent, type Address, type Hex, encodeFunctionData, parseEventLogs, zeroHash } from "viem";
import { energyMarketAbi } from "../chain/abis.js";
import {
  type ChainOrder,
  type IntervalState,
  chainNow,
  readCommittee,
  readIntervalState,
  readOrderBook,
} from "../chain/market.js";
import {
  type KeeperPath,
  boundedWork,
  collateralReleasable,
  keeperDecision,
  keeperDeadlines,
  lastPastScheduleDeadline,
  KEEPER_MAX_TX_PER_JOB,
} from "../domain/keeper.js";
import { fillOpen } from "../domain/settlement-batches.js";
import type { WatchedLog } from "../infra/chain-watcher.js";
import { judgeSendError } from "../infra/tx-sender.js";
import { rankDelayMs, submitRank } from "../domain/submit-rank.js";
import { type PipelineContext, jobId, logFor, stateKey } from "./context.js";
import { enqueueNext, enqueueStep } from "./steps.js";
import { NotReadyError } from "./schedule.js";
import { READS_IN_FLIGHT, settleOpenImbalances } from "./settle.js";

export interface KeeperJobData {
  /** Decimal string (BullMQ data is JSON). */
  readonly intervalId: string;
  /** 1 for the first job of an interval; n + 1 continues where part n stopped at its bound. */
  readonly part: number;
}

/** The market event that makes an interval a keeper candidate. */
export const KEEPER_WATCHED_EVENTS: readonly AbiEvent[] = energyMarketAbi.filter(
  (x) => x.type === "event" && x.name === "OrderPlaced",
) as readonly AbiEvent[];

/** Sorted set of the intervals that may still hold locks (score = interval id). */
const candidatesKey = (ctx: PipelineContext) => stateKey(ctx, "keeper", "intervals");

/** Kind of lock, the `kind` label of the keeper metrics. */
type LockKind = "order" | "collateral" | "imbalance" | "grid-revenue";

/** Locks found pending per interval on this node, for the `keeper_locks_pending` gauge. */
const pendingByContext = new WeakMap<PipelineContext, Map<string, Record<LockKind, number>>>();

function setPending(ctx: PipelineContext, intervalId: bigint, counts: Record<LockKind, number> | undefined) {
  let byInterval = pendingByContext.get(ctx);
  if (byInterval === undefined) {
    byInterval = new Map();
    pendingByContext.set(ctx, byInterval);
  }
  if (counts === undefined) byInterval.delete(intervalId.toString());
  else byInterval.set(intervalId.toString(), counts);
  const totals: Record<LockKind, number> = { order: 0, collateral: 0, imbalance: 0, "grid-revenue": 0 };
  for (const c of byInterval.values()) for (const k of Object.keys(totals) as LockKind[]) totals[k] += c[k];
  for (const [kind, n] of Object.entries(totals)) ctx.metrics.keeperLocksPending.set({ kind }, n);
}

/** Watcher callback: an order was placed, so its interval may one day need the keeper. Idempotent. */
export async function onOrderPlacedLog(ctx: PipelineContext, log: WatchedLog): Promise<void> {
  const intervalId = (log.args as { intervalId?: unknown } | undefined)?.intervalId;
  if (typeof intervalId !== "bigint") return;
  await ctx.redis.zadd(candidatesKey(ctx), Number(intervalId), intervalId.toString());
}

/** Per node: chain time before which a candidate is known not to be due (no reads until then). */
const notBefore = new WeakMap<PipelineContext, Map<string, bigint>>();

export interface KeeperTickSummary {
  readonly now: bigint;
  readonly enqueued: readonly string[];
}

/**
 * One pass: for each candidate interval whose schedule deadline has passed, read its state, ask
 * the rule, and enqueue its keeper job (delayed by this node's rank) if it is due.
 */
export async function keeperTick(ctx: PipelineContext): Promise<KeeperTickSummary> {
  const now = await chainNow(ctx.client);
  const t = ctx.timing;
  const last = lastPastScheduleDeadline(t, now);
  if (last === undefined) return { now, enqueued: [] };
  const ids = await ctx.redis.zrangebyscore(candidatesKey(ctx), 0, Number(last));
  if (ids.length === 0) return { now, enqueued: [] };
  // The committee is read only when a job is enqueued (its rank), not on every tick.
  let members: readonly Address[] | undefined;
  const enqueued: string[] = [];
  let waitUntil = notBefore.get(ctx);
  if (waitUntil === undefined) {
    waitUntil = new Map();
    notBefore.set(ctx, waitUntil);
  }
  for (const raw of ids) {
    const intervalId = BigInt(raw);
    // A job already taken (or dead-lettered, with its reason) is not added twice.
    const id = jobId(ctx, intervalId, "keeper");
    if ((await ctx.queues.queue("keeper").getJob(id)) !== undefined) continue;
    if ((waitUntil.get(raw) ?? 0n) > now) continue;
    const state = await readIntervalState(ctx.client, ctx.config.marketAddress, intervalId);
    const decision = keeperDecision(t, intervalId, now, ruleState(state));
    if (!decision.due) {
      // Scheduled before its schedule deadline: nothing is due until the meter deadline, and that
      // cannot change (a commit is final), so the interval is not read again until then.
      waitUntil.set(raw, decision.dueAt);
      continue;
    }
    waitUntil.delete(raw);
    members ??= (await readCommittee(ctx.client, ctx.config.committeeAddress)).members;
    const rank = submitRank(members, ctx.account.address, intervalId);
    const data: KeeperJobData = { intervalId: raw, part: 1 };
    await enqueueStep(ctx.queues, "keeper", "keeper", data, {
      jobId: id,
      delay: rankDelayMs(rank, ctx.settings.settleStaggerMs),
    });
    enqueued.push(id);
  }
  return { now, enqueued };
}

function ruleState(s: IntervalState) {
  return {
    scheduled: s.scheduled,
    fillCount: s.fillCount,
    settledCount: s.settledCount,
    metered: s.meterRoot !== zeroHash,
    surplus: s.receipts - s.payouts,
  };
}

/** `Promise.all(items.map(read))` with at most `READS_IN_FLIGHT` reads in flight (settle.ts's limit). */
async function inChunks<T, R>(items: readonly T[], read: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += READS_IN_FLIGHT)
    out.push(...(await Promise.all(items.slice(i, i + READS_IN_FLIGHT).map(read))));
  return out;
}

/** Open orders of the interval: the position slot still holds the order id. */
async function openOrders(ctx: PipelineContext, orders: readonly ChainOrder[], intervalId: bigint) {
  const slots = await inChunks(orders, (o) =>
    ctx.client.readContract({
      address: ctx.config.marketAddress,
      abi: energyMarketAbi,
      functionName: "position",
      args: [o.owner, intervalId, o.side],
    }),
  );
  return orders.filter((o, i) => fillOpen(slots[i]!, o.orderId));
}

/** Participants of an interval without a usable meter leaf whose collateral the rule says is releasable. */
async function lockedCollateral(ctx: PipelineContext, orders: readonly ChainOrder[], intervalId: bigint) {
  const owners = [...new Set(orders.map((o) => o.owner))];
  const read = (functionName: "settledFill", owner: Address, side: 0 | 1) =>
    ctx.client.readContract({
      address: ctx.config.marketAddress,
      abi: energyMarketAbi,
      functionName,
      args: [owner, intervalId, side],
    });
  const checks = await inChunks(owners, async (owner) => {
    const [done, [boughtSettled, boughtWh], [soldSettled, soldWh]] = await Promise.all([
      ctx.client.readContract({
        address: ctx.config.marketAddress,
        abi: energyMarketAbi,
        functionName: "imbalanceSettled",
        args: [owner, intervalId],
      }),
      read("settledFill", owner as Address, 0),
      read("settledFill", owner as Address, 1),
    ]);
    return collateralReleasable({
      imbalanceSettled: done,
      bought: { settled: boughtSettled, filledWh: boughtWh },
      sold: { settled: soldSettled, filledWh: soldWh },
    });
  });
  return owners.filter((_, i) => checks[i]);
}

export async function keeperProcessor(ctx: PipelineContext, job: Job<KeeperJobData>): Promise<string> {
  const intervalId = BigInt(job.data.intervalId);
  const part = job.data.part;
  const log = logFor(ctx, job, intervalId);
  const market = ctx.config.marketAddress;
  const [now, state] = await Promise.all([
    chainNow(ctx.client),
    readIntervalState(ctx.client, market, intervalId),
  ]);
  const decision = keeperDecision(ctx.timing, intervalId, now, ruleState(state));
  if (!decision.due)
    throw new NotReadyError("Keeper deadline not reached", { details: `due at ${decision.dueAt}` });

  let budget = KEEPER_MAX_TX_PER_JOB;
  const taken: Record<LockKind, number> = { order: 0, collateral: 0, imbalance: 0, "grid-revenue": 0 };
  const amounts: Record<LockKind, bigint> = { order: 0n, collateral: 0n, imbalance: 0n, "grid-revenue": 0n };
  const pending: Record<LockKind, number> = { order: 0, collateral: 0, imbalance: 0, "grid-revenue": 0 };

  /** Sends one liveness transaction; false when someone else took the lock first. */
  const send = async (kind: LockKind, data: Hex): Promise<boolean> => {
    try {
      const result = await ctx.sender.send({
        to: market,
        data,
        abi: energyMarketAbi,
        kind: `keeper-${kind}`,
      });
      budget--;
      taken[kind]++;
      ctx.metrics.keeperReleases.inc({ kind });
      ctx.metrics.gasSpent.inc({ kind: `keeper-${kind}` }, Number(result.receipt.gasUsed));
      let amount = 0n;
      for (const e of parseEventLogs({ abi: energyMarketAbi, logs: result.receipt.logs })) {
        if (e.eventName === "OrderReleased" || e.eventName === "CollateralReleased") amount += e.args.amount;
        if (e.eventName === "GridRevenueCredited") amount += e.args.amount;
      }
      amounts[kind] += amount;
      ctx.metrics.keeperReleasedAmount.inc({ kind }, Number(amount));
      log.info({ txHash: result.hash, kind, amount }, "keeper released a lock");
      return true;
    } catch (error) {
      const judged = judgeSendError("keeper-release", error);
      if (judged.outcome === "done-by-peer") {
        log.debug({ kind, reason: judged.reason }, "lock already taken");
        return false;
      }
      throw error;
    }
  };

  const paths: readonly KeeperPath[] = decision.paths;
  const book =
    paths.includes("release-orders") || paths.includes("release-collateral")
      ? await readOrderBook(ctx.client, market, intervalId, ctx.config.startBlock)
      : undefined;
  let more = false;

  if (paths.includes("release-orders")) {
    const open = await openOrders(ctx, book!.open, intervalId);
    const { now: batch, later } = boundedWork(open, budget);
    pending.order = open.length;
    for (const order of batch) {
      const { orderId: _id, ...struct } = order;
      await send(
        "order",
        encodeFunctionData({ abi: energyMarketAbi, functionName: "releaseOrder", args: [struct] }),
      );
    }
    pending.order -= batch.length;
    more ||= later.length > 0;
  }
  // Imbalances need this node's own meter report; without it (readings lost) the other paths
  // still run here, and the job fails afterwards so another attempt (or node) settles them.
  let imbalanceError: unknown;
  if (!more && paths.includes("settle-imbalances")) {
    try {
      // Batched by the settle step's gas budget; each batch is one transaction.
      const settled = await settleOpenImbalances(ctx, intervalId, log);
      if (settled > 0) {
        taken.imbalance += settled;
        ctx.metrics.keeperReleases.inc({ kind: "imbalance" }, settled);
      }
    } catch (error) {
      imbalanceError = error;
    }
  }
  if (!more && paths.includes("release-collateral") && budget === 0) more = true;
  if (!more && paths.includes("release-collateral")) {
    const sellers = await lockedCollateral(ctx, book!.open, intervalId);
    const { now: batch, later } = boundedWork(sellers, budget);
    pending.collateral = sellers.length;
    for (const seller of batch)
      await send(
        "collateral",
        encodeFunctionData({
          abi: energyMarketAbi,
          functionName: "releaseCollateral",
          args: [seller as Address, intervalId],
        }),
      );
    pending.collateral -= batch.length;
    more ||= later.length > 0;
  }
  if (!more && paths.includes("collect-grid-revenue") && budget === 0) more = true;
  if (!more && paths.includes("collect-grid-revenue")) {
    const after = await readIntervalState(ctx.client, market, intervalId);
    if (after.receipts > after.payouts)
      await send(
        "grid-revenue",
        encodeFunctionData({ abi: energyMarketAbi, functionName: "collectGridRevenue", args: [intervalId] }),
      );
  }

  const summary = `part ${part}: ${taken.order} orders, ${taken.collateral} collateral, ${taken.imbalance} imbalances, ${taken["grid-revenue"]} grid revenue`;
  if (more) {
    // The bound was reached: the next part continues at once (its own deterministic id).
    setPending(ctx, intervalId, pending);
    const next: KeeperJobData = { intervalId: job.data.intervalId, part: part + 1 };
    await enqueueNext(ctx.queues, "keeper", "keeper", "keeper", next, {
      jobId: jobId(ctx, intervalId, `keeper-part${part + 1}`),
    });
    log.info({ taken, amounts, part }, "keeper bound reached, next part enqueued");
    return summary;
  }
  if (imbalanceError !== undefined) {
    setPending(ctx, intervalId, { ...pending, imbalance: 1 });
    throw imbalanceError;
  }
  // Nothing left the rules allow: the interval is done for the keeper.
  setPending(ctx, intervalId, undefined);
  await ctx.redis.zrem(candidatesKey(ctx), job.data.intervalId);
  const { scheduleDeadline, meterDeadline } = keeperDeadlines(ctx.timing, intervalId);
  log.info(
    {
      taken,
      amounts,
      secondsAfterDeadline: now - (state.scheduled ? meterDeadline : scheduleDeadline),
    },
    "keeper done with interval",
  );
  return summary;
}
