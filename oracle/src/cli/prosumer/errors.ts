/**
 * The prosumer CLI's own failure type. Contract reverts are decoded and explained by the client
 * (client/errors.ts: `decodeError`, `explainError`).
 */

/** A CLI failure: `code` 2 for bad input, 1 for everything else. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly code: 1 | 2 = 1,
    readonly errorName?: string,
  ) {
    super(message);
  }
}
