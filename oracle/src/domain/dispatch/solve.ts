/**
 * `solveDispatch`: validate → index canonically → merit order (when exact) or HiGHS LP → integer
 * schedule. Pure apart from the CPU it burns: no I/O, no logging. For a long solve off the event
 * loop, use `solveInWorker` (worker.ts).
 */
import type { Highs } from "highs";
import { DispatchInputError } from "./errors.js";
import { HIGHS_OPTIONS, HIGHS_PACKAGE_VERSION, loadHighs } from "./highs.js";
import { indexInstance, Layout } from "./indexed.js";
import { meritOrderApplies, meritOrderFills } from "./merit.js";
import { solveLp } from "./model.js";
import { integerize, type CanonicalSchedule, type SolverInfo } from "./schedule.js";
import { dispatchInstanceSchema, type DispatchInstance } from "./schema.js";

export type DispatchMethod = "auto" | "lp" | "merit";

export interface SolveDispatchOptions {
  /**
   * `auto` (default): the merit order when it is exact (no lines with capacity, no batteries),
   * else the LP. `lp` forces HiGHS; `merit` throws `DispatchInputError`-free `Error` if not exact.
   */
  readonly method?: DispatchMethod;
}

export interface DispatchStats {
  readonly method: "lp" | "merit";
  readonly columns: number;
  readonly rows: number;
  readonly nonzeros: number;
  readonly simplexIterations: number;
  /** Welfare of the LP optimum (float, token base units); on the merit path, of the merit fill. */
  readonly lpWelfare: number;
  readonly buildMs: number;
  readonly solveMs: number;
  readonly totalMs: number;
}

export interface DispatchResult {
  /** The canonical integer schedule (hash it with `canonicalHash`). */
  readonly schedule: CanonicalSchedule;
  /** Solver statistics; timing varies between runs and is not part of the canonical schedule. */
  readonly stats: DispatchStats;
}

/** Validates an instance; throws `DispatchInputError` naming every bad field. */
export function parseDispatchInstance(input: unknown): DispatchInstance {
  const parsed = dispatchInstanceSchema.safeParse(input);
  if (!parsed.success) throw new DispatchInputError(parsed.error);
  return parsed.data;
}

/** Solver description recorded in LP schedules. */
export function highsSolverInfo(highs: Highs): SolverInfo {
  // Option values as strings: the canonical JSON carries integers and strings only.
  const options = Object.fromEntries(Object.entries(HIGHS_OPTIONS).map(([k, v]) => [k, String(v)]));
  return {
    engine: "highs",
    packageVersion: HIGHS_PACKAGE_VERSION,
    highsVersion: highs.version.string,
    options,
  };
}

/**
 * Solves a validated instance synchronously with a loaded HiGHS. Throws `DispatchModelError` when
 * the LP is infeasible or unbounded and `DispatchRoundingError` if the integer rule breaks.
 */
export function solveDispatchSync(
  instance: DispatchInstance,
  highs: Highs,
  options: SolveDispatchOptions = {},
): DispatchResult {
  const t0 = performance.now();
  const ix = indexInstance(instance);
  const method = options.method ?? "auto";
  const merit = meritOrderApplies(ix);
  if (method === "merit" && !merit)
    throw new Error("the merit order is exact only without lines and batteries");
  if (merit && method !== "lp") {
    const lay = new Layout(ix);
    const x = new Float64Array(lay.numCols);
    x.set(meritOrderFills(ix));
    const t1 = performance.now();
    const schedule = integerize({ ix, x, duals: undefined, solver: { engine: "merit-order" } });
    const t2 = performance.now();
    return {
      schedule,
      stats: {
        method: "merit",
        columns: ix.orders.length,
        rows: 0,
        nonzeros: 0,
        simplexIterations: 0,
        lpWelfare: Number(BigInt(schedule.welfareMilli)) / 1000,
        buildMs: 0,
        solveMs: t1 - t0,
        totalMs: t2 - t0,
      },
    };
  }
  const lp = solveLp(ix, highs);
  const schedule = integerize({ ix, x: lp.x, duals: lp.duals, solver: highsSolverInfo(highs) });
  return {
    schedule,
    stats: { method: "lp", ...lp.stats, lpWelfare: lp.objective, totalMs: performance.now() - t0 },
  };
}

/** Validates `input` (unknown JSON) and solves it. See `solveDispatchSync`. */
export async function solveDispatch(
  input: unknown,
  options: SolveDispatchOptions = {},
): Promise<DispatchResult> {
  const instance = parseDispatchInstance(input);
  const highs = await loadHighs();
  return solveDispatchSync(instance, highs, options);
}
