/**
 * The demo's closing summary and its self-contained HTML report (inline SVG, no scripts, no
 * network): zone prices over the day, supply and demand, battery state of charge, each battery's
 * committed schedule and what it earned, and net zone imports (the energy the lines carried into
 * each zone).
 */
import type { Address } from "viem";
import { type BatteryOutcome, batteryOutcomes } from "../domain/battery-outcomes.js";
import {
  type HouseholdClass,
  type HouseholdOutcome,
  householdOutcomes,
} from "../domain/household-outcomes.js";
import type { FlexLedger, Ledger } from "../domain/ledger.js";
import { PHASES, type IntervalRecord, type Phase, type UndoneAction } from "./run.js";

/** Who is who and the tariffs, for the per-household accounting. */
export interface SummaryAccounting {
  /**
   * Every household: its address, class, zone (a reader groups the imbalances by zone with it) and
   * whether its meter is registered as solar (with the batteries' owners, what a reader recomputes
   * each meter report's zoneSurplusWh from).
   */
  readonly households: readonly {
    readonly address: Address;
    readonly class: HouseholdClass;
    readonly zone: number;
    readonly solar: boolean;
  }[];
  readonly gridAccounts: readonly Address[];
  readonly retailPerKwh: bigint;
  readonly feedInPerKwh: bigint;
  /** Every battery: registry id, owner, state of charge before the first interval, and (as registered) its
   * zone and efficiencies, with which a reader recomputes its steps' amounts and scheduled SoC. */
  readonly batteries: readonly {
    readonly batteryId: number;
    readonly owner: Address;
    readonly initialSocWh: bigint;
    readonly zone: number;
    readonly chargeEfficiencyBps: number;
    readonly dischargeEfficiencyBps: number;
  }[];
}

/**
 * The batteries under their standing flexibility orders, from the FlexStepSettled events alone
 * (domain/battery-outcomes.ts), and how often a battery could not do its whole step.
 */
export interface BatteriesSummary {
  readonly count: number;
  readonly chargedWh: bigint;
  readonly dischargedWh: bigint;
  readonly chargeCost: bigint;
  readonly dischargeCredit: bigint;
  /** Σ discharge credits − Σ charge costs. */
  readonly earned: bigint;
  /** Settled steps (one per battery and scheduled interval). */
  readonly steps: number;
  /** Steps a battery could not do in full (settled step plus zone share; its simulated SoC did not allow it). */
  readonly notFollowed: number;
  /** Of those, steps a battery did less of than its settled step (its SoC had drifted from the schedule). */
  readonly settledStepsShort: number;
  /** Zone following over the run (Wh): absorbed unscheduled surplus, supplied unscheduled shortfall. */
  readonly followedAbsorbedWh: number;
  readonly followedSuppliedWh: number;
  /** Orders changed to re-synchronise the contract's scheduled SoC with the batteries' meters (demo/resync.ts). */
  readonly orderResyncs: number;
  readonly perBattery: readonly BatteryOutcome[];
}

/** Households' figures (token base units): computed from the chain events and meter readings. */
export interface HouseholdsSummary {
  readonly count: number;
  readonly netCost: bigint;
  readonly gridAloneCost: bigint;
  readonly fillsNet: bigint;
  /** Their batteries' charge costs − discharge credits. */
  readonly flexNet: bigint;
  readonly imbalanceCharged: bigint;
  readonly imbalancePaid: bigint;
  readonly worseOff: number;
  readonly worseOffBeyond2Percent: number;
  readonly savingMin: bigint;
  readonly savingMedian: bigint;
  readonly savingMax: bigint;
  readonly worst: HouseholdOutcome | undefined;
  readonly imbalanceWhByClass: Readonly<Record<HouseholdClass, bigint>>;
  readonly perHousehold: readonly HouseholdOutcome[];
}

export interface DemoSummary {
  readonly intervals: number;
  readonly finalIntervals: number;
  readonly tradedLocallyWh: bigint;
  readonly boughtFromGridWh: bigint;
  readonly soldToGridWh: bigint;
  readonly consumptionWh: number;
  readonly selfSufficiency: number;
  readonly averageZonePrices: readonly number[];
  readonly households: HouseholdsSummary;
  readonly batteries: BatteriesSummary;
  /** The grid's revenue, on its own line: its accounts' supply − offtake, plus short charges billed outside. */
  readonly grid: {
    readonly revenue: bigint;
    readonly fillsNet: bigint;
    readonly billedOutsideMarket: bigint;
  };
  readonly imbalanceWh: bigint;
  readonly imbalanceShortWh: bigint;
  readonly certificatesWh: bigint;
  readonly gasPerInterval: number;
  /** Mean wall time per interval of each demo step (ms). */
  readonly phaseMsPerInterval: Readonly<Record<Phase, number>>;
  readonly fundsConserved: boolean;
  /** What the demo could not do (a node down when readings were posted, a failed send), one line each. */
  readonly undone: readonly string[];
}

