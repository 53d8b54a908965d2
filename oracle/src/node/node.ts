/**
 * One oracle node: config → signing key → viem clients → BullMQ queues and workers (one per
 * pipeline step) → HTTP server (health, readiness, metrics, meter readings, committee
 * signatures, dashboard) → the chain watcher (commit events → settlement jobs, cursor in Redis),
 * the keeper's watcher (orders → keeper candidates) and the chain-time scheduler, whose ticks also
 * run the keeper's (jobs/keeper.ts). `start()` once, `close()` any number of times (every resource
 * is closed even when one fails).
 */
import type { Redis } from "ioredis";
import { Gauge } from "prom-client";
import type { LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { type MarketTiming, createChainClients, readMarketTiming } from "../chain/market.js";
import { warmUpSolver } from "../domain/dispatch/index.js";
import { ChainWatcher } from "../infra/chain-watcher.js";
import { type Config, ConfigError } from "../infra/config.js";
import { checkMeterTiming } from "../domain/meter/deadline.js";
import { type HttpServer, startHttpServer } from "../infra/http.js";
import { unlockKeystore } from "../infra/keystore.js";
import { type Logger, createLogger } from "../infra/logging.js";
import { MeterStore } from "../infra/meter-store.js";
import { type OracleMetrics, createMetrics } from "../infra/metrics.js";
import { QueueFactory, closeAll, jobLockOptions } from "../infra/queue.js";
import { TxSender } from "../infra/tx-sender.js";
import { receivePeerReadings, receiveSignature } from "../jobs/committee.js";
import type { PipelineContext, PipelineSettings, PipelineTestHooks } from "../jobs/context.js";
import { schedulerTick } from "../jobs/scheduler.js";
import { PIPELINE_QUEUES, STEP_LIST } from "../jobs/steps.js";
import { proofSource } from "../jobs/proofs.js";
import { WATCHED_MARKET_EVENTS, onMarketLog } from "../jobs/watcher.js";
import { KEEPER_WATCHED_EVENTS, keeperTick, onOrderPlacedLog } from "../jobs/keeper.js";
import { keeperFlexTick } from "../jobs/keeper-flex.js";
import { stateKey } from "../jobs/context.js";
import { nodeMeterIngest } from "./meter-ingest.js";

export interface OracleNodeOptions {
  readonly config: Config;
  /** The signing key; default: unlocked from `config.keystorePath` (or the dev-only key on chain 31337). */
  readonly account?: LocalAccount;
  readonly logger?: Logger;
  /** Test-only hooks (a tampered order set). */
  readonly hooks?: PipelineTestHooks;
  /** Scheduler tick period (default `config.pollIntervalMs`). */
  readonly tickMs?: number;
  /** TxSender tuning (tests shorten the bump and receipt timings). */
  readonly txBumpAfterMs?: number;
  /**
   * Test-only: run without the chain-time scheduler, so a test can show what the chain watcher
   * alone does. `oracle serve` has no way to set it.
   */
  readonly withoutScheduler?: boolean;
}

export async function resolveAccount(config: Config): Promise<LocalAccount> {
  if (config.devInsecurePrivateKey !== undefined)
    return privateKeyToAccount(config.devInsecurePrivateKey as `0x${string}`);
  return unlockKeystore({
    keystorePath: config.keystorePath!,
    password: config.keystorePassword,
    passwordFile: config.keystorePasswordFile,
  });
}

export function settingsFromConfig(config: Config): PipelineSettings {
  return {
    peerUrls: config.peerUrls,
    submitStaggerMs: config.submitStaggerMs,
    settleStaggerMs: config.settleStaggerMs,
    aggregateRetryMs: config.aggregateRetryMs,
    meterGraceSeconds: BigInt(config.meterGraceSeconds),
    meterDeadlineSeconds: BigInt(config.meterDeadlineSeconds),
    peerRetryMaxMs: config.peerRetryMaxMs,
    settlementBatchGasBudget: config.settlementBatchGasBudget,
  };
}

/** Refuses to start when the reading deadline leaves no time to commit before the market's meter deadline. */
function assertMeterTiming(config: Config, timing: MarketTiming): void {
  const issues = checkMeterTiming({
    meterDeadlineSeconds: BigInt(config.meterDeadlineSeconds),
    meterCommitReserveSeconds: BigInt(config.meterCommitReserveSeconds),
    meterWindowSeconds: timing.meterWindowSeconds,
  });
  if (issues.length > 0)
    throw new ConfigError(
      issues.map((i) => ({
        ...i,
        source: "default" as const,
        origin: "checked against the market on chain",
      })),
    );
}

export class OracleNode {
  readonly config: Config;
  private readonly options: OracleNodeOptions;
  private ctx: PipelineContext | undefined;
  private http: HttpServer | undefined;
  private watcher: ChainWatcher | undefined;
  private keeperWatcher: ChainWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<unknown> | undefined;
  private stopped = false;
  private closing: Promise<void> | undefined;

  constructor(options: OracleNodeOptions) {
    this.options = options;
    this.config = options.config;
  }

  /** The pipeline context (after start). */
  get context(): PipelineContext {
    if (this.ctx === undefined) throw new Error("OracleNode is not started");
    return this.ctx;
  }

  get url(): string {
    if (this.http === undefined) throw new Error("OracleNode is not started");
    return this.http.url;
  }

  get address(): `0x${string}` {
    return this.context.account.address;
  }

  async start(): Promise<void> {
    if (this.ctx !== undefined) throw new Error("OracleNode already started");
    const config = this.config;
    const account = this.options.account ?? (await resolveAccount(config));
    const logger =
      this.options.logger ??
      createLogger({ level: config.logLevel, base: { node: account.address, chainId: config.chainId } });
    const { chain, transport, publicClient } = createChainClients(config.rpcUrl, config.chainId, {
      timeoutMs: config.rpcTimeoutMs,
    });
    const timing: MarketTiming = await readMarketTiming(publicClient, config.marketAddress);
    assertMeterTiming(config, timing);
    // The solver thread starts and loads HiGHS while the rest of the node comes up.
    const solverReady = warmUpSolver();
    const queues = new QueueFactory({
      redisUrl: config.redisUrl,
      clusterNodes: config.redisClusterNodes,
      prefix: config.queuePrefix,
      logger,
    });
    // The node's own state (signatures, meter readings) shares the queues' connection. On a Redis
    // Cluster that is a Cluster client, which answers every command used here; their keys start
    // with the {…} hash-tag prefix, so each MULTI and script stays within one slot.
    const redis = queues.connection as Redis;
    const metrics: OracleMetrics = createMetrics({
      defaultLabels: { node: account.address },
      processMetrics: false,
    });
    const meterStore = new MeterStore({
      redis,
      prefix: config.queuePrefix,
      chainId: config.chainId,
      market: config.marketAddress,
      logger,
    });
    const sender = new TxSender({
      account,
      chain,
      transport,
      logger,
      pollIntervalMs: 100,
      ...(this.options.txBumpAfterMs === undefined ? {} : { bumpAfterMs: this.options.txBumpAfterMs }),
    });
    const ctx: PipelineContext = {
      config,
      settings: settingsFromConfig(config),
      account,
      client: publicClient,
      sender,
      queues,
      redis,
      logger,
      metrics,
      meterStore,
      timing,
      hooks: this.options.hooks ?? {},
    };
    this.ctx = ctx;

    // One worker per step of the registry (jobs/steps.ts); each checks its job data when it reads it.
    for (const step of STEP_LIST) {
      const name = step.queue;
      const worker = queues.worker(name, (job, token) => step.run(ctx, job, token), {
        concurrency: step.concurrency,
        // The lock is renewed by this event loop while a job runs, however long (a slow RPC, a
        // solve on its thread); its duration bounds how long a job of a killed node stays active.
        ...jobLockOptions(config),
      });
      // A job whose worker died (this node killed mid-job) is back in wait: it runs again here.
      worker.on("stalled", (jobId) =>
        logger.warn(
          { queue: name, jobId },
          "stalled job moved back to wait (its worker stopped renewing the lock)",
        ),
      );
      worker.on("failed", (job, error) =>
        logger.warn(
          { queue: name, jobId: job?.id, attemptsMade: job?.attemptsMade, err: error },
          "job attempt failed",
        ),
      );
    }
    metrics.trackQueues(PIPELINE_QUEUES.map((q) => queues.queue(q)));

    // Commit events → settlement jobs. Its cursor lives next to the node's other state.
    const watcher = new ChainWatcher({
      client: publicClient,
      redis: queues.connection,
      key: stateKey(ctx, "watcher"),
      addresses: [config.marketAddress],
      events: WATCHED_MARKET_EVENTS,
      confirmations: config.confirmations,
      startBlock: config.startBlock,
      pollIntervalMs: config.pollIntervalMs,
      logger,
      onLog: async (log) => {
        const outcome = await onMarketLog(ctx, log);
        if (outcome.action === "skipped") logger.debug({ reason: outcome.reason }, "watched log skipped");
      },
      // The transactions of the orphaned blocks are gone (commits, settlements, our own), so the
      // cached nonce may be ahead of the chain, and completed jobs may stand for work the chain no
      // longer has; their deterministic ids would keep the scheduler from adding them again.
      // Forget both: the scheduler re-derives every step from the new chain state, and every job
      // reads the chain before it sends, so a step that is still done on the new chain is a no-op.
      onReorg: async (event) => {
        sender.resyncNonce();
        const forgotten = await queues.forgetCompleted(PIPELINE_QUEUES);
        logger.warn({ ...event, forgotten }, "chain reorg: completed jobs forgotten, nonce resynced");
      },
    });
    this.watcher = watcher;
    // Every interval with an order is a keeper candidate (jobs/keeper.ts); its own cursor, so the
    // commit watcher's delivery is unchanged.
    this.keeperWatcher = new ChainWatcher({
      client: publicClient,
      redis: queues.connection,
      key: stateKey(ctx, "keeper-watcher"),
      addresses: [config.marketAddress],
      events: KEEPER_WATCHED_EVENTS,
      confirmations: config.confirmations,
      startBlock: config.startBlock,
      pollIntervalMs: config.pollIntervalMs,
      logger,
      onLog: (log) => onOrderPlacedLog(ctx, log),
    });
    trackWatcher(metrics, watcher, () => publicClient.getBlockNumber({ cacheTime: 0 }), logger);
    metrics.trackSignerBalance(account.address, () => sender.balance());

    this.http = await startHttpServer({
      host: config.httpHost,
      port: config.httpPort,
      logger,
      metrics,
      readiness: {
        redis: async () => {
          await queues.connection.ping();
        },
        rpc: async () => {
          await publicClient.getBlockNumber();
        },
        // Not ready until HiGHS is loaded on the solver thread (a failed load stays "not ready";
        // the first solve then starts a fresh thread).
        solver: () => solverReady,
      },
      meterIngest: nodeMeterIngest({ config, client: publicClient, timing, store: meterStore, logger }),
      meterReadings: (intervalId) => meterStore.readings(intervalId),
      proofs: proofSource(ctx),
      postRoutes: {
        "/committee/signatures": (body) => receiveSignature(ctx, body),
        "/committee/meter-readings": (body) => receivePeerReadings(ctx, body),
      },
      queues: [...PIPELINE_QUEUES.map((q) => queues.queue(q)), queues.deadLetterQueue()],
    });
    solverReady.catch((error: unknown) => logger.error({ err: error }, "solver warm-up failed"));
    logger.info({ url: this.http.url, config }, "oracle node started");
    watcher.start();
    this.keeperWatcher.start();
    if (this.options.withoutScheduler !== true) this.scheduleTick(0);
  }

  private scheduleTick(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .catch((error: unknown) => this.ctx?.logger.warn({ err: error }, "scheduler tick failed"))
        .then(() => keeperTick(this.context))
        .catch((error: unknown) => this.ctx?.logger.warn({ err: error }, "keeper tick failed"))
        .then(() => keeperFlexTick(this.context))
        .catch((error: unknown) => this.ctx?.logger.warn({ err: error }, "flexibility keeper tick failed"))
        .finally(() => this.scheduleTick(this.options.tickMs ?? this.config.pollIntervalMs));
    }, delay);
  }

  /** One scheduler pass (also run periodically after start). */
  tick(): Promise<unknown> {
    return schedulerTick(this.context);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopped = true;
      clearTimeout(this.timer);
      await this.ticking;
      // The watcher enqueues into the queues and keeps its cursor on their connection: stop it first.
      await closeAll([async () => this.watcher?.close(), async () => this.keeperWatcher?.close()]);
      const ctx = this.ctx;
      await closeAll([
        async () => this.http?.close(),
        async () => ctx?.sender.close(),
        async () => ctx?.meterStore.close(),
        async () => ctx?.queues.close(),
      ]);
    })();
    return this.closing;
  }
}

