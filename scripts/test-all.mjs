// `npm test`: every suite, in the order that fails fastest.
//   1. `hardhat test` on the default profile: Solidity unit/fuzz/invariant tests and every
//      mocha suite under test/ (contracts, oracle units, Redis integration, e2e).
//   2. Solidity tests again on production bytecode (optimizer + viaIR) with the deeper
//      invariant campaign (GRIDBRAIN_INVARIANT_RUNS, 1000 by default): runs × depth 32 =
//      32,000 handler calls per invariant (issue #15 asks for >= 10,000).
// It ends with one plain "N passed, N failed" line summing every runner.
import { spawn } from "node:child_process";

const steps = [
  { name: "default profile: solidity + mocha", args: ["test"], env: {} },
  {
    name: "production profile: solidity (deep invariants)",
    args: ["test", "solidity", "--build-profile", "production"],
    env: { GRIDBRAIN_INVARIANT_RUNS: process.env.GRIDBRAIN_INVARIANT_RUNS ?? "1000" },
  },
];

let passed = 0;
let failed = 0;
let skipped = 0;
let exitCode = 0;
for (const step of steps) {
  console.log(`\n=== ${step.name} ===`);
  const output = await new Promise((resolve) => {
    const child = spawn("npx", ["hardhat", ...step.args], {
      env: { ...process.env, ...step.env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let text = "";
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      text += chunk.toString();
    });
    child.on("close", (code) => resolve({ code, text }));
  });
  // Strip colour codes before reading the runners' "N passing" / "N failing" lines.
  const plain = output.text.replace(/\u001b\[[0-9;]*m/g, "");
  // `hardhat test` (every runner) ends with unindented totals, "450 passing (151 solidity,
  // 299 mocha)" and "N failing (…)"; there the Solidity runner prints no line of its own. A single
  // runner (`hardhat test solidity`) prints only its indented "  N passing". Count the totals when
  // present, else the per-runner lines, so that nothing is counted twice or missed.
  const count = (label) => {
    const totals = [...plain.matchAll(new RegExp(`^(\\d+) ${label} \\(`, "gm"))];
    const lines = totals.length > 0 ? totals : [...plain.matchAll(new RegExp(`^ +(\\d+) ${label}\\b`, "gm"))];
    return lines.reduce((sum, m) => sum + Number(m[1]), 0);
  };
  passed += count("passing");
  failed += count("failing");
  // Skipped tests: "N skipped (…)" in the totals, mocha's own "  N pending" otherwise.
  skipped += /^\d+ passing \(/m.test(plain) ? count("skipped") : count("pending");
  if (output.code !== 0) {
    exitCode = output.code ?? 1;
    if (failed === 0) failed += 1; // a runner that crashed counts as a failure
    break;
  }
}
console.log(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(exitCode);
