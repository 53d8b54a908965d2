#!/usr/bin/env node
// Cold start of `gridbrain dispatch solve examples/dispatch-two-zones.json`: wall time of RUNS
// fresh processes through bin/gridbrain.mjs, compiled (dist/, `npm run build:cli` first) against
// tsx (GRIDBRAIN_FROM_SOURCE=1), alternating so that machine load hits both alike.
// Usage: node bench/cli-cold-start.mjs [runs=5]
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const runs = Number(process.argv[2] ?? 5);
if (!existsSync(new URL("../dist/cli/main.js", import.meta.url))) {
  console.error("dist/cli/main.js is missing: run `npm run build:cli` first");
  process.exit(2);
}
const args = ["bin/gridbrain.mjs", "dispatch", "solve", "examples/dispatch-two-zones.json"];
// `node -e 0` alongside: the floor a process start costs on this machine at this load.
const times = { compiled: [], tsx: [], "node -e 0": [] };
for (let i = 0; i < runs; i++) {
  for (const mode of Object.keys(times)) {
    const env = { ...process.env, GRIDBRAIN_FROM_SOURCE: mode === "tsx" ? "1" : "0" };
    const start = performance.now();
    const argv = mode === "node -e 0" ? ["-e", "0"] : args;
    const r = spawnSync(process.execPath, argv, { cwd: root, env, encoding: "utf8" });
    const ms = performance.now() - start;
    if (r.status !== 0) throw new Error(`${mode} run failed (${r.status}): ${r.stderr}`);
    times[mode].push(ms);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [mode, xs] of Object.entries(times)) {
  console.log(
    `${mode.padEnd(10)} median ${(median(xs) / 1000).toFixed(2)} s  min ${(Math.min(...xs) / 1000).toFixed(2)} s  max ${(Math.max(...xs) / 1000).toFixed(2)} s  (${xs.map((x) => (x / 1000).toFixed(2)).join(", ")})`,
  );
}
