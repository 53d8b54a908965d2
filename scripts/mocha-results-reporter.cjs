// Mocha reporter for scripts/test-all.mjs: mocha's spec output as usual, plus the run's results as
// JSON in `reporterOptions.output` (the RunnerResults shape of scripts/test-results.ts: counts and
// every failed test by name, and each test file's duration: the sum of its tests' and hooks'
// durations), so test-all.mjs reads data instead of the terminal output.
// CommonJS because mocha loads a reporter given by path with require().
"use strict";
const { mkdirSync, writeFileSync } = require("node:fs");
const { dirname, relative } = require("node:path");
const Mocha = require("mocha");

const { EVENT_HOOK_END, EVENT_RUN_END, EVENT_TEST_END, EVENT_TEST_FAIL } = Mocha.Runner.constants;

class SpecWithResults extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const output = options?.reporterOption?.output;
    if (typeof output !== "string" || output === "")
      throw new Error("mocha-results-reporter: reporterOptions.output: must be the path of the results file");
    const failures = [];
    // Per file: tests and hooks (a `before` that starts a node is often most of a file's time). A
    // runnable mocha never ran (after a failed hook) has no duration and adds nothing; a root hook
    // outside any file is listed under "(root hooks)".
    const durations = new Map();
    const addDuration = (runnable) => {
      if (typeof runnable.duration !== "number") return;
      const file = runnable.file ?? runnable.parent?.file;
      const key = file === undefined ? "(root hooks)" : relative(process.cwd(), file);
      durations.set(key, (durations.get(key) ?? 0) + runnable.duration);
    };
    runner.on(EVENT_TEST_END, addDuration);
    runner.on(EVENT_HOOK_END, addDuration);
    runner.on(EVENT_TEST_FAIL, (test, error) => {
      // A failed hook ends here, not in EVENT_HOOK_END; its time counts all the same.
      if (test.type === "hook") addDuration(test);
      // A failed hook (before/after) is reported here too, under its own title, as mocha counts it.
      const file = test.file ?? test.parent?.file;
      failures.push({
        title: [file === undefined ? undefined : relative(process.cwd(), file), ...test.titlePath()]
          .filter((part) => part !== undefined && part !== "")
          .join(" › "),
        reason: String(error?.message ?? error).split("\n")[0],
      });
    });
    runner.once(EVENT_RUN_END, () => {
      mkdirSync(dirname(output), { recursive: true });
      writeFileSync(
        output,
        JSON.stringify(
          {
            runner: "mocha",
            passed: this.stats.passes,
            failed: failures.length,
            skipped: this.stats.pending,
            failures,
            files: [...durations].map(([file, durationMs]) => ({ file, durationMs })),
          },
          null,
          2,
        ),
      );
    });
  }
}

module.exports = SpecWithResults;
