/**
 * `gridbrain meter import` against the node's HTTP server (infra/http.ts) with the real ingest
 * (validation + Redis meter store) on a Redis of its own. The registry and the clock are the
 * meter fixtures' (now = end of interval 2000000 + 100 s, 900 s intervals, meters A and B
 * registered, C not). The CLI runs as a child process through bin/gridbrain.mjs, as a user runs it.
 */
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LocalAccount } from "viem";
import { PROJECT_ROOT } from "../../../oracle/src/devnet/local-services.js";
import {
  METER_READING_TYPES,
  marketDomain,
  signMeterReading,
} from "../../../oracle/src/domain/meter/reading.js";
import { startHttpServer, type HttpServer } from "../../../oracle/src/infra/http.js";
import { MeterStore, ingestMeterReadings } from "../../../oracle/src/infra/meter-store.js";
import { httpMeterSink, importMeterFile, type MeterImportResult } from "../../../oracle/src/cli/meter.js";
import { runCli } from "../../helpers/cli.js";
import { startRedis, type RedisServer } from "../../helpers/redis.js";
import { CHAIN_ID, CONTEXT, MARKET, METERS } from "../domain/meter/fixtures.js";

/** Interval 2000000 starts at 2000000 × 900 = 1800000000 (unix seconds). */
const INTERVAL = 2000000n;
const START = 1800000000;

/** The signature over the reading in whole Wh (what the meter signs). */
async function sig(meter: LocalAccount, injectedWh: bigint, consumedWh: bigint, intervalId = INTERVAL) {
  return (await signMeterReading(meter, CHAIN_ID, MARKET, { intervalId, injectedWh, consumedWh })).signature;
}

/** `signer` signs a reading that names another meter. */
function sigAs(signer: LocalAccount, meter: LocalAccount, injectedWh: bigint, consumedWh: bigint) {
  return signer.signTypedData({
    domain: marketDomain(CHAIN_ID, MARKET),
    types: METER_READING_TYPES,
    primaryType: "MeterReading",
    message: { meter: meter.address, intervalId: INTERVAL, injectedWh, consumedWh },
  });
}