/**
 * Two gauges read at scrape time: the watcher's cursor (last block fully processed) and its lag
 * behind the chain head in blocks (confirmations included, so a healthy node shows about
 * `confirmations`). A failed read leaves the previous value rather than failing the scrape.
 */
function trackWatcher(
  metrics: OracleMetrics,
  watcher: ChainWatcher,
  head: () => Promise<bigint>,
  logger: Logger,
): void {
  const readSafely = async (read: () => Promise<number | undefined>, gauge: Gauge) => {
    try {
      const value = await read();
      if (value !== undefined) gauge.set(value);
    } catch (error) {
      logger.debug({ err: error }, "chain watcher gauge not read");
    }
  };
  new Gauge({
    name: "gridbrain_chain_watcher_cursor_block",
    help: "Last block the chain watcher fully processed",
    registers: [metrics.registry],
    async collect() {
      await readSafely(async () => {
        const c = await watcher.cursor();
        return c === undefined ? undefined : Number(c);
      }, this);
    },
  });
  new Gauge({
    name: "gridbrain_chain_watcher_lag_blocks",
    help: "Chain head minus the chain watcher's cursor, in blocks",
    registers: [metrics.registry],
    async collect() {
      await readSafely(async () => {
        const [c, h] = await Promise.all([watcher.cursor(), head()]);
        return c === undefined ? undefined : Number(h - c);
      }, this);
    },
  });
}
