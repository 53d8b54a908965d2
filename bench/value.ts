/**
 * `npm run bench:value`: what the home batteries of the demo's neighbourhood are worth under the
 * household heuristic, rolling-horizon dispatch on forecasts and perfect foresight, and how good
 * the forecasts are. Writes bench/results/value.json and prints markdown tables.
 *
 * Neighbourhood: the demo's defaults (50 prosumers, 3 zones, defaultGridLayout), seeds 1–3, a
 * sunny and a cloudy day (the simulation has no weather regimes: the day's cloud process is set
 * through its options, see WEATHER). Rows:
 *   { case: "forecast", method, quantity, mae, skill }   — leads 1–32, every interval of every day
 *   { seed, date, weather, noBatteryCost, heuristicCost, oracleCost, perfectForesightCost,
 *     oracleShare, heuristicShare, peakImportWh: {…}, oracleHeuristicLimitsShare,
 *     knownFutureShare, knownFutureLeadOneShare, householdFollowingShare, zoneFollowingShare,
 *     oraclePinnedCost, oraclePinnedShare,
 *     oracleBeforeShare, oracleDayEndOnlyShare, oracleMetersShare, oracleQuantileShare, … }
 *     — (c) = oracle is committed as the live committee commits (every battery under a
 *     flexibility order at its owner's limits, rolling/day.ts `rollingCommit: "flex"`, the
 *     demo's `standingOrderPriceLimits`) and the batteries do what the demo's do by default:
 *     follow their zone in real time and re-synchronise the contract's scheduled SoC
 *     and the committee plans interval i on the meter report of i − 2
 *     (LIVE_BATTERY_CONTROL; oracleStepsShort, oracleResyncs); oracleWithoutFollowing = the
 *     same commit with the batteries on their steps only ((c) before session 13);
 *     oracleWithoutMeterSurplus = (c) with interval i planned on its orders ((c) of session 13);
 *     oracleWithBatterySubMeters = (c) planned on every household's own surplus, as battery
 *     sub-meters would give it (the committee estimates it from the households without a battery);
 *     heuristicLimits = oracleWithoutFollowing at the heuristic's
 *     thresholds; knownFuture(LeadOne) = bounds on what a better forecast could give (below);
 *     oraclePinned = the same plan with every battery pinned to its move (the commit before);
 *     the last four are (c) pinned with one rule changed (docs/BENCHMARKS.md, "Value")
 *   { case: "rolling-horizon solve", prosumers: 1000, batteries: 300, horizon: 96, ms, columns,
 *     columnsWithoutMerging, cpuMs, loadAverage1m }
 *
 * Smaller runs while developing: VALUE_SEEDS=1 VALUE_WEATHER=sunny VALUE_BIG=0 npm run bench:value
 * (results are then not written unless VALUE_WRITE=1).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { loadHighs, solveRollingInWorker, warmUpSolver } from "../oracle/src/domain/dispatch/index.js";
import {
  FORECAST_METHODS,
  FORECAST_QUANTITIES,
  forecastZones,
  type ForecastMethod,
  type ForecastQuantity,
  type ZoneIntervalObservation,
} from "../oracle/src/domain/forecast/index.js";
import { buildRollingInstance } from "../oracle/src/domain/rolling/index.js";
import {
  rollingInputAt,
  runPolicy,
  simulateDayData,
  type DayData,
  type PolicyOutcome,
} from "../oracle/src/domain/rolling/day.js";
import { DEFAULT_SOC_RESYNC_WH } from "../oracle/src/domain/simulation/soc-resync.js";

/**
 * What the live system does beside the committed steps: the batteries follow their zone
 * (docs/DISPATCH.md, "Zone following"), their owners re-synchronise the scheduled SoC, and the
 * committee plans interval i on the meter report of i − 2 ("Interval i's surplus from the meters").
 */
const LIVE_BATTERY_CONTROL = {
  meterFollowing: "zone",
  socSync: "lag",
  socResyncWh: DEFAULT_SOC_RESYNC_WH,
  surplusForecast: "meters",
} as const;
import { generateNeighbourhood } from "../oracle/src/domain/simulation/index.js";
import { LINES, WEATHER, neighbourhoodFor, type Weather } from "./value-days.js";

const seeds =
  process.env.VALUE_SEEDS === "none" ? [] : (process.env.VALUE_SEEDS ?? "1,2,3").split(",").map(Number);
