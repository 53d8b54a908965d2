import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { QueueEvents, UnrecoverableError, type Job } from "bullmq";
import { Cluster, Redis } from "ioredis";
import { UnrecoverableInputError } from "../../../oracle/src/domain/errors.js";
import {
  DEFAULT_JOB_OPTIONS,
  QueueFactory,
  jobIdFor,
  redisOptionsFromUrl,
  type DeadLetterEntry,
} from "../../../oracle/src/infra/queue.js";
import { useQueueFactory } from "../../helpers/queue.js";
import { type RedisCluster, startRedisCluster } from "../../../oracle/src/devnet/local-services.js";

const MARKET = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01";

describe("jobIdFor", () => {
  it("joins chain, lower-cased market, interval and step with '-'", () => {
    expect(jobIdFor(31337, MARKET, 12345n, "solve")).to.equal(
      "31337-0xabcdef0123456789abcdef0123456789abcdef01-12345-solve",
    );
  });
  it("never contains ':' and is never an integer (BullMQ's custom id rules)", () => {
    const id = jobIdFor(1, MARKET, 0n, "settle-fills");
    expect(id).not.to.include(":");
    expect(Number.isInteger(Number(id))).to.equal(false);
  });
  describe("when a part is invalid", () => {
    it("rejects a step with ':'", () => {
      expect(() => jobIdFor(1, MARKET, 1n, "a:b")).to.throw(/step/);
    });
    it("rejects a negative interval", () => {
      expect(() => jobIdFor(1, MARKET, -1n, "solve")).to.throw(/intervalId/);
    });
    it("rejects a malformed market", () => {
      expect(() => jobIdFor(1, "0x12" as `0x${string}`, 1n, "solve")).to.throw(/market/);
    });
  });
});

describe("redisOptionsFromUrl", () => {
  it("parses host, port, db, credentials and sets maxRetriesPerRequest to null", () => {
    expect(redisOptionsFromUrl("rediss://u:p%40ss@h.example:6380/2")).to.deep.equal({
      host: "h.example",
      port: 6380,
      db: 2,
      username: "u",
      password: "p@ss",
      tls: {},
      maxRetriesPerRequest: null,
    });
  });
});

describe("QueueFactory", function () {
  this.timeout(30_000);
  const queues = useQueueFactory();

  it("applies attempts 8 and exponential backoff of 500 ms by default", async () => {
    const job = await queues.factory.queue("solve").add("x", {}, { jobId: "a-1" });
    expect(job.opts.attempts).to.equal(8);
    expect(job.opts.backoff).to.deep.equal({ type: "exponential", delay: 500 });
    expect(DEFAULT_JOB_OPTIONS.removeOnFail).to.equal(false);
  });

  it("adds a job with the same deterministic id once", async () => {
    const q = queues.factory.queue("collect");
    const id = jobIdFor(31337, MARKET, 7n, "collect");
    await q.add("c", { n: 1 }, { jobId: id });
    await q.add("c", { n: 2 }, { jobId: id });
    expect(await q.count()).to.equal(1);
    expect((await q.getJob(id))?.data).to.deep.equal({ n: 1 });
  });

  describe("forgetCompleted", () => {
    it("removes the completed jobs of the given queues, so the same deterministic id can be added again", async () => {
      const q = queues.factory.queue("collect");
      const done = jobIdFor(31337, MARKET, 8n, "collect");
      const failing = jobIdFor(31337, MARKET, 9n, "collect");
      const waiting = jobIdFor(31337, MARKET, 10n, "collect");
      await q.add("c", { n: 1 }, { jobId: done });
      await q.add("c", { n: 2 }, { jobId: failing, attempts: 1 });
      const worker = queues.factory.worker("collect", async (job) => {
        if (job.id === failing) throw new UnrecoverableInputError("bad input");
        return "ok";
      });
      await waitForState(q, done, "completed");
      await waitForState(q, failing, "failed");
      await worker.close();
      await q.add("c", { n: 3 }, { jobId: waiting });

      expect(await queues.factory.forgetCompleted(["collect"])).to.equal(1);
      expect(await q.getJob(done), "the completed job is gone").to.equal(undefined);
      expect(await q.getJobState(failing), "failed jobs are kept (dead letters)").to.equal("failed");
      expect(await q.getJobState(waiting), "pending jobs are kept").to.equal("waiting");
      await q.add("c", { n: 4 }, { jobId: done });
      expect((await q.getJob(done))?.data, "re-added under its id").to.deep.equal({ n: 4 });
    });
  });

  async function waitForState(
    q: ReturnType<QueueFactory["queue"]>,
    id: string,
    state: string,
  ): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if ((await q.getJobState(id)) === state) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`job ${id} did not reach ${state}`);
  }

  async function failedOnce(queueName: string, events: QueueEvents, jobId: string): Promise<void> {
    await new Promise<void>((resolve) => {
      const onFailed = ({ jobId: id, prev }: { jobId: string; prev?: string }) => {
        if (id === jobId && prev === "active") {
          events.off("failed", onFailed);
          resolve();
        }
      };
      events.on("failed", onFailed);
    });
    void queueName;
  }

  describe("when a processor throws an UnrecoverableInputError", () => {
    it("dead-letters the job on its first attempt with the reason", async () => {
      const name = "sign";
      const events = new QueueEvents(name, {
        connection: { ...queues.factory.connectionOptions },
        prefix: queues.prefix,
      });
      await events.waitUntilReady();
      let calls = 0;
      queues.factory.worker(name, async () => {
        calls++;
        throw new UnrecoverableInputError("bad order set", { details: "order 3 has quantity 0" });
      });
      const failed = failedOnce(name, events, "j-1");
      await queues.factory.queue(name).add("s", { interval: "5" }, { jobId: "j-1" });
      await failed;
      await events.close();
      const dead = await queues.factory.deadLetterQueue().getJob(`${name}-j-1`);
      const entry = dead?.data as DeadLetterEntry;
      expect(calls).to.equal(1);
      expect(entry.queue).to.equal(name);
      expect(entry.jobId).to.equal("j-1");
      expect(entry.data).to.deep.equal({ interval: "5" });
      expect(entry.reason).to.include("order 3 has quantity 0");
      expect(Number.isNaN(Date.parse(entry.failedAt))).to.equal(false);
      const job = (await queues.factory.queue(name).getJob("j-1")) as Job;
      expect(await job.getState()).to.equal("failed");
    });
  });

  describe("when a processor throws BullMQ's UnrecoverableError", () => {
    it("dead-letters it too", async () => {
      const name = "aggregate";
      const events = new QueueEvents(name, {
        connection: { ...queues.factory.connectionOptions },
        prefix: queues.prefix,
      });
      await events.waitUntilReady();
      queues.factory.worker(name, async () => {
        throw new UnrecoverableError("forged root");
      });
      const failed = failedOnce(name, events, "j-2");
      await queues.factory.queue(name).add("a", {}, { jobId: "j-2" });
      await failed;
      await events.close();
      expect((await queues.factory.deadLetterQueue().getJob(`${name}-j-2`))?.data.reason).to.include(
        "forged root",
      );
    });
  });

  describe("when a transient error persists", () => {
    it("retries until the last attempt and dead-letters only then", async () => {
      const name = "submit";
      const events = new QueueEvents(name, {
        connection: { ...queues.factory.connectionOptions },
        prefix: queues.prefix,
      });
      await events.waitUntilReady();
      let calls = 0;
      const dlqSizeAtCall: number[] = [];
      queues.factory.worker(name, async () => {
        calls++;
        dlqSizeAtCall.push(await queues.factory.deadLetterQueue().count());
        throw new Error("ECONNRESET");
      });
      const done = new Promise<void>((resolve) => {
        events.on("failed", ({ jobId }) => {
          if (jobId === "j-3")
            void queues.factory
              .queue(name)
              .getJob("j-3")
              .then(async (j) => {
                if ((await j?.getState()) === "failed") resolve();
              });
        });
      });
      await queues.factory
        .queue(name)
        .add("s", { k: 1 }, { jobId: "j-3", attempts: 3, backoff: { type: "fixed", delay: 10 } });
      await done;
      await events.close();
      expect(calls).to.equal(3);
      expect(dlqSizeAtCall).to.deep.equal([0, 0, 0]);
      const entry = (await queues.factory.deadLetterQueue().getJob(`${name}-j-3`))?.data as DeadLetterEntry;
      expect(entry.reason).to.equal("Error: ECONNRESET");
      expect(entry.attemptsMade).to.equal(3);
    });
  });

  describe("close", () => {
    it("is idempotent and refuses new resources afterwards", async () => {
      queues.factory.queue("collect");
      queues.factory.worker("collect", async () => undefined);
      const a = queues.factory.close();
      const b = queues.factory.close();
      expect(a).to.equal(b);
      await a;
      expect(() => queues.factory.queue("solve")).to.throw(/closed/);
      expect(queues.factory.connection.status).to.equal("end");
    });
  });
});

