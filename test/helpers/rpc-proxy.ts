/**
 * A JSON-RPC proxy for fault tests (tx-sender, demo sender): forwards every call to `upstream` (or
 * answers HTTP 503 when there is none), counts requests, records every raw transaction broadcast,
 * and can answer the next broadcasts late — the node has processed the call at once, only its
 * answer is delayed, as from a stalled node.
 */
import { type IncomingMessage, type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Hex } from "viem";

export interface RpcProxy {
  readonly url: string;
  /** HTTP requests received so far. */
  readonly requests: number;
  /** The signed transaction of every `eth_sendRawTransaction` seen, in order. */
  readonly rawSends: Hex[];
  /** Answers the next `count` broadcasts `delayMs` after the upstream processed them. */
  delayNextSends(count: number, delayMs: number): void;
  close(): Promise<void>;
}

export async function startRpcProxy(upstream: string | undefined): Promise<RpcProxy> {
  let requests = 0;
  let lateSends = 0;
  let lateMs = 0;
  const rawSends: Hex[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      req.on("error", reject);
    });
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await read(req);
      requests++;
      if (upstream === undefined) {
        res.writeHead(503).end("Service Unavailable");
        return;
      }
      const calls = [JSON.parse(body) as { method: string; params?: unknown[] }].flat();
      const raw = calls.find((c) => c.method === "eth_sendRawTransaction");
      if (raw !== undefined) rawSends.push(raw.params![0] as Hex);
      const answer = await fetch(upstream, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      const text = await answer.text();
      if (raw !== undefined && lateSends > 0) {
        lateSends--;
        await new Promise<void>((done) => timers.add(setTimeout(done, lateMs)));
      }
      if (!res.destroyed) res.writeHead(answer.status, { "content-type": "application/json" }).end(text);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    rawSends,
    delayNextSends(count, delayMs) {
      lateSends = count;
      lateMs = delayMs;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
