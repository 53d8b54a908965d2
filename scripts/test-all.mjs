// `npm test`: every suite, in the order that fails fastest.
//   1. `hardhat test` on the default profile: Solidity unit/fuzz/invariant tests and every
//      mocha suite under test/ (contracts, oracle units, Redis integration, e2e).
//   2. Solidity tests again on production bytecode (optimizer + viaIR) with the deeper
//      invariant campaign (GRIDBRAIN_INVARIANT_RUNS, 1000 by default).
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
  // Each runner prints its own "N passing"; `hardhat test` adds an indented-less total line
  // ("6 passing (1 solidity, 5 mocha)"), so count only the indented per-runner lines.
  for (const m of plain.matchAll(/^ +(\d+) passing/gm)) passed += Number(m[1]);
  for (const m of plain.matchAll(/^ +(\d+) failing/gm)) failed += Number(m[1]);
  if (output.code !== 0) {
    exitCode = output.code ?? 1;
    if (failed === 0) failed += 1; // a runner that crashed counts as a failure
    break;
  }
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(exitCode);