const weathers = (process.env.VALUE_WEATHER ?? "sunny,cloudy").split(",") as Weather[];
const big = process.env.VALUE_BIG !== "0";
const write = process.env.VALUE_WRITE === "1" || (process.env.VALUE_SEEDS === undefined && big);
const LEADS = 32;

const highs = await loadHighs();
const rows: unknown[] = [];

// ---- forecasts ------------------------------------------------------------------------------
const errors = new Map<string, { sum: number; n: number }>();
const addError = (method: ForecastMethod, q: ForecastQuantity, weather: string, e: number) => {
  for (const key of [`${method}|${q}|all`, `${method}|${q}|${weather}`]) {
    const acc = errors.get(key) ?? { sum: 0, n: 0 };
    acc.sum += e;
    acc.n++;
    errors.set(key, acc);
  }
};

function evaluateForecasts(data: DayData, weather: string): void {
  const actual = new Map(data.history.map((h) => [`${h.zone}:${h.intervalId}`, h]));
  const first = data.intervals[data.dayStart]!.intervalId;
  for (let k = 0; k < data.intervalsPerDay; k++) {
    const origin = first + k; // orders of `origin` known, forecast origin+1 … origin+LEADS
    const history: ZoneIntervalObservation[] = data.history.filter((h) => h.intervalId <= origin);
    for (const method of FORECAST_METHODS) {
      const forecast = forecastZones(
        {
          firstInterval: origin + 1,
          intervals: LEADS,
          intervalSeconds: data.intervalSeconds,
          zones: [...data.zones],
          history,
          pvWpByZone: { ...data.pvWpByZone },
          location: { ...data.options.neighbourhood.location },
          intervalsPerDay: data.intervalsPerDay,
        },
        method,
      );
      for (const f of forecast) {
        const a = actual.get(`${f.zone}:${f.intervalId}`);
        if (a === undefined) continue;
        for (const q of FORECAST_QUANTITIES) {
          // A price is only an error where there is volume to price.
          if (q === "bidPricePerKwh" && a.bidWh === 0) continue;
          if (q === "offerPricePerKwh" && a.offerWh === 0) continue;
          addError(method, q, weather, Math.abs(f[q] - a[q]));
        }
      }
    }
  }
}

