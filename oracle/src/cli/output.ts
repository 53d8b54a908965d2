/**
 * What every `gridbrain` command prints: its result as text or one `--json` document on stdout,
 * or one failure on stderr through one formatter, so that the same kind of failure reads the same
 * in every command:
 *
 *   text:   `error: <message>`, where bad input's message starts with its field (`--market: …`)
 *   --json: `{"error":{"name":…,"field":…,"message":…}}` (`field` only for bad input)
 *   exit:   2 for bad input (a flag, an argument, a file, the keystore, the configuration), 1 for
 *           everything else (a revert, decoded to its custom error; a node — a JSON-RPC endpoint
 *           that cannot be reached reads `rpc: cannot reach <url>: <cause>`, one that does not
 *           answer within the timeout `rpc: <url> did not answer within <ms> ms`; a transaction)
 *
 * The prosumer, `flex` and `registry` commands print through `runCommand`; the others throw, and
 * main.ts prints what they throw, and commander's own refusals (an unknown option, a missing
 * argument), through `describeFailure` / `describeCommanderError` and `printFailure`.
 */
import type { CommanderError } from "commander";
import { HttpRequestError, TimeoutError, BaseError as ViemBaseError } from "viem";
import { RpcTimeoutError } from "../chain/market.js";
import {
  ClientError,
  InvalidParameterError,
  type TokenUnits,
  decodeError,
  explainError,
} from "../client/index.js";
import { RegistryFileError } from "../domain/registry-plan.js";
import { ConfigError } from "../infra/config.js";
import { KeystoreError } from "../infra/keystore.js";
import { CliError } from "./cli-error.js";

export { CliError } from "./cli-error.js";

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
  // Every bad field of the oracle's configuration (file, GRIDBRAIN_* env, flags) with its origin:
  // `confirmations (--confirmations): must be <= 64; …`, so the message starts with the first field.
  if (error instanceof ConfigError) {
    const field = error.issues[0]?.field;
    return {
      name: error.name,
      ...(field === undefined ? {} : { field }),
      message: error.details ?? error.message,
      code: 2,
    };
  }
  // The keystore and its password file are the command's input (--keystore, --password-file).
  if (error instanceof KeystoreError) return { name: error.name, message: error.message, code: 2 };
  // A JSON-RPC request that failed at the transport: viem says only "HTTP request failed.", which
  // does not tell a user which endpoint, nor that nothing answered there.
  // A JSON-RPC request that no attempt got an answer to in time: viem's message is several lines
  // (URL, request body, version) and names neither the wait nor the setting that bounds it.
  const timeout = causeOfType(error, TimeoutError);
  if (timeout !== undefined) {
    const url = withoutCredentials(timeout.url);
    const within = timeout instanceof RpcTimeoutError ? ` within ${timeout.timeoutMs} ms` : " in time";
    return { name: "RpcTimeout", message: `rpc: ${url} did not answer${within}`, code: 1 };
  }
  const http = causeOfType(error, HttpRequestError);
  if (http !== undefined) {
    const url = withoutCredentials(http.url);
    return http.status === undefined
      ? { name: "RpcUnreachable", message: `rpc: cannot reach ${url}: ${rootCause(http)}`, code: 1 }
      : {
          name: "RpcHttpError",
          message: `rpc: ${url} answered HTTP ${http.status}${http.details === "" ? "" : `: ${http.details}`}`,
          code: 1,
        };
  }
  if (error instanceof ViemBaseError) return { name: error.name, message: error.shortMessage, code: 1 };
  const e = error as Partial<Error> | undefined;
  return { name: e?.name ?? "Error", message: e?.message ?? String(error), code: 1 };
}

/** The first error of class `type` in `error`'s cause chain, itself included. */
function causeOfType<T>(error: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 32; e = e.cause, depth++)
    if (e instanceof type) return e;
  return undefined;
}

