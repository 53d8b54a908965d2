/**
 * What the contract-facing commands (the prosumer and `flex` commands, `registry plan|apply`) print:
 * their result as text or one `--json` document on stdout, or one failure on stderr through one
 * formatter, so that the same kind of failure reads the same in every command:
 *
 *   text:   `error: <message>`, where bad input's message starts with its field (`--market: …`)
 *   --json: `{"error":{"name":…,"field":…,"message":…}}` (`field` only for bad input)
 *   exit:   2 for bad input (a flag, an argument, a file, the keystore), 1 for everything else (a
 *           revert, decoded to its custom error; a node; a transaction)
 */
import { BaseError as ViemBaseError } from "viem";
import {
  ClientError,
  InvalidParameterError,
  type TokenUnits,
  decodeError,
  explainError,
} from "../client/index.js";
import { RegistryFileError } from "../domain/registry-plan.js";
import { KeystoreError } from "../infra/keystore.js";

/** A command's failure of its own: `code` 2 for bad input (naming `field`), 1 for everything else. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly code: 1 | 2 = 1,
    readonly errorName?: string,
    readonly field?: string,
  ) {
    super(message);
  }

  /** Bad input: the message is `<field>: <reason>`, the exit code 2. */
  static input(field: string, reason: string): CliError {
    return new CliError(`${field}: ${reason}`, 2, undefined, field);
  }
}

/** A failure as printed: a stable name, the field at fault (bad input only), the message, the exit code. */
export interface CliFailure {
  readonly name: string;
  readonly field?: string;
  readonly message: string;
  readonly code: 1 | 2;
}

const INVALID = "InvalidArguments";

/**
 * The one reading of a command's failure. A revert anywhere in the cause chain is explained by
 * the client (`explainError`, token amounts in token units when `units` is known).
 */
export function describeFailure(error: unknown, units?: TokenUnits): CliFailure {
  const revert = decodeError(error);
  if (revert !== undefined) return { name: revert.name, message: explainError(revert, units), code: 1 };
  if (error instanceof InvalidParameterError)
    return { name: INVALID, field: error.field, message: error.message, code: 2 };
  if (error instanceof ClientError) return { name: error.errorName, message: error.message, code: 1 };
  if (error instanceof CliError)
    return {
      name: error.errorName ?? (error.code === 2 ? INVALID : "Error"),
      ...(error.field === undefined ? {} : { field: error.field }),
      message: error.message,
      code: error.code,
    };
  if (error instanceof RegistryFileError)
    return { name: error.name, field: error.field, message: error.message, code: 2 };
  // The keystore and its password file are the command's input (--keystore, --password-file).
  if (error instanceof KeystoreError) return { name: error.name, message: error.message, code: 2 };
  if (error instanceof ViemBaseError) return { name: error.name, message: error.shortMessage, code: 1 };
  const e = error as Partial<Error> | undefined;
  return { name: e?.name ?? "Error", message: e?.message ?? String(error), code: 1 };
}

/** JSON with bigints as decimal strings, indented for reading. */
export const jsonText = (value: unknown) =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);

/** Prints `failure` on stderr as text or JSON and sets the process's exit code. */
export function printFailure(failure: CliFailure, json: boolean): void {
  const { code, ...error } = failure;
  console.error(json ? jsonText({ error }) : `error: ${failure.message}`);
  process.exitCode = code;
}

/** What a command returns: the `--json` document and the text for a reader. */
export interface Outcome {
  readonly result: unknown;
  readonly text: string;
}

/**
 * Runs a command's body and prints its outcome, or its failure through `describeFailure` (with the
 * token's units once `units()` knows them).
 */
export async function runCommand(
  json: boolean,
  body: () => Promise<Outcome>,
  units: () => TokenUnits | undefined = () => undefined,
): Promise<void> {
  try {
    const outcome = await body();
    console.log(json ? jsonText(outcome.result) : outcome.text);
  } catch (error) {
    printFailure(describeFailure(error, units()), json);
  }
}