export function summarize(
  records: readonly IntervalRecord[],
  fundsConserved: boolean,
  accounting: SummaryAccounting,
  undone: readonly UndoneAction[] = [],
): DemoSummary {
  let bought = 0n;
  let gridSupply = 0n;
  let gridOfftake = 0n;
  let imbalanceWh = 0n;
  let imbalanceShortWh = 0n;
  let certificatesWh = 0n;
  let gas = 0n;
  let consumptionWh = 0;
  const priceSums: number[] = [];
  const priceCounts: number[] = [];
  for (const r of records) {
    for (const z of r.zones) {
      bought += z.bought;
      gridSupply += z.gridSupply;
      gridOfftake += z.gridOfftake;
    }
    r.zonePrices.forEach((p, z) => {
      priceSums[z] = (priceSums[z] ?? 0) + Number(p);
      priceCounts[z] = (priceCounts[z] ?? 0) + 1;
    });
    imbalanceWh += r.imbalanceWh;
    imbalanceShortWh += r.imbalanceShortWh;
    certificatesWh += r.certificatesWh;
    gas += r.gasUsed;
    consumptionWh += r.actualLoadWh;
  }
  const tradedLocally = bought > gridSupply ? bought - gridSupply : 0n;
  const outcomes = householdOutcomes({ ...accounting, intervals: records.map((r) => r.ledger) });
  const batteries = batteryOutcomes({
    batteries: accounting.batteries,
    intervals: records.map((r) => r.ledger),
  });
  return {
    intervals: records.length,
    finalIntervals: records.filter((r) => r.final).length,
    tradedLocallyWh: tradedLocally,
    boughtFromGridWh: gridSupply,
    soldToGridWh: gridOfftake,
    consumptionWh,
    selfSufficiency: consumptionWh === 0 ? 0 : 1 - Number(gridSupply) / consumptionWh,
    averageZonePrices: priceSums.map((s, z) => s / (priceCounts[z] ?? 1)),
    households: {
      count: outcomes.count,
      netCost: outcomes.netCost,
      gridAloneCost: outcomes.gridAloneCost,
      fillsNet: outcomes.fillsNet,
      flexNet: outcomes.flexNet,
      imbalanceCharged: outcomes.imbalanceCharged,
      imbalancePaid: outcomes.imbalancePaid,
      worseOff: outcomes.worseOff,
      worseOffBeyond2Percent: outcomes.worseOffBeyond2Percent,
      savingMin: outcomes.savingMin,
      savingMedian: outcomes.savingMedian,
      savingMax: outcomes.savingMax,
      worst: outcomes.worst,
      imbalanceWhByClass: outcomes.imbalanceWhByClass,
      perHousehold: outcomes.households,
    },
    batteries: {
      count: batteries.batteries.length,
      chargedWh: batteries.chargedWh,
      dischargedWh: batteries.dischargedWh,
      chargeCost: batteries.chargeCost,
      dischargeCredit: batteries.dischargeCredit,
      earned: batteries.earned,
      steps: records.reduce((n, r) => n + (r.ledger.flexSteps?.length ?? 0), 0),
      notFollowed: records.reduce((n, r) => n + r.batteriesNotFollowing, 0),
      settledStepsShort: records.reduce((n, r) => n + (r.settledStepsShort ?? 0), 0),
      followedAbsorbedWh: records.reduce((n, r) => n + r.batteryFollowedWh.absorbedWh, 0),
      followedSuppliedWh: records.reduce((n, r) => n + r.batteryFollowedWh.suppliedWh, 0),
      orderResyncs: records.reduce((n, r) => n + (r.flexResyncs?.length ?? 0), 0),
      perBattery: batteries.batteries,
    },
    grid: outcomes.grid,
    imbalanceWh,
    imbalanceShortWh,
    certificatesWh,
    gasPerInterval: records.length === 0 ? 0 : Number(gas) / records.length,
    phaseMsPerInterval: Object.fromEntries(
      PHASES.map((phase) => [
        phase,
        records.length === 0 ? 0 : records.reduce((sum, r) => sum + r.phaseMs[phase], 0) / records.length,
      ]),
    ) as Record<Phase, number>,
    fundsConserved,
    undone: undone.map((u) => `interval ${u.intervalId}: ${u.action}: ${u.reason}`),
  };
}

