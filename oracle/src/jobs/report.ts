/**
 * sign → aggregate → submit, for both report kinds (schedule and meter).
 *
 * sign: EIP-712 signature with the node's key; the report, its digest and what settlement
 * needs are saved as this node's own record; the signature is stored locally and sent to peers.
 * aggregate: looks at the signature store every `aggregateRetryMs` (re-delaying itself: BullMQ
 * delayed job, no busy loop) until the report's on-chain window closes. Below the threshold it
 * sends its own signature again (a peer that restarted or lost its Redis gets it), with
 * exponential backoff from `aggregateRetryMs` up to `peerRetryMaxMs` (domain/backoff.ts): a node
 * below quorum for minutes re-sends about twice a minute, not on every look.
 * submit: runs `rank × submitStaggerMs` after quorum (rank rotates with the interval), checks
 * the chain first and again just before sending; `AlreadyScheduled` / `AlreadyMetered` is
 * success, so exactly one commit lands.
 */
import { DelayedError, type Job } from "bullmq";
import { type Hex, concat, encodeFunctionData } from "viem";
import { energyMarketAbi } from "../chain/abis.js";
import { chainNow, intervalTimes, readCommittee, readIntervalState } from "../chain/market.js";
import {
  type AnyReport,
  type MeterReport,
  type ReportKind,
  type ScheduleReport,
  reportDigest,
  reportFromJson,
  signReport,
  reportToJson,
} from "../chain/reports.js";
import { UnrecoverableInputError } from "../domain/errors.js";
import { type RetrySchedule, retryDue, retryStart } from "../domain/backoff.js";
import { stepWindow, windowAt } from "../domain/due-steps.js";
import { judgeSendError } from "../infra/tx-sender.js";
import { NotReadyError } from "./schedule.js";
import { broadcastSignature, loadOwn, saveOwn, signaturesFor, storeSignature } from "./committee.js";
import { rankDelayMs, submitRank } from "../domain/submit-rank.js";
import { type PipelineContext, type ReportJobData, jobId, logFor } from "./context.js";
import { enqueueNext, enqueueStep } from "./steps.js";

export interface AggregateJobData extends ReportJobData {
  /** When this node re-sends its signature next (absent: at the first look). */
  readonly resend?: RetrySchedule | undefined;
}

export interface SignJobData extends ReportJobData {
  readonly report: unknown;
  readonly extra: unknown;
}

const stepName = (kind: ReportKind, step: string) => (kind === "schedule" ? step : `meter-${step}`);

/** Whether the report of `kind` for `intervalId` is already on-chain. */
async function committed(ctx: PipelineContext, kind: ReportKind, intervalId: bigint): Promise<boolean> {
  const state = await readIntervalState(ctx.client, ctx.config.marketAddress, intervalId);
  return kind === "schedule" ? state.scheduled : state.meterRoot !== `0x${"0".repeat(64)}`;
}

/** Enqueues what follows a commit (settlement), delayed by this node's rank. */
export async function enqueueAfterCommit(
  ctx: PipelineContext,
  kind: ReportKind,
  intervalId: bigint,
): Promise<void> {
  const { members } = await readCommittee(ctx.client, ctx.config.committeeAddress);
  const rank = submitRank(members, ctx.account.address, intervalId);
  const queue = kind === "schedule" ? "settle-fills" : "settle-imbalance";
  await enqueueStep(
    ctx.queues,
    queue,
    queue,
    { intervalId: intervalId.toString() },
    { jobId: jobId(ctx, intervalId, queue), delay: rankDelayMs(rank, ctx.settings.settleStaggerMs) },
  );
}

export async function signProcessor(ctx: PipelineContext, job: Job<SignJobData>): Promise<Hex> {
  const intervalId = BigInt(job.data.intervalId);
  const log = logFor(ctx, job, intervalId);
  let report: AnyReport;
  try {
    report = reportFromJson(job.data.kind, job.data.report);
  } catch (error) {
    throw new UnrecoverableInputError("Malformed report in sign job", { cause: error });
  }
  const digest = reportDigest(ctx.config.chainId, report);
  const signature = await signReport(ctx.account, ctx.config.chainId, report);
  await saveOwn(ctx, intervalId, {
    kind: report.kind,
    report: reportToJson(report),
    digest,
    signature,
    extra: job.data.extra,
  });
  await storeSignature(ctx, report.kind, intervalId, digest, ctx.account.address, signature);
  const delivered = await broadcastSignature(ctx, report, signature);
  await enqueueNext(
    ctx.queues,
    "sign",
    "aggregate",
    stepName(report.kind, "aggregate"),
    {
      kind: report.kind,
      intervalId: job.data.intervalId,
      resend: retryStart(Date.now(), ctx.settings.aggregateRetryMs, ctx.settings.peerRetryMaxMs),
    } satisfies AggregateJobData,
    {
      jobId: jobId(ctx, intervalId, stepName(report.kind, "aggregate")),
    },
  );
  log.info({ kind: report.kind, digest, peersReached: delivered }, "report signed");
  return digest;
}

