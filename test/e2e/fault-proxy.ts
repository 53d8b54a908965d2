/**
 * A small JSON-RPC fault proxy for the e2e tests: listens on loopback, forwards POST bodies to
 * an upstream node (the Hardhat node), and for a configurable fraction of calls answers
 * HTTP 503 or a JSON-RPC error -32603 instead of forwarding, or forwards after a delay.
 * Decisions are deterministic: call number n gets a pseudo-random draw from (seed, n).
 * Bounded: request bodies over `maxBodyBytes` are refused with 413, and the proxy closes
 * itself after `lifetimeMs` (or on `close()`).
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface FaultProxyOptions {
  readonly upstream: string;
  /** Seed of the deterministic draw. */
  readonly seed?: number;
  /** Fraction of calls answered with HTTP 503 (not forwarded). */
  readonly http503Rate?: number;
  /** Fraction of calls answered with JSON-RPC error -32603 (not forwarded). */
  readonly rpcErrorRate?: number;
  /** Fraction of calls forwarded after `delayMs`. */
  readonly delayRate?: number;
  readonly delayMs?: number;
  readonly maxBodyBytes?: number;
  /** The proxy stops by itself after this long. */
  readonly lifetimeMs?: number;
}

export interface FaultCounters {
  calls: number;
  forwarded: number;
  http503: number;
  rpcError: number;
  delayed: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly counters: Readonly<FaultCounters>;
  /** Stops injecting faults (every later call is forwarded as is). */
  heal(): void;
  close(): Promise<void>;
}

/** mulberry32 step on (seed + n): a uniform draw in [0, 1) for call n. */
export function draw(seed: number, n: number): number {
  let t = (seed + Math.imul(n, 0x9e3779b9)) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** JSON-RPC error answer(s) with the request's id(s). */
function rpcErrorBody(body: Buffer): string {
  const error = { code: -32603, message: "fault-proxy: injected internal error" };
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { id?: unknown } | { id?: unknown }[];
    if (Array.isArray(parsed))
      return JSON.stringify(parsed.map((r) => ({ jsonrpc: "2.0", id: r.id ?? null, error })));
    return JSON.stringify({ jsonrpc: "2.0", id: parsed.id ?? null, error });
  } catch {
    return JSON.stringify({ jsonrpc: "2.0", id: null, error });
  }
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const seed = options.seed ?? 1;
  const p503 = options.http503Rate ?? 0;
  const pErr = options.rpcErrorRate ?? 0;
  const pDelay = options.delayRate ?? 0;
  const delayMs = options.delayMs ?? 200;
  const maxBody = options.maxBodyBytes ?? 8 * 1024 * 1024;
  if (p503 + pErr + pDelay > 1) throw new Error("fault rates must add up to at most 1");
  const counters: FaultCounters = { calls: 0, forwarded: 0, http503: 0, rpcError: 0, delayed: 0 };
  let healed = false;
  const timers = new Set<NodeJS.Timeout>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req, maxBody);
    if (body === undefined) {
      res.writeHead(413).end();
      return;
    }
    const n = counters.calls++;
    const r = healed ? 1 : draw(seed, n);
    if (r < p503) {
      counters.http503++;
      res.writeHead(503, { "content-type": "text/plain" }).end("fault-proxy: injected 503");
      return;
    }
    if (r < p503 + pErr) {
      counters.rpcError++;
      res.writeHead(200, { "content-type": "application/json" }).end(rpcErrorBody(body));
      return;
    }
    if (r < p503 + pErr + pDelay) {
      counters.delayed++;
      await new Promise<void>((done) => {
        const t = setTimeout(() => {
          timers.delete(t);
          done();
        }, delayMs);
        timers.add(t);
      });
    }
    const upstream = await fetch(options.upstream, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    counters.forwarded++;
    res.writeHead(upstream.status, { "content-type": "application/json" }).end(await upstream.text());
  };

  const server: Server = createServer((req, res) => {
    if (req.method !== "POST") {
      res.writeHead(405).end();
      return;
    }
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.end();
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      for (const t of timers) clearTimeout(t);
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  setTimeout(() => void close(), options.lifetimeMs ?? 600_000).unref();

  return {
    url: `http://127.0.0.1:${port}`,
    counters,
    heal: () => {
      healed = true;
    },
    close,
  };
}
