/**
 * Worker-thread side of `solveInWorker`: solves the instance in `workerData` and posts back either
 * the result or a plain description of the error (error classes do not survive structured clone).
 */
import { parentPort, workerData } from "node:worker_threads";
import { BaseError } from "../errors.js";
import { DispatchInputError, DispatchModelError } from "./errors.js";
import { solveDispatch, type SolveDispatchOptions } from "./solve.js";

export type WorkerReply =
  | { readonly ok: true; readonly result: Awaited<ReturnType<typeof solveDispatch>> }
  | {
      readonly ok: false;
      readonly name: string;
      readonly message: string;
      readonly details?: string | undefined;
      readonly status?: string;
      readonly issues?: DispatchInputError["issues"];
    };

const { input, options } = workerData as { input: unknown; options: SolveDispatchOptions };
let reply: WorkerReply;
try {
  reply = { ok: true, result: await solveDispatch(input, options) };
} catch (error) {
  if (error instanceof DispatchInputError)
    reply = { ok: false, name: error.name, message: error.message, issues: error.issues };
  else if (error instanceof DispatchModelError)
    reply = {
      ok: false,
      name: error.name,
      message: error.message,
      details: error.details,
      status: error.status,
    };
  else if (error instanceof BaseError)
    reply = { ok: false, name: error.name, message: error.message, details: error.details };
  else reply = { ok: false, name: "Error", message: error instanceof Error ? error.message : String(error) };
}
parentPort!.postMessage(reply);