// ---- value ----------------------------------------------------------------------------------
const valueRows: Array<Record<string, unknown>> = [];
for (const seed of seeds) {
  for (const weather of weathers) {
    const t0 = performance.now();
    const { date, cloud } = WEATHER[weather];
    const data = simulateDayData(
      { neighbourhood: neighbourhoodFor(seed), date, seed, cloud, lines: LINES },
      LEADS,
    );
    evaluateForecasts(data, weather);
    const none = runPolicy(data, "none", highs);
    const heuristic = runPolicy(data, "heuristic", highs);
    // (c) is the live rule: the committee's rolling commit through the owners' flexibility orders,
    // the batteries following their zones in real time, and their owners re-synchronising the
    // contract's scheduled SoC from their meters (what the demo runs by default, demo/resync.ts).
    const oracle = runPolicy(
      { ...data, options: { ...data.options, ...LIVE_BATTERY_CONTROL } },
      "rolling",
      highs,
    );
    // The same commit with the batteries doing their committed steps only: (c) before session 13.
    const withoutFollowing = runPolicy(data, "rolling", highs);
    // The live rule with interval i planned on its orders, not the meters: (c) of session 13.
    const withoutMeterSurplus = runPolicy(
      { ...data, options: { ...data.options, ...LIVE_BATTERY_CONTROL, surplusForecast: "orders" } },
      "rolling",
      highs,
    );
    // The live rule with the surplus every household's own meter would show if each battery had a
    // sub-meter (the exact inflexible surplus), not the committee's estimate without them.
    const withBatterySubMeters = runPolicy(
      { ...data, options: { ...data.options, ...LIVE_BATTERY_CONTROL, meterScope: "households" } },
      "rolling",
      highs,
    );
    const perfect = runPolicy(data, "perfect", highs);
    // Diagnostics, each one change against (c) pinned (the commit they were measured with): the
    // commit rule itself, the rule before (H ≥ 32, leftovers worth nothing to the plan), and the
    // two interval-i surplus forecasts (docs/DISPATCH.md, "Interval i's surplus from the meters").
    const variant = (over: Partial<DayData["options"]>) =>
      runPolicy(
        { ...data, options: { ...data.options, rollingCommit: "pinned", ...over } },
        "rolling",
        highs,
      );
    const pinned = variant({});
    // The commit with the owners' limits of the household heuristic (what the demo's owners
    // placed before `standingOrderPriceLimits`), and two bounds on what a better forecast could
    // give: the plan knows every interval after i exactly ("known future"), and in addition the
    // households order interval i knowing the cloud index of i − 1 instead of i − 2 (a gate
    // closure the market's timeline does not allow; docs/MARKET_RULES.md, "Timeline").
    const heuristicLimits = runPolicy(
      { ...data, options: { ...data.options, ownerLimits: "heuristic" } },
      "rolling",
      highs,
    );
    const knownFuture = variant({ futureForecast: "actual" });
    // Batteries that also follow a real-time signal after gate closure (their household's or their
    // zone's deviation from the forecast): not a rule the contract has, a measure of its worth.
    const householdFollowing = variant({ meterFollowing: "household" });
    const zoneFollowing = variant({ meterFollowing: "zone" });
    const leadOne = simulateDayData(
      {
        neighbourhood: neighbourhoodFor(seed),
        date,
        seed,
        cloud: { ...cloud, forecastLeadSteps: 1 },
        lines: LINES,
      },
      LEADS,
    );
    // Only what the households know when they order changes, not what happens: (a) and (d) must
    // be the same day, or the share below would compare different days.
    if (runPolicy(leadOne, "none", highs).cost !== none.cost)
      throw new Error(`seed ${seed} ${weather}: a 1-interval lead changed the metered day`);
    const knownFutureLeadOne = runPolicy(
      { ...leadOne, options: { ...leadOne.options, rollingCommit: "pinned", futureForecast: "actual" } },
      "rolling",
      highs,
    );
    const before = variant({ horizon: "atLeastMin", endValuePerKwh: 0, offerLeadPremiumPerKwh: 0 });
    const dayEndOnly = variant({ offerLeadPremiumPerKwh: 0 });
    const meters = variant({ surplusForecast: "meters", meterScope: "households" });
    const quantile = variant({ surplusForecast: "quantile" });
    const share = (c: bigint) =>
      none.cost === perfect.cost ? null : Number(none.cost - c) / Number(none.cost - perfect.cost);
    const row = {
      seed,
      date,
      weather,
      batteries: data.options.neighbourhood.households.filter((h) => h.battery !== null).length,
      noBatteryCost: Number(none.cost),
      heuristicCost: Number(heuristic.cost),
      oracleCost: Number(oracle.cost),
      perfectForesightCost: Number(perfect.cost),
      oracleShare: share(oracle.cost),
      oracleStepsShort: oracle.stepsShort,
      oracleResyncs: oracle.resyncs,
      oracleWithoutFollowingCost: Number(withoutFollowing.cost),
      oracleWithoutFollowingShare: share(withoutFollowing.cost),
      oracleWithoutMeterSurplusCost: Number(withoutMeterSurplus.cost),
      oracleWithoutMeterSurplusShare: share(withoutMeterSurplus.cost),
      oracleWithBatterySubMetersShare: share(withBatterySubMeters.cost),
      // Diagnostics (see above).
      oracleHeuristicLimitsCost: Number(heuristicLimits.cost),
      oracleHeuristicLimitsShare: share(heuristicLimits.cost),
      knownFutureShare: share(knownFuture.cost),
      knownFutureLeadOneShare: share(knownFutureLeadOne.cost),
      householdFollowingShare: share(householdFollowing.cost),
      zoneFollowingShare: share(zoneFollowing.cost),
      oraclePinnedCost: Number(pinned.cost),
      oraclePinnedShare: share(pinned.cost),
      oracleBeforeCost: Number(before.cost),
      oracleBeforeShare: share(before.cost),
      oracleDayEndOnlyShare: share(dayEndOnly.cost),
      oracleMetersShare: share(meters.cost),
      oracleQuantileShare: share(quantile.cost),
      heuristicShare: share(heuristic.cost),
      peakImportWh: {
        noBattery: none.peakImportWh,
        heuristic: heuristic.peakImportWh,
        oracle: oracle.peakImportWh,
        perfectForesight: perfect.peakImportWh,
        oracleWithoutFollowing: withoutFollowing.peakImportWh,
        oracleWithoutMeterSurplus: withoutMeterSurplus.peakImportWh,
        oracleHeuristicLimits: heuristicLimits.peakImportWh,
        oraclePinned: pinned.peakImportWh,
        oracleBefore: before.peakImportWh,
        oracleDayEndOnly: dayEndOnly.peakImportWh,
        oracleMeters: meters.peakImportWh,
        oracleQuantile: quantile.peakImportWh,
      },
      storedDeltaWh: {
        heuristic: heuristic.storedDeltaWh,
        oracle: oracle.storedDeltaWh,
        oraclePinned: pinned.storedDeltaWh,
        oracleBefore: before.storedDeltaWh,
        perfectForesight: perfect.storedDeltaWh,
      },
      throughputWh: {
        heuristic: sum(heuristic.chargeWh) + sum(heuristic.dischargeWh),
        oracle: sum(oracle.chargeWh) + sum(oracle.dischargeWh),
        oraclePinned: sum(pinned.chargeWh) + sum(pinned.dischargeWh),
        perfectForesight: sum(perfect.chargeWh) + sum(perfect.dischargeWh),
      },
      relaxedSolves: oracle.relaxedSolves,
      // Where the two commits' battery moves part (largest |cost difference| interval; for the trace).
      largestDifference: largestDifference(oracle, pinned),
      seconds: Math.round((performance.now() - t0) / 100) / 10,
    };
    valueRows.push(row);
    process.stderr.write(`${JSON.stringify(row)}\n`);
  }
}

