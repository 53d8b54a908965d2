/**
 * The trigger: on every tick, read chain time (latest block timestamp — never the wall clock,
 * the demo moves chain time) and each recent interval's on-chain state, and enqueue the steps
 * domain/due-steps.ts says it needs, with their deterministic job ids (so a tick repeating
 * itself, or five ticks of a restarted node, add each job once); the settle steps are delayed by
 * rank. State is read from the chain each time, so a node that lost its Redis picks up where the
 * chain is.
 */
import { zeroHash } from "viem";
import { chainNow, intervalTimes, readCommittee, readIntervalState } from "../chain/market.js";
import { type DueStep, dueSteps, tickIntervals } from "../domain/due-steps.js";
import { rankDelayMs, submitRank } from "../domain/submit-rank.js";
import { type PipelineContext, jobId } from "./context.js";
import { type StepName, enqueueStep } from "./steps.js";

/** The queue of each step the rule can ask for; the settle steps are staggered by rank. */
const STEP_QUEUES: Readonly<
  Record<DueStep, { readonly queue: DueStep & StepName; readonly staggered: boolean }>
> = {
  collect: { queue: "collect", staggered: false },
  "settle-fills": { queue: "settle-fills", staggered: true },
  "meter-report": { queue: "meter-report", staggered: false },
  "settle-imbalance": { queue: "settle-imbalance", staggered: true },
};

export interface TickSummary {
  readonly now: bigint;
  readonly enqueued: readonly string[];
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
  // Every interval up to `newest` has its gate closed (tickIntervals), so each is read.
  for (let id = newest; id >= oldest; id--) {
    const state = await readIntervalState(ctx.client, ctx.config.marketAddress, id);
    const steps = dueSteps(
      intervalTimes(t, id),
      {
        scheduled: state.scheduled,
        hasOrders: state.commitment !== zeroHash,
        fillsPending: state.settledCount < state.fillCount,
        metered: state.meterRoot !== zeroHash,
      },
      now,
      ctx.settings.meterGraceSeconds,
    );
    const settleDelay = rankDelayMs(
      submitRank(members, ctx.account.address, id),
      ctx.settings.settleStaggerMs,
    );
    for (const step of steps) {
      const { queue, staggered } = STEP_QUEUES[step];
      await add(queue, id, staggered ? settleDelay : 0);
    }
  }
  return { now, enqueued };
}
