/**
 * The test runners' results as data, for scripts/test-all.mjs: each runner writes one JSON file
 * into the directory named by GRIDBRAIN_TEST_RESULTS_DIR (set only by test-all.mjs), and
 * test-all.mjs reads them instead of the runners' coloured terminal output.
 *
 * - mocha: through its reporter option (hardhat.config.ts's `test.mocha.reporter`), with
 *   scripts/mocha-results-reporter.cjs, which prints mocha's usual spec output and writes the file.
 * - Solidity: `hardhat test solidity` has no machine-readable output of its own in Hardhat 3.18 (no
 *   reporter option, no JSON or quiet mode: its reporter is built in), but its task returns the
 *   run as data (counts, and every suite's test results with status and reason). hardhat.config.ts
 *   overrides the task to write that result with `writeSolidityResults`; nothing parses text.
 *
 * Each runner also writes how long each test file took (`files`), so test-all.mjs ends with the
 * slowest files (`slowestFiles`): mocha sums its tests' and hooks' durations per file; the Solidity
 * runner reports each suite's duration, summed per file. Solidity suites run in parallel, so their
 * durations overlap and add up to more than the step's wall time.
 *
 * test-all.mjs imports this file through tsx.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const RESULTS_DIR_ENV = "GRIDBRAIN_TEST_RESULTS_DIR";

export interface FailedTest {
  /** The suite path and test name, e.g. `test/x.test.ts › describe › it`. */
  readonly title: string;
  /** The first line of the failure's message. */
  readonly reason: string;
}

/** How long one test file took, as its runner measured it. */
export interface FileDuration {
  /** The path relative to the project root, e.g. `test/e2e/keeper.test.ts`. */
  readonly file: string;
  readonly durationMs: number;
}

/** What one runner wrote: `<runner>.json` in the results directory. */
export interface RunnerResults {
  readonly runner: string;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly failures: readonly FailedTest[];
  readonly files: readonly FileDuration[];
}

export interface StepResult {
  readonly name: string;
  readonly exitCode: number;
  /** The step's wall time, when test-all.mjs measured it. */
  readonly durationMs?: number;
  readonly runners: readonly RunnerResults[];
  readonly passed: number;
  /** Failed tests, plus one when the step exited non-zero without reporting a failed test (a crash). */
  readonly failed: number;
  readonly skipped: number;
  readonly failures: readonly (FailedTest & { readonly runner: string })[];
  readonly crashed: boolean;
}

const firstLine = (text: string): string => text.split("\n")[0] ?? "";

