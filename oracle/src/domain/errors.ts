/**
 * One error hierarchy for the whole oracle (viem's pattern): a short human message, optional
 * `details` (what exactly was wrong, with the offending values), and a `cause` chain that
 * `walk()` can search. Domain code throws these; infra maps them to transport concerns
 * (HTTP status, BullMQ's UnrecoverableError, process exit code).
 */

export interface BaseErrorOptions {
  /** What exactly was wrong, with the offending values. Appended to `message`. */
  details?: string | undefined;
  /** The lower-level error this one wraps. */
  cause?: unknown;
  /** Structured data for logs and API responses (never secrets). */
  meta?: Readonly<Record<string, unknown>> | undefined;
}

export class BaseError extends Error {
  override name = "GridBrainError";
  /** The message without `details`. */
  readonly shortMessage: string;
  readonly details: string | undefined;
  readonly meta: Readonly<Record<string, unknown>> | undefined;

  constructor(shortMessage: string, options: BaseErrorOptions = {}) {
    const message = options.details === undefined ? shortMessage : `${shortMessage}: ${options.details}`;
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.shortMessage = shortMessage;
    this.details = options.details;
    this.meta = options.meta;
  }

  /**
   * Walks the `cause` chain (this error first) and returns the first error matching `predicate`,
   * or the deepest error when no predicate is given.
   */
  walk(predicate?: (error: unknown) => boolean): unknown {
    let current: unknown = this;
    let last: unknown = this;
    const seen = new Set<unknown>();
    while (current !== undefined && current !== null && !seen.has(current)) {
      seen.add(current);
      if (predicate?.(current) === true) return current;
      last = current;
      current = (current as { cause?: unknown }).cause;
    }
    return predicate === undefined ? last : undefined;
  }
}

/**
 * Input that will never become valid by retrying (malformed data, bad signature, wrong unit).
 * Job processors turn it into BullMQ's `UnrecoverableError`, so the job goes to the dead-letter
 * queue at once instead of being retried.
 */
export class UnrecoverableInputError extends BaseError {
  override name = "UnrecoverableInputError";
  /** The input field at fault, as a dotted path (`readings.3.injectedWh`), when known. */
  readonly field: string | undefined;

  constructor(shortMessage: string, options: BaseErrorOptions & { field?: string | undefined } = {}) {
    super(shortMessage, options);
    this.field = options.field;
  }
}

/** True when `error` (or anything in its cause chain) is an UnrecoverableInputError. */
export function isUnrecoverable(error: unknown): boolean {
  let current: unknown = error;
  const seen = new Set<unknown>();
  while (current !== undefined && current !== null && !seen.has(current)) {
    seen.add(current);
    if (current instanceof UnrecoverableInputError) return true;
    if ((current as { name?: unknown }).name === "UnrecoverableError") return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Formats zod-style issues as `field: reason; field: reason` (one line, stable order). */
export function formatIssues(
  issues: ReadonlyArray<{ path: ReadonlyArray<string | number>; message: string }>,
): string {
  return issues.map((i) => `${i.path.length === 0 ? "(root)" : i.path.join(".")}: ${i.message}`).join("; ");
}
