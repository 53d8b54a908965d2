/**
 * The pipeline's steps, one definition each: the queue, the zod schema of its job data, the
 * processor, the steps it enqueues next, and its worker concurrency. The node starts one worker
 * per entry (node/node.ts iterates `STEPS`); producers enqueue through `enqueueStep`, which checks
 * the data against the receiving step's schema; workers check it again when they read a job
 * (`readJob`), so malformed data is dead-lettered at once with the field and the reason.
 *
 * A step's name is its queue's name (`STEP_NAMES`, here); the registry's type requires exactly one
 * entry per name, so a name without a step, or a step without a name, does not type-check.
 *
 * Adding a step (3 files): its name in `STEP_NAMES` and its entry here, its processor (a jobs/
 * file), and the `enqueueNext` call in the step before it.
 *
 * The processors are referenced through arrow functions: the job files import `enqueueStep` from
 * here, and deferring the reference keeps that import cycle harmless whichever module loads first.
 */
import type { Job, JobsOptions } from "bullmq";
import { z } from "zod";
import type { DispatchInstanceInput } from "../domain/dispatch/schema.js";
import { UnrecoverableInputError, formatIssues } from "../domain/errors.js";
import type { QueueFactory } from "../infra/queue.js";
import type { IntervalJobData, PipelineContext, ReportJobData } from "./context.js";
import { keeperProcessor, type KeeperJobData } from "./keeper.js";
import { keeperFlexProcessor, type KeeperFlexJobData } from "./keeper-flex.js";
import { meterReportProcessor, type MeterReportJobData } from "./meter.js";
import {
  aggregateProcessor,
  signProcessor,
  submitProcessor,
  type AggregateJobData,
  type SignJobData,
} from "./report.js";
import { collectProcessor, solveProcessor, type SolveJobData } from "./schedule.js";
import { settleFillsProcessor, settleImbalanceProcessor } from "./settle.js";

/**
 * The pipeline's steps, each the name of its BullMQ queue. (Meter readings are not a step: they
 * arrive over HTTP into the MeterStore, node/meter-ingest.ts.)
 */
export const STEP_NAMES = [
  "collect",
  "solve",
  "sign",
  "aggregate",
  "submit",
  "settle-fills",
  "meter-report",
  "settle-imbalance",
  /** Liveness paths after the deadlines: releases, late imbalance settlement, grid revenue (jobs/keeper.ts). */
  "keeper",
  /** FlexibilityMarket's liveness paths: missed intervals closed, ended orders refunded (jobs/keeper-flex.ts). */
  "keeper-flex",
] as const;
export type StepName = (typeof STEP_NAMES)[number];

export interface StepDefinition<Data, Next extends StepName = StepName, Queue extends StepName = StepName> {
  readonly queue: Queue;
  /** Validates the job data as stored in Redis (JSON: bigints are decimal strings). */
  readonly schema: z.ZodType<unknown, z.ZodTypeDef, Data>;
  readonly process: (ctx: PipelineContext, job: Job<Data>, token?: string) => Promise<unknown>;
  /** The steps its processor enqueues (`enqueueStep`). */
  readonly next: readonly Next[];
  /** Jobs a node runs at once on this queue. */
  readonly concurrency: number;
}

const decimal = z.string().regex(/^\d+$/, "must be a non-negative decimal integer string");
const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 32-byte hex");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 20-byte hex address");
const reportKind = z.enum(["schedule", "meter"]);

const intervalData = z.object({ intervalId: decimal });
const reportData = intervalData.extend({ kind: reportKind });

const chainOrderJson = z.object({
  orderId: hex32 as z.ZodType<`0x${string}`, z.ZodTypeDef, `0x${string}`>,
  owner: address as z.ZodType<`0x${string}`, z.ZodTypeDef, `0x${string}`>,
  intervalId: decimal,
  side: z.union([z.literal(0), z.literal(1)]),
  zoneId: z.number().int().nonnegative(),
  quantityWh: decimal,
  limitPricePerKwh: decimal,
  nonce: decimal,
});

