import { expect } from "chai";
import { UnrecoverableInputError } from "../../../oracle/src/domain/errors.js";
import { QueueFactory, type DeadLetterEntry } from "../../../oracle/src/infra/queue.js";
import type { PipelineContext } from "../../../oracle/src/jobs/context.js";
import {
  PIPELINE_QUEUES,
  STEPS,
  STEP_LIST,
  enqueueNext,
  enqueueStep,
  type StepData,
} from "../../../oracle/src/jobs/steps.js";
import { useQueueFactory } from "../../helpers/queue.js";

const ORDER = {
  orderId: `0x${"11".repeat(32)}`,
  owner: `0x${"22".repeat(20)}`,
  intervalId: "7",
  side: 0,
  zoneId: 0,
  quantityWh: "1000",
  limitPricePerKwh: "50",
  nonce: "1",
};

// Compile-time checks (`npx tsc --noEmit` fails if any of these lines type-checks); never called.
export function typeChecks(queues: QueueFactory): void {
  const sign = { kind: "schedule", intervalId: "1", report: {}, extra: {} } as const;
  // @ts-expect-error collect lists only solve as its next step
  void enqueueNext(queues, "collect", "sign", "sign", sign, { jobId: "x" });
  // @ts-expect-error the solve step's data needs orders, zoneCount, ordersDigest and instance
  void enqueueNext(queues, "collect", "solve", "solve", { intervalId: "1" }, { jobId: "x" });
  // @ts-expect-error a name that is not in STEP_NAMES has no queue
  void enqueueStep(queues, "meter-ingest", "m", { intervalId: "1" }, { jobId: "x" });
}

describe("pipeline steps (jobs/steps.ts)", () => {
  it("has one step per pipeline queue with a worker, keyed by its queue name", () => {
    expect(STEP_LIST.map((s) => s.queue)).to.have.members([
      "collect",
      "solve",
      "sign",
      "aggregate",
      "submit",
      "settle-fills",
      "meter-report",
      "settle-imbalance",
      "keeper",
      "keeper-flex",
    ]);
    expect(PIPELINE_QUEUES).to.have.members(STEP_LIST.map((s) => s.queue));
    for (const [key, step] of Object.entries(STEPS)) expect(step.queue).to.equal(key);
  });

  it("runs one solve and one flexibility keeper job at a time, and four jobs of every other step", () => {
    // keeper-flex closes intervals in the contract's cursor order: two at once would race each other.
    for (const step of STEP_LIST)
      expect(step.concurrency, step.queue).to.equal(
        step.queue === "solve" || step.queue === "keeper-flex" ? 1 : 4,
      );
  });

  describe("on Redis", function () {
    this.timeout(30_000);
    const queues = useQueueFactory();

    describe("when a producer writes the wrong shape", () => {
      it("fails at the producer naming the field, and adds no job", async () => {
        const data = { intervalId: "7", ordersDigest: `0x${"33".repeat(32)}`, zoneCount: 1, instance: {} };
        const bad = { ...data, orders: [{ ...ORDER, quantityWh: 1000 }] } as unknown as StepData<"solve">;
        let error: unknown;
        try {
          await enqueueStep(queues.factory, "solve", "solve", bad, { jobId: "j-1" });
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(UnrecoverableInputError);
        expect((error as UnrecoverableInputError).field).to.equal("orders.0.quantityWh");
        expect((error as Error).message).to.match(
          /^Malformed solve job data from the producer: orders\.0\.quantityWh: /,
        );
        expect((error as Error).message).to.include("Expected string, received number");
        expect(await queues.factory.queue("solve").count()).to.equal(0);
      });
    });

    describe("when a worker reads malformed job data", () => {
      it("dead-letters the job on its first attempt with a reason naming the field", async () => {
        const name = "collect";
        // The check runs before the processor, so the processor (and this empty context) is never reached:
        // had it been, the context's missing fields would throw a plain, retried TypeError instead.
        const ctx = {} as PipelineContext;
        const worker = queues.factory.worker(name, (job, token) => STEPS.collect.run(ctx, job, token));
        // The worker's event fires after every failed attempt (after the dead-letter copy is written),
        // so a job that were retried instead would fail the assertions below at once, not time out.
        const failed = new Promise<void>((resolve) => {
          worker.on("failed", (job) => {
            if (job?.id === "j-2") resolve();
          });
        });
        // Written past the producer's check, as a peer on an older version or a hand-edited Redis would.
        await queues.factory.queue(name).add(name, { intervalId: 12 }, { jobId: "j-2" });
        await failed;
        expect(await queues.factory.queue(name).getJobState("j-2"), "not retried").to.equal("failed");
        const entry = (await queues.factory.deadLetterQueue().getJob(`${name}-j-2`))?.data as DeadLetterEntry;
        expect(entry.queue).to.equal(name);
        expect(entry.attemptsMade).to.equal(1);
        expect(entry.data).to.deep.equal({ intervalId: 12 });
        expect(entry.reason).to.equal(
          "UnrecoverableInputError: Malformed collect job data read by the worker: intervalId: Expected string, received number",
        );
      });
    });

    describe("when a step enqueues its next step again after that step's job failed for good", () => {
      it("replaces the failed job (the dead-letter queue keeps the failure) instead of adding nothing", async () => {
        const name = "settle-fills";
        let runs = 0;
        const worker = queues.factory.worker(name, async () => {
          runs++;
          if (runs === 1) throw new UnrecoverableInputError("No own report");
          return "done";
        });
        const settled = (state: "failed" | "completed") =>
          new Promise<void>((resolve) =>
            worker.on(state, (job: { id?: string | undefined } | undefined) => {
              if (job?.id === "j-3") resolve();
            }),
          );
        const failed = settled("failed");
        await enqueueNext(queues.factory, "submit", name, name, { intervalId: "5" }, { jobId: "j-3" });
        await failed;
        expect(await queues.factory.queue(name).getJobState("j-3")).to.equal("failed");

        const completed = settled("completed");
        await enqueueNext(queues.factory, "submit", name, name, { intervalId: "5" }, { jobId: "j-3" });
        expect(await queues.factory.queue(name).getJobState("j-3"), "added again").to.not.equal("failed");
        await completed;
        expect(runs, "the step ran again").to.equal(2);
        expect(await queues.factory.queue(name).getJobState("j-3")).to.equal("completed");
        const entry = (await queues.factory.deadLetterQueue().getJob(`${name}-j-3`))?.data as DeadLetterEntry;
        expect(entry.reason).to.equal("UnrecoverableInputError: No own report");
      });
    });
  });
});