const kwh = (wh: bigint | number) => (Number(wh) / 1000).toFixed(1);
const money = (units: bigint | number) => (Number(units) / 1e6).toFixed(2);

const pct = (a: bigint, b: bigint) =>
  b === 0n ? "n/a" : `${((Number(a - b) / Math.abs(Number(b))) * 100).toFixed(1)} %`;

/** The worst household and what its cost is made of, so the reader sees why. */
function worstReason(w: HouseholdOutcome): string {
  return (
    `${w.address} (${w.class}): saving ${money(w.saving)} gUSD — fills ${money(w.fillsNet)}, battery ${money(w.flexNet)}, ` +
    `imbalance charged ${money(w.imbalanceCharged)} (${kwh(w.imbalanceWh)} kWh deviated), paid ${money(w.imbalancePaid)}, ` +
    `grid alone ${money(w.gridAloneCost)}`
  );
}

export function formatSummary(s: DemoSummary): string {
  const h = s.households;
  const lines = [
    `intervals final          ${s.finalIntervals}/${s.intervals}`,
    `traded locally           ${kwh(s.tradedLocallyWh)} kWh`,
    `bought from the grid     ${kwh(s.boughtFromGridWh)} kWh`,
    `sold to the grid         ${kwh(s.soldToGridWh)} kWh`,
    `self-sufficiency         ${(s.selfSufficiency * 100).toFixed(1)} % of ${kwh(s.consumptionWh)} kWh consumed`,
    `average zone prices      ${s.averageZonePrices.map((p, z) => `zone ${z}: ${money(p)}`).join(", ")} gUSD/kWh`,
    `households (${h.count})         net cost ${money(h.netCost)} gUSD with GridBrain vs ${money(h.gridAloneCost)} gUSD with the grid alone (${pct(h.netCost, h.gridAloneCost)})`,
    `  of which               fills ${money(h.fillsNet)}, batteries ${money(h.flexNet)}, imbalance charged ${money(h.imbalanceCharged)}, imbalance paid ${money(h.imbalancePaid)} gUSD`,
    `  saving per household   min ${money(h.savingMin)}, median ${money(h.savingMedian)}, max ${money(h.savingMax)} gUSD; worse off ${h.worseOff} (by > 2 %: ${h.worseOffBeyond2Percent})`,
    ...(h.worst === undefined ? [] : [`  worst                  ${worstReason(h.worst)}`]),
    `  imbalance by class     battery ${kwh(h.imbalanceWhByClass.battery)}, PV only ${kwh(h.imbalanceWhByClass.pv)}, neither ${kwh(h.imbalanceWhByClass.neither)} kWh`,
    ...formatBatteries(s.batteries),
    `grid revenue             ${money(s.grid.revenue)} gUSD (supply − offtake ${money(s.grid.fillsNet)}, short charges billed outside the market ${money(s.grid.billedOutsideMarket)})`,
    `imbalance volume         ${kwh(s.imbalanceWh)} kWh (short ${kwh(s.imbalanceShortWh)}, long ${kwh(s.imbalanceWh - s.imbalanceShortWh)})`,
    `certificates issued      ${kwh(s.certificatesWh)} kWh (renewable energy bought and delivered)`,
    `gas per interval         ${Math.round(s.gasPerInterval).toLocaleString("en-US")}`,
    `funds conserved          ${s.fundsConserved ? "yes, to the token unit" : "NO"}`,
    `wall time per interval   ${PHASES.map((p) => `${p} ${(s.phaseMsPerInterval[p] / 1000).toFixed(1)} s`).join(", ")}`,
    `could not do             ${s.undone.length === 0 ? "nothing left undone" : `${s.undone.length} actions:`}`,
    ...s.undone.map((u) => `  ${u}`),
  ];
  return lines.join("\n");
}