/** The interval where the live and the pinned commit's costs differ most, with both sides' data. */
function largestDifference(live: PolicyOutcome, pinned: PolicyOutcome) {
  let k = 0;
  const diff = (j: number) => live.intervalCost[j]! - pinned.intervalCost[j]!;
  for (let j = 1; j < live.intervalCost.length; j++) {
    const d = diff(j);
    const best = diff(k);
    if ((d < 0n ? -d : d) > (best < 0n ? -best : best)) k = j;
  }
  const side = (o: PolicyOutcome) => ({
    cost: Number(o.intervalCost[k]),
    chargeWh: o.chargeWh[k],
    dischargeWh: o.dischargeWh[k],
    commitPrices: o.commitPrices[k]!.map((p) => p.pricePerKwh),
    settlePrices: o.settlePrices[k]!.map((p) => p.pricePerKwh),
    steps: Object.fromEntries(
      [...o.steps[k]!].filter(([, s]) => s.chargeWh + s.dischargeWh > 0).map(([id, s]) => [id, s]),
    ),
  });
  return { intervalOfDay: k, live: side(live), pinned: side(pinned) };
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

const forecastRows: Array<Record<string, unknown>> = [];
for (const scope of ["all", ...weathers]) {
  for (const q of FORECAST_QUANTITIES) {
    const base = errors.get(`persistence|${q}|${scope}`);
    for (const method of FORECAST_METHODS) {
      const e = errors.get(`${method}|${q}|${scope}`);
      if (e === undefined || base === undefined) continue;
      const mae = e.sum / e.n;
      const maeP = base.sum / base.n;
      forecastRows.push({
        case: "forecast",
        scope,
        quantity: q,
        method,
        mae: Math.round(mae * 10) / 10,
        skill: maeP === 0 ? null : Math.round((1 - mae / maeP) * 1000) / 1000,
        samples: e.n,
      });
    }
  }
}
rows.push(...forecastRows, ...valueRows);

// ---- one big rolling-horizon solve, through the solver thread ---------------------------------
if (big) {
  // 1,000 prosumers; a battery share that gives ≥ 300 batteries, of which the first 300 are used.
  const nb = generateNeighbourhood({ seed: 1, prosumers: 1000, zones: 3, batteryShareOfPv: 0.6 });
  const owners = nb.households.filter((h) => h.battery !== null).slice(0, 300);
  const data = simulateDayData({
    neighbourhood: nb,
    date: WEATHER.sunny.date,
    seed: 1,
    cloud: WEATHER.sunny.cloud,
    lines: LINES,
    horizon: 96,
  });
  const soc = new Map(owners.map((h) => [h.id, h.battery!.initialSocWh]));
  // 06:00, the start of the PV day: every battery has a decision to make over the next 24 h. The
  // input carries the 300 batteries' flexibility orders (`flex`), as the live committee's does.
  const input = rollingInputAt(data, 24, soc, soc, owners);
  // The same model without merging identical-price orders: size only (the solve is not repeated).
  const { indexInstance, Layout } = await import("../oracle/src/domain/dispatch/indexed.js");
  const unmerged = new Layout(indexInstance(buildRollingInstance(input)));
  await warmUpSolver(); // start the thread and load HiGHS outside the timing
  const t0 = performance.now();
  const cpu0 = process.cpuUsage(); // the whole process, the solver thread included
  const result = await solveRollingInWorker(input);
  const ms = Math.round(performance.now() - t0);
  const cpu = process.cpuUsage(cpu0);
  rows.push({
    case: "rolling-horizon solve",
    prosumers: 1000,
    batteries: owners.length,
    horizon: 96,
    orders: input.orders.length,
    // Every battery under a flexibility order, as the live committee commits (rolling/day.ts).
    flexOrders: input.flex?.length ?? 0,
    forecastIntervals: (input.forecast?.length ?? 0) / 3,
    columns: result.stats.columns,
    lpRows: result.stats.rows,
    columnsWithoutMerging: unmerged.numCols,
    solveMs: Math.round(result.stats.solveMs),
    ms,
    // Wall time on a shared machine; CPU time and the load average say how much was waiting.
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    loadAverage1m: Math.round(loadavg()[0]! * 10) / 10,
    measuredAt: new Date().toISOString(),
  });
}

// ---- print ----------------------------------------------------------------------------------
const lines: string[] = [];
lines.push("| scope | quantity | method | MAE | skill vs persistence |", "|---|---|---|---:|---:|");
for (const r of forecastRows)
  lines.push(`| ${r.scope} | ${r.quantity} | ${r.method} | ${r.mae} | ${r.skill} |`);
lines.push(
  "",
  "| seed | weather | (a) none | (b) heuristic | (c) oracle | (d) perfect | (c) share | (b) share | (c) without following | (c) on orders | (c) battery sub-meters | (c) heuristic limits | (c) pinned | known future | known future, lead 1 | household following | zone following | (c) before | (c) day end only | (c) meters | (c) quantile | peak import a/b/c/d Wh |",
  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
);
for (const r of valueRows) {
  const p = r.peakImportWh as Record<string, number>;
  const pct = (x: unknown) => (typeof x === "number" ? `${(x * 100).toFixed(1)}%` : "–");
  lines.push(
    `| ${r.seed} | ${r.weather} | ${r.noBatteryCost} | ${r.heuristicCost} | ${r.oracleCost} | ${r.perfectForesightCost} | ${pct(r.oracleShare)} | ${pct(r.heuristicShare)} | ${pct(r.oracleWithoutFollowingShare)} | ${pct(r.oracleWithoutMeterSurplusShare)} | ${pct(r.oracleWithBatterySubMetersShare)} | ${pct(r.oracleHeuristicLimitsShare)} | ${pct(r.oraclePinnedShare)} | ${pct(r.knownFutureShare)} | ${pct(r.knownFutureLeadOneShare)} | ${pct(r.householdFollowingShare)} | ${pct(r.zoneFollowingShare)} | ${pct(r.oracleBeforeShare)} | ${pct(r.oracleDayEndOnlyShare)} | ${pct(r.oracleMetersShare)} | ${pct(r.oracleQuantileShare)} | ${p.noBattery}/${p.heuristic}/${p.oracle}/${p.perfectForesight} (pinned ${p.oraclePinned}) |`,
  );
}
for (const r of rows)
  if ((r as { case?: string }).case === "rolling-horizon solve") lines.push("", JSON.stringify(r));
process.stdout.write(lines.join("\n") + "\n");
if (write) {
  // What this run did not measure is kept from the file: VALUE_BIG=0 VALUE_WRITE=1 re-measures the
  // days and keeps the solve row (its `measuredAt` says when), so a run on a busy machine does not
  // overwrite a quiet one's timing; VALUE_SEEDS=none VALUE_WRITE=1 re-times the solve alone.
  const previous = JSON.parse(readFileSync(new URL("./results/value.json", import.meta.url), "utf8")) as {
    case?: string;
  }[];
  const isSolve = (r: { case?: string }) => r.case === "rolling-horizon solve";
  if (!big) rows.push(...previous.filter(isSolve));
  if (seeds.length === 0) rows.unshift(...previous.filter((r) => !isSolve(r)));
  writeFileSync(new URL("./results/value.json", import.meta.url), JSON.stringify(rows, null, 2) + "\n");
  process.stdout.write("→ bench/results/value.json\n");
}
