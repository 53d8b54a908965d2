/**
 * meter-report: after the interval ends (+ `meterGraceSeconds`, chain time), aggregate this
 * node's accepted readings per participant, build the meter Merkle tree and hand the report to
 * `sign` (then aggregate and submit as for schedules). Imbalance prices follow the netting rule of
 * domain/imbalance-prices.ts from the zones' registered grid tariffs, the committed zone prices and
 * each zone's metered deviations against the committed schedule (fills and flexibility steps, as
 * `settleImbalance` counts them). The grid's accounts are the balancing parties: they are left out of the meter tree
 * (docs/MARKET_RULES.md, "The grid").
 *
 * A silent meter counts as missing only after the reading deadline (domain/meter/deadline.ts):
 * while some registered meter has no reading here, the job first fetches the peers' readings
 * (a node that was down when the meters posted gets them now), and if one is still missing
 * before the deadline it re-delays itself (BullMQ delayed job, backoff from `aggregateRetryMs`
 * up to `peerRetryMaxMs`) instead of signing. After the deadline it fetches once more and builds
 * the report with the missing-reading rule.
 */
import { DelayedError, type Job } from "bullmq";
import { type Hex, getAddress } from "viem";
import {
  chainNow,
  readBatteryOwners,
  gridAccounts,
  intervalTimes,
  readCommittee,
  readIntervalState,
  readMeterRegistry,
  readParticipantZones,
  readZoneGrids,
} from "../chain/market.js";
import { imbalancePrices, zoneDeviations } from "../domain/imbalance-prices.js";
import { zoneSurplusOfParticipants } from "../domain/forecast/meter-surplus.js";
import { type MeterReport, reportToJson } from "../chain/reports.js";
import { buildMeterTree } from "../domain/schedule.js";
import { UnrecoverableInputError } from "../domain/errors.js";
import { aggregateInterval, scheduledEnergy, scheduledNetWh } from "../domain/meter/aggregate.js";
import { meterReportDecision, readingDeadline, silentMeters } from "../domain/meter/deadline.js";
import { backoffDelayMs } from "../domain/backoff.js";
import { stepWindow, windowAt } from "../domain/due-steps.js";
import { type IntervalJobData, type PipelineContext, jobId, logFor } from "./context.js";
import { enqueueNext } from "./steps.js";
import { NotReadyError } from "./schedule.js";
import { pullPeerReadings } from "./committee.js";
import { type MeterExtra, committedSchedule } from "./settle.js";

export interface MeterReportJobData extends IntervalJobData {
  /** Looks so far that found a silent meter before the reading deadline (drives the backoff). */
  readonly waits?: number | undefined;
}

