/**
 * scripts/test-results.ts: how scripts/test-all.mjs reads the runners' JSON results, sums a step,
 * picks the exit code, prints the summary and the slowest test files; and
 * scripts/mocha-results-reporter.cjs on a real mocha run of a throwaway test file.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { PROJECT_ROOT } from "../../oracle/src/devnet/local-services.js";
import {
  RESULTS_DIR_ENV,
  exitCodeOf,
  formatSlowestFiles,
  formatSummary,
  parseRunnerResults,
  slowestFiles,
  solidityResults,
  summarizeStep,
  writeRunnerResults,
  type RunnerResults,
} from "../../scripts/test-results.js";

const MOCHA_FAILED: RunnerResults = {
  runner: "mocha",
  passed: 3,
  failed: 1,
  skipped: 0,
  failures: [{ title: "test/x.test.ts › x › adds", reason: "expected 2 to equal 3" }],
  files: [
    { file: "test/x.test.ts", durationMs: 1_500 },
    { file: "test/e2e/y.test.ts", durationMs: 90_000 },
  ],
};
const SOLIDITY_PASSED: RunnerResults = {
  runner: "solidity",
  passed: 5,
  failed: 0,
  skipped: 1,
  failures: [],
  files: [{ file: "test/contracts/Market.t.sol", durationMs: 20_000 }],
};

describe("parseRunnerResults", () => {
  it("reads the counts and the failed tests a runner wrote", () => {
    expect(parseRunnerResults(JSON.stringify(MOCHA_FAILED), "mocha.json")).to.deep.equal(MOCHA_FAILED);
  });

  describe("when the file is not what a runner writes", () => {
    it("names the file when it is not JSON", () => {
      expect(() => parseRunnerResults("  3 passing", "mocha.json")).to.throw(/^mocha\.json: not JSON/);
    });
    it("names a count that is not a non-negative integer", () => {
      const text = JSON.stringify({ ...MOCHA_FAILED, passed: "3" });
      expect(() => parseRunnerResults(text, "mocha.json")).to.throw(
        'mocha.json: passed: must be a non-negative integer, got "3"',
      );
    });
    it("names a failed test without a title", () => {
      const text = JSON.stringify({ ...MOCHA_FAILED, failures: [{ reason: "x" }] });
      expect(() => parseRunnerResults(text, "mocha.json")).to.throw(
        "mocha.json: failures.0.title: must be a string",
      );
    });
    it("names a file duration that is not a non-negative number", () => {
      const text = JSON.stringify({ ...MOCHA_FAILED, files: [{ file: "test/x.test.ts", durationMs: -1 }] });
      expect(() => parseRunnerResults(text, "mocha.json")).to.throw(
        "mocha.json: files.0.durationMs: must be a non-negative number, got -1",
      );
    });
    it("refuses results without file durations", () => {
      const { files: _files, ...withoutFiles } = MOCHA_FAILED;
      expect(() => parseRunnerResults(JSON.stringify(withoutFiles), "mocha.json")).to.throw(
        "mocha.json: files: must be an array",
      );
    });
    it("refuses a failed count that does not match the named failures", () => {
      const text = JSON.stringify({ ...MOCHA_FAILED, failed: 2 });
      expect(() => parseRunnerResults(text, "mocha.json")).to.throw(
        "mocha.json: failures: names 1 tests but failed is 2",
      );
    });
  });
});

describe("summarizeStep", () => {
  it("sums the runners and keeps every failed test with its runner", () => {
    const step = summarizeStep("default", 1, [SOLIDITY_PASSED, MOCHA_FAILED]);
    expect([step.passed, step.failed, step.skipped, step.crashed]).to.deep.equal([8, 1, 1, false]);
    expect(step.failures).to.deep.equal([{ runner: "mocha", ...MOCHA_FAILED.failures[0] }]);
  });

  describe("when the step exits non-zero without a failed test (a crash)", () => {
    it("counts one failure", () => {
      const step = summarizeStep("production", 2, [SOLIDITY_PASSED]);
      expect([step.failed, step.crashed]).to.deep.equal([1, true]);
    });
    it("counts one failure when no runner wrote results at all", () => {
      const step = summarizeStep("production", 1, []);
      expect([step.passed, step.failed, step.crashed]).to.deep.equal([0, 1, true]);
    });
  });
});

describe("exitCodeOf", () => {
  it("is 0 when every step passed", () => {
    expect(exitCodeOf([summarizeStep("a", 0, [SOLIDITY_PASSED])])).to.equal(0);
  });
  it("is the first failing step's exit code", () => {
    expect(exitCodeOf([summarizeStep("a", 0, [SOLIDITY_PASSED]), summarizeStep("b", 3, [])])).to.equal(3);
  });
  it("is 1 when a step reported a failed test but exited 0", () => {
    expect(exitCodeOf([summarizeStep("a", 0, [MOCHA_FAILED])])).to.equal(1);
  });
});

describe("formatSummary", () => {
  it("prints counts per step and runner, the failing tests by name, and the totals last", () => {
    const lines = formatSummary([summarizeStep("default profile", 1, [SOLIDITY_PASSED, MOCHA_FAILED])]);
    expect(lines).to.deep.equal([
      "=== summary ===",
      "default profile: solidity 5 passed, 0 failed, 1 skipped; mocha 3 passed, 1 failed",
      "failing:",
      "  [mocha] test/x.test.ts › x › adds: expected 2 to equal 3",
      "8 passed, 1 failed, 1 skipped",
    ]);
  });
  it("prints a step's wall time when it was measured", () => {
    expect(formatSummary([summarizeStep("production", 0, [SOLIDITY_PASSED], 61_234)])[1]).to.equal(
      "production (61.2 s): solidity 5 passed, 0 failed, 1 skipped",
    );
  });
  it("says a step that ran no tests and exited 0 (a build) ran none", () => {
    expect(formatSummary([summarizeStep("build", 0, [], 21_000)])).to.deep.equal([
      "=== summary ===",
      "build (21.0 s): no tests",
      "0 passed, 0 failed",
    ]);
  });
  it("says when a step crashed", () => {
    expect(formatSummary([summarizeStep("production", 2, [])])).to.deep.equal([
      "=== summary ===",
      "production: no runner reported results; exited with code 2 without a failed test (counted as 1 failure)",
      "0 passed, 1 failed",
    ]);
  });
});

describe("slowestFiles", () => {
  const steps = [
    summarizeStep("default", 0, [SOLIDITY_PASSED, MOCHA_FAILED]),
    summarizeStep("production", 0, [
      { ...SOLIDITY_PASSED, files: [{ file: "test/contracts/Market.t.sol", durationMs: 45_000 }] },
    ]),
  ];

  it("ranks every step's and runner's files, slowest first, a file once per step", () => {
    expect(slowestFiles(steps)).to.deep.equal([
      { step: "default", runner: "mocha", file: "test/e2e/y.test.ts", durationMs: 90_000 },
      { step: "production", runner: "solidity", file: "test/contracts/Market.t.sol", durationMs: 45_000 },
      { step: "default", runner: "solidity", file: "test/contracts/Market.t.sol", durationMs: 20_000 },
      { step: "default", runner: "mocha", file: "test/x.test.ts", durationMs: 1_500 },
    ]);
  });
  it("keeps only the slowest `count`", () => {
    expect(slowestFiles(steps, 2).map((f) => f.durationMs)).to.deep.equal([90_000, 45_000]);
  });
  it("orders files of equal duration by name", () => {
    const tied: RunnerResults = {
      ...SOLIDITY_PASSED,
      files: [
        { file: "b.t.sol", durationMs: 5 },
        { file: "a.t.sol", durationMs: 5 },
      ],
    };
    expect(slowestFiles([summarizeStep("s", 0, [tied])]).map((f) => f.file)).to.deep.equal([
      "a.t.sol",
      "b.t.sol",
    ]);
  });
  it("names the count when it is not a non-negative integer", () => {
    expect(() => slowestFiles(steps, -1)).to.throw("count: must be a non-negative integer, got -1");
  });

  describe("formatSlowestFiles", () => {
    it("prints a heading and one line per file with its seconds, runner and step", () => {
      expect(formatSlowestFiles(steps, 2)).to.deep.equal([
        "=== 2 slowest test files ===",
        "  90.0 s  [mocha] test/e2e/y.test.ts (default)",
        "  45.0 s  [solidity] test/contracts/Market.t.sol (production)",
      ]);
    });
    it("prints nothing when no runner reported a file", () => {
      expect(formatSlowestFiles([summarizeStep("production", 1, [])])).to.deep.equal([]);
    });
  });
});

describe("solidityResults", () => {
  // The shape of Hardhat 3.18's `test solidity` task result (solidity-test/task-action.js); its
  // summary is all zeros when the task runs alone, so the counts come from the suites.
  const run = {
    summary: { passed: 0, failed: 0, skipped: 0, todo: 0, failureOutput: "" },
    suiteResults: [
      {
        id: { source: "project/test/contracts/Market.t.sol", name: "MarketTest" },
        durationNs: 2_500_000_000n,
        testResults: [
          { name: "test_settle_paysSeller()", status: "Success" },
          { name: "test_settle_revertsTwice()", status: "Failure", reason: "assertion failed\nat line 3" },
          { name: "testFuzz_price(uint256)", status: "Success" },
          { name: "test_later()", status: "Skipped" },
        ],
      },
    ],
  };

  it("counts by status, names each failed test by file, contract and function, and times each file", () => {
    expect(solidityResults({ success: false, error: run })).to.deep.equal({
      runner: "solidity",
      passed: 2,
      failed: 1,
      skipped: 1,
      failures: [
        {
          title: "test/contracts/Market.t.sol:MarketTest › test_settle_revertsTwice()",
          reason: "assertion failed",
        },
      ],
      files: [{ file: "test/contracts/Market.t.sol", durationMs: 2_500 }],
    });
  });

  it("sums the durations of the suites in one file", () => {
    const twoSuites = {
      ...run,
      suiteResults: [
        run.suiteResults[0]!,
        {
          ...run.suiteResults[0]!,
          id: { ...run.suiteResults[0]!.id, name: "OtherTest" },
          durationNs: 500_000_000n,
        },
      ],
    };
    expect(solidityResults({ success: false, error: twoSuites }).files).to.deep.equal([
      { file: "test/contracts/Market.t.sol", durationMs: 3_000 },
    ]);
  });

  it("reads a passed run from the task's value", () => {
    const passed = {
      ...run,
      suiteResults: [{ ...run.suiteResults[0]!, testResults: [run.suiteResults[0]!.testResults[0]!] }],
    };
    expect(solidityResults({ success: true, value: passed })).to.include({
      passed: 1,
      failed: 0,
      skipped: 0,
    });
  });
});

describe("writeRunnerResults", () => {
  it("writes <runner>.json into the directory test-all.mjs named, readable by parseRunnerResults", () => {
    const dir = mkdtempSync(join(tmpdir(), "gridbrain-results-"));
    try {
      writeRunnerResults(MOCHA_FAILED, { [RESULTS_DIR_ENV]: dir });
      const text = readFileSync(join(dir, "mocha.json"), "utf8");
      expect(parseRunnerResults(text, "mocha.json")).to.deep.equal(MOCHA_FAILED);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("scripts/mocha-results-reporter.cjs", function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "gridbrain-reporter-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the files through a mocha of its own in a child process, configured as hardhat.config.ts configures Hardhat's. */
  const runMocha = (files: readonly string[], output: string) =>
    spawnSync(
      process.execPath,
      [
        "-e",
        `const Mocha = require("mocha");
         const mocha = new Mocha({ reporter: ${JSON.stringify(join(PROJECT_ROOT, "scripts", "mocha-results-reporter.cjs"))},
           reporterOptions: { output: ${JSON.stringify(output)} } });
         for (const file of ${JSON.stringify(files)}) mocha.addFile(file);
         mocha.run((failures) => process.exit(failures > 0 ? 1 : 0));`,
      ],
      { cwd: PROJECT_ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } },
    );

  it("times each file with its hooks, a failed hook too", () => {
    // Each `before` holds the CPU until at least 30 ms have passed by the clock mocha times with,
    // so a file's duration is at least 30 ms exactly when its hook is counted.
    const hold = "const until = Date.now() + 30; while (Date.now() < until) {}";
    const passing = join(dir, "passing.test.cjs");
    const broken = join(dir, "broken.test.cjs");
    writeFileSync(passing, `describe("p", () => { before(() => { ${hold} }); it("passes", () => {}); });`);
    writeFileSync(
      broken,
      `describe("b", () => { before(() => { ${hold}; throw new Error("no redis"); }); it("never runs", () => {}); });`,
    );
    const output = join(dir, "out", "mocha.json");
    const run = runMocha([passing, broken], output);
    expect(run.status, run.stderr).to.equal(1);
    const { files } = parseRunnerResults(readFileSync(output, "utf8"), "mocha.json");
    expect(files.map((f) => f.file)).to.deep.equal([
      relative(PROJECT_ROOT, passing),
      relative(PROJECT_ROOT, broken),
    ]);
    for (const f of files) expect(f.durationMs, f.file).to.be.at.least(30);
  });

  it("writes the counts and each failed test (hooks too) by file and title for a real mocha run", () => {
    const file = join(dir, "sample.test.cjs");
    writeFileSync(
      file,
      [
        'describe("sample", () => {',
        '  it("passes", () => {});',
        '  it("fails", () => { throw new Error("expected 2 to equal 3\\nsecond line"); });',
        '  it("is pending");',
        '  describe("with a broken hook", () => {',
        '    before(() => { throw new Error("no redis"); });',
        '    it("never runs", () => {});',
        "  });",
        "});",
      ].join("\n"),
    );
    const output = join(dir, "out", "mocha.json");
    const run = runMocha([file], output);
    expect(run.status, run.stderr).to.equal(1);
    expect(run.stdout, "the spec output is still printed").to.match(/1 passing/);
    const { files, ...results } = parseRunnerResults(readFileSync(output, "utf8"), "mocha.json");
    const title = (...path: string[]) => [relative(PROJECT_ROOT, file), ...path].join(" › ");
    expect(files.map((f) => f.file)).to.deep.equal([relative(PROJECT_ROOT, file)]);
    expect(results).to.deep.equal({
      runner: "mocha",
      passed: 1,
      failed: 2,
      skipped: 1,
      failures: [
        { title: title("sample", "fails"), reason: "expected 2 to equal 3" },
        {
          title: title("sample", "with a broken hook", '"before all" hook for "never runs"'),
          reason: "no redis",
        },
      ],
    });
  });
});