export async function aggregateProcessor(
  ctx: PipelineContext,
  job: Job<AggregateJobData>,
  token?: string,
): Promise<string> {
  const intervalId = BigInt(job.data.intervalId);
  const kind = job.data.kind;
  const log = logFor(ctx, job, intervalId);
  if (await committed(ctx, kind, intervalId)) {
    await enqueueAfterCommit(ctx, kind, intervalId);
    return "already committed";
  }
  const own = await loadOwn(ctx, kind, intervalId);
  if (own === undefined)
    throw new UnrecoverableInputError("No own report to aggregate", { details: `${kind} ${intervalId}` });
  const committee = await readCommittee(ctx.client, ctx.config.committeeAddress);
  const sigs = await signaturesFor(ctx, kind, intervalId, own.digest, committee.members);
  if (sigs.length >= committee.threshold) {
    const rank = submitRank(committee.members, ctx.account.address, intervalId);
    await enqueueNext(
      ctx.queues,
      "aggregate",
      "submit",
      stepName(kind, "submit"),
      { kind, intervalId: job.data.intervalId },
      {
        jobId: jobId(ctx, intervalId, stepName(kind, "submit")),
        delay: rankDelayMs(rank, ctx.settings.submitStaggerMs),
      },
    );
    log.info({ kind, signatures: sigs.length, threshold: committee.threshold, rank }, "quorum reached");
    return `quorum ${sigs.length}/${committee.threshold}`;
  }
  const now = await chainNow(ctx.client);
  const commitWindow = stepWindow(
    kind === "schedule" ? "commit-schedule" : "commit-meter",
    intervalTimes(ctx.timing, intervalId),
    ctx.settings.meterGraceSeconds,
  );
  if (windowAt(commitWindow, now) === "closed")
    throw new UnrecoverableInputError("No quorum before the on-chain deadline", {
      details: `${sigs.length}/${committee.threshold} signatures for ${own.digest}`,
    });
  const resend = retryDue(
    job.data.resend ?? { sent: 0, nextAtMs: 0 },
    Date.now(),
    ctx.settings.aggregateRetryMs,
    ctx.settings.peerRetryMaxMs,
  );
  if (resend.due) await broadcastSignature(ctx, reportFromJson(kind, own.report), own.signature);
  log.debug(
    { kind, signatures: sigs.length, threshold: committee.threshold, resent: resend.next.sent },
    "waiting for signatures",
  );
  if (token === undefined) throw new NotReadyError("Waiting for signatures");
  if (resend.due) await job.updateData({ ...job.data, resend: resend.next });
  await job.moveToDelayed(Date.now() + ctx.settings.aggregateRetryMs, token);
  throw new DelayedError();
}

export async function submitProcessor(ctx: PipelineContext, job: Job<ReportJobData>): Promise<string> {
  const intervalId = BigInt(job.data.intervalId);
  const kind = job.data.kind;
  let log = logFor(ctx, job, intervalId);
  if (await committed(ctx, kind, intervalId)) {
    await enqueueAfterCommit(ctx, kind, intervalId);
    return "already committed";
  }
  const own = await loadOwn(ctx, kind, intervalId);
  if (own === undefined)
    throw new UnrecoverableInputError("No own report to submit", { details: `${kind} ${intervalId}` });
  const committee = await readCommittee(ctx.client, ctx.config.committeeAddress);
  const sigs = await signaturesFor(ctx, kind, intervalId, own.digest, committee.members);
  if (sigs.length < committee.threshold)
    throw new NotReadyError("Below threshold at submit", {
      details: `${sigs.length}/${committee.threshold}`,
    });
  const blob = concat(sigs.map((s) => s.signature));
  const report = reportFromJson(kind, own.report);
  const data =
    report.kind === "schedule"
      ? encodeFunctionData({
          abi: energyMarketAbi,
          functionName: "commitSchedule",
          args: [
            {
              ...(report.report as ScheduleReport),
              zonePrices: [...(report.report as ScheduleReport).zonePrices],
            },
            blob,
          ],
        })
      : encodeFunctionData({
          abi: energyMarketAbi,
          functionName: "commitMeterReport",
          args: [
            {
              ...(report.report as MeterReport),
              zonePrices: [...(report.report as MeterReport).zonePrices],
              shortPrices: [...(report.report as MeterReport).shortPrices],
              longPrices: [...(report.report as MeterReport).longPrices],
            },
            blob,
          ],
        });
  // Re-check right before sending: a lower-ranked node may have landed it while we waited.
  if (await committed(ctx, kind, intervalId)) {
    await enqueueAfterCommit(ctx, kind, intervalId);
    return "already committed";
  }
  try {
    const result = await ctx.sender.send({
      to: ctx.config.marketAddress,
      data,
      abi: energyMarketAbi,
      kind: `commit-${kind}`,
    });
    log = log.child({ txHash: result.hash });
    ctx.metrics.gasSpent.inc({ kind: `commit-${kind}` }, Number(result.receipt.gasUsed));
    const times = intervalTimes(ctx.timing, intervalId);
    const now = await chainNow(ctx.client);
    ctx.metrics.intervalLatency.observe(
      { stage: kind === "schedule" ? "committed" : "metered" },
      Number(now - (kind === "schedule" ? times.gateClosure : times.end)),
    );
    log.info({ kind, signatures: sigs.length, gasUsed: result.receipt.gasUsed }, "report committed");
  } catch (error) {
    const judged = judgeSendError(`commit-${kind}`, error);
    if (judged.outcome === "done-by-peer" || (await committed(ctx, kind, intervalId))) {
      log.info({ kind }, "another node committed first");
    } else if (judged.outcome === "unrecoverable") {
      throw new UnrecoverableInputError(judged.reason, {
        details: judged.details ?? (error as Error).message,
        cause: error,
      });
    } else throw error;
  }
  await enqueueAfterCommit(ctx, kind, intervalId);
  return "committed";
}