/** Validates one runner's file; the error names the file, the field and the reason. */
export function parseRunnerResults(text: string, source: string): RunnerResults {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not JSON (${firstLine(String(error))})`);
  }
  const fail = (field: string, reason: string): never => {
    throw new Error(`${source}: ${field}: ${reason}`);
  };
  if (typeof data !== "object" || data === null) return fail("(root)", "must be an object");
  const record = data as Record<string, unknown>;
  if (typeof record["runner"] !== "string" || record["runner"] === "")
    fail("runner", "must be a non-empty string");
  const count = (field: "passed" | "failed" | "skipped"): number => {
    const value = record[field];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
      fail(field, `must be a non-negative integer, got ${JSON.stringify(value)}`);
    return value as number;
  };
  const passed = count("passed");
  const failed = count("failed");
  const skipped = count("skipped");
  const failures = record["failures"];
  if (!Array.isArray(failures)) return fail("failures", "must be an array");
  failures.forEach((f: unknown, i) => {
    const entry = (typeof f === "object" && f !== null ? f : {}) as Record<string, unknown>;
    if (typeof entry["title"] !== "string") fail(`failures.${i}.title`, "must be a string");
    if (typeof entry["reason"] !== "string") fail(`failures.${i}.reason`, "must be a string");
  });
  // A runner that counts more failures than it names would hide a test from the summary.
  if (failures.length !== failed) fail("failures", `names ${failures.length} tests but failed is ${failed}`);
  const files = record["files"];
  if (!Array.isArray(files)) return fail("files", "must be an array");
  files.forEach((f: unknown, i) => {
    const entry = (typeof f === "object" && f !== null ? f : {}) as Record<string, unknown>;
    if (typeof entry["file"] !== "string" || entry["file"] === "")
      fail(`files.${i}.file`, "must be a non-empty string");
    const ms = entry["durationMs"];
    if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0)
      fail(`files.${i}.durationMs`, `must be a non-negative number, got ${JSON.stringify(ms)}`);
  });
  return {
    runner: record["runner"] as string,
    passed,
    failed,
    skipped,
    failures: (failures as { title: string; reason: string }[]).map(({ title, reason }) => ({
      title,
      reason,
    })),
    files: (files as { file: string; durationMs: number }[]).map(({ file, durationMs }) => ({
      file,
      durationMs,
    })),
  };
}

/** One step of test-all: its runners' results, how the process exited and (when measured) its wall time. */
export function summarizeStep(
  name: string,
  exitCode: number,
  runners: readonly RunnerResults[],
  durationMs?: number,
): StepResult {
  const sum = (field: "passed" | "failed" | "skipped") => runners.reduce((total, r) => total + r[field], 0);
  const failures = runners.flatMap((r) => r.failures.map((f) => ({ runner: r.runner, ...f })));
  // A runner that crashed (a compile error, a test file that does not load) reports no failed test
  // but exits non-zero: it counts as one failure, so the step never reads as green.
  const crashed = exitCode !== 0 && failures.length === 0;
  return {
    name,
    exitCode,
    ...(durationMs === undefined ? {} : { durationMs }),
    runners,
    passed: sum("passed"),
    failed: sum("failed") + (crashed ? 1 : 0),
    skipped: sum("skipped"),
    failures,
    crashed,
  };
}

/** The exit code of the whole run: the first failing step's, or 1 if a step reported failures but exited 0. */
export function exitCodeOf(steps: readonly StepResult[]): number {
  for (const step of steps) {
    if (step.exitCode !== 0) return step.exitCode;
    if (step.failed > 0) return 1;
  }
  return 0;
}

const counts = (r: { passed: number; failed: number; skipped: number }): string =>
  `${r.passed} passed, ${r.failed} failed${r.skipped > 0 ? `, ${r.skipped} skipped` : ""}`;

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** A test file's duration in one step and runner, as `slowestFiles` ranks them. */
export interface SlowFile extends FileDuration {
  readonly step: string;
  readonly runner: string;
}

/**
 * The `count` slowest test files over every step and runner, slowest first (ties by file name, so
 * the list is stable). A file run in two steps (the Solidity tests, on both profiles) is listed
 * once per step: the two runs cost separately.
 */
export function slowestFiles(steps: readonly StepResult[], count = 10): SlowFile[] {
  if (!Number.isInteger(count) || count < 0)
    throw new Error(`count: must be a non-negative integer, got ${count}`);
  return steps
    .flatMap((step) =>
      step.runners.flatMap((r) => r.files.map((f) => ({ step: step.name, runner: r.runner, ...f }))),
    )
    .sort((a, b) => b.durationMs - a.durationMs || a.file.localeCompare(b.file))
    .slice(0, count);
}

/** The slowest files as printed lines: duration, runner, file and step. */
export function formatSlowestFiles(steps: readonly StepResult[], count = 10): string[] {
  const files = slowestFiles(steps, count);
  if (files.length === 0) return [];
  return [
    `=== ${files.length} slowest test files ===`,
    ...files.map((f) => `${seconds(f.durationMs).padStart(8)}  [${f.runner}] ${f.file} (${f.step})`),
  ];
}

/**
 * The closing summary: one line per step with its wall time (when measured) and its counts per
 * runner, the failing tests by name, and the totals as the last line, "N passed, N failed[, N skipped]".
 */
export function formatSummary(steps: readonly StepResult[]): string[] {
  const lines = ["=== summary ==="];
  for (const step of steps) {
    const perRunner = step.runners.map((r) => `${r.runner} ${counts(r)}`).join("; ");
    const crash = step.crashed
      ? `exited with code ${step.exitCode} without a failed test (counted as 1 failure)`
      : "";
    const time = step.durationMs === undefined ? "" : ` (${seconds(step.durationMs)})`;
    lines.push(
      `${step.name}${time}: ${[perRunner || (step.exitCode === 0 ? "no tests" : "no runner reported results"), crash].filter((s) => s !== "").join("; ")}`,
    );
  }
  const failures = steps.flatMap((s) => s.failures);
  if (failures.length > 0) {
    lines.push("failing:");
    for (const f of failures) lines.push(`  [${f.runner}] ${f.title}: ${f.reason}`);
  }
  const total = (field: "passed" | "failed" | "skipped") => steps.reduce((sum, s) => sum + s[field], 0);
  lines.push(counts({ passed: total("passed"), failed: total("failed"), skipped: total("skipped") }));
  return lines;
}

/** The subset of Hardhat's Solidity test result (the `test solidity` task's return value) read here. */
interface SolidityTaskResult {
  readonly success: boolean;
  readonly value?: SolidityRun;
  readonly error?: SolidityRun;
}
interface SolidityRun {
  readonly suiteResults?: readonly {
    readonly id: { readonly source: string; readonly name: string };
    /** EDR's SuiteResult.durationNs: a bigint. */
    readonly durationNs?: bigint | number;
    readonly testResults: readonly {
      readonly name: string;
      readonly status: string;
      readonly reason?: string;
    }[];
  }[];
}

/**
 * The Solidity runner's results from its task's return value (see the file comment). Counted from
 * the suites' test results, not from the result's `summary`: Hardhat fills that only when the task
 * runs under `hardhat test` (run alone, as in test-all's production step, it is all zeros).
 */
export function solidityResults(result: unknown): RunnerResults {
  const task = result as SolidityTaskResult | undefined;
  const run = task?.success === true ? task.value : task?.error;
  let passed = 0;
  let skipped = 0;
  const failures: FailedTest[] = [];
  const durations = new Map<string, number>();
  for (const suite of run?.suiteResults ?? []) {
    // Source names of project files carry Hardhat's "project/" root prefix.
    const file = suite.id.source.replace(/^project\//, "");
    const ms = Number(suite.durationNs ?? 0) / 1e6;
    durations.set(file, (durations.get(file) ?? 0) + ms);
    for (const test of suite.testResults) {
      if (test.status === "Success") passed++;
      else if (test.status === "Skipped") skipped++;
      else
        failures.push({
          title: `${file}:${suite.id.name} › ${test.name}`,
          reason: firstLine(test.reason ?? test.status),
        });
    }
  }
  const files = [...durations].map(([file, durationMs]) => ({ file, durationMs }));
  return { runner: "solidity", passed, failed: failures.length, skipped, failures, files };
}

/** Writes `<runner>.json` into the results directory, when test-all.mjs asked for one. */
export function writeRunnerResults(results: RunnerResults, env: NodeJS.ProcessEnv = process.env): void {
  const dir = env[RESULTS_DIR_ENV];
  if (dir === undefined || dir === "") return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${results.runner}.json`), JSON.stringify(results, null, 2));
}
