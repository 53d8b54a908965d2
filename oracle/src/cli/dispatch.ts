/**
 * `gridbrain dispatch solve <instance.json> [--out schedule.json] [--explain] [--method …]`:
 * clears a dispatch instance (docs/DISPATCH.md) and writes its canonical schedule.
 *
 * Output: the canonical schedule bytes go to `--out`, or to stdout when there is no `--out` and
 * no `--explain`. `--explain` prints a table per interval and zone to stdout. The schedule hash,
 * method and timing go to stderr. Failures are thrown and printed by main.ts through ./output.ts,
 * as for every command: exit 2 for bad input (a flag, an unreadable file, an invalid instance,
 * named by its field: `orders.0.priceMilli: …`), 1 otherwise (no optimal schedule: the
 * DispatchModelError with the solver's status).
 */
import { type Command, Option } from "commander";
import { readFile, writeFile } from "node:fs/promises";
import {
  canonicalBytes,
  canonicalHash,
  DispatchInputError,
  parseDispatchInstance,
  solveInWorker,
  summarizeSchedule,
  type DispatchMethod,
} from "../domain/dispatch/index.js";
import { CliError } from "./cli-error.js";

interface SolveFlags {
  readonly out?: string;
  readonly explain?: boolean;
  readonly method: DispatchMethod;
}

export function registerDispatchCommands(program: Command): void {
  const dispatch = program.command("dispatch").description("grid-aware market clearing (dispatch engine)");
  dispatch
    .command("solve")
    .description("solve a dispatch instance (JSON, see docs/DISPATCH.md) and write the canonical schedule")
    .argument("<instance>", "path of the instance JSON file")
    .option("--out <file>", "write the canonical schedule JSON to this file")
    .option(
      "--explain",
      "print a table per interval and zone: price, supply, demand, imports, exports, battery",
    )
    .addOption(
      new Option("--method <method>", "auto: merit order when exact, else HiGHS")
        .choices(["auto", "lp", "merit"])
        .default("auto"),
    )
    .action(async (file: string, flags: SolveFlags) => {
      let input: unknown;
      try {
        input = JSON.parse(await readFile(file, "utf8"));
      } catch (error) {
        throw CliError.input("<instance>", `cannot read ${file} as JSON: ${(error as Error).message}`);
      }
      let instance;
      try {
        instance = parseDispatchInstance(input);
      } catch (error) {
        // Every `field: reason` of the instance, the first field named (`orders.0.priceMilli`).
        if (error instanceof DispatchInputError)
          throw CliError.issues(
            error.issues.length > 0 ? error.issues : [{ path: [], message: error.message }],
            undefined,
            error.name,
          );
        throw error;
      }
      const { schedule, stats } = await solveInWorker(instance, { method: flags.method });
      const bytes = canonicalBytes(schedule);
      if (flags.out !== undefined) await writeFile(flags.out, bytes);
      else if (flags.explain !== true) process.stdout.write(Buffer.from(bytes).toString("utf8") + "\n");
      if (flags.explain === true)
        process.stdout.write(explainTable(summarizeSchedule(instance, schedule), schedule.welfareMilli));
      process.stderr.write(
        `schedule ${canonicalHash(schedule)} · ${stats.method} · ${schedule.fills.length} orders · ` +
          `welfare ${formatMilli(schedule.welfareMilli)} · ${stats.totalMs.toFixed(1)} ms solve\n`,
      );
    });
}

function formatMilli(milli: string): string {
  const v = BigInt(milli);
  const sign = v < 0n ? "-" : "";
  const a = v < 0n ? -v : v;
  return `${sign}${a / 1000n}.${(a % 1000n).toString().padStart(3, "0")}`;
}

function explainTable(rows: ReturnType<typeof summarizeSchedule>, welfareMilli: string): string {
  const head = [
    "interval",
    "zone",
    "price/kWh",
    "supply Wh",
    "demand Wh",
    "import Wh",
    "export Wh",
    "batt +ch Wh",
    "batt -dis Wh",
  ];
  const body = rows.map((r) =>
    [
      r.interval,
      r.zone,
      r.pricePerKwh,
      r.supplyWh,
      r.demandWh,
      r.importWh,
      r.exportWh,
      r.batteryChargeWh,
      r.batteryDischargeWh,
    ].map(String),
  );
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  return [
    line(head),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...body.map(line),
    `welfare: ${formatMilli(welfareMilli)} token units`,
    "",
  ].join("\n");
}
