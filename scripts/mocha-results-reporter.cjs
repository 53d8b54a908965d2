// Mocha reporter for scripts/test-all.mjs: mocha's spec output as usual, plus the run's results as
// JSON in `reporterOptions.output` (the RunnerResults shape of scripts/test-results.ts: counts and
// every failed test by name), so test-all.mjs reads data instead of the terminal output.
// CommonJS because mocha loads a reporter given by path with require().
"use strict";
const { mkdirSync, writeFileSync } = require("node:fs");
const { dirname, relative } = require("node:path");
const Mocha = require("mocha");

const { EVENT_RUN_END, EVENT_TEST_FAIL } = Mocha.Runner.constants;

class SpecWithResults extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const output = options?.reporterOption?.output;
    if (typeof output !== "string" || output === "")
      throw new Error("mocha-results-reporter: reporterOptions.output: must be the path of the results file");
    const failures = [];
    runner.on(EVENT_TEST_FAIL, (test, error) => {
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
          },
          null,
          2,
        ),
      );
    });
  }
}

module.exports = SpecWithResults;
