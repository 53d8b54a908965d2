/**
 * Chain events → pipeline jobs, through the infra ChainWatcher (confirmation depth, cursor in
 * Redis, reorg rewind). The node watches the market's `ScheduleCommitted` and
 * `MeterReportCommitted` and enqueues what follows each commit: `settle-fills` and
 * `settle-imbalance`, with the same deterministic job ids and rank delays as the submit step and
 * the chain-time scheduler (`enqueueAfterCommit`), so whichever path sees the commit first adds
 * the job and the others are no-ops.
 *
 * What this adds to the scheduler: the cursor is persisted, so a node that was down when a
 * commit landed (or whose Redis was wiped) finds the event on restart, within one watcher pass,
 * and a node that did not submit learns of a commit from the event itself rather than from
 * re-reading every recent interval's state. The scheduler stays the fallback for everything
 * the events do not cover (gate closure, meter grace), and both paths read the chain before any
 * transaction, so a duplicate, late or replayed event never sends twice.
 */
import type { AbiEvent } from "viem";
import { energyMarketAbi } from "../chain/abis.js";
import { chainNow, readIntervalState } from "../chain/market.js";
import type { ReportKind } from "../chain/reports.js";
import type { WatchedLog } from "../infra/chain-watcher.js";
import { windowAt } from "../domain/due-steps.js";
import { enqueueAfterCommit } from "./report.js";
import { settleFillsWindow } from "./settle.js";
import type { PipelineContext } from "./context.js";

const EVENT_KINDS: Readonly<Record<string, ReportKind>> = {
  ScheduleCommitted: "schedule",
  MeterReportCommitted: "meter",
};

/** The market events the node's watcher reads. */
export const WATCHED_MARKET_EVENTS: readonly AbiEvent[] = energyMarketAbi.filter(
  (x): x is Extract<(typeof energyMarketAbi)[number], { type: "event" }> =>
    x.type === "event" && x.name in EVENT_KINDS,
) as readonly AbiEvent[];

export type MarketLogOutcome =
  | { readonly action: "enqueued"; readonly kind: ReportKind; readonly intervalId: bigint }
  | { readonly action: "skipped"; readonly reason: string };

/**
 * Handles one confirmed market log: enqueues the settlement that follows the commit, unless the
 * interval's settlement window has closed (a replay of old history) or, for a schedule, every
 * fill is already settled. Idempotent: delivering the same log twice adds the job once.
 */
export async function onMarketLog(ctx: PipelineContext, log: WatchedLog): Promise<MarketLogOutcome> {
  const kind = log.eventName === undefined ? undefined : EVENT_KINDS[log.eventName];
  if (kind === undefined) return { action: "skipped", reason: `not a watched event: ${log.eventName}` };
  const intervalId = (log.args as { intervalId?: unknown } | undefined)?.intervalId;
  if (typeof intervalId !== "bigint")
    return { action: "skipped", reason: `${log.eventName}: log without an intervalId` };
  const [now, state] = await Promise.all([
    chainNow(ctx.client),
    readIntervalState(ctx.client, ctx.config.marketAddress, intervalId),
  ]);
  if (windowAt(settleFillsWindow(ctx, intervalId), now) === "closed")
    return { action: "skipped", reason: `interval ${intervalId}: settlement window closed` };
  if (kind === "schedule" && state.settledCount >= state.fillCount)
    return { action: "skipped", reason: `interval ${intervalId}: every fill is settled` };
  await enqueueAfterCommit(ctx, kind, intervalId);
  ctx.logger.info(
    { intervalId, event: log.eventName, blockNumber: log.blockNumber, tx: log.transactionHash },
    "commit seen by the chain watcher",
  );
  return { action: "enqueued", kind, intervalId };
}
