/**
 * Traces where the live commit (every battery under a flexibility order at its owner's limits) and
 * the pinned commit part on one day of `npm run bench:value` (`npx tsx bench/value-trace.ts
 * [seed] [sunny|cloudy]`): the first interval whose battery steps differ (both rules start it
 * from the same states of charge, so the difference there is the commit rule alone), with each
 * battery's step, its order's price limits and the commit's zone price under each rule. Used for
 * the trace in docs/BENCHMARKS.md, "Storage value". Also the live steps' cost with each step
 * netted into its household's meter instead of its own account (`costLiveNetted`). A diagnostic, not a test: it asserts nothing.
 */
import { loadHighs } from "../oracle/src/domain/dispatch/index.js";
import { runPolicy, settleInterval, simulateDayData } from "../oracle/src/domain/rolling/day.js";
import { LINES, WEATHER, neighbourhoodFor } from "./value-days.js";
import { batteryPriceThresholds, parseStrategyOptions } from "../oracle/src/domain/simulation/strategy.js";

const seed = Number(process.argv[2] ?? 1);
const weather = (process.argv[3] ?? "cloudy") as keyof typeof WEATHER;
const highs = await loadHighs();
const neighbourhood = neighbourhoodFor(seed);
const { date, cloud } = WEATHER[weather];
const data = simulateDayData({ neighbourhood, date, seed, cloud, lines: LINES }, 32);
const live = runPolicy(data, "rolling", highs);
const pinned = runPolicy(
  { ...data, options: { ...data.options, rollingCommit: "pinned" } },
  "rolling",
  highs,
);
// The live steps valued with each step netted into its household's meter (the valuation of the
// other policies): separates what the commit rule did from what the battery accounts did.
let netted = live.cost - live.intervalCost.reduce((a, b) => a + b, 0n); // the end-of-day SoC value
let nettedPeak = 0;
for (let k = 0; k < data.intervalsPerDay; k++) {
  const s = settleInterval(data, data.intervals[data.dayStart + k]!, live.steps[k]!, highs, false);
  netted += s.cost;
  nettedPeak = Math.max(nettedPeak, s.importWh);
}
const options = parseStrategyOptions();
const owners = neighbourhood.households.filter((h) => h.battery !== null);
const same = (k: number) =>
  owners.every((h) => {
    const a = live.steps[k]!.get(h.id);
    const b = pinned.steps[k]!.get(h.id);
    return (a?.chargeWh ?? 0) === (b?.chargeWh ?? 0) && (a?.dischargeWh ?? 0) === (b?.dischargeWh ?? 0);
  });
const show = (k: number) => ({
  intervalOfDay: k,
  costLive: Number(live.intervalCost[k]),
  costPinned: Number(pinned.intervalCost[k]),
  commitPriceLive: live.commitPrices[k]!.map((p) => p.pricePerKwh),
  commitPricePinned: pinned.commitPrices[k]!.map((p) => p.pricePerKwh),
  settlePriceLive: live.settlePrices[k]!.map((p) => p.pricePerKwh),
  settlePricePinned: pinned.settlePrices[k]!.map((p) => p.pricePerKwh),
  batteries: owners.map((h) => {
    const t = batteryPriceThresholds(h, seed, options);
    const a = live.steps[k]!.get(h.id);
    const b = pinned.steps[k]!.get(h.id);
    return {
      id: h.id,
      zone: h.zone,
      limits: [t.chargeMaxPricePerKwh, t.dischargeMinPricePerKwh],
      live: [a?.chargeWh ?? 0, a?.dischargeWh ?? 0],
      pinned: [b?.chargeWh ?? 0, b?.dischargeWh ?? 0],
    };
  }),
});
let first = -1;
for (let k = 0; k < data.intervalsPerDay && first < 0; k++) if (!same(k)) first = k;
let largest = 0;
let gap = -1n;
for (let k = 0; k < data.intervalsPerDay; k++) {
  const d = live.intervalCost[k]! - pinned.intervalCost[k]!;
  const abs = d < 0n ? -d : d;
  if (abs > gap) [gap, largest] = [abs, k];
}
console.log(
  JSON.stringify(
    {
      seed,
      weather,
      costLive: Number(live.cost),
      costPinned: Number(pinned.cost),
      costLiveNetted: Number(netted),
      peakLive: live.peakImportWh,
      peakLiveNetted: nettedPeak,
      throughputLive: [live.chargeWh, live.dischargeWh].map((xs) => xs.reduce((s, x) => s + x, 0)),
      throughputPinned: [pinned.chargeWh, pinned.dischargeWh].map((xs) => xs.reduce((s, x) => s + x, 0)),
      firstDifference: first < 0 ? null : show(first),
      largestCostDifference: show(largest),
    },
    null,
    1,
  ),
);
