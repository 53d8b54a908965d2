/**
 * `solveInWorker`: the same solve as `solveDispatch`, on a `node:worker_threads` Worker, so a
 * long solve never blocks the caller's event loop (BullMQ lock renewal, HTTP, metrics). One worker
 * per call: it loads HiGHS (~100 ms), solves, replies and exits. Errors come back as the same
 * classes `solveDispatch` throws.
 *
 * Running from TypeScript sources (tsx, mocha --import=tsx, hardhat test), the worker is started
 * with tsx's loader resolved to an absolute URL, so it works from any working directory.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { BaseError } from "../errors.js";
import { DispatchInputError, DispatchModelError, DispatchRoundingError } from "./errors.js";
import type { DispatchResult, SolveDispatchOptions } from "./solve.js";
import type { WorkerReply } from "./worker-entry.js";

function workerTarget(): { url: URL; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith(".ts");
  const url = new URL(fromSource ? "./worker-entry.ts" : "./worker-entry.js", import.meta.url);
  // createRequire rather than import.meta.resolve: under mocha, tsx may run this file as CommonJS.
  const tsx = fromSource ? pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href : "";
  return { url, execArgv: fromSource ? ["--import", tsx] : [] };
}

/** Validates and solves `input` on a worker thread; rejects with the errors of `solveDispatch`. */
export function solveInWorker(input: unknown, options: SolveDispatchOptions = {}): Promise<DispatchResult> {
  const { url, execArgv } = workerTarget();
  return new Promise<DispatchResult>((resolve, reject) => {
    let settled = false;
    const worker = new Worker(url, { workerData: { input, options }, execArgv });
    worker.once("message", (reply: WorkerReply) => {
      settled = true;
      if (reply.ok) resolve(reply.result);
      else reject(rehydrate(reply));
      void worker.terminate();
    });
    worker.once("error", (error) => {
      if (settled) return;
      settled = true;
      reject(new BaseError("dispatch worker crashed", { cause: error, details: error.message }));
    });
    worker.once("exit", (code) => {
      if (settled) return;
      settled = true;
      reject(new BaseError("dispatch worker exited without a result", { details: `exit code ${code}` }));
    });
  });
}

function rehydrate(reply: Extract<WorkerReply, { ok: false }>): Error {
  switch (reply.name) {
    case "DispatchInputError":
      return new DispatchInputError({ issues: reply.issues ?? [] });
    case "DispatchModelError":
      return new DispatchModelError(reply.status ?? "unknown", reply.details ?? reply.message);
    case "DispatchRoundingError":
      return new DispatchRoundingError(reply.details ?? reply.message);
    default:
      return new BaseError("dispatch worker failed", { details: reply.message });
  }
}
