/**
 * Helper process for the stalled-job tests (queue-stalled.test.ts): `node --import tsx
 * stalling-worker.ts <redisUrl> <prefix> <queue> <job-lock settings JSON>` runs one worker of the
 * queue factory whose jobs never finish and writes `active <jobId>` when it takes one, so that the
 * test can SIGKILL it mid-job, as a node dies. Does nothing when imported.
 */
import { pathToFileURL } from "node:url";
import { QueueFactory, jobLockOptions, type JobLockSettings } from "../../../oracle/src/infra/queue.js";

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [redisUrl, prefix, queue, settings] = process.argv.slice(2);
  const factory = new QueueFactory({ redisUrl: redisUrl!, prefix: prefix! });
  factory.worker(
    queue!,
    (job) => {
      process.stdout.write(`active ${job.id}\n`);
      // Holds the job (and renews its lock) until the process is killed.
      return new Promise<never>(() => undefined);
    },
    jobLockOptions(JSON.parse(settings!) as JobLockSettings),
  );
}
