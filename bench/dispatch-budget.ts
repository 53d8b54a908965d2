/**
 * Measures the integer schedule against the contract's budget rule over N random chain-shaped
 * instances (`npx tsx bench/dispatch-budget.ts [N] [seed]`): how many
 * intervals fail the rule, and the integer welfare. Prints one JSON line per instance to stdout
 * when `--lines` is given, else a summary. `--compare before.jsonl after.jsonl` compares two
 * `--lines` runs (e.g. of two versions of the rounding) instance by instance. Used for the figures
 * in docs/DISPATCH.md ("Rounding"), and to check that a refactor of the rounding changes no
 * schedule (`--lines` before and after, then `cmp`).
 *
 * A bench, not a test: it asserts nothing and its output is figures. It lived under test/, where
 * `hardhat test mocha` loaded it as a test file and ran 2,000 solves for a line of JSON; the
 * rule it measures is asserted by test/oracle/domain/dispatch/properties.test.ts (budget rule,
 * 800 chain-shaped instances).
 */
import fc from "fast-check";
import { scheduleBudgets } from "../oracle/src/domain/budget.js";
import { loadHighs, parseDispatchInstance, solveDispatchSync } from "../oracle/src/domain/dispatch/index.js";
import { chainInstanceArb } from "../test/oracle/domain/dispatch/chain-instances.js";

import { readFileSync } from "node:fs";

interface Line {
  bad: number;
  welfareMilli: string;
  lpWelfare: number;
  prices: number[];
  flows: unknown[];
}

if (process.argv.includes("--compare")) {
  const read = (f: string) =>
    readFileSync(f, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Line);
  const at = process.argv.indexOf("--compare");
  const before = read(process.argv[at + 1]!);
  const after = read(process.argv[at + 2]!);
  let pricesOnly = 0;
  let flowsChanged = 0;
  let up = 0n;
  let down = 0n;
  let nUp = 0;
  let nDown = 0;
  let maxDownShare = 0;
  before.forEach((b, i) => {
    const a = after[i]!;
    const wb = BigInt(b.welfareMilli);
    const wa = BigInt(a.welfareMilli);
    if (JSON.stringify(a.flows) !== JSON.stringify(b.flows)) flowsChanged++;
    else if (JSON.stringify(a.prices) !== JSON.stringify(b.prices)) pricesOnly++;
    if (wa > wb) [up, nUp] = [up + wa - wb, nUp + 1];
    if (wa < wb) {
      [down, nDown] = [down + wb - wa, nDown + 1];
      maxDownShare = Math.max(maxDownShare, Number(wb - wa) / (a.lpWelfare * 1000));
    }
  });
  console.log(
    JSON.stringify({
      instances: before.length,
      failingBefore: before.filter((l) => l.bad > 0).length,
      failingIntervalsBefore: before.reduce((s, l) => s + l.bad, 0),
      failingAfter: after.filter((l) => l.bad > 0).length,
      pricesOnly,
      flowsChanged,
      welfareDown: { instances: nDown, milli: down.toString(), maxShareOfLp: maxDownShare },
      welfareUp: { instances: nUp, milli: up.toString() },
    }),
  );
  process.exit(0);
}

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const N = Number(args[0] ?? 2000);
const seed = Number(args[1] ?? 11);
const lines = process.argv.includes("--lines");
const highs = await loadHighs();
let intervals = 0;
let failing = 0;
let instancesFailing = 0;
let withFlows = 0;
for (const [i, input] of fc.sample(chainInstanceArb, { numRuns: N, seed }).entries()) {
  const inst = parseDispatchInstance(input);
  const { schedule, stats } = solveDispatchSync(inst, highs, { method: "lp" });
  const budgets = [...scheduleBudgets(inst, schedule).values()];
  const bad = budgets.filter((b) => !b.balanced).length;
  intervals += budgets.length;
  failing += bad;
  if (bad > 0) instancesFailing++;
  if (schedule.flows.length > 0) withFlows++;
  if (lines)
    console.log(
      JSON.stringify({
        i,
        bad,
        welfareMilli: schedule.welfareMilli,
        lpWelfare: stats.lpWelfare,
        prices: schedule.prices.map((p) => p.pricePerKwh),
        flows: schedule.flows,
      }),
    );
}
if (!lines) console.log(JSON.stringify({ N, seed, withFlows, intervals, failing, instancesFailing }));
