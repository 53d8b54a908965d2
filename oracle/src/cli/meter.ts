/**
 * `gridbrain meter import <file>`: reads a CSV or JSON file of signed meter readings
 * (domain/meter/import: Green Button-style start + duration rows or interval ids, Wh or kWh),
 * reports every rejected row with its line (CSV) or index (JSON), the field and the reason, and
 * hands the valid readings to the oracle nodes. A row rejected in the file or by a node never
 * stops the others: every valid reading is submitted, and the exit code is 1 when any row was
 * rejected anywhere. A usage or configuration error (exit 2) or a sink that fails (exit 1) is
 * thrown and printed by main.ts through ./output.ts, as for every command.
 *
 * Two destinations:
 * - `--node-url URL` (repeatable; the documented way): POSTs to the node's `/meter-readings`.
 *   The node validates against its own view of the registry and chain time and is the only
 *   writer of its store; the importer needs neither Redis nor RPC access nor credentials, and it
 *   works across machines. Every committee member builds its own meter report from its own
 *   store, so readings go to every member: give one `--node-url` per node.
 * - `--config FILE` (a node's config file): validates with the same function the node's HTTP
 *   handler uses (node/meter-ingest.ts, registry and chain time read from the chain) and writes
 *   straight into that node's Redis. For an operator on the node's host when its HTTP server is
 *   down or bound to a private interface; it needs the RPC and Redis access the node has.
 */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { type Command, Option } from "commander";
import { z } from "zod";
import { createChainClients, readMarketTiming } from "../chain/market.js";
import { formatIssues } from "../domain/errors.js";
import { type ImportRejection, type ImportResult, importCsv, importJson } from "../domain/meter/import.js";
import { flagName, loadConfig } from "../infra/config.js";
import { type IngestResult, MAX_INGEST_BATCH, MeterStore } from "../infra/meter-store.js";
import { nodeMeterIngest } from "../node/meter-ingest.js";
import { CliError } from "./cli-error.js";

export type MeterFileFormat = "csv" | "json";

/** Where the valid readings go: a node's HTTP endpoint or a node's store. */
export interface MeterSink {
  /** Shown in the output: the node URL or `store <redis>`. */
  readonly name: string;
  /** One batch of at most MAX_INGEST_BATCH wire items; one status per item, in order. */
  submit(items: readonly unknown[]): Promise<IngestResult>;
}

export interface MeterImportRejection {
  /** `line 4` (CSV) or `readings[2]` (JSON). */
  readonly origin: string;
  /** The field at fault (`unit`, `signature`, …), `(row)` when the row as a whole is. */
  readonly field: string;
  readonly reason: string;
  /** `file` when the importer rejected the row, otherwise the sink's name. */
  readonly by: string;
  /** The node's rejection code (`wrong-signer`, `late`, …); absent for file rejections. */
  readonly code?: string;
}

export interface MeterSinkSummary {
  readonly name: string;
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: number;
}

export interface MeterImportResult {
  readonly format: MeterFileFormat;
  /** Rows (CSV) or items (JSON) read, valid or not. */
  readonly rows: number;
  /** Rows that passed the file checks and were submitted. */
  readonly submitted: number;
  readonly rejected: readonly MeterImportRejection[];
  readonly sinks: readonly MeterSinkSummary[];
}

export interface ImportMeterFileParameters {
  readonly text: string;
  readonly format: MeterFileFormat;
  /** Market interval length: maps Green Button `start` + `duration` rows to interval ids. */
  readonly intervalSeconds: bigint;
  readonly sinks: readonly MeterSink[];
}

/** `unit: must be …` → `unit`; `readings.3.meter: …` style paths keep their last segment. */
function fieldOf(reason: string): string {
  const match = /^([A-Za-z][\w.]*|\(root\)): /.exec(reason);
  if (match === null) return "(row)";
  const path = match[1]!;
  if (path === "(root)") return "(row)";
  return path.split(".").pop()!;
}

function fileRejection(r: ImportRejection): MeterImportRejection {
  return { origin: r.origin, field: fieldOf(r.reason), reason: r.reason, by: "file" };
}

/**
 * Parses `text`, submits the valid rows to every sink in batches and collects every rejection
 * with its origin. Throws only when a sink cannot be reached or answers outside its contract
 * (then nothing is known about that sink's batch; re-running is safe: the store is idempotent).
 */
