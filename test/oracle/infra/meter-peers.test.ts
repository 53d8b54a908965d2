/**
 * forwardReadings against a stand-in peer (a bare HTTP server): what the forwarding node does when
 * a peer answers 422, i.e. refused every reading of a page.
 */
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { createLogger } from "../../../oracle/src/infra/logging.js";
import { READINGS_PAGE_SIZE, forwardReadings } from "../../../oracle/src/infra/meter-peers.js";

describe("forwardReadings", function () {
  this.timeout(30_000);
  let server: Server;
  let peer: string;
  /** Length of each page the peer received, in order. */
  let received: number[];
  let lines: Record<string, unknown>[];
  const logger = () =>
    createLogger({
      level: "info",
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const l of chunk.toString().split("\n")) if (l.trim() !== "") lines.push(JSON.parse(l));
          done();
        },
      }),
    });

  before(async () => {
    // Refuses the first page (every item rejected, with a reason each), takes the others.
    server = createServer((req, res) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c.toString()));
      req.on("end", () => {
        const page = JSON.parse(text) as unknown[];
        received.push(page.length);
        const first = received.length === 1;
        const items = page.map((_, index) =>
          first
            ? { index, status: "rejected", code: "unregistered", reason: `meter ${index} is not registered` }
            : { index, status: "accepted" },
        );
        res.writeHead(first ? 422 : 202, { "content-type": "application/json" });
        res.end(
          JSON.stringify({ accepted: first ? 0 : page.length, rejected: first ? page.length : 0, items }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    peer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    received = [];
    lines = [];
  });

  describe("when a peer answers 422 to a page", () => {
    it("sends the next pages anyway, once each, and logs the refusals with the peer's reasons", async () => {
      const readings = Array.from({ length: READINGS_PAGE_SIZE + 3 }, (_, i) => ({ n: i }));
      const took = await forwardReadings([peer], readings, logger());
      expect(received, "each page posted once, the refused one not resent").to.deep.equal([
        READINGS_PAGE_SIZE,
        3,
      ]);
      expect(took, "the peer did not take every page").to.equal(0);
      const refusedLines = lines.filter((l) => l.msg === "peers refused forwarded meter readings");
      expect(refusedLines).to.have.length(1);
      expect(lines.filter((l) => l.msg === "peers did not take forwarded meter readings")).to.deep.equal([]);
      const [entry] = refusedLines[0]!.refusedBy as {
        peer: string;
        refused: number;
        reasons: { index: number; code: string; reason: string }[];
      }[];
      expect(entry!.peer).to.equal(peer);
      expect(entry!.refused).to.equal(READINGS_PAGE_SIZE);
      expect(entry!.reasons).to.have.length(20);
      expect(entry!.reasons[1]).to.deep.equal({
        index: 1,
        code: "unregistered",
        reason: "meter 1 is not registered",
      });
    });
  });

  describe("when a peer takes every page", () => {
    it("counts the peer and logs nothing", async () => {
      received = [-1]; // the stand-in refuses only its first request of a test
      expect(await forwardReadings([peer], [{ n: 0 }], logger())).to.equal(1);
      expect(lines).to.deep.equal([]);
    });
  });
});
