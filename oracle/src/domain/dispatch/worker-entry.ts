/**
 * Worker-thread side of `solveInWorker`: a long-lived thread that answers solve requests one
 * message at a time (HiGHS stays loaded between them) and posts back, tagged with the request id,
 * either the result or a plain description of the error (error classes do not survive structured
 * clone).
 */
import { parentPort } from "node:worker_threads";
import { BaseError } from "../errors.js";
import { DispatchInputError, DispatchModelError } from "./errors.js";
import { loadHighs } from "./highs.js";
import { solveRollingHorizonSync, type RollingResult } from "../rolling/index.js";
import { solveDispatch, type SolveDispatchOptions } from "./solve.js";

/**
 * A solve, a rolling-horizon solve (`rolling`: a `RollingInput`, answered with interval i's
 * `RollingResult`), or (neither) a warm-up that only loads HiGHS so the first real solve is fast.
 */
export interface WorkerRequest {
  readonly id: number;
  readonly input?: unknown;
  readonly options?: SolveDispatchOptions;
  readonly rolling?: unknown;
}

export type WorkerReply = { readonly id: number } & (
  | { readonly ok: true; readonly result: Awaited<ReturnType<typeof solveDispatch>> | RollingResult }
  | {
      readonly ok: false;
      readonly name: string;
      readonly message: string;
      readonly details?: string | undefined;
      readonly status?: string;
      readonly issues?: DispatchInputError["issues"];
    }
);

async function answer({
  id,
  input,
  options,
  rolling,
}: WorkerRequest): Promise<WorkerReply | { id: number; ok: true }> {
  try {
    // The rolling input is validated inside (zod, DispatchInputError naming the field).
    if (rolling !== undefined)
      return { id, ok: true, result: solveRollingHorizonSync(rolling as never, await loadHighs()) };
    if (input === undefined) {
      await loadHighs();
      return { id, ok: true };
    }
    return { id, ok: true, result: await solveDispatch(input, options) };
  } catch (error) {
    if (error instanceof DispatchInputError)
      return { id, ok: false, name: error.name, message: error.message, issues: error.issues };
    if (error instanceof DispatchModelError)
      return {
        id,
        ok: false,
        name: error.name,
        message: error.message,
        details: error.details,
        status: error.status,
      };
    if (error instanceof BaseError)
      return { id, ok: false, name: error.name, message: error.message, details: error.details };
    return { id, ok: false, name: "Error", message: error instanceof Error ? error.message : String(error) };
  }
}

// Requests are answered strictly one after another: HiGHS is single-threaded WebAssembly and one
// instance is shared by every solve on this thread.
let queue: Promise<void> = Promise.resolve();
parentPort!.on("message", (request: WorkerRequest) => {
  queue = queue.then(async () => parentPort!.postMessage(await answer(request)));
});
