/**
 * The node's HTTP server (express 5):
 *   GET  /healthz         liveness: the process serves requests
 *   GET  /readyz          readiness: every dependency check passes (Redis ping, RPC blockNumber, solver);
 *                         503 with `{ ready: false, checks: { name: { ok, reason } } }` otherwise
 *   GET  /metrics         Prometheus exposition of the node's registry
 *   POST /meter-readings  one signed reading or an array; 202 with per-item status and reasons,
 *                         422 with the same body when every item was rejected
 *   GET  /meter-readings/:intervalId?offset=N
 *                         the signed readings this node holds for the interval, in pages of
 *                         READINGS_PAGE_SIZE (`{ intervalId, readings, next }`), for peers to
 *                         fetch and verify themselves
 *   GET  /proofs/:intervalId/schedule, /proofs/:intervalId/fills/:orderId,
 *        /proofs/:intervalId/meter/:participant?expiry=&signature=
 *                         the Proof API (infra/proofs.ts, docs/ORACLE.md): leaves and proofs of
 *                         committed intervals; a meter leaf only to its participant (signed request)
 *   /admin/queues         the BullMQ dashboard (bull-board) for the given queues
 *
 * Bind it to a private interface (default 127.0.0.1): the dashboard can retry and remove jobs.
 */
import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type Response } from "express";
import type { Queue } from "bullmq";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { Logger } from "./logging.js";
import type { OracleMetrics } from "./metrics.js";
import { z } from "zod";
import { formatIssues } from "../domain/errors.js";
import { type SignedMeterReading, uint64Schema } from "../domain/meter/reading.js";
import { MAX_INGEST_BATCH, type IngestResult } from "./meter-store.js";
import { readingsPage } from "./meter-peers.js";
import {
  FillParamsSchema,
  MeterParamsSchema,
  ProofError,
  type ProofSource,
  ScheduleParamsSchema,
  checkMeterRequest,
} from "./proofs.js";

const ReadingsQuerySchema = z.object({
  intervalId: uint64Schema(),
  offset: z
    .string()
    .regex(/^\d{1,9}$/, "must be a decimal integer between 0 and 999999999")
    .transform(Number)
    .default("0"),
});

/** A readiness check resolves when the dependency is usable and throws with the reason otherwise. */
export type ReadinessCheck = () => Promise<void>;

export interface HttpServerParameters {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly logger?: Logger;
  readonly metrics?: OracleMetrics;
  /** e.g. `{ redis: () => redis.ping(), rpc: () => client.getBlockNumber() }`. */
  readonly readiness?: Readonly<Record<string, ReadinessCheck>>;
  /** Per-check timeout (default 2 s): a hung dependency is not ready. */
  readonly readinessTimeoutMs?: number;
  /** Handles POST /meter-readings items; absent → 404. */
  readonly meterIngest?: (items: readonly unknown[]) => Promise<IngestResult>;
  /** Serves GET /meter-readings/:intervalId (the accepted readings of an interval); absent → 404. */
  readonly meterReadings?: (intervalId: bigint) => Promise<readonly SignedMeterReading[]>;
  /** Serves the Proof API (GET /proofs/…); absent → 404. */
  readonly proofs?: ProofSource;
  /** Unix seconds for the expiry of signed proof requests (default: the wall clock; tests). */
  readonly nowSeconds?: () => bigint;
  /** Queues shown on /admin/queues. */
  readonly queues?: readonly Queue[];
  /** Max JSON body (default "2mb"). */
  readonly bodyLimit?: string;
  /** Extra JSON POST handlers by path (e.g. the committee's `/committee/signatures`). */
  readonly postRoutes?: Readonly<
    Record<string, (body: unknown) => Promise<{ status: number; body: unknown }>>
  >;
}

export interface HttpServer {
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections and closes idle ones. Idempotent. */
  close(): Promise<void>;
}