/** The batteries' totals, then one line per battery: what it earned and its scheduled SoC over the run. */
function formatBatteries(b: BatteriesSummary): string[] {
  if (b.count === 0) return [`batteries                none`];
  const following =
    b.followedAbsorbedWh + b.followedSuppliedWh === 0
      ? []
      : [
          `  following their zones   absorbed ${kwh(b.followedAbsorbedWh)} kWh of unscheduled surplus, supplied ${kwh(b.followedSuppliedWh)} kWh of unscheduled shortfall (beyond the settled steps, settled as imbalance)`,
        ];
  const resyncs =
    b.orderResyncs === 0
      ? []
      : [
          `  re-synchronised         ${b.orderResyncs} order changes restarted a battery's scheduled SoC from its meter`,
        ];
  return [
    `batteries (${b.count})            earned ${money(b.earned)} gUSD: discharged ${kwh(b.dischargedWh)} kWh for ${money(b.dischargeCredit)}, charged ${kwh(b.chargedWh)} kWh for ${money(b.chargeCost)} gUSD (standing flexibility orders, ${b.steps} steps settled; not followed in full ${b.notFollowed}, of which short of the settled step ${b.settledStepsShort})`,
    ...following,
    ...resyncs,
    ...b.perBattery.map((x) => {
      const soc = x.scheduledSocWh;
      return (
        `  battery ${String(x.batteryId).padEnd(3)} ${x.owner.slice(0, 10)}…  earned ${money(x.earned)} gUSD, ` +
        `charged ${kwh(x.chargedWh)}, discharged ${kwh(x.dischargedWh)} kWh, ` +
        `scheduled SoC ${soc.length === 0 ? "n/a" : `${kwh(soc[0]!)} … ${kwh(soc[soc.length - 1]!)} kWh (min ${kwh(soc.reduce((m, v) => (v < m ? v : m)))}, max ${kwh(soc.reduce((m, v) => (v > m ? v : m)))})`}`
      );
    }),
  ];
}

/** The market's books at the end of the run: what it holds against every kind of lock it owes. */
export function formatLedger(l: Ledger, flex?: FlexLedger): string {
  return [
    `market holds             ${money(l.marketTokenBalance)} gUSD; owes ${money(l.owed)} gUSD:`,
    `  free ${money(l.free)}, bids ${money(l.bids)}, offer collateral ${money(l.offerCollateral)}, ` +
      `fill collateral ${money(l.fillCollateral)}, unsettled payouts ${money(l.unsettledPayouts)}, ` +
      `operator funds ${money(l.operatorFunds)}`,
    ...(flex === undefined
      ? []
      : [
          `flexibility market holds ${money(flex.tokenBalance)} gUSD; owes ${money(flex.owed)} gUSD: ` +
            `owners' balances ${money(flex.balances)}, unspent charging budgets ${money(flex.unspentBudgets)}`,
        ]),
  ].join("\n");
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

function lineChart(title: string, unit: string, series: { name: string; values: number[] }[]): string {
  const width = 860;
  const height = 220;
  const pad = 40;
  const all = series.flatMap((s) => s.values);
  const max = Math.max(1, ...all);
  const min = Math.min(0, ...all);
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const x = (i: number) => pad + (i * (width - 2 * pad)) / Math.max(1, n - 1);
  const y = (v: number) => height - pad - ((v - min) * (height - 2 * pad)) / (max - min || 1);
  const paths = series
    .map(
      (s, k) =>
        `<polyline fill="none" stroke="${COLORS[k % COLORS.length]}" stroke-width="2" points="${s.values
          .map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`)
          .join(" ")}"/>`,
    )
    .join("");
  const legend = series
    .map((s, k) => `<span style="color:${COLORS[k % COLORS.length]}">■ ${s.name}</span>`)
    .join(" &nbsp; ");
  return `<h2>${title}</h2><div>${legend}</div>
<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${title}">
<line x1="${pad}" y1="${y(0)}" x2="${width - pad}" y2="${y(0)}" stroke="#999"/>
<text x="4" y="${pad}" font-size="11">${max.toFixed(1)} ${unit}</text>
<text x="4" y="${height - pad}" font-size="11">${min.toFixed(1)}</text>
<text x="${pad}" y="${height - 8}" font-size="11">interval 1</text>
<text x="${width - pad - 60}" y="${height - 8}" font-size="11">interval ${n}</text>
${paths}</svg>`;
}