export async function meterReportProcessor(
  ctx: PipelineContext,
  job: Job<MeterReportJobData>,
  token?: string,
): Promise<string> {
  const intervalId = BigInt(job.data.intervalId);
  const log = logFor(ctx, job, intervalId);
  const state = await readIntervalState(ctx.client, ctx.config.marketAddress, intervalId);
  if (state.meterRoot !== `0x${"0".repeat(64)}`) return "already metered";
  if (!state.scheduled)
    throw new UnrecoverableInputError("Interval was never scheduled", { details: `${intervalId}` });
  const now = await chainNow(ctx.client);
  const at = windowAt(
    stepWindow("meter-report", intervalTimes(ctx.timing, intervalId), ctx.settings.meterGraceSeconds),
    now,
  );
  if (at === "early")
    throw new NotReadyError("Meter grace period not over", { details: `chain time ${now}` });
  if (at === "closed")
    throw new UnrecoverableInputError("Meter window closed", { details: `chain time ${now}` });

  const view = await committedSchedule(ctx, intervalId);
  const grids = await readZoneGrids(ctx.client, ctx.config.registryAddress);
  const scheduled = scheduledEnergy(view.orders, view.filledWh, gridAccounts(grids));
  const registry = await readMeterRegistry(ctx.client, ctx.config.registryAddress, ctx.config.startBlock);
  let readings = await ctx.meterStore.readings(intervalId);
  if (silentMeters(registry, readings, intervalId).length > 0) {
    const fetched = await pullPeerReadings(ctx, intervalId);
    if (fetched > 0) readings = await ctx.meterStore.readings(intervalId);
  }
  const silent = silentMeters(registry, readings, intervalId);
  const deadline = readingDeadline(intervalId, ctx.timing.intervalSeconds, ctx.settings.meterDeadlineSeconds);
  // Chain time again: fetching took a while, and the deadline must not be judged on a stale clock.
  const decision = meterReportDecision({
    nowSeconds: await chainNow(ctx.client),
    deadline,
    silentMeters: silent.length,
  });
  if (decision.action === "wait") {
    const waits = job.data.waits ?? 0;
    log.debug(
      { silentMeters: silent.length, readingDeadline: deadline, waits },
      "waiting for meter readings",
    );
    if (token === undefined)
      throw new NotReadyError("Waiting for meter readings", { details: `${silent.length} silent meters` });
    await job.updateData({ ...job.data, waits: waits + 1 });
    await job.moveToDelayed(
      Date.now() + backoffDelayMs(waits, ctx.settings.aggregateRetryMs, ctx.settings.peerRetryMaxMs),
      token,
    );
    throw new DelayedError();
  }
  const totals = aggregateInterval({
    intervalId,
    readings,
    registry,
    scheduled,
  });
  if (totals.length === 0) return "no participants to meter";
  const leaves = totals.map((t) => ({
    participant: t.participant,
    injectedWh: t.injectedWh,
    consumedWh: t.consumedWh,
  }));
  const committee = await readCommittee(ctx.client, ctx.config.committeeAddress);
  const zones = await readParticipantZones(
    ctx.client,
    ctx.config.registryAddress,
    totals.map((t) => t.participant),
  );
  const scheduledNet = scheduledNetWh(
    scheduled,
    view.flexSteps.map((s) => ({ owner: s.order.owner, direction: s.direction, energyWh: s.energyWh })),
  );
  const deviations = zoneDeviations(
    totals.map((t) => ({
      participant: t.participant,
      deviationWh: t.injectedWh - t.consumedWh - (scheduledNet.get(getAddress(t.participant)) ?? 0n),
    })),
    (participant) => zones.get(participant),
    view.zonePrices.length,
  );
  const prices = imbalancePrices({ tariffs: grids, zonePrices: view.zonePrices, deviations });
  // The zones' surplus for the committee's later plans (forecast/meter-surplus.ts).
  const zoneSurplusWh = zoneSurplusOfParticipants(view.zonePrices.length, totals, {
    zoneOf: (participant) => zones.get(participant),
    solar: new Set([...registry.values()].filter((m) => m.source === "solar").map((m) => m.participant)),
    batteryOwners: await readBatteryOwners(ctx.client, ctx.config.registryAddress),
  });
  const report: MeterReport = {
    market: ctx.config.marketAddress,
    intervalId,
    configEpoch: committee.epoch,
    meterRoot: buildMeterTree(leaves).root as Hex,
    scheduleRoot: view.root,
    zonePrices: view.zonePrices,
    shortPrices: prices.shortPrices,
    longPrices: prices.longPrices,
    zoneSurplusWh,
  };
  const extra: MeterExtra = {
    leaves: leaves.map((l) => [l.participant, l.injectedWh.toString(), l.consumedWh.toString()]),
  };
  await enqueueNext(
    ctx.queues,
    "meter-report",
    "sign",
    "meter-sign",
    {
      kind: "meter",
      intervalId: job.data.intervalId,
      report: reportToJson({ kind: "meter", report }),
      extra,
    },
    {
      jobId: jobId(ctx, intervalId, "meter-sign"),
    },
  );
  log.info(
    {
      participants: totals.length,
      estimated: totals.filter((t) => t.estimated).length,
      silentMeters: silent.length,
      readingDeadline: deadline,
      meterRoot: report.meterRoot,
      // Per zone: short/long Wh against the schedule, and the netted prices they give.
      zoneDeviationsWh: deviations.map((d) => `${d.shortWh}/${d.longWh}`),
      shortPrices: prices.shortPrices.map(String),
      longPrices: prices.longPrices.map(String),
      zoneSurplusWh: zoneSurplusWh.map(String),
    },
    "meter report built",
  );
  return report.meterRoot;
}