/** Clients connected to each node, not counting the probe connection that asks. */
async function clientCountsByNode(urls: readonly string[]): Promise<number[]> {
  return Promise.all(
    urls.map(async (url) => {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await probe.connect();
        const list = (await probe.call("CLIENT", "LIST")) as string;
        return list.split("\n").filter((line) => line.trim().length > 0).length - 1;
      } finally {
        probe.disconnect();
      }
    }),
  );
}

describe("QueueFactory on a Redis Cluster", function () {
  this.timeout(60_000);
  let cluster: RedisCluster;

  before(async () => {
    cluster = await startRedisCluster({ masters: 3 });
  });
  after(async () => {
    await cluster.stop();
  });

  it("refuses a prefix without a hash tag", () => {
    expect(
      () =>
        new QueueFactory({
          redisUrl: cluster.urls[0]!,
          clusterNodes: cluster.urls.slice(1),
          prefix: "gridbrain",
        }),
    ).to.throw(RangeError, /prefix: must be a \{…\} hash tag on Redis Cluster/);
  });

  it("runs a worker through the Cluster client and closes every connection it opened", async () => {
    const factory = new QueueFactory({
      redisUrl: cluster.urls[0]!,
      clusterNodes: cluster.urls.slice(1),
      prefix: `{t${randomUUID().slice(0, 8)}}`,
    });
    const q = factory.queue("collect");
    const id = jobIdFor(31337, MARKET, 11n, "collect");
    factory.worker("collect", async (job) => `done ${(job.data as { n: number }).n}`);
    await q.add("c", { n: 5 }, { jobId: id });
    for (let i = 0; i < 200 && (await q.getJobState(id)) !== "completed"; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect((await q.getJob(id))?.returnvalue).to.equal("done 5");
    expect(factory.connection).to.be.instanceOf(Cluster);
    const before = await clientCountsByNode(cluster.urls);
    expect(before.reduce((a, b) => a + b, 0)).to.be.greaterThan(0);
    await factory.close();
    // The servers are the judge of "closed": every node goes back to no client but the probe.
    let after = before;
    for (let i = 0; i < 100 && after.some((n) => n > 0); i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await clientCountsByNode(cluster.urls);
    }
    expect(after).to.deep.equal(cluster.urls.map(() => 0));
  });
});