async function withTimeout(check: ReadinessCheck, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startHttpServer(params: HttpServerParameters): Promise<HttpServer> {
  const app = express();
  app.disable("x-powered-by");
  const logger = params.logger;

  app.get("/healthz", (_req, res) => {
    res.json({ ok: true });
  });

  app.get("/readyz", async (_req, res) => {
    const checks = Object.entries(params.readiness ?? {});
    const results = await Promise.allSettled(
      checks.map(([, c]) => withTimeout(c, params.readinessTimeoutMs ?? 2_000)),
    );
    const report: Record<string, { ok: boolean; reason?: string }> = {};
    for (const [i, [name]] of checks.entries()) {
      const r = results[i]!;
      report[name] =
        r.status === "fulfilled"
          ? { ok: true }
          : { ok: false, reason: r.reason instanceof Error ? r.reason.message : String(r.reason) };
    }
    const ready = results.every((r) => r.status === "fulfilled");
    res.status(ready ? 200 : 503).json({ ready, checks: report });
  });

  app.get("/metrics", async (_req, res) => {
    if (params.metrics === undefined) {
      res.status(404).json({ error: "metrics are not enabled" });
      return;
    }
    res.type(params.metrics.registry.contentType).send(await params.metrics.render());
  });

  app.post("/meter-readings", express.json({ limit: params.bodyLimit ?? "2mb" }), async (req, res) => {
    if (params.meterIngest === undefined) {
      res.status(404).json({ error: "meter ingest is not enabled on this node" });
      return;
    }
    const body: unknown = req.body;
    if (body === undefined || body === null || (typeof body !== "object" && !Array.isArray(body))) {
      res.status(400).json({ error: "body: expected a JSON reading object or an array of readings" });
      return;
    }
    const items = Array.isArray(body) ? body : [body];
    if (items.length === 0) {
      res.status(400).json({ error: "body: the array of readings is empty" });
      return;
    }
    if (items.length > MAX_INGEST_BATCH) {
      res
        .status(413)
        .json({ error: `body: at most ${MAX_INGEST_BATCH} readings per request, got ${items.length}` });
      return;
    }
    const result = await params.meterIngest(items);
    // 422 when nothing was taken: a meter (or script) that only reads the status must not believe
    // a batch of bad readings was stored. The body is the same per-item answer, with each reason.
    // Duplicates count as taken: resending a stored reading is safe and answers 202.
    res.status(result.accepted === 0 ? 422 : 202).json(result);
  });

  app.get("/meter-readings/:intervalId", async (req, res) => {
    if (params.meterReadings === undefined) {
      res.status(404).json({ error: "meter readings are not served by this node" });
      return;
    }
    const parsed = ReadingsQuerySchema.safeParse({
      intervalId: req.params.intervalId,
      offset: req.query.offset,
    });
    if (!parsed.success) {
      res.status(400).json({ error: formatIssues(parsed.error.issues) });
      return;
    }
    const all = await params.meterReadings(parsed.data.intervalId);
    res.json(readingsPage(parsed.data.intervalId, all, parsed.data.offset));
  });

  // The Proof API. Each answer is JSON; a ProofError carries its status (404 unknown interval,
  // order or participant; 401/403 a refused signature; 503 this node's record differs).
  const proofRoute = (
    path: string,
    answer: (source: ProofSource, req: Request) => Promise<unknown>,
  ): void => {
    app.get(path, async (req, res) => {
      if (params.proofs === undefined) {
        res.status(404).json({ error: "proofs are not served by this node" });
        return;
      }
      try {
        res.json(await answer(params.proofs, req));
      } catch (error) {
        if (!(error instanceof ProofError)) throw error;
        res.status(error.status).json({ error: error.message });
      }
    });
  };
  const parseOr400 = <S extends z.ZodTypeAny>(schema: S, input: unknown): z.output<S> => {
    const parsed = schema.safeParse(input);
    if (!parsed.success) throw new ProofError(400, formatIssues(parsed.error.issues));
    return parsed.data as z.output<S>;
  };
  proofRoute("/proofs/:intervalId/schedule", async (source, req) => {
    const { intervalId } = parseOr400(ScheduleParamsSchema, req.params);
    return source.schedule(intervalId);
  });
  proofRoute("/proofs/:intervalId/fills/:orderId", async (source, req) => {
    const { intervalId, orderId } = parseOr400(FillParamsSchema, req.params);
    return source.fill(intervalId, orderId);
  });
  proofRoute("/proofs/:intervalId/meter/:participant", async (source, req) => {
    const r = parseOr400(MeterParamsSchema, {
      intervalId: req.params["intervalId"],
      participant: req.params["participant"],
      expiry: req.query["expiry"],
      signature: req.query["signature"],
    });
    const now = params.nowSeconds?.() ?? BigInt(Math.floor(Date.now() / 1000));
    await checkMeterRequest(source, r, now);
    return source.meter(r.intervalId, r.participant);
  });

  for (const [path, handler] of Object.entries(params.postRoutes ?? {})) {
    app.post(path, express.json({ limit: params.bodyLimit ?? "2mb" }), async (req, res) => {
      const result = await handler(req.body as unknown);
      res.status(result.status).json(result.body);
    });
  }

  if (params.queues !== undefined && params.queues.length > 0) {
    const serverAdapter = new ExpressAdapter();
    serverAdapter.setBasePath("/admin/queues");
    // @bull-board/express 9.10.1 nests its own @bull-board/api 9.10.1 next to our 9.10.2: the
    // adapter types differ only by that private-field copy, the runtime contract is the same.
    type BoardServerAdapter = Parameters<typeof createBullBoard>[0]["serverAdapter"];
    createBullBoard({
      queues: params.queues.map((q) => new BullMQAdapter(q)),
      serverAdapter: serverAdapter as unknown as BoardServerAdapter,
    });
    app.use("/admin/queues", serverAdapter.getRouter());
  }

  app.use((_req, res) => {
    res.status(404).json({ error: "not found" });
  });
  // Express 5 forwards rejected async handlers here. Body parser errors carry a status.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (error as { status?: unknown }).status;
    if (typeof status === "number" && status >= 400 && status < 500) {
      res.status(status).json({ error: `body: ${(error as Error).message}` });
      return;
    }
    logger?.error({ err: error }, "http handler failed");
    res.status(500).json({ error: "internal error" });
  });

  const server: Server = app.listen(params.port, params.host);
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${params.host.includes(":") ? `[${params.host}]` : params.host}:${port}`,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
