/**
 * Helper process for the cross-process determinism test: `node --import tsx print-schedule.ts
 * <instance.json>` writes the canonical schedule bytes to stdout. Does nothing when imported.
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { canonicalBytes, solveDispatch } from "../../../../oracle/src/domain/dispatch/index.js";

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const input: unknown = JSON.parse(readFileSync(process.argv[2]!, "utf8"));
  const { schedule } = await solveDispatch(input);
  process.stdout.write(canonicalBytes(schedule));
}
