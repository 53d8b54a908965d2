/**
 * The trigger: on every tick, read chain time (latest block timestamp — never the wall clock,
 * the demo moves chain time) and each recent interval's on-chain state, and enqueue the steps
 * domain/due-steps.ts says it needs, with their deterministic job ids (so a tick repeating
 * itself, or five ticks of a restarted node, add each job once); the settle steps are delayed by
 * rank. State is read from the chain each time, so a node that lost its Redis picks up where the
 * chain is.
 */
import { zeroAddress, zeroHash } from "viem";
import { flexibilityMarketAbi } from "../chain/abis.js";
import { flexSettledThrough, readFlexibilityMarket } from "../chain/flexibility.js";
import { chainNow, intervalTimes, readCommittee, readIntervalState } from "../chain/market.js";
import {
  type CompletedJobs,
  type DueStep,
  type UndoneEffect,
  dueSteps,
  jobsToCheck,
  tickIntervals,
  undoneEffects,
} from "../domain/due-steps.js";
import { rankDelayMs, submitRank } from "../domain/submit-rank.js";
import { type PipelineContext, jobId } from "./context.js";
import { PIPELINE_QUEUES, type StepName, enqueueStep } from "./steps.js";

/** The queue of each step the rule can ask for; the settle steps are staggered by rank. */
const STEP_QUEUES: Readonly<
  Record<DueStep, { readonly queue: DueStep & StepName; readonly staggered: boolean }>
> = {
  collect: { queue: "collect", staggered: false },
  "settle-fills": { queue: "settle-fills", staggered: true },
  "meter-report": { queue: "meter-report", staggered: false },
  "settle-imbalance": { queue: "settle-imbalance", staggered: true },
};

/** The queue and job-id step name of each job whose completion `undoneEffects` compares. */
const CHECKED_JOBS: Readonly<Record<keyof CompletedJobs, string>> = {
  submitSchedule: "submit",
  submitMeter: "meter-submit",
  settleFills: "settle-fills",
};

export interface TickSummary {
  readonly now: bigint;
  readonly enqueued: readonly string[];
  /** Effects of completed jobs the chain no longer shows (a shallow reorg), by interval. */
  readonly undone: readonly { intervalId: bigint; effects: readonly UndoneEffect[] }[];
}

export async function schedulerTick(ctx: PipelineContext): Promise<TickSummary> {
  const now = await chainNow(ctx.client);
  const t = ctx.timing;
  const { newest, oldest } = tickIntervals(t, now);
  const { members } = await readCommittee(ctx.client, ctx.config.committeeAddress);
  const enqueued: string[] = [];
  const add = async (queue: DueStep & StepName, intervalId: bigint, delay = 0) => {
    const id = jobId(ctx, intervalId, queue);
    const existing = await ctx.queues.queue(queue).getJob(id);
    if (existing !== undefined) return;
    await enqueueStep(ctx.queues, queue, queue, { intervalId: intervalId.toString() }, { jobId: id, delay });
    enqueued.push(id);
  };
  const undone: { intervalId: bigint; effects: UndoneEffect[] }[] = [];
  const flexibility = await flexibilityActivity(ctx);
  // Every interval up to `newest` has its gate closed (tickIntervals), so each is read.
  for (let id = newest; id >= oldest; id--) {
    const chainState = await readIntervalState(ctx.client, ctx.config.marketAddress, id);
    const state = {
      scheduled: chainState.scheduled,
      hasOrders:
        chainState.commitment !== zeroHash || (!chainState.scheduled && (await flexibility.active(id))),
      fillsPending: chainState.settledCount < chainState.fillCount,
      metered: chainState.meterRoot !== zeroHash,
    };
    const completed = { submitSchedule: false, submitMeter: false, settleFills: false };
    for (const job of jobsToCheck(state, ctx.config.settlementPush)) {
      const name = CHECKED_JOBS[job];
      const found = await ctx.queues.queue(name).getJob(jobId(ctx, id, name));
      completed[job] = found !== undefined && (await found.isCompleted());
    }
    const effects = undoneEffects(state, completed);
    if (effects.length > 0) {
      // The same recovery as for a reorg the watcher sees (node/node.ts): the orphaned
      // transactions took their nonces with them, and the completed jobs must go so that the
      // steps below can be added again.
      ctx.sender.resyncNonce();
      const forgotten = await ctx.queues.forgetCompleted(PIPELINE_QUEUES);
      ctx.logger.warn(
        { intervalId: id, effects, forgotten },
        "completed steps undone on chain (a reorg shallower than confirmations): completed jobs forgotten, nonce resynced",
      );
      undone.push({ intervalId: id, effects });
    }
    const steps = dueSteps(intervalTimes(t, id), state, now, ctx.settings.meterGraceSeconds);
    const settleDelay = rankDelayMs(
      submitRank(members, ctx.account.address, id),
      ctx.settings.settleStaggerMs,
    );
    for (const step of steps) {
      const { queue, staggered } = STEP_QUEUES[step];
      await add(queue, id, staggered ? settleDelay : 0);
    }
  }
  return { now, enqueued, undone };
}

/**
 * Whether flexibility orders are active in an interval not yet settled at the flexibility market
 * (its count is exact from the market's cursor on; every interval before it is settled or closed).
 */
async function flexibilityActivity(ctx: PipelineContext): Promise<{ active(id: bigint): Promise<boolean> }> {
  const address = await readFlexibilityMarket(ctx.client, ctx.config.marketAddress);
  if (address === zeroAddress) return { active: async () => false };
  const next = await flexSettledThrough(ctx.client, address);
  return {
    active: async (id) =>
      id >= next &&
      (await ctx.client.readContract({
        address,
        abi: flexibilityMarketAbi,
        functionName: "activeOrderCount",
        args: [id],
      })) > 0,
  };
}
