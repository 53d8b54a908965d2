#!/usr/bin/env node
// The `gridbrain` command. It runs the compiled JavaScript in dist/ (`npm run build`) when that is
// at least as new as every file under oracle/src: a production install (`npm ci --omit=dev`) has
// no tsx, and compiling TypeScript at every start cost 2–5 s per call (docs/BENCHMARKS.md).
// Otherwise — a dev checkout without a build, or one edited since the last build — it runs the
// TypeScript through tsx's loader, so that an edit is never shadowed by a stale dist/.
// GRIDBRAIN_FROM_SOURCE=1 forces the source. Without tsx (a production install) it runs dist/
// whatever the times.
import { readdirSync, statSync } from "node:fs";
import module from "node:module";

// V8's code cache on disk (Node >= 22.1; in the OS temp dir, or NODE_COMPILE_CACHE): later starts
// skip compiling viem & co., most of what a cold start spends (docs/BENCHMARKS.md).
module.enableCompileCache?.();

const compiled = new URL("../dist/cli/main.js", import.meta.url);
const sources = new URL("../oracle/src/", import.meta.url);

function mtime(url) {
  try {
    return statSync(url).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The newest modification time under `dir` (0 when it does not exist, as in a dist-only install). */
function newest(dir) {
  let max = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const url = new URL(e.isDirectory() ? `${e.name}/` : e.name, dir);
    max = Math.max(max, e.isDirectory() ? newest(url) : (mtime(url) ?? 0));
  }
  return max;
}

const built = mtime(compiled);
if (process.env.GRIDBRAIN_FROM_SOURCE !== "1" && built !== undefined && built >= newest(sources)) {
  await import(compiled.href);
} else {
  let tsx;
  try {
    tsx = await import("tsx/esm/api");
  } catch (error) {
    if (error?.code !== "ERR_MODULE_NOT_FOUND") throw error;
  }
  if (tsx !== undefined) {
    tsx.register();
    await import("../oracle/src/cli/main.ts");
  } else if (built !== undefined) {
    // A production install (no tsx) whose sources look newer than dist/, e.g. copied after the
    // build: the compiled CLI is all there is to run.
    process.stderr.write(
      "gridbrain: dist/ is older than oracle/src and tsx is not installed; running dist/\n",
    );
    await import(compiled.href);
  } else {
    process.stderr.write(
      "gridbrain: no compiled dist/ and no tsx: run `npm run build:cli` (needs the devDependencies)\n",
    );
    process.exitCode = 2;
  }
}
