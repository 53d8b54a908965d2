/**
 * BullMQ on one Redis or a Redis Cluster: the pipeline's queue names, deterministic job ids, the
 * default retry policy, and a factory that builds queues, workers and flow producers on one
 * connection config and dead-letters every job that will not be retried.
 *
 * Dead letters: a job that fails with an unrecoverable error (BullMQ's `UnrecoverableError`, or
 * the domain's `UnrecoverableInputError`, which is translated) or fails its last attempt is
 * copied to the `dead-letter` queue as `{ queue, jobId, data, reason, failedAt }` before BullMQ
 * marks it failed. The copy's job id is `<queue>-<jobId>`, so a worker that crashes between the
 * copy and the failure and re-runs the job does not create a second copy. Failed jobs are kept
 * (`removeOnFail: false`): nothing is silently dropped. A job BullMQ fails without running it
 * (a job that stalled more than `maxStalledCount` times: its worker died mid-job, again and again)
 * is dead-lettered from the worker's `failed` event, as its processor never saw the error.
 */
import {
  FlowProducer,
  Queue,
  UnrecoverableError,
  Worker,
  type Job,
  type JobsOptions,
  type Processor,
  type WorkerOptions,
} from "bullmq";
import { once } from "node:events";
import { Cluster, Redis } from "ioredis";
import type { Address } from "viem";
import { isUnrecoverable } from "../domain/errors.js";
import type { Logger } from "./logging.js";

/**
 * The one queue infra names itself: failed jobs are copied here with their reason. The pipeline's
 * queues are named by its steps (jobs/steps.ts, `STEP_NAMES`), so infra needs nothing from jobs/.
 */
export const DEAD_LETTER_QUEUE = "dead-letter";

/** attempts 8, exponential backoff from 500 ms (0.5, 1, 2, … 32 s: ~64 s in all). Failed jobs kept. */
export const DEFAULT_JOB_OPTIONS: Readonly<JobsOptions> = Object.freeze({
  attempts: 8,
  backoff: { type: "exponential", delay: 500 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: false,
});

/**
 * `31337-0xabc…-12345-solve`: one job per (chain, market, interval, step). BullMQ rejects custom
 * ids that are integers or contain ':' (they collide with its own key scheme), so the parts are
 * joined with '-' and the market is lower-cased hex (one spelling per address).
 */
export function jobIdFor(chainId: number, market: Address, intervalId: bigint, step: string): string {
  if (!Number.isSafeInteger(chainId) || chainId <= 0)
    throw new RangeError(`chainId: must be a positive integer, got ${chainId}`);
  if (!/^0x[0-9a-fA-F]{40}$/.test(market))
    throw new RangeError(`market: must be a 20-byte hex address, got ${market}`);
  if (intervalId < 0n) throw new RangeError(`intervalId: must not be negative, got ${intervalId}`);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(step))
    throw new RangeError(`step: must be lower-case letters, digits and '-', got "${step}"`);
  return `${chainId}-${market.toLowerCase()}-${intervalId}-${step}`;
}

export interface DeadLetterEntry {
  readonly queue: string;
  readonly jobId: string;
  readonly name: string;
  readonly data: unknown;
  readonly reason: string;
  readonly attemptsMade: number;
  /** ISO time. */
  readonly failedAt: string;
}

/** The subset of ioredis options we derive from a URL (accepted by ioredis and by BullMQ). */
export interface RedisConnectionOptions {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: Record<string, never>;
  maxRetriesPerRequest: null;
}

/** ioredis options from a `redis://` / `rediss://` URL (BullMQ wants options, not a URL, for workers). */
export function redisOptionsFromUrl(redisUrl: string): RedisConnectionOptions {
  const u = new URL(redisUrl);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname,
    port: u.port === "" ? 6379 : Number(u.port),
    db,
    ...(u.username === "" ? {} : { username: decodeURIComponent(u.username) }),
    ...(u.password === "" ? {} : { password: decodeURIComponent(u.password) }),
    ...(u.protocol === "rediss:" ? { tls: {} } : {}),
    // Required by BullMQ for blocking connections, and what lets commands survive a Redis restart.
    maxRetriesPerRequest: null,
  };
}

