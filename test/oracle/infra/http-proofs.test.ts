/**
 * The Proof API's HTTP answers (infra/http.ts + infra/proofs.ts) with a stub proof source: the
 * status and reason of each refusal, and that a meter leaf goes only to a fresh request signed by
 * its participant. The real source (jobs/proofs.ts) runs in test/e2e/pull-settlement.test.ts.
 */
import { expect } from "chai";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { meterProofMessage } from "../../../oracle/src/domain/proof-request.js";
import { type HttpServer, startHttpServer } from "../../../oracle/src/infra/http.js";
import {
  FillProofResponseSchema,
  MeterProofResponseSchema,
  ProofError,
  type ProofSource,
} from "../../../oracle/src/infra/proofs.js";

const MARKET = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address;
const CHAIN_ID = 31337;
const NOW = 1_800_000_000n;
const alice = privateKeyToAccount(`0x${"a1".repeat(32)}`);
const mallory = privateKeyToAccount(`0x${"b2".repeat(32)}`);
const ORDER = `0x${"12".repeat(32)}` as Hex;
const ROOT = `0x${"34".repeat(32)}` as Hex;

const source: ProofSource = {
  market: MARKET,
  chainId: CHAIN_ID,
  async schedule(intervalId) {
    if (intervalId !== 7n)
      throw new ProofError(404, `intervalId: interval ${intervalId} has no committed schedule`);
    return { intervalId: "7", scheduleRoot: ROOT, zonePrices: ["120000"], leaves: [], steps: [] };
  },
  async fill(intervalId, orderId) {
    if (intervalId !== 7n)
      throw new ProofError(404, `intervalId: interval ${intervalId} has no committed schedule`);
    if (orderId !== ORDER) throw new ProofError(404, `orderId: ${orderId} has no fill leaf in interval 7`);
    return {
      intervalId: "7",
      scheduleRoot: ROOT,
      zonePrices: ["120000"],
      leaf: {
        orderId: ORDER,
        filledWh: "4000",
        order: {
          owner: alice.address,
          intervalId: "7",
          side: 0,
          zoneId: 0,
          quantityWh: "4000",
          limitPricePerKwh: "200000",
          nonce: "1",
        },
      },
      proof: [ROOT],
    };
  },
  async meter(intervalId, participant) {
    return {
      intervalId: intervalId.toString(),
      meterRoot: ROOT,
      leaf: { participant, injectedWh: "0", consumedWh: "4100" },
      proof: [ROOT],
    };
  },
};

describe("Proof API (HTTP)", () => {
  let server: HttpServer;
  before(async () => {
    server = await startHttpServer({ host: "127.0.0.1", port: 0, proofs: source, nowSeconds: () => NOW });
  });
  after(async () => {
    await server.close();
  });

  const get = async (path: string) => {
    const res = await fetch(`${server.url}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const meterPath = async (
    signer: typeof alice,
    participant: Address,
    expiry: bigint,
    signedInterval = 7n,
  ) => {
    const signature = await signer.signMessage({
      message: meterProofMessage({
        market: MARKET,
        chainId: CHAIN_ID,
        intervalId: signedInterval,
        participant,
        expiry,
      }),
    });
    return `/proofs/7/meter/${participant}?expiry=${expiry}&signature=${signature}`;
  };

  it("serves the schedule leaves and a fill proof that parse as the client expects", async () => {
    expect((await get("/proofs/7/schedule")).body).to.deep.include({
      scheduleRoot: ROOT,
      zonePrices: ["120000"],
    });
    const fill = await get(`/proofs/7/fills/${ORDER}`);
    expect(fill.status).to.equal(200);
    expect(FillProofResponseSchema.parse(fill.body).leaf.filledWh).to.equal("4000");
  });

  it("answers 404 for an unknown interval or order, naming the field", async () => {
    expect(await get("/proofs/8/schedule")).to.deep.equal({
      status: 404,
      body: { error: "intervalId: interval 8 has no committed schedule" },
    });
    const unknown = `0x${"99".repeat(32)}`;
    expect(await get(`/proofs/7/fills/${unknown}`)).to.deep.equal({
      status: 404,
      body: { error: `orderId: ${unknown} has no fill leaf in interval 7` },
    });
  });

  it("answers 400 naming the field for a malformed interval id, order id or participant", async () => {
    const badInterval = await get("/proofs/seven/schedule");
    expect(badInterval.status).to.equal(400);
    expect(String(badInterval.body["error"])).to.match(/^intervalId: /);
    const badOrder = await get("/proofs/7/fills/0x1234");
    expect(badOrder).to.deep.equal({
      status: 400,
      body: { error: "orderId: must be a 0x-prefixed 32-byte hex order id" },
    });
    const badParticipant = await get(`/proofs/7/meter/0xnope?expiry=${NOW}&signature=0x${"00".repeat(65)}`);
    expect(badParticipant.status).to.equal(400);
    expect(String(badParticipant.body["error"])).to.match(/^participant: /);
    const noSignature = await get(`/proofs/7/meter/${alice.address}?expiry=${NOW + 60n}`);
    expect(noSignature.status).to.equal(400);
    expect(String(noSignature.body["error"])).to.match(/^signature: is required/);
  });

  it("gives a participant its own meter leaf on a fresh signed request", async () => {
    const res = await get(await meterPath(alice, alice.address, NOW + 60n));
    expect(res.status).to.equal(200);
    expect(MeterProofResponseSchema.parse(res.body).leaf).to.deep.equal({
      participant: alice.address,
      injectedWh: "0",
      consumedWh: "4100",
    });
  });

  it("answers 401 for an expired request or one valid for more than 600 s", async () => {
    const expired = await get(await meterPath(alice, alice.address, NOW - 1n));
    expect(expired).to.deep.equal({
      status: 401,
      body: { error: `expiry: expired at ${NOW - 1n} (now ${NOW})` },
    });
    const tooLong = await get(await meterPath(alice, alice.address, NOW + 601n));
    expect(tooLong.status).to.equal(401);
  });

  it("answers 403 to another key asking for a participant's leaf, and to a signature over another interval", async () => {
    const forged = await get(await meterPath(mallory, alice.address, NOW + 60n));
    expect(forged).to.deep.equal({
      status: 403,
      body: {
        error: `signature: signed by ${mallory.address}, not by the participant ${alice.address} (or over other values)`,
      },
    });
    const replayed = await get(await meterPath(alice, alice.address, NOW + 60n, 6n));
    expect(replayed.status).to.equal(403);
  });

  it("answers 404 when the node serves no proofs", async () => {
    const bare = await startHttpServer({ host: "127.0.0.1", port: 0 });
    try {
      const res = await fetch(`${bare.url}/proofs/7/schedule`);
      expect(res.status).to.equal(404);
    } finally {
      await bare.close();
    }
  });
});
