/**
 * A job whose node dies mid-job: its worker process is SIGKILLed while it holds the job, so the
 * lock is neither renewed nor released. Another worker on the same queue takes the job again once
 * the lock has run out (BullMQ's stalled check), with the node's own lock settings; a job that
 * stalls more than `maxStalledCount` times is failed into the dead-letter queue with the reason.
 * Nothing here asserts a duration; the wait from the kill to the job's new start is printed.
 */
import { expect } from "chai";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { QueueEvents, type Job } from "bullmq";
import { loadConfig } from "../../../oracle/src/infra/config.js";
import {
  jobLockOptions,
  type DeadLetterEntry,
  type JobLockSettings,
} from "../../../oracle/src/infra/queue.js";
import { useQueueFactory } from "../../helpers/queue.js";

const script = fileURLToPath(new URL("./stalling-worker.ts", import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const CONFIG_FILE = fileURLToPath(new URL("../../fixtures/config/valid.json", import.meta.url));

/** A worker process on `queue` whose jobs never finish; resolves once it has taken `jobId`. */
async function holdInChild(
  redisUrl: string,
  prefix: string,
  queue: string,
  jobId: string,
  settings: JobLockSettings,
  children: ChildProcess[],
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ["--import", tsx, script, redisUrl, prefix, queue, JSON.stringify(settings)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  children.push(child);
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`the worker process exited (${String(code)}) before it took ${jobId}`);
  });
  const took = (async () => {
    for await (const line of createInterface({ input: child.stdout! }))
      if (line === `active ${jobId}`) return;
  })();
  await Promise.race([took, exited]);
  exited.catch(() => undefined);
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

describe("QueueFactory workers, when the node holding a job is killed mid-job", function () {
  // The node's defaults let a lock run up to 20 s after the kill, plus a 5 s check: generous.
  this.timeout(180_000);
  const queues = useQueueFactory();
  const children: ChildProcess[] = [];
  /** Closed here too, so a test that times out leaves no client retrying a stopped Redis. */
  let dlqEvents: QueueEvents | undefined;
  afterEach(async () => {
    await Promise.all(children.splice(0).map(kill));
    await dlqEvents?.close();
    dlqEvents = undefined;
  });

  describe("with the node's default lock settings", () => {
    it("another worker takes the job again and completes it", async () => {
      const config = loadConfig({ flags: { config: CONFIG_FILE }, env: {} });
      const q = queues.factory.queue("settle-fills");
      await q.add("s", { n: 1 }, { jobId: "j-1" });
      const child = await holdInChild(
        queues.redis.url,
        queues.prefix,
        "settle-fills",
        "j-1",
        config,
        children,
      );
      await kill(child);
      const killedAt = Date.now();

      const events: string[] = [];
      let takenAfterMs: number | undefined;
      const worker = queues.factory.worker(
        "settle-fills",
        async (job: Job) => {
          takenAfterMs ??= Date.now() - killedAt;
          events.push(`run ${job.id}`);
          return "done again";
        },
        jobLockOptions(config),
      );
      worker.on("stalled", (jobId) => events.push(`stalled ${jobId}`));
      const [completed] = (await once(worker, "completed")) as [Job];
      events.push(`completed ${completed.id}`);
      console.log(
        `      kill → job taken again: ${((takenAfterMs ?? NaN) / 1000).toFixed(1)} s (lock ${config.jobLockDurationMs} ms, renew ${config.jobLockRenewMs} ms, stalled check ${config.stalledIntervalMs} ms)`,
      );

      // The stalled check and the new start race by one round trip; the completion comes last.
      expect(events.slice(0, 2).sort(), "events before the completion").to.deep.equal([
        "run j-1",
        "stalled j-1",
      ]);
      expect(events.slice(2), "events after").to.deep.equal(["completed j-1"]);
      const job = await q.getJob("j-1");
      expect(await job?.getState()).to.equal("completed");
      expect(job?.returnvalue).to.equal("done again");
      expect(job?.stalledCounter, "times moved back from a dead worker").to.equal(1);
      expect(await queues.factory.deadLetterQueue().count(), "dead letters").to.equal(0);
    });
  });

  describe("when the job stalls more than maxStalledCount times", () => {
    // Short locks keep the test quick; the rule is the same at any duration.
    const settings: JobLockSettings = {
      jobLockDurationMs: 2_000,
      jobLockRenewMs: 500,
      stalledIntervalMs: 500,
      maxStalledCount: 1,
    };

    it("is failed without running again and dead-lettered with the reason", async () => {
      const name = "settle-fills";
      const q = queues.factory.queue(name);
      const events = new QueueEvents(queues.factory.deadLetterQueue().name, {
        connection: { ...queues.factory.connectionOptions },
        prefix: queues.prefix,
      });
      dlqEvents = events;
      await events.waitUntilReady();
      const deadLettered = new Promise<void>((resolve) =>
        events.on("waiting", ({ jobId }) => {
          if (jobId === `${name}-j-2`) resolve();
        }),
      );
      await q.add("s", { n: 2 }, { jobId: "j-2" });
      // The first death is recovered: a second worker process takes the job again, then dies too.
      await kill(await holdInChild(queues.redis.url, queues.prefix, name, "j-2", settings, children));
      await kill(await holdInChild(queues.redis.url, queues.prefix, name, "j-2", settings, children));

      let runs = 0;
      const worker = queues.factory.worker(
        name,
        async () => {
          runs++;
        },
        jobLockOptions(settings),
      );
      const [failedJob, error] = (await once(worker, "failed")) as [Job, Error];
      await deadLettered;

      expect(runs, "runs after the second stall").to.equal(0);
      expect(failedJob.id).to.equal("j-2");
      expect(error.message).to.equal("job stalled more than allowable limit");
      const job = await q.getJob("j-2");
      expect(await job?.getState()).to.equal("failed");
      expect(job?.failedReason).to.equal("job stalled more than allowable limit");
      expect(job?.stalledCounter).to.equal(2);
      const entry = (await queues.factory.deadLetterQueue().getJob(`${name}-j-2`))?.data as DeadLetterEntry;
      expect(entry).to.include({
        queue: name,
        jobId: "j-2",
        reason: "UnrecoverableError: job stalled more than allowable limit",
        attemptsMade: job?.attemptsMade,
      });
      expect(entry.data).to.deep.equal({ n: 2 });
    });
  });
});