export async function importMeterFile(params: ImportMeterFileParameters): Promise<MeterImportResult> {
  const options = { intervalSeconds: params.intervalSeconds };
  const parsed: ImportResult =
    params.format === "csv" ? importCsv(params.text, options) : importJson(params.text, options);
  const rejected: MeterImportRejection[] = parsed.rejected.map(fileRejection);
  const sinks: MeterSinkSummary[] = [];
  for (const sink of params.sinks) {
    let accepted = 0;
    let duplicates = 0;
    let sinkRejected = 0;
    for (let start = 0; start < parsed.items.length; start += MAX_INGEST_BATCH) {
      const batch = parsed.items.slice(start, start + MAX_INGEST_BATCH);
      const result = await sink.submit(batch.map((b) => b.item));
      if (result.items.length !== batch.length)
        throw new Error(
          `${sink.name}: answered ${result.items.length} statuses for ${batch.length} readings`,
        );
      for (const status of result.items) {
        const origin = batch[status.index]?.origin;
        if (origin === undefined)
          throw new Error(`${sink.name}: answered a status for item ${status.index}, not in the batch`);
        if (status.status === "accepted") accepted++;
        else if (status.status === "duplicate") duplicates++;
        else {
          sinkRejected++;
          rejected.push({
            origin,
            field: fieldOf(status.reason),
            reason: status.reason,
            by: sink.name,
            code: status.code,
          });
        }
      }
    }
    sinks.push({ name: sink.name, accepted, duplicates, rejected: sinkRejected });
  }
  return {
    format: params.format,
    rows: parsed.items.length + parsed.rejected.length,
    submitted: parsed.items.length,
    rejected,
    sinks,
  };
}

/** The node's answer to POST /meter-readings, validated: it is external input to the importer. */
const IngestResultSchema = z.object({
  accepted: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  items: z.array(
    z.discriminatedUnion("status", [
      z.object({ index: z.number().int().nonnegative(), status: z.literal("accepted") }),
      z.object({ index: z.number().int().nonnegative(), status: z.literal("duplicate") }),
      z.object({
        index: z.number().int().nonnegative(),
        status: z.literal("rejected"),
        code: z.string(),
        reason: z.string(),
      }),
    ]),
  ),
});

/** A sink posting to `<url>/meter-readings`. */
export function httpMeterSink(url: string, fetchImpl: typeof fetch = fetch): MeterSink {
  const base = url.replace(/\/+$/, "");
  return {
    name: base,
    async submit(items) {
      let response: Response;
      try {
        response = await fetchImpl(`${base}/meter-readings`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(items),
        });
      } catch (error) {
        throw new Error(`${base}: cannot reach the node: ${(error as Error).message}`, { cause: error });
      }
      const text = await response.text();
      // 422: the node rejected every item; its body still names each item's reason, which the
      // importer reports per row like any other rejection.
      if (response.status !== 202 && response.status !== 422)
        throw new Error(`${base}/meter-readings: HTTP ${response.status}: ${text.slice(0, 500)}`);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error(`${base}/meter-readings: the answer is not JSON: ${text.slice(0, 200)}`);
      }
      const result = IngestResultSchema.safeParse(body);
      if (!result.success)
        throw new Error(`${base}/meter-readings: unexpected answer: ${formatIssues(result.error.issues)}`);
      return result.data as IngestResult;
    },
  };
}

const FlagsSchema = z
  .object({
    format: z.enum(["csv", "json"], { message: 'must be "csv" or "json"' }).optional(),
    nodeUrl: z
      .array(
        z
          .string()
          .url("must be a URL")
          .refine((v) => ["http:", "https:"].includes(new URL(v).protocol), "must use http:// or https://"),
      )
      .optional(),
    config: z.string().min(1, "must not be empty").optional(),
    intervalSeconds: z
      .string()
      .regex(/^[1-9]\d*$/, "must be a positive integer number of seconds")
      .transform((v) => BigInt(v))
      .optional(),
    json: z.boolean().optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    const hasNodes = f.nodeUrl !== undefined && f.nodeUrl.length > 0;
    if (hasNodes === (f.config !== undefined))
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["nodeUrl"],
        message: "give either --node-url (one per committee node) or --config, exactly one of them",
      });
  });

function formatFromName(file: string): MeterFileFormat | undefined {
  const ext = extname(file).toLowerCase();
  return ext === ".csv" ? "csv" : ext === ".json" ? "json" : undefined;
}

const toJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);

