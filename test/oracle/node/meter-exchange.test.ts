/**
 * The meter-reading exchange between nodes on a local Hardhat network with real Redis (the e2e
 * harness's environment): forwarding on ingest, `GET /meter-readings/:intervalId`, a forged
 * reading from a peer, and a node that was down fetching what it missed.
 */
import { expect } from "chai";
import { privateKeyToAccount } from "viem/accounts";
import { type SignedMeterReading, signMeterReading } from "../../../oracle/src/domain/meter/reading.js";
import { fetchPeerReadings, readingToWire } from "../../../oracle/src/infra/meter-peers.js";
import { pullPeerReadings } from "../../../oracle/src/jobs/committee.js";
import { OracleNode } from "../../../oracle/src/node/node.js";
import { type Config, ConfigError } from "../../../oracle/src/infra/config.js";
import { type Env, INTERVAL, type Party, nodeConfigs, setupMarket, startEnv } from "../../e2e/harness.js";
import { scenarioParties } from "../../e2e/scenario.js";

const post = async (url: string, body: unknown) => {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

describe("meter readings between committee nodes", function () {
  this.timeout(300_000);
  let env: Env;
  let configs: Config[];
  const running: OracleNode[] = [];
  const parties: Party[] = scenarioParties().filter((p) => p.meter !== undefined);
  let intervalId: bigint;
  let readings: SignedMeterReading[];

  const start = async (i: number) => {
    // No scheduler: only the exchange is under test, no interval runs.
    const node = new OracleNode({ config: configs[i]!, withoutScheduler: true });
    await node.start();
    running.push(node);
    return node;
  };
  const stored = async (node: OracleNode) =>
    (await node.context.meterStore.readings(intervalId)).map((r) => r.meter);

  before(async () => {
    env = await startEnv();
    await setupMarket(env, parties, 2);
    // An interval that has ended and whose reading deadline has not passed.
    intervalId = (await env.now()) / INTERVAL - 1n;
    ({ configs } = await nodeConfigs(env));
    readings = await Promise.all(
      parties.map((p, i) =>
        signMeterReading(p.meter!, 31337, env.addresses.market, {
          intervalId,
          injectedWh: BigInt(100 * i),
          consumedWh: 7n,
        }),
      ),
    );
  });
  after(async () => {
    await Promise.allSettled(running.map((n) => n.close()));
    await env?.stop();
  });

  describe("when a meter posts to one node while a peer is up and another is down", () => {
    it("the node forwards what it accepted to the live peer, which verifies and stores it", async () => {
      const [a, b] = [await start(0), await start(1)];
      const res = await post(`${a.url}/meter-readings`, readings.slice(0, 2).map(readingToWire));
      expect(res.status).to.equal(202);
      expect(res.json).to.include({ accepted: 2, rejected: 0 });
      // Forwarding is done before the answer: the peer holds both readings now.
      expect(await stored(b)).to.deep.equal(await stored(a));
      expect(await stored(b)).to.have.length(2);
    });
  });

  describe("GET /meter-readings/:intervalId", () => {
    it("serves the signed readings the node holds, which verify on the caller's side", async () => {
      const page = await fetchPeerReadings(running[0]!.url, intervalId);
      expect(page).to.deep.equal(
        (await running[0]!.context.meterStore.readings(intervalId)).map(readingToWire),
      );
    });
    describe("when the interval id is not a uint64", () => {
      it("answers 400 naming the field", async () => {
        for (const bad of ["abc", "-1", "1.5", "18446744073709551616"]) {
          const res = await fetch(`${running[0]!.url}/meter-readings/${bad}`);
          expect(res.status, bad).to.equal(400);
          expect(((await res.json()) as { error: string }).error, bad).to.match(/^intervalId: /);
        }
      });
    });
    describe("when the offset is not a non-negative integer", () => {
      it("answers 400 naming the field", async () => {
        const res = await fetch(`${running[0]!.url}/meter-readings/${intervalId}?offset=-3`);
        expect(res.status).to.equal(400);
        expect(((await res.json()) as { error: string }).error).to.match(/^offset: /);
      });
    });
  });

  describe("when a peer sends only forged readings", () => {
    it("answers 422, rejects each with the reason and stores none", async () => {
      const b = running[1]!;
      const meter = parties[3]!.meter!;
      // Signed by a key that is not the meter's: a peer inventing a reading it never received.
      const impostor = privateKeyToAccount(`0x${"42".repeat(32)}`);
      const forged = await signMeterReading(impostor, 31337, env.addresses.market, {
        intervalId,
        injectedWh: 0n,
        consumedWh: 99_999n,
      });
      const tampered = { ...readingToWire(readings[2]!), consumedWh: "1" };
      const res = await post(`${b.url}/committee/meter-readings`, [
        { ...readingToWire(forged), meter: meter.address },
        tampered,
      ]);
      // Every item rejected: 422, so the sending node reads "refused" from the status alone.
      expect(res.status).to.equal(422);
      expect(res.json).to.include({ accepted: 0, rejected: 2 });
      const codes = (res.json.items as { code: string }[]).map((i) => i.code);
      expect(codes).to.deep.equal(["wrong-signer", "wrong-signer"]);
      expect(await stored(b)).to.not.include(meter.address);
      expect(await stored(b)).to.not.include(readings[2]!.meter);
      const rejected = await b.context.meterStore.rejected();
      expect(rejected.map((r) => r.code)).to.include("wrong-signer");
    });
    it("answers 400 naming the body when it is not an array", async () => {
      const res = await post(`${running[1]!.url}/committee/meter-readings`, { meter: "0x" });
      expect(res.status).to.equal(400);
      expect(res.json.error).to.match(/^body: /);
    });
  });

  describe("when the reading deadline leaves no time to commit before the market's meter deadline", () => {
    it("the node refuses to start, naming meterDeadlineSeconds", async () => {
      const { configs: tooLate } = await nodeConfigs(env, { meterDeadlineSeconds: "3500" });
      const node = new OracleNode({ config: tooLate[4]!, withoutScheduler: true });
      let error: unknown;
      await node.start().catch((e: unknown) => (error = e));
      await node.close();
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).issues.map((i) => i.field)).to.deep.equal(["meterDeadlineSeconds"]);
      expect((error as Error).message).to.include("must be at most 3000");
    });
  });

  describe("when a node was down while meters posted, then starts", () => {
    it("fetches from its peers every reading it missed, verified", async () => {
      // More readings reach node 1 only (node 3 is down: forwarding to it fails).
      const res = await post(`${running[0]!.url}/meter-readings`, readings.slice(2).map(readingToWire));
      expect(res.json).to.include({ accepted: readings.length - 2, rejected: 0 });
      const c = await start(2);
      expect(await stored(c), "nothing before the fetch").to.deep.equal([]);
      const fresh = await pullPeerReadings(c.context, intervalId);
      expect(fresh).to.equal(readings.length);
      expect(await stored(c)).to.deep.equal(await stored(running[0]!));
      // A second pull finds nothing new (duplicates are idempotent).
      expect(await pullPeerReadings(c.context, intervalId)).to.equal(0);
    });
  });
});