/** A connection to one Redis or to a Redis Cluster (both answer the commands the node uses). */
export type RedisConnection = Redis | Cluster;

/** `host:port` of each node URL, for ioredis's Cluster client. */
export function clusterStartupNodes(urls: readonly string[]): { host: string; port: number }[] {
  const seen = new Set<string>();
  const nodes: { host: string; port: number }[] = [];
  for (const url of urls) {
    const { host, port } = redisOptionsFromUrl(url);
    if (seen.has(`${host}:${port}`)) continue;
    seen.add(`${host}:${port}`);
    nodes.push({ host, port });
  }
  return nodes;
}

export interface QueueFactoryParameters {
  /** The Redis; with `clusterNodes`, one node of the cluster (its credentials and TLS apply to all). */
  readonly redisUrl: string;
  /** Further Redis Cluster nodes to start from; when non-empty the factory uses ioredis's Cluster client. */
  readonly clusterNodes?: readonly string[];
  /** BullMQ key prefix; `{gridbrain}` (a hash tag) on Redis Cluster. */
  readonly prefix: string;
  readonly logger?: Logger;
  readonly defaultJobOptions?: JobsOptions;
}

export type WorkerParameters = Omit<WorkerOptions, "connection" | "prefix">;

/** The node's job-lock settings (infra/config.ts, docs/OPERATIONS.md "Job locks"). */
export interface JobLockSettings {
  readonly jobLockDurationMs: number;
  readonly jobLockRenewMs: number;
  readonly stalledIntervalMs: number;
  readonly maxStalledCount: number;
}

/** The same settings under BullMQ's worker option names. */
export function jobLockOptions(
  settings: JobLockSettings,
): Required<Pick<WorkerOptions, "lockDuration" | "lockRenewTime" | "stalledInterval" | "maxStalledCount">> {
  return {
    lockDuration: settings.jobLockDurationMs,
    lockRenewTime: settings.jobLockRenewMs,
    stalledInterval: settings.stalledIntervalMs,
    maxStalledCount: settings.maxStalledCount,
  };
}