const solveData = intervalData.extend({
  ordersDigest: hex32 as z.ZodType<`0x${string}`, z.ZodTypeDef, `0x${string}`>,
  zoneCount: z.number().int().positive(),
  orders: z.array(chainOrderJson),
  // The solver validates the instance field by field (dispatchInstanceSchema, a DispatchInputError
  // naming the field) on its own thread; checking it here too would parse a 10,000-order instance
  // twice more on the event loop that renews the job locks.
  instance: z.custom<DispatchInstanceInput>((v) => typeof v === "object" && v !== null && !Array.isArray(v), {
    message: "must be an object (its fields are checked by the solver)",
  }),
});

// `report` and `extra` are decoded by the processor (reportFromJson), which names their fields.
const present = z.custom<{} | null>((v) => v !== undefined, { message: "Required" });
const signData = reportData.extend({ report: present, extra: present });

const aggregateData = reportData.extend({
  resend: z.object({ sent: z.number().int().nonnegative(), nextAtMs: z.number().nonnegative() }).optional(),
});

const meterReportData = intervalData.extend({ waits: z.number().int().nonnegative().optional() });

const keeperData = z.object({ intervalId: decimal, part: z.number().int().positive() });
const keeperFlexData = z.object({ kind: z.enum(["close", "refund"]), intervalId: decimal });

/** A step as the node sees it: one worker each, whatever its data type. */
export interface RunnableStep {
  readonly queue: StepName;
  readonly concurrency: number;
  /**
   * Checks the job's data against the schema, then runs the processor. Data that does not match
   * will not match on a retry either: an UnrecoverableInputError naming the field, which
   * infra/queue.ts dead-letters at once.
   */
  readonly run: (ctx: PipelineContext, job: Job, token?: string) => Promise<unknown>;
}

/**
 * Keeps the literal queue and `next` list in the type (for `StepsAfter`, and so each key must be
 * its own queue) and adds the checked `run`. Curried so that `Data` is named and the rest inferred.
 */
function step<Data>() {
  return <const Queue extends StepName, const Next extends StepName>(
    definition: StepDefinition<Data, Next, Queue>,
  ): StepDefinition<Data, Next, Queue> & RunnableStep => ({
    ...definition,
    run: (ctx, job, token) => {
      checkStepData(definition.queue, definition.schema, job.data, "read by the worker");
      // Checked just above: the data has the schema's shape, which is `Data`.
      return definition.process(ctx, job as Job<Data>, token);
    },
  });
}

export const STEPS = {
  collect: step<IntervalJobData>()({
    queue: "collect",
    schema: intervalData,
    process: (ctx, job) => collectProcessor(ctx, job),
    next: ["solve"],
    concurrency: 4,
  }),
  solve: step<SolveJobData>()({
    queue: "solve",
    schema: solveData,
    process: (ctx, job) => solveProcessor(ctx, job),
    next: ["sign"],
    // One HiGHS solver thread per node (domain/dispatch): solves queue up rather than contend.
    concurrency: 1,
  }),
  sign: step<SignJobData>()({
    queue: "sign",
    schema: signData,
    process: (ctx, job) => signProcessor(ctx, job),
    next: ["aggregate"],
    concurrency: 4,
  }),
  aggregate: step<AggregateJobData>()({
    queue: "aggregate",
    schema: aggregateData,
    process: (ctx, job, token) => aggregateProcessor(ctx, job, token),
    next: ["submit", "settle-fills", "settle-imbalance"],
    concurrency: 4,
  }),
  submit: step<ReportJobData>()({
    queue: "submit",
    schema: reportData,
    process: (ctx, job) => submitProcessor(ctx, job),
    next: ["settle-fills", "settle-imbalance"],
    concurrency: 4,
  }),
  "settle-fills": step<IntervalJobData>()({
    queue: "settle-fills",
    schema: intervalData,
    process: (ctx, job) => settleFillsProcessor(ctx, job),
    next: [],
    concurrency: 4,
  }),
  "meter-report": step<MeterReportJobData>()({
    queue: "meter-report",
    schema: meterReportData,
    process: (ctx, job, token) => meterReportProcessor(ctx, job, token),
    next: ["sign"],
    concurrency: 4,
  }),
  "settle-imbalance": step<IntervalJobData>()({
    queue: "settle-imbalance",
    schema: intervalData,
    process: (ctx, job) => settleImbalanceProcessor(ctx, job),
    next: [],
    concurrency: 4,
  }),
  keeper: step<KeeperJobData>()({
    queue: "keeper",
    schema: keeperData,
    process: (ctx, job) => keeperProcessor(ctx, job),
    // A keeper job that reaches its bound continues in a next part.
    next: ["keeper"],
    concurrency: 4,
  }),
  "keeper-flex": step<KeeperFlexJobData>()({
    queue: "keeper-flex",
    schema: keeperFlexData,
    process: (ctx, job) => keeperFlexProcessor(ctx, job),
    // After a close, the settlement of the intervals the cursor held back is pushed again.
    next: ["settle-fills"],
    // The closes must go in cursor order: one job at a time per node.
    concurrency: 1,
  }),
} as const satisfies { readonly [S in StepName]: { readonly queue: S } };

