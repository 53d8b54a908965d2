import { expect } from "chai";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  ConfigError,
  envName,
  flagName,
  loadConfig,
  redactConfig,
} from "../../../oracle/src/infra/config.js";

const DIR = fileURLToPath(new URL("../../fixtures/config/", import.meta.url));
const EXPECTED = (
  JSON.parse(readFileSync(`${DIR}_expected.json`, "utf8")) as {
    expected: Record<string, { field: string; reason: string }>;
  }
).expected;

function loadError(params: Parameters<typeof loadConfig>[0]): ConfigError {
  try {
    loadConfig(params);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  const file = `${DIR}valid.json`;

  describe("when the file is valid", () => {
    it("applies the documented defaults and freezes the result", () => {
      const c = loadConfig({ flags: { config: file }, env: {} });
      expect(c.queuePrefix).to.equal("gridbrain");
      expect(c.confirmations).to.equal(2);
      expect(c.intervalSeconds).to.equal(900);
      expect(c.gateClosureSeconds).to.equal(300);
      expect(c.settlementBatchGasBudget).to.equal(10_000_000n);
      expect(c.committeeAggregationTimeoutSeconds).to.equal(60);
      expect(Object.isFrozen(c)).to.equal(true);
    });
  });

  describe("when the same field comes from several sources", () => {
    it("lets env override the file and flags override env", () => {
      const c = loadConfig({
        flags: { config: file, httpPort: "9100" },
        env: {
          GRIDBRAIN_HTTP_PORT: "9000",
          GRIDBRAIN_CONFIRMATIONS: "5",
          GRIDBRAIN_QUEUE_PREFIX: "{gridbrain}",
        },
      });
      expect(c.httpPort).to.equal(9100);
      expect(c.confirmations).to.equal(5);
      expect(c.queuePrefix).to.equal("{gridbrain}");
    });
    it("ignores GRIDBRAIN_ variables that are not config fields (other tools share the prefix)", () => {
      expect(() =>
        loadConfig({ flags: { config: file }, env: { GRIDBRAIN_INVARIANT_RUNS: "1000" } }),
      ).not.to.throw();
    });
  });

  describe("when redisClusterNodes is set", () => {
    it("splits the comma-separated list, accepts a {…} hash-tag prefix and masks credentials in the redacted view", () => {
      const c = loadConfig({
        flags: { config: file },
        env: {
          GRIDBRAIN_REDIS_CLUSTER_NODES: " redis://:pw@10.0.0.2:7001 , redis://10.0.0.3:7002 ",
          GRIDBRAIN_QUEUE_PREFIX: "{gridbrain}",
        },
      });
      expect(c.redisClusterNodes).to.deep.equal(["redis://:pw@10.0.0.2:7001", "redis://10.0.0.3:7002"]);
      expect(redactConfig(c)["redisClusterNodes"]).to.deep.equal([
        "redis://:***@10.0.0.2:7001",
        "redis://10.0.0.3:7002",
      ]);
    });
    it("defaults to none (a single Redis)", () => {
      expect(loadConfig({ flags: { config: file }, env: {} }).redisClusterNodes).to.deep.equal([]);
    });
  });

  describe("when a value from env is bad", () => {
    it("names the field, the variable and the reason", () => {
      const e = loadError({ flags: { config: file }, env: { GRIDBRAIN_CONFIRMATIONS: "sixty" } });
      expect(e.message).to.include("confirmations (GRIDBRAIN_CONFIRMATIONS): must be an integer");
    });
  });

  describe("the job locks (BullMQ's lockDuration, lockRenewTime, stalledInterval, maxStalledCount)", () => {
    it("defaults to a 20 s lock renewed every 5 s, a stalled check every 5 s and one recovery per job", () => {
      const c = loadConfig({ flags: { config: file }, env: {} });
      expect([c.jobLockDurationMs, c.jobLockRenewMs, c.stalledIntervalMs, c.maxStalledCount]).to.deep.equal([
        20_000, 5_000, 5_000, 1,
      ]);
    });
    it("names the field and the reason for a value out of range", () => {
      expect(
        loadError({ flags: { config: file }, env: { GRIDBRAIN_STALLED_INTERVAL_MS: "0" } }).message,
      ).to.include("stalledIntervalMs (GRIDBRAIN_STALLED_INTERVAL_MS): must be >= 1000");
      expect(
        loadError({ flags: { config: file }, env: { GRIDBRAIN_MAX_STALLED_COUNT: "-1" } }).message,
      ).to.include("maxStalledCount (GRIDBRAIN_MAX_STALLED_COUNT): must be >= 0");
    });
    it("rejects a renewal period over half of the lock, naming jobLockRenewMs", () => {
      const e = loadError({ flags: { config: file }, env: { GRIDBRAIN_JOB_LOCK_DURATION_MS: "8000" } });
      expect(e.issues.map((i) => i.field)).to.deep.equal(["jobLockRenewMs"]);
      expect(e.message).to.include("must be at most half of jobLockDurationMs (8000)");
    });
  });

  describe("the site location (the rolling horizon's solar-shaped forecast)", () => {
    it("defaults to the demo's neighbourhood and reads decimal degrees from env", () => {
      const d = loadConfig({ flags: { config: file }, env: {} });
      expect([d.siteLatitudeDeg, d.siteLongitudeDeg]).to.deep.equal([52.37, 4.9]);
      const c = loadConfig({
        flags: { config: file },
        env: { GRIDBRAIN_SITE_LATITUDE_DEG: "-33.87", GRIDBRAIN_SITE_LONGITUDE_DEG: "151.21" },
      });
      expect([c.siteLatitudeDeg, c.siteLongitudeDeg]).to.deep.equal([-33.87, 151.21]);
    });
    it("names the field and the reason for a latitude off the globe or a word", () => {
      expect(
        loadError({ flags: { config: file }, env: { GRIDBRAIN_SITE_LATITUDE_DEG: "91" } }).message,
      ).to.include("siteLatitudeDeg (GRIDBRAIN_SITE_LATITUDE_DEG): must be <= 90");
      expect(
        loadError({ flags: { config: file }, env: { GRIDBRAIN_SITE_LONGITUDE_DEG: "east" } }).message,
      ).to.include("siteLongitudeDeg (GRIDBRAIN_SITE_LONGITUDE_DEG): must be a number");
    });
  });

  describe("rpcTimeoutMs (the wait for each JSON-RPC attempt)", () => {
    it("defaults to 20 s and reads milliseconds from a flag", () => {
      expect(loadConfig({ flags: { config: file }, env: {} }).rpcTimeoutMs).to.equal(20_000);
      expect(loadConfig({ flags: { config: file, rpcTimeoutMs: "2500" }, env: {} }).rpcTimeoutMs).to.equal(
        2_500,
      );
    });
    it("names the field, where it came from and the bound it is outside", () => {
      expect(loadError({ flags: { config: file, rpcTimeoutMs: "99" }, env: {} }).message).to.include(
        "rpcTimeoutMs (--rpc-timeout-ms): must be >= 100",
      );
      expect(
        loadError({ flags: { config: file }, env: { GRIDBRAIN_RPC_TIMEOUT_MS: "600001" } }).message,
      ).to.include("rpcTimeoutMs (GRIDBRAIN_RPC_TIMEOUT_MS): must be <= 600000");
    });
  });

  describe("when several fields are bad", () => {
    it("reports all of them at once", () => {
      const e = loadError({ flags: { config: file, httpPort: "-1", chainId: "0" }, env: {} });
      expect(e.issues.map((i) => i.field)).to.have.members(["httpPort", "chainId"]);
      expect(e.message).to.include("httpPort (--http-port): must be >= 0");
    });
  });

  describe("redaction", () => {
    const secretConfig = () =>
      loadConfig({
        flags: { config: file, keystorePassword: "hunter2-secret" },
        env: { GRIDBRAIN_REDIS_URL: "redis://user:pa55word@redis.internal:6379/0" },
      });
    it("keeps secrets out of the redacted view and of JSON.stringify", () => {
      const c = secretConfig();
      expect(c.keystorePassword).to.equal("hunter2-secret");
      for (const text of [JSON.stringify(redactConfig(c)), JSON.stringify(c)]) {
        expect(text).not.to.include("hunter2-secret");
        expect(text).not.to.include("pa55word");
        expect(text).to.include("redis.internal");
      }
    });
  });

  describe("names", () => {
    it("maps fields to env variables and flags", () => {
      expect(envName("committeeAggregationTimeoutSeconds")).to.equal(
        "GRIDBRAIN_COMMITTEE_AGGREGATION_TIMEOUT_SECONDS",
      );
      expect(flagName("rpcUrl")).to.equal("--rpc-url");
    });
  });

  describe("the malformed config corpus (test/fixtures/config)", () => {
    const files = readdirSync(DIR).filter(
      (f) => f.endsWith(".json") && f !== "valid.json" && !f.startsWith("_"),
    );
    it("has an expectation for every fixture file", () => {
      expect(files.sort()).to.deep.equal(Object.keys(EXPECTED).sort());
    });
    for (const name of Object.keys(EXPECTED)) {
      const { field, reason } = EXPECTED[name]!;
      it(`rejects ${name}: ${field} — ${reason}`, () => {
        const e = loadError({ flags: { config: `${DIR}${name}` }, env: {} });
        const issue = e.issues.find((i) => i.field === field);
        expect(issue, `issues: ${e.message}`).not.to.equal(undefined);
        expect(issue!.reason).to.include(reason);
        expect(e.message).to.include(`${field} (`);
      });
    }
  });
});