/** Closes every resource, even when some fail; rethrows the failures together afterwards. */
export async function closeAll(steps: ReadonlyArray<() => Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(steps.map((s) => s()));
  const errors = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} resources failed to close`);
}

export class QueueFactory {
  readonly prefix: string;
  readonly connectionOptions: RedisConnectionOptions;
  readonly defaultJobOptions: JobsOptions;
  /** The connection shared by every Queue and FlowProducer (workers get their own). */
  readonly connection: RedisConnection;
  /** Startup nodes when on a Redis Cluster, else undefined. */
  readonly clusterNodes: readonly { host: string; port: number }[] | undefined;
  private readonly logger: Logger | undefined;
  /** Cluster clients made for workers (BullMQ does not close a client it was handed). */
  private readonly workerConnections: Cluster[] = [];
  private readonly queues = new Map<string, Queue>();
  private readonly workers: Worker[] = [];
  private readonly flows: FlowProducer[] = [];
  private closing: Promise<void> | undefined;

  constructor(params: QueueFactoryParameters) {
    if (!/^(\{[A-Za-z0-9_-]+\}|[A-Za-z0-9_-]+)$/.test(params.prefix))
      throw new RangeError(`prefix: must be [A-Za-z0-9_-]+ or {…} hash tag, got "${params.prefix}"`);
    this.prefix = params.prefix;
    this.connectionOptions = redisOptionsFromUrl(params.redisUrl);
    this.defaultJobOptions = { ...DEFAULT_JOB_OPTIONS, ...(params.defaultJobOptions ?? {}) };
    this.logger = params.logger;
    const cluster = params.clusterNodes ?? [];
    if (cluster.length > 0 && !/^\{.+\}$/.test(params.prefix))
      throw new RangeError(
        `prefix: must be a {…} hash tag on Redis Cluster (BullMQ's scripts touch several keys of one slot), got "${params.prefix}"`,
      );
    this.clusterNodes = cluster.length === 0 ? undefined : clusterStartupNodes([params.redisUrl, ...cluster]);
    this.connection = this.connect();
    // Errors surface through the commands that fail; an unhandled 'error' event would crash the process.
    this.connection.on("error", (error) => this.logger?.warn({ err: error }, "redis connection error"));
  }

  /** A new connection: a plain client, or a Cluster client with the URL's credentials on every node. */
  private connect(): RedisConnection {
    if (this.clusterNodes === undefined) return new Redis({ ...this.connectionOptions });
    const { host: _host, port: _port, db: _db, ...perNode } = this.connectionOptions;
    return new Cluster([...this.clusterNodes], { redisOptions: perNode });
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new Error("QueueFactory is closed");
  }

  /** The queue `name` (one instance per name, on the shared connection). */
  queue<DataType = unknown>(name: string): Queue<DataType> {
    this.assertOpen();
    let q = this.queues.get(name);
    if (q === undefined) {
      q = new Queue(name, {
        connection: this.connection,
        prefix: this.prefix,
        defaultJobOptions: this.defaultJobOptions,
      });
      q.on("error", (error) => this.logger?.warn({ err: error, queue: name }, "queue error"));
      this.queues.set(name, q);
    }
    return q as Queue<DataType>;
  }

  deadLetterQueue(): Queue<DeadLetterEntry> {
    return this.queue<DeadLetterEntry>(DEAD_LETTER_QUEUE);
  }

  /**
   * A worker on `name`. A function processor is wrapped so that unrecoverable errors become
   * BullMQ `UnrecoverableError`s and final failures are dead-lettered before the job is marked
   * failed. A sandboxed processor (file path) is dead-lettered from the worker's `failed` event.
   */
  worker<DataType = unknown, ResultType = unknown>(
    name: string,
    processor: Processor<DataType, ResultType> | string | URL,
    options: WorkerParameters = {},
  ): Worker<DataType, ResultType> {
    this.assertOpen();
    const dlq = this.deadLetterQueue();
    /** `attemptsMade` counts the failing attempt. */
    const deadLetter = async (job: Job, error: unknown, attemptsMade: number): Promise<void> => {
      const entry: DeadLetterEntry = {
        queue: name,
        jobId: job.id ?? "",
        name: job.name,
        data: job.data,
        reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        attemptsMade,
        failedAt: new Date().toISOString(),
      };
      await dlq.add(name, entry, {
        jobId: `${name}-${job.id ?? "unknown"}`,
        attempts: 3,
        removeOnComplete: false,
      });
      this.logger?.error({ queue: name, jobId: job.id, reason: entry.reason }, "job dead-lettered");
    };
    const isFinal = (job: Job, error: unknown, attemptsMade: number): boolean =>
      isUnrecoverable(error) || attemptsMade >= (job.opts.attempts ?? 1);

    // The errors the wrapper below has seen (and dead-lettered when final): the `failed` event
    // handles only the others, which BullMQ raised without running the processor.
    const seen = new WeakSet<object>();
    const remember = (error: unknown): unknown => {
      if (typeof error === "object" && error !== null) seen.add(error);
      return error;
    };
    let wrapped: Processor<DataType, ResultType> | string | URL = processor;
    if (typeof processor === "function") {
      wrapped = async (job, token, signal) => {
        try {
          return await processor(job, token, signal);
        } catch (error) {
          if (isFinal(job, error, job.attemptsMade + 1)) await deadLetter(job, error, job.attemptsMade + 1);
          if (isUnrecoverable(error) && !(error instanceof UnrecoverableError)) {
            const translated = new UnrecoverableError(error instanceof Error ? error.message : String(error));
            (translated as Error & { cause?: unknown }).cause = error;
            throw remember(translated);
          }
          throw remember(error);
        }
      };
    }
    // Each worker gets its own connection (BullMQ blocks on it). A Cluster cannot be described by
    // options alone, so the factory makes the client and closes it after the worker.
    let connection: WorkerOptions["connection"] = { ...this.connectionOptions };
    if (this.clusterNodes !== undefined) {
      const client = this.connect() as Cluster;
      client.on("error", (error) => this.logger?.warn({ err: error, queue: name }, "redis connection error"));
      this.workerConnections.push(client);
      connection = client;
    }
    const worker = new Worker<DataType, ResultType>(name, wrapped, {
      ...options,
      connection,
      prefix: this.prefix,
    });
    worker.on("error", (error) => this.logger?.warn({ err: error, queue: name }, "worker error"));
    // A sandboxed processor's failures, and a function processor's that BullMQ raised itself: a job
    // that stalled more than maxStalledCount times is failed by the next worker that takes it,
    // without running it ("job stalled more than allowable limit").
    worker.on("failed", (job, error) => {
      if (job === undefined || seen.has(error)) return;
      // In the failed event attemptsMade already counts the failed attempt.
      if (isFinal(job, error, job.attemptsMade))
        deadLetter(job, error, job.attemptsMade).catch((e: unknown) =>
          this.logger?.error({ err: e, queue: name }, "dead-letter failed"),
        );
    });
    this.workers.push(worker);
    return worker;
  }

  /**
   * Removes every completed job of `names` and returns how many. Completed jobs keep their
   * deterministic ids (so a step is never added twice); after a chain reorganisation the work they
   * stand for (a commit, a settlement) may be gone from the chain, and forgetting them lets the
   * chain-time scheduler add each step again where the new chain state needs it. Waiting, delayed,
   * active and failed (dead-lettered) jobs are kept.
   */
  async forgetCompleted(names: readonly string[]): Promise<number> {
    this.assertOpen();
    let removed = 0;
    for (const name of names) {
      // limit 0: no batch cap; grace 0: however recent.
      removed += (await this.queue(name).clean(0, 0, "completed")).length;
    }
    return removed;
  }

  flowProducer(): FlowProducer {
    this.assertOpen();
    const flow = new FlowProducer({ connection: this.connection, prefix: this.prefix });
    this.flows.push(flow);
    return flow;
  }

  /** Closes workers (letting active jobs finish), then queues and flows, then the shared connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await closeAll(this.workers.map((w) => () => w.close()));
      } finally {
        try {
          await closeAll([...this.queues.values(), ...this.flows].map((q) => () => q.close()));
        } finally {
          await closeAll([this.connection, ...this.workerConnections].map((c) => () => endConnection(c)));
        }
      }
    })();
    return this.closing;
  }
}

/**
 * quit() lets queued commands finish; disconnect() makes sure no reconnect follows.
 *
 * disconnect() runs only while the client has not reached "end": on a Cluster client that
 * already ended, it would move the status back to "disconnecting" with no node left to close,
 * so no second "end" ever comes (the Redis Cluster queue test hung on exactly that in CI).
 * The wait for "end" is bounded so that a shutdown never hangs on a client's bookkeeping: the
 * sockets are closed by then either way.
 */
async function endConnection(connection: RedisConnection): Promise<void> {
  if (connection.status === "end") return;
  const ended = once(connection, "end").then(() => undefined);
  await connection.quit().catch(() => undefined);
  // quit() may have ended it meanwhile; TypeScript's narrowing from above does not know that.
  if (!hasEnded(connection)) connection.disconnect();
  await Promise.race([ended, new Promise<void>((resolve) => setTimeout(resolve, END_WAIT_MS).unref())]);
}

function hasEnded(connection: RedisConnection): boolean {
  return connection.status === "end";
}

/** How long close() waits for a client's "end" event after quit and disconnect. */
const END_WAIT_MS = 5_000;
