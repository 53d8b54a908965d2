/**
 * The signature re-send below quorum: the aggregate step's backoff rule driven over a simulated
 * ten minutes against three peers that are down, counting the warning lines the node writes.
 */
import { expect } from "chai";
import { once } from "node:events";
import { type AddressInfo, type Server, createServer } from "node:net";
import { Writable } from "node:stream";
import type { Hex } from "viem";
import type { AnyReport } from "../../../oracle/src/chain/reports.js";
import { retryDue, retryStart } from "../../../oracle/src/domain/backoff.js";
import { createLogger } from "../../../oracle/src/infra/logging.js";
import { broadcastSignature } from "../../../oracle/src/jobs/committee.js";
import type { PipelineContext } from "../../../oracle/src/jobs/context.js";

/**
 * A peer that is down and stays down: it listens (so no other process can take its port and
 * answer) and closes every connection as it comes, so each send fails before any answer.
 */
async function deadPeer(): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
}

describe("broadcastSignature", function () {
  this.timeout(60_000);
  const report: AnyReport = {
    kind: "meter",
    report: {
      market: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      intervalId: 2_000_000n,
      configEpoch: 1n,
      meterRoot: `0x${"ab".repeat(32)}`,
      scheduleRoot: `0x${"cd".repeat(32)}`,
      zonePrices: [100_000n],
      shortPrices: [300_000n],
      longPrices: [70_000n],
      zoneSurplusWh: [0n],
    },
  };
  const signature = `0x${"11".repeat(65)}` as Hex;
  let lines: { msg: string; failed?: unknown[] }[];
  let ctx: PipelineContext;
  let peers: Server[] = [];

  before(async () => {
    peers = await Promise.all([deadPeer(), deadPeer(), deadPeer()]);
    const peerUrls = peers.map((p) => `http://127.0.0.1:${(p.address() as AddressInfo).port}`);
    lines = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split("\n")) if (l.trim() !== "") lines.push(JSON.parse(l));
        done();
      },
    });
    const logger = createLogger({ level: "info", destination });
    ctx = { settings: { peerUrls }, logger } as unknown as PipelineContext;
  });
  after(async () => {
    await Promise.all(peers.map((p) => new Promise<void>((resolve) => p.close(() => resolve()))));
  });

  describe("when every peer is down", () => {
    it("writes one line naming every failed peer, and reports none reached", async () => {
      const before = lines.length;
      expect(await broadcastSignature(ctx, report, signature)).to.equal(0);
      const written = lines.slice(before);
      expect(written).to.have.length(1);
      expect(written[0]!.msg).to.equal("peer did not take our signature");
      expect(written[0]!.failed).to.have.length(3);
    });
  });

  describe("when a node stays below quorum for 10 minutes, looking every 200 ms (cap 30 s)", () => {
    it("logs 8 lines in the first minute and at most 2 a minute after (every look re-sent before: 900 a minute)", async () => {
      const lookMs = 200;
      const capMs = 30_000;
      const perMinute = new Array<number>(10).fill(0);
      lines.length = 0;
      let schedule = retryStart(0, lookMs, capMs);
      let looks = 0;
      for (let now = lookMs; now <= 10 * 60_000; now += lookMs) {
        looks++;
        const r = retryDue(schedule, now, lookMs, capMs);
        schedule = r.next;
        if (!r.due) continue;
        const before = lines.length;
        await broadcastSignature(ctx, report, signature);
        perMinute[Math.floor((now - 1) / 60_000)]! += lines.length - before;
      }
      expect(looks).to.equal(3_000);
      expect(perMinute[0], "first minute").to.equal(8);
      for (let k = 1; k < 10; k++) expect(perMinute[k], `minute ${k + 1}`).to.be.at.most(2);
      expect(lines.every((l) => l.msg === "peer did not take our signature")).to.equal(true);
    });
  });
});
