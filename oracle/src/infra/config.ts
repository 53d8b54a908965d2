/**
 * Node configuration: parsed once at start from (lowest to highest precedence) an optional JSON
 * file, `GRIDBRAIN_*` environment variables and CLI flags, validated with zod, and frozen. Nothing
 * else in the oracle reads `process.env`: the caller passes `env` in.
 *
 * Env names are the field names in SCREAMING_SNAKE_CASE with the `GRIDBRAIN_` prefix
 * (`rpcUrl` → `GRIDBRAIN_RPC_URL`). The file is `flags.config` or `GRIDBRAIN_CONFIG`.
 *
 * Secrets (`keystorePassword`, `devInsecurePrivateKey`, credentials inside URLs) never appear in
 * `redactConfig(config)`, which is also what `JSON.stringify(config)` (and so pino) prints.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { type Address, getAddress, isAddress } from "viem";
import { BaseError } from "../domain/errors.js";
import { AMSTERDAM } from "../domain/simulation/solar.js";

export const ENV_PREFIX = "GRIDBRAIN_";

/** The default neighbourhood location: the demo's (simulation/solar.ts AMSTERDAM). */
export const DEFAULT_SITE_LOCATION = AMSTERDAM;

const address = (what: string) =>
  z
    .string({ required_error: `is required (the ${what} contract address)` })
    .refine((v) => /^0x[0-9a-fA-F]{40}$/.test(v), { message: "must be a 0x-prefixed 20-byte hex address" })
    .refine((v) => isAddress(v, { strict: true }), { message: "has an invalid EIP-55 checksum" })
    .transform((v) => getAddress(v) as Address);

/** Integers from flags/env arrive as strings; JSON files give numbers. Both must be exact integers. */
const int = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v),
    z
      .number({ invalid_type_error: "must be an integer" })
      .int("must be an integer")
      .min(min, `must be >= ${min}`)
      .max(max, `must be <= ${max}`),
  );

/** Decimal numbers from flags/env arrive as strings; JSON files give numbers. */
const num = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v.trim()) : v),
    z
      .number({ invalid_type_error: "must be a number" })
      .min(min, `must be >= ${min}`)
      .max(max, `must be <= ${max}`),
  );

const bigintField = (min: bigint) =>
  z.preprocess(
    (v) => (typeof v === "number" && Number.isSafeInteger(v) ? String(v) : v),
    z
      .string({ invalid_type_error: "must be an integer" })
      .regex(/^\d+$/, "must be a non-negative integer")
      .transform((v) => BigInt(v))
      .refine((v) => v >= min, `must be >= ${min}`),
  );

const url = (schemes: readonly string[]) =>
  z
    .string({ required_error: "is required" })
    .url("must be a URL")
    .refine((v) => URL.canParse(v) && schemes.includes(new URL(v).protocol), {
      message: `must use ${schemes.map((s) => s.replace(":", "://")).join(" or ")}`,
    });

/** Booleans from flags/env arrive as "true"/"false"; JSON files give booleans. */
const bool = () =>
  z.preprocess(
    (v) => (v === "true" ? true : v === "false" ? false : v),
    z.boolean({ invalid_type_error: "must be true or false" }),
  );

const nonEmpty = z.string().min(1, "must not be empty");

/**
 * Bounds and default of `rpcTimeoutMs`, the wait for each JSON-RPC attempt (the transport retries
 * a timed-out request 5 times, chain/market.ts). Below 100 ms a loaded local node's ordinary answer
 * would not fit; above 10 minutes a stuck request would hold a job's lock for nothing.
 */
export const RPC_TIMEOUT_MS = { min: 100, max: 600_000, default: 20_000 } as const;

