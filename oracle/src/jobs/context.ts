/**
 * What every job processor of one oracle node shares: its config, key, chain clients, queues,
 * Redis, logger and metrics, and the node-local state in Redis (own reports, peer signatures).
 *
 * Redis keys (under the node's queue prefix, so `{tag}` prefixes keep them in one Cluster slot):
 *   <prefix>:oracle:<chain>:<market>:own:<kind>:<interval>            JSON OwnRecord
 *   <prefix>:oracle:<chain>:<market>:sigs:<kind>:<interval>:<digest>   hash signer → signature
 */
import type { Redis } from "ioredis";
import type { Job } from "bullmq";
import type { Address, Hex, LocalAccount, PublicClient } from "viem";
import type { Config } from "../infra/config.js";
import type { Logger } from "../infra/logging.js";
import { jobLogger } from "../infra/logging.js";
import type { OracleMetrics } from "../infra/metrics.js";
import { type QueueFactory, jobIdFor } from "../infra/queue.js";
import type { TxSender } from "../infra/tx-sender.js";
import type { MeterStore } from "../infra/meter-store.js";
import type { DispatchInstanceInput } from "../domain/dispatch/index.js";
import type { MarketTiming } from "../chain/market.js";
import type { ReportKind } from "../chain/reports.js";

/** Pipeline tuning; see docs/ORACLE.md. */
export interface PipelineSettings {
  /** Base URLs of the other committee nodes (`http://host:port`), for the signature exchange. */
  readonly peerUrls: readonly string[];
  /** The node at submit rank r waits r × this before sending a commit. */
  readonly submitStaggerMs: number;
  /** The node at rank r waits r × this before pushing settlements. */
  readonly settleStaggerMs: number;
  /** How long the aggregate step waits between looks at the signature store. */
  readonly aggregateRetryMs: number;
  /** Meter reports are built this long (chain seconds) after the interval ends. */
  readonly meterGraceSeconds: bigint;
  /** The reading deadline: interval end + this; a silent meter counts as missing only after it. */
  readonly meterDeadlineSeconds: bigint;
  /** Cap of the backoff of retries towards peers (signature re-sends, looks for missing readings). */
  readonly peerRetryMaxMs: number;
  /** Gas per settlement transaction (fills are batched below it). */
  readonly settlementBatchGasBudget: bigint;
}

/** Test-only hooks. Never set in production wiring; `oracle serve` has no way to set them. */
export interface PipelineTestHooks {
  /** Rewrites the instance this node solves (a node given a tampered order set). */
  readonly tamperInstance?: (instance: DispatchInstanceInput) => DispatchInstanceInput;
}

export interface PipelineContext {
  readonly config: Config;
  readonly settings: PipelineSettings;
  readonly account: LocalAccount;
  readonly client: PublicClient;
  readonly sender: TxSender;
  readonly queues: QueueFactory;
  readonly redis: Redis;
  readonly logger: Logger;
  readonly metrics: OracleMetrics;
  readonly meterStore: MeterStore;
  readonly timing: MarketTiming;
  readonly hooks: PipelineTestHooks;
}

export interface IntervalJobData {
  /** Decimal string (BullMQ data is JSON). */
  readonly intervalId: string;
}

export interface ReportJobData extends IntervalJobData {
  readonly kind: ReportKind;
}

export const market = (ctx: PipelineContext): Address => ctx.config.marketAddress;

export function stateKey(ctx: PipelineContext, ...parts: readonly (string | bigint)[]): string {
  return [
    ctx.queues.prefix,
    "oracle",
    ctx.config.chainId,
    ctx.config.marketAddress.toLowerCase(),
    ...parts,
  ].join(":");
}

export function jobId(ctx: PipelineContext, intervalId: bigint, step: string): string {
  return jobIdFor(ctx.config.chainId, ctx.config.marketAddress, intervalId, step);
}

export function logFor(ctx: PipelineContext, job: Job, intervalId: bigint): Logger {
  return jobLogger(ctx.logger, { intervalId, jobId: job.id ?? "", queue: job.queueName });
}

export type Hex32 = Hex;
