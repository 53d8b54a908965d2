/**
 * Prometheus metrics of one oracle node, on its own registry (several nodes in one process, as in
 * tests, do not collide). Gauges that mirror external state (job counts, signer balance) are
 * collected at scrape time, so they are never stale and cost nothing between scrapes.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** What the job gauge needs from a BullMQ queue (so tests can pass a real Queue or a stand-in). */
export interface CountableQueue {
  readonly name: string;
  getJobCounts(...states: string[]): Promise<Record<string, number>>;
}

export const JOB_STATES = [
  "waiting",
  "active",
  "delayed",
  "completed",
  "failed",
  "prioritized",
  "waiting-children",
] as const;

export interface CreateMetricsParameters {
  /** Default "gridbrain_". */
  readonly prefix?: string;
  /** Also collect Node's process metrics (default true). */
  readonly processMetrics?: boolean;
  /** Fixed labels on every series, e.g. `{ node: "oracle-1" }`. */
  readonly defaultLabels?: Readonly<Record<string, string>>;
}

export interface OracleMetrics {
  readonly registry: Registry;
  /** Seconds from gate closure to `stage` ("committed" | "settled" | "metered" | "final"). */
  readonly intervalLatency: Histogram<"stage">;
  readonly solveDuration: Histogram<"outcome">;
  /** Gas used by our transactions, by kind ("commit", "settle-fills", …). */
  readonly gasSpent: Counter<"kind">;
  readonly jobs: Gauge<"queue" | "state">;
  readonly signerBalance: Gauge<"signer">;
  /** Liveness transactions the keeper sent, by kind ("order", "collateral", "imbalance", "grid-revenue"). */
  readonly keeperReleases: Counter<"kind">;
  /** Token base units those transactions returned to free balances (or credited to the operator), by kind. */
  readonly keeperReleasedAmount: Counter<"kind">;
  /** Locks the keeper found releasable and has not released yet, by kind, over every due interval. */
  readonly keeperLocksPending: Gauge<"kind">;
  /** Queues whose job counts the `jobs` gauge reports at scrape time. */
  trackQueues(queues: readonly CountableQueue[]): void;
  /** Balance source of the `signerBalance` gauge (wei), read at scrape time. */
  trackSignerBalance(signer: string, read: () => Promise<bigint>): void;
  /** The Prometheus text exposition. */
  render(): Promise<string>;
}

export function createMetrics(params: CreateMetricsParameters = {}): OracleMetrics {
  const prefix = params.prefix ?? "gridbrain_";
  const registry = new Registry();
  if (params.defaultLabels !== undefined) registry.setDefaultLabels({ ...params.defaultLabels });
  if (params.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix });

  const queues: CountableQueue[] = [];
  const balances = new Map<string, () => Promise<bigint>>();

  const jobs = new Gauge({
    name: `${prefix}jobs`,
    help: "BullMQ jobs by queue and state (read from Redis at scrape time).",
    labelNames: ["queue", "state"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const counts = await Promise.all(queues.map((q) => q.getJobCounts(...JOB_STATES)));
      for (const [i, q] of queues.entries())
        for (const state of JOB_STATES) this.set({ queue: q.name, state }, counts[i]?.[state] ?? 0);
    },
  });
  const signerBalance = new Gauge({
    name: `${prefix}signer_balance_wei`,
    help: "Native balance of each signing key (wei), read from the chain at scrape time.",
    labelNames: ["signer"] as const,
    registers: [registry],
    async collect() {
      const entries = [...balances.entries()];
      const values = await Promise.allSettled(entries.map(([, read]) => read()));
      for (const [i, [signer]] of entries.entries()) {
        const v = values[i];
        // A failed read leaves the series absent rather than reporting a wrong zero.
        if (v?.status === "fulfilled") this.set({ signer }, Number(v.value));
        else this.remove({ signer });
      }
    },
  });
  const intervalLatency = new Histogram({
    name: `${prefix}interval_latency_seconds`,
    help: "Seconds from an interval's gate closure to the stage reached.",
    labelNames: ["stage"] as const,
    buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800],
    registers: [registry],
  });
  const solveDuration = new Histogram({
    name: `${prefix}solve_duration_seconds`,
    help: "Wall time of one dispatch solve.",
    labelNames: ["outcome"] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [registry],
  });
  const gasSpent = new Counter({
    name: `${prefix}gas_spent_total`,
    help: "Gas used by this node's mined transactions.",
    labelNames: ["kind"] as const,
    registers: [registry],
  });

  const keeperReleases = new Counter({
    name: `${prefix}keeper_releases_total`,
    help: "Liveness transactions sent by this node's keeper (releases, late imbalance settlements, grid revenue).",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  const keeperReleasedAmount = new Counter({
    name: `${prefix}keeper_released_base_units_total`,
    help: "Token base units the keeper's transactions released from locks, by kind.",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  const keeperLocksPending = new Gauge({
    name: `${prefix}keeper_locks_pending`,
    help: "Locks past their deadline that the keeper found and has not released yet, by kind.",
    labelNames: ["kind"] as const,
    registers: [registry],
  });

  return {
    registry,
    intervalLatency,
    keeperReleases,
    keeperReleasedAmount,
    keeperLocksPending,
    solveDuration,
    gasSpent,
    jobs,
    signerBalance,
    trackQueues(qs) {
      for (const q of qs) if (!queues.includes(q)) queues.push(q);
    },
    trackSignerBalance(signer, read) {
      balances.set(signer, read);
    },
    render: () => registry.metrics(),
  };
}