export const ConfigSchema = z
  .object({
    rpcUrl: url(["http:", "https:", "ws:", "wss:"]),
    /** Milliseconds each JSON-RPC attempt may take (RPC_TIMEOUT_MS). */
    rpcTimeoutMs: int(RPC_TIMEOUT_MS.min, RPC_TIMEOUT_MS.max).default(RPC_TIMEOUT_MS.default),
    chainId: int(1, 2 ** 53 - 1),
    redisUrl: url(["redis:", "rediss:"]),
    /**
     * The other seed nodes of a Redis Cluster (env/flag: comma-separated). When set, the node talks
     * to a Cluster through ioredis's Cluster client: `redisUrl` is one node of it (its credentials
     * and TLS apply to every node) and these are further nodes to start from; the client learns the
     * rest of the topology from the cluster itself. Requires a `{…}` hash-tag `queuePrefix`.
     */
    redisClusterNodes: z
      .preprocess(
        (v) =>
          typeof v === "string"
            ? v
                .split(",")
                .map((s) => s.trim())
                .filter((s) => s !== "")
            : v,
        z.array(url(["redis:", "rediss:"])).max(64, "must list at most 64 nodes"),
      )
      .default([]),
    /**
     * BullMQ key prefix. For Redis Cluster wrap it in a hash tag, `{gridbrain}`, so every key of a
     * queue lands in one slot (BullMQ's Lua scripts touch several keys at once).
     */
    queuePrefix: z
      .string()
      .regex(
        /^(\{[A-Za-z0-9_-]+\}|[A-Za-z0-9_-]+)$/,
        'must be letters, digits, "_" or "-", optionally wrapped in {…} as a Redis Cluster hash tag',
      )
      .default("gridbrain"),
    marketAddress: address("EnergyMarket"),
    registryAddress: address("GridRegistry"),
    committeeAddress: address("OracleCommittee"),
    keystorePath: nonEmpty.optional(),
    keystorePasswordFile: nonEmpty.optional(),
    /** Secret. Prefer `keystorePasswordFile`. */
    keystorePassword: nonEmpty.optional(),
    /** Secret, dev only: accepted on chain 31337 (Hardhat) and nowhere else. */
    devInsecurePrivateKey: z
      .string()
      .regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte hex private key")
      .optional(),
    confirmations: int(0, 64).default(2),
    startBlock: bigintField(0n).default("0"),
    pollIntervalMs: int(50, 600_000).default(2_000),
    httpHost: nonEmpty.default("127.0.0.1"),
    httpPort: int(0, 65_535).default(8080),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    intervalSeconds: int(60, 86_400).default(900),
    gateClosureSeconds: int(0, 86_400).default(300),
    /**
     * The reading deadline: meters' readings are accepted until interval end + this (chain
     * seconds), and only after it does a silent meter count as missing (domain/meter/deadline.ts).
     * The default leaves 15 minutes of the default 60-minute on-chain meter window to commit.
     */
    meterDeadlineSeconds: int(0, 7 * 86_400).default(2_700),
    /**
     * Chain seconds kept between the reading deadline and the market's meter deadline for the
     * committee to sign, aggregate and commit; checked against the chain at start.
     */
    meterCommitReserveSeconds: int(60, 86_400).default(600),
    settlementBatchGasBudget: bigintField(21_000n).default("10000000"),
    committeeAggregationTimeoutSeconds: int(1, 3_600).default(60),
    /**
     * BullMQ's `lockDuration` for every pipeline worker: how long a job's lock lives unless renewed.
     * A node killed mid-job leaves that job active until its lock runs out and a stalled check
     * finds it (docs/OPERATIONS.md, "Job locks"), so this bounds how long a crash delays the job.
     * It only has to outlast a pause of the renewals (an event-loop stall, a Redis outage), never
     * a long job: the solver runs on a worker thread, and the event loop keeps renewing meanwhile.
     */
    jobLockDurationMs: int(5_000, 600_000).default(20_000),
    /** BullMQ's `lockRenewTime`: a held job's lock is renewed at least this often; at most half of `jobLockDurationMs`. */
    jobLockRenewMs: int(500, 300_000).default(5_000),
    /**
     * BullMQ's `stalledInterval`: how often a worker looks for active jobs whose lock has run out
     * and moves them back to wait. Only Redis load limits it (one short script per queue per
     * look): a job whose lock is alive is never moved, however often the check runs.
     */
    stalledIntervalMs: int(1_000, 300_000).default(5_000),
    /**
     * BullMQ's `maxStalledCount`: how many times a job is moved back to wait after its worker died;
     * the next stall fails it ("job stalled more than allowable limit") into the dead-letter queue,
     * so a job that keeps killing its node does not crash-loop it.
     */
    maxStalledCount: int(0, 100).default(1),
    /** Base URLs of the other committee nodes (signature exchange); env/flag: comma-separated. */
    peerUrls: z
      .preprocess(
        (v) =>
          typeof v === "string"
            ? v
                .split(",")
                .map((s) => s.trim())
                .filter((s) => s !== "")
            : v,
        z.array(url(["http:", "https:"])).max(255, "must list at most 255 peers"),
      )
      .default([]),
    /** The committee node at submit rank r waits r × this before sending a commit. */
    submitStaggerMs: int(0, 600_000).default(3_000),
    /** The node at rank r waits r × this before pushing settlements. */
    settleStaggerMs: int(0, 600_000).default(6_000),
    /**
     * Whether this node pushes settlement (settleFills / settleImbalances) after a commit. With
     * false it still signs and commits, and serves the proofs (GET /proofs/…) from which each
     * prosumer settles itself (`gridbrain claim`).
     */
    settlementPush: bool().default(true),
    /** Wait between two looks at the signature store while below the threshold. */
    aggregateRetryMs: int(50, 60_000).default(1_000),
    /**
     * Cap of the exponential backoff (from `aggregateRetryMs`) of the retries towards peers:
     * re-sending this node's signature below quorum and looking again for missing readings.
     */
    peerRetryMaxMs: int(100, 600_000).default(30_000),
    /** Meter reports are built this long (chain time) after the interval ends. */
    meterGraceSeconds: int(0, 86_400).default(120),
    /**
     * The neighbourhood's location, for the forecast's solar shape in the rolling horizon
     * (docs/DISPATCH.md, "Forecasts"). Every committee node must use the same values: they shape
     * the schedule it signs. Default: the demo's neighbourhood (Amsterdam).
     */
    siteLatitudeDeg: num(-90, 90).default(DEFAULT_SITE_LOCATION.latitudeDeg),
    siteLongitudeDeg: num(-180, 180).default(DEFAULT_SITE_LOCATION.longitudeDeg),
  })
  .strict()
  .superRefine((c, ctx) => {
    // BullMQ renews a held lock at most lockRenewTime after its last renewal: at most half the
    // duration keeps at least half of the lock in reserve for a stall of the renewals.
    if (c.jobLockRenewMs * 2 > c.jobLockDurationMs)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["jobLockRenewMs"],
        message: `must be at most half of jobLockDurationMs (${c.jobLockDurationMs}), or a lock could run out between two renewals`,
      });
    if (c.peerRetryMaxMs < c.aggregateRetryMs)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["peerRetryMaxMs"],
        message: `must be at least aggregateRetryMs (${c.aggregateRetryMs}), the first retry delay`,
      });
    if (c.redisClusterNodes.length > 0) {
      // BullMQ's Lua scripts touch several keys of a queue at once; Cluster runs them only when
      // every key hashes to one slot, which the {…} hash tag guarantees.
      if (!/^\{.+\}$/.test(c.queuePrefix))
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["queuePrefix"],
          message: `must be a {…} hash tag such as {${c.queuePrefix}} on Redis Cluster (redisClusterNodes is set)`,
        });
      for (const [field, value] of [
        ["redisUrl", c.redisUrl],
        ...c.redisClusterNodes.map((v, i) => [`redisClusterNodes.${i}`, v]),
      ] as const)
        if (!/^\/?0?$/.test(new URL(value).pathname))
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: field.split("."),
            message: "must not select a database: Redis Cluster has only database 0",
          });
    }
    if (c.devInsecurePrivateKey !== undefined) {
      if (c.chainId !== 31337)
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["devInsecurePrivateKey"],
          message: `is only accepted on the local chain 31337, not on chain ${c.chainId}; use keystorePath`,
        });
      return;
    }
    if (c.keystorePath === undefined)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["keystorePath"],
        message: "is required (the node's encrypted signing key)",
      });
    else if (c.keystorePasswordFile === undefined && c.keystorePassword === undefined)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["keystorePasswordFile"],
        message: "is required to unlock keystorePath",
      });
    if (c.gateClosureSeconds >= c.intervalSeconds * 96)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["gateClosureSeconds"],
        message: "must be less than 96 intervals",
      });
  });

