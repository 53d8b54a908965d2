import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { signMeterReading } from "../../../oracle/src/domain/meter/reading.js";
import { MeterStore, ingestMeterReadings } from "../../../oracle/src/infra/meter-store.js";
import { startRedis, type RedisServer } from "../../helpers/redis.js";
import { CHAIN_ID, CONTEXT, MARKET, METERS, loadCorpus, resolve } from "../domain/meter/fixtures.js";

describe("MeterStore", function () {
  this.timeout(20_000);
  let server: RedisServer;
  let redis: Redis;
  let store: MeterStore;

  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  after(async () => {
    redis.disconnect();
    await server.stop();
  });
  beforeEach(() => {
    store = new MeterStore({
      redis,
      prefix: `t${randomUUID().slice(0, 8)}`,
      chainId: CHAIN_ID,
      market: MARKET,
    });
  });

  const reading = (injectedWh: bigint) =>
    signMeterReading(METERS.A, CHAIN_ID, MARKET, { intervalId: 2000000n, injectedWh, consumedWh: 0n });

  describe("put", () => {
    it("stores a first reading and treats an identical repeat as a duplicate", async () => {
      const r = await reading(10n);
      expect(await store.put(r)).to.equal("accepted");
      expect(await store.put(r)).to.equal("duplicate");
      expect(await store.readings(2000000n)).to.deep.equal([r]);
    });

    describe("when a different reading arrives for the same meter and interval", () => {
      it("rejects both versions, keeps them in meter-rejected, and rejects later ones too", async () => {
        const first = await reading(10n);
        const second = await reading(11n);
        const third = await reading(10n);
        expect(await store.put(first)).to.equal("accepted");
        expect(await store.put(second)).to.equal("conflict");
        expect(await store.put(third)).to.equal("conflict");
        expect(await store.readings(2000000n)).to.deep.equal([]);
        expect(await store.conflictingMeters(2000000n)).to.deep.equal([METERS.A.address]);
        const rejected = await store.rejected();
        expect(rejected.map((r) => [r.code, (r.reading as { injectedWh: string }).injectedWh])).to.deep.equal(
          [
            ["conflict", "10"],
            ["conflict", "11"],
            ["conflict", "10"],
          ],
        );
      });
    });

    describe("when many racing puts of different values hit one meter", () => {
      it("never stores two versions: all end up conflicting but one, or all", async () => {
        const readings = await Promise.all([1n, 2n, 3n, 4n, 5n, 6n].map(reading));
        const outcomes = await Promise.all(readings.map((r) => store.put(r)));
        expect(outcomes.filter((o) => o === "accepted")).to.have.length(1);
        expect(outcomes.filter((o) => o === "conflict")).to.have.length(5);
        expect(await store.readings(2000000n)).to.deep.equal([]);
        // 2 records for the first conflict (both versions) + 1 per later reading.
        expect(await store.rejected()).to.have.length(6);
      });
    });
  });

  describe("ingestMeterReadings with the malformed corpus (test/fixtures/meter)", () => {
    it("rejects each malformed item with its expected reason and keeps every valid one", async () => {
      const { cases, valid } = loadCorpus();
      expect(cases.length).to.be.at.least(30);
      // Valid readings interleaved with the malformed ones.
      const ordered: { kind: "case" | "valid"; i: number }[] = [];
      cases.forEach((_, i) => {
        ordered.push({ kind: "case", i });
        if (i % 11 === 0 && i / 11 < valid.length) ordered.push({ kind: "valid", i: i / 11 });
      });
      const items = await Promise.all(
        ordered.map((o) => resolve(o.kind === "case" ? cases[o.i]!.reading : valid[o.i])),
      );
      const result = await ingestMeterReadings(store, items, CONTEXT);

      for (const [position, o] of ordered.entries()) {
        const status = result.items[position]!;
        if (o.kind === "valid") {
          expect(status.status, `valid reading ${o.i}`).to.equal("accepted");
          continue;
        }
        const c = cases[o.i]!;
        expect(status.status, c.name).to.equal("rejected");
        if (status.status !== "rejected") continue;
        expect(status.reason, c.name).to.include(c.expect);
        if (c.code !== undefined) expect(status.code, c.name).to.equal(c.code);
      }
      expect(result.accepted).to.equal(valid.length);
      expect(result.rejected).to.equal(cases.length);
      // Nothing lost: every valid reading is stored, every rejected one recorded with its reason.
      const stored = [
        ...(await store.readings(2000000n)),
        ...(await store.readings(1999999n)),
        ...(await store.readings(1999998n)),
      ];
      expect(stored).to.have.length(valid.length);
      const rejected = await store.rejected();
      expect(rejected).to.have.length(cases.length);
      expect(rejected.every((r) => r.reason.length > 0 && r.code.length > 0)).to.equal(true);
    });
  });

  describe("close", () => {
    it("is idempotent and closes a connection it opened itself", async () => {
      const own = new MeterStore({ redis: server.url, prefix: "x", chainId: CHAIN_ID, market: MARKET });
      expect(await own.readings(1n)).to.deep.equal([]);
      const a = own.close();
      expect(own.close()).to.equal(a);
      await a;
    });
  });
});
