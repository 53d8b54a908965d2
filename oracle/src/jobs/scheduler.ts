/**
 * The trigger: on every tick, read chain time (latest block timestamp — never the wall clock,
 * the demo moves chain time) and each recent interval's on-chain state, and enqueue the step it
 * needs with its deterministic job id (so a tick repeating itself, or five ticks of a restarted
 * node, add each job once):
 *   gate closed, not scheduled, has orders, window open → collect
 *   scheduled, fills pending, before meter deadline     → settle-fills (delayed by rank)
 *   ended + grace, scheduled, not metered, window open  → meter-report
 *   metered                                             → settle-imbalance (delayed by rank)
 * State is read from the chain each time, so a node that lost its Redis picks up where the
 * chain is.
 */
import { zeroHash } from "viem";
import { QUEUE_NAMES } from "../infra/queue.js";
import { chainNow, intervalTimes, readCommittee, readIntervalState } from "../chain/market.js";
import { rankDelayMs, submitRank } from "../domain/submit-rank.js";
import { type PipelineContext, jobId } from "./context.js";

export interface TickSummary {
  readonly now: bigint;
  readonly enqueued: readonly string[];
}

export async function schedulerTick(ctx: PipelineContext): Promise<TickSummary> {
  const now = await chainNow(ctx.client);
  const t = ctx.timing;
  // Newest interval whose gate has closed, and how far back a step can still be due.
  const newest = (now + t.gateClosureSeconds) / t.intervalSeconds;
  const span =
    (t.gateClosureSeconds + t.intervalSeconds + t.meterWindowSeconds + t.scheduleWindowSeconds) /
      t.intervalSeconds +
    1n;
  const oldest = newest > span ? newest - span : 0n;
  const { members } = await readCommittee(ctx.client, ctx.config.committeeAddress);
  const enqueued: string[] = [];
  const add = async (queue: string, intervalId: bigint, delay = 0) => {
    const id = jobId(ctx, intervalId, queue);
    const existing = await ctx.queues.queue(queue).getJob(id);
    if (existing !== undefined) return;
    await ctx.queues.queue(queue).add(queue, { intervalId: intervalId.toString() }, { jobId: id, delay });
    enqueued.push(id);
  };
  for (let id = newest; id >= oldest; id--) {
    const times = intervalTimes(t, id);
    if (now < times.gateClosure) continue;
    const state = await readIntervalState(ctx.client, ctx.config.marketAddress, id);
    const settleDelay = rankDelayMs(
      submitRank(members, ctx.account.address, id),
      ctx.settings.settleStaggerMs,
    );
    if (!state.scheduled) {
      if (state.commitment !== zeroHash && now < times.scheduleDeadline) await add(QUEUE_NAMES.collect, id);
      continue;
    }
    if (now >= times.meterDeadline) continue;
    if (state.settledCount < state.fillCount) await add(QUEUE_NAMES.settleFills, id, settleDelay);
    if (state.meterRoot === zeroHash) {
      if (now >= times.end + ctx.settings.meterGraceSeconds) await add(QUEUE_NAMES.meterReport, id);
    } else await add(QUEUE_NAMES.settleImbalance, id, settleDelay);
  }
  return { now, enqueued };
}
