/**
 * Errors of the dispatch engine. All extend the oracle's one `BaseError` (details + cause chain).
 * Input errors and model errors are unrecoverable: the same instance can never succeed on retry,
 * so a job processor moves it to the dead-letter queue at once.
 */
import { BaseError, UnrecoverableInputError, formatIssues } from "../errors.js";

/** The instance failed validation; `details` lists every `field: reason`. */
export class DispatchInputError extends UnrecoverableInputError {
  override name = "DispatchInputError";
  /** Every issue, as zod reported it (plain data: survives a worker-thread boundary). */
  readonly issues: ReadonlyArray<{ path: ReadonlyArray<string | number>; message: string }>;
  constructor(error: { issues: ReadonlyArray<{ path: ReadonlyArray<string | number>; message: string }> }) {
    const first = error.issues[0];
    super("invalid dispatch instance", {
      details: formatIssues(error.issues),
      cause: error,
      field: first === undefined ? undefined : first.path.join("."),
    });
    this.issues = error.issues.map((i) => ({ path: [...i.path], message: i.message }));
  }
}

/** HiGHS model status names, indexed by the stable C API code. */
export const MODEL_STATUS_NAMES = [
  "notSet",
  "loadError",
  "modelError",
  "presolveError",
  "solveError",
  "postsolveError",
  "empty",
  "optimal",
  "infeasible",
  "unboundedOrInfeasible",
  "unbounded",
  "objectiveBound",
  "objectiveTarget",
  "timeLimit",
  "iterationLimit",
  "unknown",
  "solutionLimit",
  "interrupted",
] as const;

/**
 * The model has no optimal schedule (infeasible, unbounded, or the solver stopped early). Never
 * turned into an empty schedule: an empty schedule would be signed and settled as if it were true.
 */
export class DispatchModelError extends UnrecoverableInputError {
  override name = "DispatchModelError";
  /** HiGHS model status name (`infeasible`, `unbounded`, …). */
  readonly status: string;
  constructor(status: string, details: string, cause?: unknown) {
    super(`dispatch model not solved to optimality (${status})`, { details, cause, meta: { status } });
    this.status = status;
  }
}

/**
 * The integer rounding could not reproduce the LP schedule within the rules (an internal
 * invariant broke). Reported, never papered over.
 */
export class DispatchRoundingError extends BaseError {
  override name = "DispatchRoundingError";
  constructor(details: string) {
    super("dispatch rounding failed", { details });
  }
}