export function registerMeterCommands(program: Command): void {
  const meter = program.command("meter").description("meter data");
  meter
    .command("import")
    .description(
      "import a CSV or JSON file of signed meter readings into the oracle nodes; every rejected row is " +
        "reported with its line, field and reason, the valid rows are submitted anyway (exit 1 when any " +
        "row is rejected). --node-url posts to each node's /meter-readings: the node validates and stores, " +
        "no Redis or RPC access needed; give one per committee node, as each node meters from its own " +
        "store. --config FILE writes straight into that node's Redis after the same validation (registry " +
        "and chain time from the chain), for use on the node's host when its HTTP server is unreachable",
    )
    .argument("<file>", "readings file (.csv or .json; see docs/ORACLE.md, Meter import)")
    .addOption(
      new Option("--format <format>", "file format (default: from the extension)").choices(["csv", "json"]),
    )
    .option(
      "--node-url <url>",
      "an oracle node's base URL; repeat for every committee node",
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option("--config <file>", "a node's JSON config file: write into its store directly")
    .option(
      "--interval-seconds <s>",
      "market interval length for start+duration rows (default 900 with --node-url; read from the market with --config)",
    )
    .option("--json", "print the result as JSON")
    .action(async (file: string, opts: Record<string, unknown>) => {
      const parsed = FlagsSchema.safeParse(opts);
      // The schema's keys are commander's (`nodeUrl`); the user typed the flag (`--node-url`).
      if (!parsed.success) throw CliError.issues(parsed.error.issues, flagName);
      const flags = parsed.data;
      const format = flags.format ?? formatFromName(file);
      if (format === undefined)
        throw CliError.input(
          "--format",
          `cannot tell the format of "${file}" from its name; give csv or json`,
        );
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (error) {
        throw CliError.input("<file>", `cannot read "${file}": ${(error as Error).message}`);
      }

      const sinks: MeterSink[] = [];
      let intervalSeconds = flags.intervalSeconds ?? 900n;
      let store: MeterStore | undefined;
      try {
        if (flags.config !== undefined) {
          // A ConfigError names every bad field of the node's config (exit 2).
          const config = loadConfig({ flags: { config: flags.config }, env: process.env });
          const { publicClient } = createChainClients(config.rpcUrl, config.chainId, {
            timeoutMs: config.rpcTimeoutMs,
          });
          const timing = await readMarketTiming(publicClient, config.marketAddress);
          if (flags.intervalSeconds !== undefined && flags.intervalSeconds !== timing.intervalSeconds)
            throw CliError.input(
              "--interval-seconds",
              `${flags.intervalSeconds} differs from the market's ${timing.intervalSeconds}`,
            );
          intervalSeconds = timing.intervalSeconds;
          store = new MeterStore({
            redis: config.redisUrl,
            prefix: config.queuePrefix,
            chainId: config.chainId,
            market: config.marketAddress,
          });
          sinks.push({
            name: `store of ${config.marketAddress} (${config.queuePrefix})`,
            submit: nodeMeterIngest({ config, client: publicClient, timing, store }),
          });
        } else {
          for (const url of flags.nodeUrl ?? []) sinks.push(httpMeterSink(url));
        }

        const result = await importMeterFile({ text, format, intervalSeconds, sinks });
        if (flags.json === true) console.log(toJson({ file, ...result }));
        else {
          const fileRejected = result.rejected.filter((r) => r.by === "file");
          console.log(
            `${file} (${format}): ${result.rows} rows, ${result.submitted} submitted, ${fileRejected.length} rejected in the file`,
          );
          for (const r of fileRejected) console.log(`  ${r.origin}: ${r.field}: ${stripField(r)}`);
          for (const s of result.sinks) {
            console.log(
              `${s.name}: ${s.accepted} accepted, ${s.duplicates} duplicate, ${s.rejected} rejected`,
            );
            for (const r of result.rejected.filter((x) => x.by === s.name))
              console.log(`  ${r.origin}: ${r.field}: ${stripField(r)} [${r.code ?? ""}]`);
          }
        }
        if (result.rejected.length > 0) process.exitCode = 1;
      } finally {
        await store?.close();
      }
    });
}

/** The reason without its leading `field: ` (printed once, in its own column). */
function stripField(r: MeterImportRejection): string {
  return r.reason.startsWith(`${r.field}: `) ? r.reason.slice(r.field.length + 2) : r.reason;
}