export function htmlReport(records: readonly IntervalRecord[], summary: DemoSummary): string {
  const zones = records[0]?.zones.length ?? 0;
  const zoneIds = Array.from({ length: zones }, (_, z) => z);
  const prices = lineChart(
    "Zone prices",
    "gUSD/kWh",
    zoneIds.map((z) => ({
      name: `zone ${z}`,
      values: records.map((r) => Number(r.zonePrices[z] ?? 0n) / 1e6),
    })),
  );
  const supplyDemand = lineChart("Supply and demand (all zones)", "kWh", [
    { name: "PV generation (actual)", values: records.map((r) => r.actualPvWh / 1000) },
    { name: "load (actual)", values: records.map((r) => r.actualLoadWh / 1000) },
    {
      name: "bought locally (scheduled)",
      values: records.map((r) => Number(r.zones.reduce((s, z) => s + z.bought - z.gridSupply, 0n)) / 1000),
    },
    {
      name: "grid supply (scheduled)",
      values: records.map((r) => Number(r.zones.reduce((s, z) => s + z.gridSupply, 0n)) / 1000),
    },
  ]);
  const battery = lineChart("Battery state of charge (all home batteries)", "kWh", [
    { name: "state of charge", values: records.map((r) => r.batterySocWh / 1000) },
  ]);
  const batterySchedules = lineChart(
    "Scheduled state of charge of each battery (FlexStepSettled)",
    "kWh",
    summary.batteries.perBattery.map((b) => ({
      name: `battery ${b.batteryId}`,
      values: b.scheduledSocWh.map((v) => Number(v) / 1000),
    })),
  );
  const batterySteps = lineChart(
    "Each battery's committed step (+ charge, − discharge)",
    "kWh",
    summary.batteries.perBattery.map((b) => ({
      name: `battery ${b.batteryId}`,
      values: b.stepsWh.map((v) => Number(v) / 1000),
    })),
  );
  const imports = lineChart(
    "Net energy imported into each zone over its lines (scheduled buys − sells − grid)",
    "kWh",
    zoneIds.map((z) => ({
      name: `zone ${z}`,
      values: records.map((r) => {
        const zone = r.zones[z]!;
        return Number(zone.bought + zone.gridOfftake - zone.sold - zone.gridSupply) / 1000;
      }),
    })),
  );
  const rows = records
    .map(
      (r) =>
        `<tr><td>${r.intervalId}</td><td>${new Date(r.startUnix * 1000).toISOString().slice(11, 16)}</td><td>${r.orders}</td>` +
        `<td>${r.zonePrices.map((p) => money(p)).join(" / ")}</td><td>${kwh(r.imbalanceWh)}</td>` +
        `<td>${kwh(r.certificatesWh)}</td><td>${r.gasUsed}</td><td>${r.final ? "final" : (r.problem ?? "not final")}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>GridBrain demo report</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:920px}table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}pre{background:#f6f6f6;padding:1em}</style></head><body>
<h1>GridBrain demo report</h1>
<pre>${formatSummary(summary)}</pre>
${prices}${supplyDemand}${battery}${batterySchedules}${batterySteps}${imports}
<h2>Batteries (standing flexibility orders)</h2><table><tr><th>battery</th><th>owner</th><th>charged kWh</th>
<th>charge cost</th><th>discharged kWh</th><th>discharge credit</th><th>earned</th><th>schedule (Wh per interval, + charge / − discharge)</th></tr>
${summary.batteries.perBattery
  .map(
    (b) =>
      `<tr><td>${b.batteryId}</td><td>${b.owner.slice(0, 10)}…</td><td>${kwh(b.chargedWh)}</td><td>${money(b.chargeCost)}</td>` +
      `<td>${kwh(b.dischargedWh)}</td><td>${money(b.dischargeCredit)}</td><td>${money(b.earned)}</td>` +
      `<td style="text-align:left;font-family:monospace">${b.stepsWh.join(" ")}</td></tr>`,
  )
  .join("\n")}</table>
<h2>Households</h2><table><tr><th>household</th><th>class</th><th>fills net</th><th>battery net</th><th>imbalance charged</th>
<th>imbalance paid</th><th>net cost</th><th>grid alone</th><th>saving</th></tr>
${summary.households.perHousehold
  .map(
    (h) =>
      `<tr><td>${h.address.slice(0, 10)}…</td><td>${h.class}</td><td>${money(h.fillsNet)}</td><td>${money(h.flexNet)}</td><td>${money(h.imbalanceCharged)}</td>` +
      `<td>${money(h.imbalancePaid)}</td><td>${money(h.netCost)}</td><td>${money(h.gridAloneCost)}</td><td>${money(h.saving)}</td></tr>`,
  )
  .join("\n")}</table>
<h2>Intervals</h2><table><tr><th>interval</th><th>start (UTC)</th><th>orders</th><th>zone prices (gUSD/kWh)</th>
<th>imbalance kWh</th><th>certificates kWh</th><th>gas</th><th>state</th></tr>
${rows}</table></body></html>`;
}