export type Config = Readonly<z.output<typeof ConfigSchema>>;
export type ConfigField = keyof z.input<typeof ConfigSchema>;
const FIELDS = Object.keys(ConfigSchema._def.schema.shape) as ConfigField[];
const SECRET_FIELDS: readonly ConfigField[] = ["keystorePassword", "devInsecurePrivateKey"];

export type ConfigSource = "file" | "env" | "flag" | "default";

export interface ConfigIssue {
  readonly field: string;
  readonly source: ConfigSource;
  /** The env variable, flag or file the value came from, e.g. `GRIDBRAIN_RPC_URL`. */
  readonly origin: string;
  readonly reason: string;
}

export class ConfigError extends BaseError {
  override name = "ConfigError";
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], options: { cause?: unknown } = {}) {
    super("Invalid configuration", {
      details: issues.map((i) => `${i.field} (${i.origin}): ${i.reason}`).join("; "),
      cause: options.cause,
    });
    this.issues = issues;
  }
}

/** `rpcUrl` → `GRIDBRAIN_RPC_URL`. */
export function envName(field: string): string {
  return ENV_PREFIX + field.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

/** `rpcUrl` → `--rpc-url`. */
export function flagName(field: string): string {
  return "--" + field.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

export interface LoadConfigParameters {
  /** Parsed CLI options (commander's `opts()`); `config` is the JSON file path. Undefined values are ignored. */
  readonly flags?: Readonly<Record<string, unknown>>;
  /** The environment (pass `process.env` from the entry point). Only `GRIDBRAIN_*` names are read. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Reads the config file (default: fs.readFileSync utf8). */
  readonly readFile?: (path: string) => string;
}

/**
 * Merges file < env < flags, validates, freezes.
 * @throws ConfigError listing every bad field with its origin and the reason.
 */
export function loadConfig(params: LoadConfigParameters): Config {
  const flags = params.flags ?? {};
  const env = params.env ?? {};
  const readFile = params.readFile ?? ((p: string) => readFileSync(p, "utf8"));
  const merged: Record<string, unknown> = {};
  const origin = new Map<string, { source: ConfigSource; origin: string }>();
  const issues: ConfigIssue[] = [];

  const filePath = (flags["config"] as string | undefined) ?? env[`${ENV_PREFIX}CONFIG`];
  if (filePath !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFile(filePath));
    } catch (error) {
      throw new ConfigError(
        [
          {
            field: "config",
            source: "file",
            origin: filePath,
            reason: `cannot read JSON: ${(error as Error).message}`,
          },
        ],
        { cause: error },
      );
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new ConfigError([
        { field: "config", source: "file", origin: filePath, reason: "must be a JSON object" },
      ]);
    for (const [k, v] of Object.entries(parsed)) {
      merged[k] = v;
      origin.set(k, { source: "file", origin: filePath });
    }
  }
  for (const field of FIELDS) {
    const value = env[envName(field)];
    if (value === undefined || value === "") continue;
    merged[field] = value;
    origin.set(field, { source: "env", origin: envName(field) });
  }
  for (const [k, v] of Object.entries(flags)) {
    if (k === "config" || v === undefined) continue;
    merged[k] = v;
    origin.set(k, { source: "flag", origin: flagName(k) });
  }

  const result = ConfigSchema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const fields =
        issue.code === z.ZodIssueCode.unrecognized_keys
          ? issue.keys
          : [issue.path.length === 0 ? "(root)" : issue.path.join(".")];
      for (const field of fields) {
        const from = origin.get(field.split(".")[0]!) ?? {
          source: "default" as const,
          origin: `${flagName(field)} / ${envName(field)}`,
        };
        const reason = issue.code === z.ZodIssueCode.unrecognized_keys ? "unknown field" : issue.message;
        issues.push({ field, source: from.source, origin: from.origin, reason });
      }
    }
    throw new ConfigError(issues);
  }
  const config = { ...result.data };
  Object.defineProperty(config, "toJSON", { value: () => redactConfig(config as Config), enumerable: false });
  return Object.freeze(config) as Config;
}

/** Removes credentials from a URL (user info; query values that look like keys). */
export function redactUrl(value: string): string {
  try {
    const u = new URL(value);
    if (u.username !== "") u.username = "***";
    if (u.password !== "") u.password = "***";
    for (const key of [...u.searchParams.keys()])
      if (/key|token|secret|pass/i.test(key)) u.searchParams.set(key, "***");
    return u.toString();
  } catch {
    return "***";
  }
}

/** The config safe to log: secrets replaced by `"[redacted]"`, URL credentials masked. */
export function redactConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if ((SECRET_FIELDS as readonly string[]).includes(k)) out[k] = "[redacted]";
    else if (k === "rpcUrl" || k === "redisUrl") out[k] = redactUrl(v as string);
    else if (k === "redisClusterNodes") out[k] = (v as string[]).map(redactUrl);
    else out[k] = typeof v === "bigint" ? v.toString() : v;
  }
  return out;
}