export type Steps = typeof STEPS;
/** The job data of `step`, as producers write it. */
export type StepData<S extends StepName> = S extends StepName
  ? Steps[S] extends StepDefinition<infer Data, StepName, S>
    ? Data
    : never
  : never;
/** The steps `step` may enqueue. */
export type StepsAfter<S extends StepName> = Steps[S]["next"][number];

/** Every step, for the node to start a worker on each. */
export const STEP_LIST: readonly RunnableStep[] = Object.values(STEPS);

/** The queues of the pipeline (every step's), for what acts on all of them: metrics, reorg recovery. */
export const PIPELINE_QUEUES: readonly StepName[] = STEP_NAMES;

/** Checks `data` against `schema` (the schema of `step`); the error names the field and the reason. */
function checkStepData(step: StepName, schema: z.ZodTypeAny, data: unknown, origin: string): void {
  const parsed = schema.safeParse(data);
  if (parsed.success) return;
  const first = parsed.error.issues[0];
  throw new UnrecoverableInputError(`Malformed ${step} job data ${origin}`, {
    details: formatIssues(parsed.error.issues),
    field: first === undefined ? undefined : first.path.join("."),
  });
}

/**
 * Adds a `step` job after checking `data` against its schema, so a producer writing the wrong
 * shape fails where the mistake is (an UnrecoverableInputError naming the field), not in the
 * consumer. Triggers (scheduler, watchers, keeper tick) call it directly; a step's processor
 * calls `enqueueNext`, which also checks at compile time that `step` is among its `next`.
 */
export async function enqueueStep<S extends StepName>(
  queues: QueueFactory,
  step: S,
  jobName: string,
  data: StepData<S>,
  options: JobsOptions & { readonly jobId: string },
): Promise<void> {
  checkStepData(step, STEPS[step].schema, data, "from the producer");
  await queues.queue<unknown>(step).add(jobName, data, options);
}

/**
 * `enqueueStep` from the processor of `from`, which must list `to` among its `next` steps.
 *
 * A step that ran again enqueues its next step again, under the same deterministic job id. If that
 * job failed for good the first time, the add would be a no-op and the pipeline would stall, so the
 * failed job is replaced (the dead-letter queue keeps its copy and reason). Seen after a Redis
 * restart: the sign step had stored its report in the old Redis and enqueued aggregate in the new
 * one, which found no report and was dead-lettered; the re-run sign's aggregate was then never
 * added, and resilience.test's interval was never committed.
 */
export async function enqueueNext<From extends StepName, To extends StepsAfter<From>>(
  queues: QueueFactory,
  _from: From,
  to: To,
  jobName: string,
  data: StepData<To>,
  options: JobsOptions & { readonly jobId: string },
): Promise<void> {
  const previous = await queues.queue<unknown>(to).getJob(options.jobId);
  if (previous !== undefined && (await previous.isFailed())) await previous.remove();
  await enqueueStep(queues, to, jobName, data, options);
}
