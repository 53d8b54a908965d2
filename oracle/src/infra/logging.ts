/**
 * Structured JSON logs (pino). Every log line of a job carries the interval, the job and, once
 * known, the transaction hash, through child loggers. Secret-looking paths are redacted by pino
 * before serialisation; bigints (interval ids, Wh, wei) are written as decimal strings.
 */
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from "pino";

export type { Logger } from "pino";

/** Paths pino censors wherever they appear at these depths. */
export const REDACT_PATHS: readonly string[] = [
  "password",
  "keystorePassword",
  "privateKey",
  "devInsecurePrivateKey",
  "mnemonic",
  "secret",
  "*.password",
  "*.keystorePassword",
  "*.privateKey",
  "*.devInsecurePrivateKey",
  "*.mnemonic",
  "*.secret",
  "*.*.password",
  "*.*.privateKey",
  'headers["authorization"]',
  '*.headers["authorization"]',
];

export interface CreateLoggerParameters {
  readonly level: LevelWithSilent;
  /** Where to write (default stdout). Tests pass a stream to read the lines back. */
  readonly destination?: DestinationStream;
  /** Fields on every line, e.g. `{ node: "oracle-1", chainId: 31337 }`. */
  readonly base?: Readonly<Record<string, unknown>>;
}

function bigintSafe(value: unknown, depth = 0): unknown {
  if (typeof value === "bigint") return value.toString();
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => bigintSafe(v, depth + 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = bigintSafe(v, depth + 1);
  return out;
}

export function createLogger(params: CreateLoggerParameters): Logger {
  return pino(
    {
      level: params.level,
      base: bigintSafe({ pid: process.pid, ...(params.base ?? {}) }) as Record<string, unknown>,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT_PATHS], censor: "[redacted]" },
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => bigintSafe(obj) as Record<string, unknown>,
        bindings: (b) => bigintSafe(b) as Record<string, unknown>,
      },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    params.destination,
  );
}

export interface JobLogContext {
  readonly intervalId?: bigint | number | string;
  readonly jobId?: string;
  readonly queue?: string;
  readonly txHash?: string;
  readonly [key: string]: unknown;
}

/** A child logger whose lines all carry the given interval/job/tx fields (bigints as strings). */
export function jobLogger(parent: Logger, context: JobLogContext): Logger {
  return parent.child(bigintSafe(context) as Record<string, unknown>);
}
