// `npm test`: every suite, in the order that fails fastest.
//   0. `tsc -p tsconfig.build.json --noCheck`: the CLI compiled to dist/, which the tests start (below).
//   1. `hardhat test` on the production profile (optimizer + viaIR, what Ignition deploys):
//      Solidity unit/fuzz/invariant tests and every mocha suite under test/ (contracts, oracle
//      units, Redis integration, e2e).
//   2. Solidity tests again on the same bytecode (no new compile) with the deeper invariant
//      campaign (GRIDBRAIN_INVARIANT_RUNS, 320 by default): runs × depth 32 = 10,240 handler
//      calls per invariant (issue #15 asks for >= 10,000). 320, not the 1,000 it was, keeps
//      `.ci/run` nearer its 30-minute budget; `npm run bench:invariants` runs 3,000 (96,000 calls).
// A failing step ends the run with its exit code. The runners print as usual; their counts and
// failed tests are read from the JSON each writes into a fresh directory (scripts/test-results.ts),
// not from the terminal output. It ends with the 10 slowest test files (mocha and Solidity, per
// step; so the next change to CI time starts from figures), then each step's wall time and counts
// per runner, the failing tests by name, and one plain "N passed, N failed" line summing every runner.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { register } from "tsx/esm/api";

// Through tsx (as `npm run demo` runs): Node imports TypeScript by itself only from 22.18 on, and
// bootstrap.sh accepts any Node 22.
register();
const { RESULTS_DIR_ENV, exitCodeOf, formatSlowestFiles, formatSummary, parseRunnerResults, summarizeStep } =
  await import("./test-results.ts");

const steps = [
  // Not a test: the CLI compiled to dist/ first, so that bin/gridbrain.mjs runs JavaScript in every
  // test that starts it (the CLI tests, devnet, pull settlement, the oracle node processes of the
  // demo and the chaos suite) instead of loading the TypeScript through tsx at each start: ~1.1 s
  // less per call (docs/BENCHMARKS.md, "CI time"). bin/gridbrain.mjs runs dist/ only while it is
  // newer than oracle/src, so no test runs stale code. --noCheck: the same JavaScript as
  // `npm run build:cli` (compared file by file) without its type check, which lint already ran.
  {
    name: "build: the CLI to dist/",
    command: ["tsc", "-p", "tsconfig.build.json", "--noCheck"],
    env: {},
  },
  // On the production profile, as Ignition deploys: every e2e suite deploys through Ignition, whose
  // build profile is production, and the compile cache keeps one entry per file whatever the
  // profile, so on the default profile the first e2e deploy compiled the contracts again through
  // viaIR (~2 min on 2 loaded cores), and step 2 compiled them a third time with the tests. Now one
  // compile serves all three. Lint's `hardhat build` still compiles contracts and tests on the
  // default profile, so what a developer compiles by default stays checked.
  {
    name: "production profile: solidity + mocha",
    command: ["hardhat", "test", "--build-profile", "production"],
    env: {},
  },
  {
    name: "production profile: solidity (deep invariants)",
    command: ["hardhat", "test", "solidity", "--build-profile", "production"],
    env: { GRIDBRAIN_INVARIANT_RUNS: process.env.GRIDBRAIN_INVARIANT_RUNS ?? "320" },
  },
];

// Reads the results the runners wrote; a file that does not have the expected shape is reported as
// a failure of its step (the error names the file and the field), never skipped.
function readResults(dir) {
  const runners = [];
  const problems = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()) {
    try {
      runners.push(parseRunnerResults(readFileSync(join(dir, file), "utf8"), file));
    } catch (error) {
      problems.push({ file, reason: error.message });
    }
  }
  return { runners, problems };
}

const results = [];
for (const step of steps) {
  console.log(`\n=== ${step.name} ===`);
  const dir = mkdtempSync(join(tmpdir(), "gridbrain-test-results-"));
  const started = performance.now();
  const code = await new Promise((resolve) => {
    const child = spawn("npx", step.command, {
      env: { ...process.env, ...step.env, [RESULTS_DIR_ENV]: dir },
      stdio: ["ignore", "inherit", "inherit"],
    });
    // Killed by a signal (no exit code): a failure all the same.
    child.on("close", (exitCode) => resolve(exitCode ?? 1));
  });
  const durationMs = performance.now() - started;
  const { runners, problems } = readResults(dir);
  rmSync(dir, { recursive: true, force: true });
  // An unreadable results file is one more failed "test", named after the file, with the reason.
  const unreadable = problems.map(({ file, reason }) => ({
    runner: file,
    passed: 0,
    failed: 1,
    skipped: 0,
    failures: [{ title: "(results file)", reason }],
    files: [],
  }));
  const result = summarizeStep(step.name, code, [...runners, ...unreadable], durationMs);
  results.push(result);
  if (result.failed > 0 || code !== 0) break;
}
// The slowest files first, so the counts and the totals stay the last lines.
console.log(`\n${[...formatSlowestFiles(results), "", ...formatSummary(results)].join("\n")}`);
process.exit(exitCodeOf(results));