/**
 * Why a request never reached the node: the deepest cause's message (the socket's `connect
 * ECONNREFUSED 127.0.0.1:1`, `getaddrinfo ENOTFOUND host`), every address's when the connection
 * tried several (an AggregateError without a message of its own), else its code.
 */
function rootCause(error: HttpRequestError): string {
  let e: unknown = error.cause;
  for (let depth = 0; e instanceof Error && e.cause instanceof Error && depth < 32; depth++) e = e.cause;
  if (!(e instanceof Error)) return error.details;
  if (e.message !== "") return e.message;
  if (e instanceof AggregateError && e.errors.length > 0)
    return e.errors.map((x: unknown) => (x instanceof Error ? x.message : String(x))).join("; ");
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" ? code : error.details;
}

/** The URL as the user gave it, less any `user:password@` (it may be an API key; it goes to a terminal or a CI log). */
function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === "" && parsed.password === "") return url;
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return url;
  }
}

/** `'--rpc-url <url>'` → `--rpc-url`: the long flag of commander's option description. */
function flagOf(flags: string): string {
  return /--[\w-]+/.exec(flags)?.[0] ?? flags.split(/[ ,]/)[0]!;
}

/**
 * Commander's refusal of the command line (exit code 2: it is all bad input), reworded to start
 * with its field: the flag, `<argument>`, `<command>` or `arguments`. Commander's own messages
 * (`error: unknown option '--x'`) are the fallback for a code this does not know.
 */
export function describeCommanderError(error: CommanderError): CliFailure {
  const text = error.message.replace(/^error: /, "").trim();
  const input = (field: string, reason: string): CliFailure => ({
    name: INVALID,
    field,
    // A reason from our own parser may already name the field (`--interval: must be …`).
    message: `${field}: ${reason.startsWith(`${field}: `) ? reason.slice(field.length + 2) : reason}`,
    code: 2,
  });
  let m: RegExpExecArray | null;
  switch (error.code) {
    case "commander.unknownOption":
      if ((m = /^unknown option '([^']+)'(.*)$/s.exec(text)) !== null)
        return input(m[1]!, ["unknown option", m[2]!.trim()].filter((t) => t !== "").join(" "));
      break;
    case "commander.optionMissingArgument":
      if ((m = /^option '([^']+)' argument missing$/.exec(text)) !== null)
        return input(flagOf(m[1]!), `needs a value (${m[1]!})`);
      break;
    case "commander.missingMandatoryOptionValue":
      if ((m = /^required option '([^']+)' not specified$/.exec(text)) !== null)
        return input(flagOf(m[1]!), "is required");
      break;
    case "commander.missingArgument":
      if ((m = /^missing required argument '([^']+)'$/.exec(text)) !== null)
        return input(`<${m[1]!}>`, "is required");
      break;
    case "commander.invalidArgument":
      if ((m = /^option '([^']+)' argument '(.*)' is invalid\. (.*)$/s.exec(text)) !== null) {
        const choices = /^Allowed choices are (.*)\.$/.exec(m[3]!);
        return input(
          flagOf(m[1]!),
          choices === null ? m[3]! : `must be one of ${choices[1]!}, got "${m[2]!}"`,
        );
      }
      if (
        (m = /^command-argument value '(.*)' is invalid for argument '([^']+)'\. (.*)$/s.exec(text)) !== null
      )
        return input(`<${m[2]!}>`, m[3]!);
      break;
    case "commander.excessArguments":
      return input("arguments", text);
    case "commander.unknownCommand":
      if ((m = /^unknown command '([^']+)'(.*)$/s.exec(text)) !== null)
        return input(
          "<command>",
          [`unknown command '${m[1]!}'`, m[2]!.trim()].filter((t) => t !== "").join(" "),
        );
      break;
    case "commander.conflictingOption":
      if ((m = /option '([^']+)'/.exec(text)) !== null) return input(flagOf(m[1]!), text);
      break;
  }
  return { name: INVALID, message: text, code: 2 };
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