describe("gridbrain meter import", function () {
  this.timeout(60_000);
  let redisServer: RedisServer;
  let store: MeterStore;
  let server: HttpServer;
  let dir: string;

  before(async () => {
    redisServer = await startRedis();
    dir = mkdtempSync(join(tmpdir(), "gridbrain-meter-import-"));
  });
  after(async () => {
    await redisServer.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    // A fresh store per test: counts in one test cannot leak into the next.
    store = new MeterStore({
      redis: redisServer.url,
      prefix: `t${randomUUID().slice(0, 8)}`,
      chainId: CHAIN_ID,
      market: MARKET,
    });
    server = await startHttpServer({
      host: "127.0.0.1",
      port: 0,
      meterIngest: (items) => ingestMeterReadings(store, items, CONTEXT),
    });
  });
  afterEach(async () => {
    await server.close();
    await store.close();
  });

  const write = (name: string, text: string): string => {
    const path = join(dir, `${randomUUID().slice(0, 8)}-${name}`);
    writeFileSync(path, text);
    return path;
  };

  describe("when every row of a CSV file is valid", () => {
    it("submits them all, exits 0, and the node's store holds them in Wh", async () => {
      const file = write(
        "ok.csv",
        [
          "meter,start,duration,injected,consumed,unit,signature",
          // 1.5 kWh = 1500 Wh; 0.25 kWh = 250 Wh.
          `${METERS.A.address},${START},900,1.5,0,kWh,${await sig(METERS.A, 1500n, 0n)}`,
          `${METERS.B.address},2027-01-15T08:00:00Z,900,0,0.25,kWh,${await sig(METERS.B, 0n, 250n)}`,
          "",
        ].join("\n"),
      );
      // 2027-01-15T08:00:00Z = 1800000000 s: the same interval as the first row.
      const run = await runCli(["meter", "import", file, "--node-url", server.url, "--json"]);
      expect(run.code, run.stderr).to.equal(0);
      const result = JSON.parse(run.stdout) as MeterImportResult;
      expect(result.rows).to.equal(2);
      expect(result.rejected).to.deep.equal([]);
      expect(result.sinks).to.deep.equal([{ name: server.url, accepted: 2, duplicates: 0, rejected: 0 }]);

      const stored = await store.readings(INTERVAL);
      expect(stored.map((r) => [r.meter, r.injectedWh, r.consumedWh])).to.have.deep.members([
        [METERS.A.address, 1500n, 0n],
        [METERS.B.address, 0n, 250n],
      ]);
    });
  });

  describe("when some rows are bad", () => {
    let file: string;
    before(async () => {
      file = write(
        "mixed.csv",
        [
          "meter,intervalId,injected,consumed,unit,signature", // line 1
          `${METERS.A.address},${INTERVAL},1500,0,Wh,${await sig(METERS.A, 1500n, 0n)}`, // 2 valid
          `${METERS.A.address},${INTERVAL},1.5,0,MWh,${await sig(METERS.A, 1500n, 0n)}`, // 3 unit
          `${METERS.B.address},${INTERVAL},0,40,Wh,${await sigAs(METERS.A, METERS.B, 0n, 40n)}`, // 4 signed by A
          `${METERS.C.address},${INTERVAL},7,0,Wh,${await sig(METERS.C, 7n, 0n)}`, // 5 unregistered
          `${METERS.B.address},${INTERVAL},0,40,Wh`, // 6 a column short
          `${METERS.B.address},${INTERVAL - 1n},0,0.04,kWh,${await sig(METERS.B, 0n, 40n, INTERVAL - 1n)}`, // 7 valid
        ].join("\n"),
      );
    });

    it("names line, field and reason of each, exits 1, and the valid rows still land", async () => {
      const run = await runCli(["meter", "import", file, "--node-url", server.url, "--json"]);
      expect(run.code, run.stderr).to.equal(1);
      const result = JSON.parse(run.stdout) as MeterImportResult;
      expect(result.rows).to.equal(6);
      expect(result.submitted).to.equal(4);
      const summary = result.rejected.map((r) => [r.origin, r.field, r.by, r.code]);
      expect(summary).to.deep.equal([
        ["line 3", "unit", "file", undefined],
        ["line 6", "(row)", "file", undefined],
        ["line 4", "signature", server.url, "wrong-signer"],
        ["line 5", "meter", server.url, "unregistered"],
      ]);
      const reasons = Object.fromEntries(result.rejected.map((r) => [r.origin, r.reason]));
      expect(reasons["line 3"]).to.equal('unit: must be "Wh" or "kWh", got "MWh"');
      expect(reasons["line 4"]).to.equal(
        `signature: signed by ${METERS.A.address}, not by the meter ${METERS.B.address}`,
      );
      expect(reasons["line 5"]).to.equal(`meter: ${METERS.C.address} is not a registered meter`);
      expect(reasons["line 6"]).to.equal("row has 5 columns, the header has 6");
      expect(result.sinks).to.deep.equal([{ name: server.url, accepted: 2, duplicates: 0, rejected: 2 }]);

      expect((await store.readings(INTERVAL)).map((r) => [r.meter, r.injectedWh])).to.deep.equal([
        [METERS.A.address, 1500n],
      ]);
      expect((await store.readings(INTERVAL - 1n)).map((r) => [r.meter, r.consumedWh])).to.deep.equal([
        [METERS.B.address, 40n],
      ]);
      // The node keeps its own record of what it refused.
      expect((await store.rejected()).map((r) => r.code)).to.deep.equal(["wrong-signer", "unregistered"]);
    });

    it("prints one line per rejected row in the text output", async () => {
      const run = await runCli(["meter", "import", file, "--node-url", server.url]);
      expect(run.code).to.equal(1);
      expect(run.stdout).to.include('  line 3: unit: must be "Wh" or "kWh", got "MWh"');
      expect(run.stdout).to.include(
        `  line 4: signature: signed by ${METERS.A.address}, not by the meter ${METERS.B.address} [wrong-signer]`,
      );
      expect(run.stdout).to.include(`${server.url}: 2 accepted, 0 duplicate, 2 rejected`);
    });
  });

  describe("when the node rejects every row", () => {
    it("prints each row's reason from the node's 422 answer and exits 1", async () => {
      const file = write(
        "unregistered.csv",
        [
          "meter,intervalId,injected,consumed,unit,signature",
          `${METERS.C.address},${INTERVAL},5,0,Wh,${await sigAs(METERS.C, METERS.C, 5n, 0n)}`,
          `${METERS.C.address},${INTERVAL - 1n},6,0,Wh,${await sigAs(METERS.C, METERS.C, 6n, 0n)}`,
        ].join("\n"),
      );
      const run = await runCli(["meter", "import", file, "--node-url", server.url, "--json"]);
      expect(run.code, run.stderr).to.equal(1);
      const result = JSON.parse(run.stdout) as MeterImportResult;
      expect(result.sinks).to.deep.equal([{ name: server.url, accepted: 0, duplicates: 0, rejected: 2 }]);
      expect(result.rejected.map((r) => [r.origin, r.code])).to.deep.equal([
        ["line 2", "unregistered"],
        ["line 3", "unregistered"],
      ]);
    });
  });

  describe("examples/meter-readings.csv", () => {
    it("is accepted row by row by a node of the chain and market it is signed for", async () => {
      const run = await runCli([
        "meter",
        "import",
        join(PROJECT_ROOT, "examples", "meter-readings.csv"),
        "--node-url",
        server.url,
        "--json",
      ]);
      expect(run.code, run.stdout + run.stderr).to.equal(0);
      const result = JSON.parse(run.stdout) as MeterImportResult;
      expect(result.rows).to.equal(2);
      expect(result.sinks).to.deep.equal([{ name: server.url, accepted: 2, duplicates: 0, rejected: 0 }]);
      const stored = await store.readings(INTERVAL);
      expect(stored.map((r) => [r.meter, r.injectedWh, r.consumedWh])).to.have.deep.members([
        [METERS.A.address, 1500n, 0n],
        [METERS.B.address, 0n, 250n],
      ]);
    });
  });

  describe("when the same file is imported twice", () => {
    it("counts the second run's rows as duplicates and stores nothing twice", async () => {
      const text = JSON.stringify({
        meter: METERS.A.address,
        unit: "Wh",
        intervalReadings: [
          { start: START, duration: 900, injected: 10, consumed: 0, signature: await sig(METERS.A, 10n, 0n) },
        ],
      });
      const sinks = [httpMeterSink(server.url)];
      const first = await importMeterFile({ text, format: "json", intervalSeconds: 900n, sinks });
      const second = await importMeterFile({ text, format: "json", intervalSeconds: 900n, sinks });
      expect(first.sinks[0]).to.deep.include({ accepted: 1, duplicates: 0 });
      expect(second.sinks[0]).to.deep.include({ accepted: 0, duplicates: 1 });
      expect(await store.readings(INTERVAL)).to.have.length(1);
    });
  });

  describe("when the destination is ambiguous", () => {
    it("exits 2 naming the options", async () => {
      const file = write("empty.csv", "meter,intervalId,injected,consumed,unit,signature\n");
      const run = await runCli(["meter", "import", file, "--node-url", server.url, "--config", file]);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.include(
        "error: --node-url: give either --node-url (one per committee node) or --config",
      );
    });
  });
});
