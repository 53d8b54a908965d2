/**
 * Measures the integer schedule against the contract's budget rule over N random chain-shaped
 * instances (`npx tsx test/oracle/domain/dispatch/measure-budget.ts [N] [seed]`): how many
 * intervals fail the rule, and the integer welfare. Prints one JSON line per instance to stdout
 * when `--lines` is given, else a summary. Used for the figures in docs/DISPATCH.md ("Rounding").
 */
import fc from "fast-check";
import { scheduleBudgets } from "../../../../oracle/src/domain/budget.js";
import {
  loadHighs,
  parseDispatchInstance,
  solveDispatchSync,
} from "../../../../oracle/src/domain/dispatch/index.js";
import { chainInstanceArb } from "./chain-instances.js";

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
