import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { signMeterReading } from "../../../oracle/src/domain/meter/reading.js";
import { startHttpServer, type HttpServer } from "../../../oracle/src/infra/http.js";
import { MeterStore, ingestMeterReadings } from "../../../oracle/src/infra/meter-store.js";
import { createMetrics } from "../../../oracle/src/infra/metrics.js";
import { QueueFactory } from "../../../oracle/src/infra/queue.js";
import { startRedis, type RedisServer } from "../../helpers/redis.js";
import { CHAIN_ID, CONTEXT, MARKET, METERS } from "../domain/meter/fixtures.js";

describe("startHttpServer", function () {
  this.timeout(20_000);
  let redisServer: RedisServer;
  let redis: Redis;
  let queues: QueueFactory;
  let server: HttpServer;
  let store: MeterStore;
  let rpcUp = true;

  before(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
    const prefix = `t${randomUUID().slice(0, 8)}`;
    queues = new QueueFactory({ redisUrl: redisServer.url, prefix });
    store = new MeterStore({ redis, prefix, chainId: CHAIN_ID, market: MARKET });
    const metrics = createMetrics({ processMetrics: false });
    metrics.trackQueues([queues.queue("solve"), queues.queue("submit")]);
    metrics.intervalLatency.observe({ stage: "committed" }, 3);
    metrics.solveDuration.observe({ outcome: "optimal" }, 0.2);
    metrics.gasSpent.inc({ kind: "commit" }, 150_000);
    metrics.trackSignerBalance("0x0000000000000000000000000000000000000001", async () => 5n * 10n ** 17n);
    await queues.queue("solve").add("s", {}, { jobId: "a" });
    server = await startHttpServer({
      host: "127.0.0.1",
      port: 0,
      metrics,
      readiness: {
        redis: async () => {
          await redis.ping();
        },
        rpc: async () => {
          if (!rpcUp) throw new Error("eth_blockNumber failed: ECONNREFUSED");
        },
      },
      meterIngest: (items) => ingestMeterReadings(store, items, CONTEXT),
      queues: [queues.queue("solve"), queues.queue("submit")],
    });
  });
  after(async () => {
    await server.close();
    await queues.close();
    redis.disconnect();
    await redisServer.stop();
  });

  it("answers /healthz", async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).to.equal(200);
  });

  describe("/readyz", () => {
    it("is 200 when every check passes", async () => {
      rpcUp = true;
      const res = await fetch(`${server.url}/readyz`);
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({
        ready: true,
        checks: { redis: { ok: true }, rpc: { ok: true } },
      });
    });
    it("is 503 with the failing check's reason otherwise", async () => {
      rpcUp = false;
      const res = await fetch(`${server.url}/readyz`);
      expect(res.status).to.equal(503);
      expect(await res.json()).to.deep.equal({
        ready: false,
        checks: { redis: { ok: true }, rpc: { ok: false, reason: "eth_blockNumber failed: ECONNREFUSED" } },
      });
      rpcUp = true;
    });
  });

  describe("/metrics", () => {
    it("exposes job counts by queue and state and the signer balance", async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(text).to.include('gridbrain_jobs{queue="solve",state="waiting"} 1');
      expect(text).to.include('gridbrain_jobs{queue="submit",state="waiting"} 0');
      expect(text).to.include(
        'gridbrain_signer_balance_wei{signer="0x0000000000000000000000000000000000000001"} 500000000000000000',
      );
      expect(text).to.include('gridbrain_interval_latency_seconds_bucket{le="2",stage="committed"} 0');
      expect(text).to.include('gridbrain_interval_latency_seconds_bucket{le="5",stage="committed"} 1');
      expect(text).to.include('gridbrain_solve_duration_seconds_count{outcome="optimal"} 1');
      expect(text).to.include('gridbrain_gas_spent_total{kind="commit"} 150000');
    });
  });

  describe("POST /meter-readings", () => {
    const post = (body: string) =>
      fetch(`${server.url}/meter-readings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });

    it("accepts one reading object with 202", async () => {
      const r = await signMeterReading(METERS.A, CHAIN_ID, MARKET, {
        intervalId: 2000000n,
        injectedWh: 5n,
        consumedWh: 0n,
      });
      const res = await post(
        JSON.stringify({ ...r, intervalId: "2000000", injectedWh: "5", consumedWh: "0" }),
      );
      expect(res.status).to.equal(202);
      expect(await res.json()).to.deep.equal({
        accepted: 1,
        rejected: 0,
        items: [{ index: 0, status: "accepted" }],
      });
    });
    it("answers per item for an array, with reasons", async () => {
      const r = await signMeterReading(METERS.B, CHAIN_ID, MARKET, {
        intervalId: 1999999n,
        injectedWh: 0n,
        consumedWh: 9n,
      });
      const wire = { ...r, intervalId: "1999999", injectedWh: "0", consumedWh: "9" };
      const res = await post(JSON.stringify([wire, { ...wire, consumedWh: "9.5" }]));
      expect(res.status).to.equal(202);
      const body = (await res.json()) as { items: { status: string; reason?: string }[] };
      expect(body.items[0]!.status).to.equal("accepted");
      expect(body.items[1]!.status).to.equal("rejected");
      expect(body.items[1]!.reason).to.include('consumedWh: must be an integer, got fraction "9.5"');
    });
    it("answers 422 with every item's reason when every item was rejected", async () => {
      const r = await signMeterReading(METERS.A, CHAIN_ID, MARKET, {
        intervalId: 1999998n,
        injectedWh: 3n,
        consumedWh: 0n,
      });
      const wire = { ...r, intervalId: "1999998", injectedWh: "3", consumedWh: "0" };
      const res = await post(
        JSON.stringify([
          { ...wire, injectedWh: "-1" },
          { ...wire, meter: "0x12" },
        ]),
      );
      expect(res.status).to.equal(422);
      const body = (await res.json()) as {
        accepted: number;
        rejected: number;
        items: { index: number; status: string; reason?: string }[];
      };
      expect(body.accepted).to.equal(0);
      expect(body.rejected).to.equal(2);
      expect(body.items.map((i) => [i.index, i.status])).to.deep.equal([
        [0, "rejected"],
        [1, "rejected"],
      ]);
      expect(body.items[0]!.reason).to.include("injectedWh");
      expect(body.items[1]!.reason).to.include("meter");
    });
    it("answers 202 when every item is a duplicate of a stored reading (a resend is not an error)", async () => {
      const r = await signMeterReading(METERS.A, CHAIN_ID, MARKET, {
        intervalId: 1999997n,
        injectedWh: 4n,
        consumedWh: 0n,
      });
      const wire = JSON.stringify({ ...r, intervalId: "1999997", injectedWh: "4", consumedWh: "0" });
      expect((await post(wire)).status).to.equal(202);
      const again = await post(wire);
      expect(again.status).to.equal(202);
      expect(await again.json()).to.deep.include({ accepted: 1, rejected: 0 });
    });
    it("rejects a body that is not JSON with 400 naming the body", async () => {
      const res = await post("{not json");
      expect(res.status).to.equal(400);
      expect(((await res.json()) as { error: string }).error).to.match(/^body: /);
    });
    it("rejects an empty array with 400", async () => {
      expect((await post("[]")).status).to.equal(400);
    });
  });

  it("serves the BullMQ dashboard at /admin/queues", async () => {
    const res = await fetch(`${server.url}/admin/queues`);
    expect(res.status).to.equal(200);
    expect(await res.text()).to.match(/<html/i);
    const api = await fetch(`${server.url}/admin/queues/api/queues`);
    const names = ((await api.json()) as { queues: { name: string }[] }).queues.map((q) => q.name);
    expect(names).to.have.members(["solve", "submit"]);
  });

  it("closes idempotently", async () => {
    const other = await startHttpServer({ host: "127.0.0.1", port: 0 });
    const a = other.close();
    expect(other.close()).to.equal(a);
    await a;
    let refused = false;
    await fetch(`${other.url}/healthz`).catch(() => (refused = true));
    expect(refused).to.equal(true);
  });
});
