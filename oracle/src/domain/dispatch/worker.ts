/**
 * `solveInWorker`: the same solve as `solveDispatch`, on a `node:worker_threads` Worker, so a
 * long solve never blocks the caller's event loop (BullMQ lock renewal, HTTP, metrics).
 *
 * One long-lived worker per process, started on the first solve: starting a thread costs far more
 * than a solve (measured: ~550–800 ms to start a worker from TypeScript sources on a loaded
 * 2-core machine, against 4–10 ms for a 3-zone solve once HiGHS is loaded), and an oracle node
 * solves every 15 minutes for as long as it runs. The thread is unref'd (it never keeps a process
 * alive) and replaced after it crashes, exits, or reports an error that is not the caller's input:
 * a solver that failed once is not trusted with the next instance. Errors come back as the same
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
import type { RollingInput, RollingResult } from "../rolling/index.js";
import type { DispatchResult, SolveDispatchOptions } from "./solve.js";
import type { WorkerReply, WorkerRequest } from "./worker-entry.js";

function workerTarget(): { url: URL; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith(".ts");
  const url = new URL(fromSource ? "./worker-entry.ts" : "./worker-entry.js", import.meta.url);
  // createRequire rather than import.meta.resolve: under mocha, tsx may run this file as CommonJS.
  const tsx = fromSource ? pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href : "";
  return { url, execArgv: fromSource ? ["--import", tsx] : [] };
}

type Reply = DispatchResult | RollingResult | undefined;

interface Pending {
  resolve(result: Reply): void;
  reject(error: Error): void;
}

/** One solver thread and the requests it has not answered yet. */
class SolverThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #dead = false;

  constructor(private readonly onRetire: (thread: SolverThread) => void) {
    const { url, execArgv } = workerTarget();
    this.#worker = new Worker(url, { execArgv });
    this.#worker.on("message", (reply: WorkerReply) => this.#settle(reply));
    this.#worker.once("error", (error) =>
      this.#fail(new BaseError("dispatch worker crashed", { cause: error, details: error.message })),
    );
    this.#worker.once("exit", (code) =>
      this.#fail(new BaseError("dispatch worker exited without a result", { details: `exit code ${code}` })),
    );
    // Idle, the thread never keeps the process alive; while a solve is pending it does. (Unref'd
    // after the listeners: attaching a "message" listener refs the thread's port again.)
    this.#worker.unref();
  }

  get dead(): boolean {
    return this.#dead;
  }

  solve(input: unknown, options: SolveDispatchOptions): Promise<DispatchResult> {
    return this.#request({ input, options }) as Promise<DispatchResult>;
  }

  solveRolling(rolling: RollingInput): Promise<RollingResult> {
    return this.#request({ rolling }) as Promise<RollingResult>;
  }

  warmUp(): Promise<void> {
    return this.#request({}).then(() => undefined);
  }

  #request(body: Omit<WorkerRequest, "id">): Promise<Reply> {
    const id = this.#nextId++;
    return new Promise<Reply>((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, ...body } satisfies WorkerRequest);
    });
  }

  #settle(reply: WorkerReply | { id: number; ok: true; result?: undefined }): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if (reply.ok) return pending.resolve(reply.result);
    pending.reject(rehydrate(reply));
    // The caller's bad input says nothing about the solver; anything else retires the thread.
    if (reply.name !== "DispatchInputError") this.#retire();
  }

  #fail(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.#retire();
  }

  #retire(): void {
    if (this.#dead) return;
    this.#dead = true;
    this.onRetire(this);
    // Requests already queued on this thread still get their answers before it goes.
    if (this.#pending.size === 0) void this.#worker.terminate();
    else this.#worker.once("message", () => this.#pending.size === 0 && void this.#worker.terminate());
  }
}

let current: SolverThread | undefined;

function solverThread(): SolverThread {
  if (current === undefined || current.dead)
    current = new SolverThread((thread) => {
      if (current === thread) current = undefined;
    });
  return current;
}

/**
 * Starts the solver thread and loads HiGHS now, so that the first interval's solve does not pay
 * for it (an oracle node calls this when it starts).
 */
export function warmUpSolver(): Promise<void> {
  return solverThread().warmUp();
}

/** Validates and solves `input` on the process's solver thread; rejects with the errors of `solveDispatch`. */
export function solveInWorker(input: unknown, options: SolveDispatchOptions = {}): Promise<DispatchResult> {
  return solverThread().solve(input, options);
}

/**
 * Solves the rolling-horizon problem over [i, i + H) on the process's solver thread and returns
 * interval i's schedule (see oracle/src/domain/rolling). Rejects with the errors of `solveDispatch`.
 */
export function solveRollingInWorker(rolling: RollingInput): Promise<RollingResult> {
  return solverThread().solveRolling(rolling);
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
