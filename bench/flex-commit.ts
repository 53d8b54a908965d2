/**
 * Compares the two commit rules of the rolling horizon on demo-shaped inputs
 * (`npx tsx bench/flex-commit.ts [seed]`): every battery pinned to its planned move (today's rule,
 * bench/value.ts) against every battery under a flexibility order, committed as a synthetic order
 * at the order's limits (docs/DISPATCH.md, "Flexibility orders"). The limits are the demo grid's
 * prices (charge at most 299,999, discharge at least 70,001) and never bind on the plan's moves;
 * the caps are the batteries' own limits. One rolling solve per third interval of a sunny and a
 * cloudy day (30 prosumers, 2 zones, no lines), each battery from its initial SoC (a snapshot per
 * interval, not a simulated day). Prints one JSON line per day: battery steps equal under both
 * rules, zone prices equal, the mean and largest price difference, the batteries' net cost at
 * each rule's prices (Σ price × (charge − discharge) / 1000) and the solve time.
 *
 * A bench, not a test: it asserts nothing. Used for the figures in docs/DISPATCH.md.
 */
import { toHex } from "viem";
import { loadHighs } from "../oracle/src/domain/dispatch/index.js";
import type { FlexCommitEntry } from "../oracle/src/domain/flexibility/index.js";
import { rollingInputAt, simulateDayData } from "../oracle/src/domain/rolling/day.js";
import { solveRollingHorizonSync } from "../oracle/src/domain/rolling/index.js";
import { generateNeighbourhood } from "../oracle/src/domain/simulation/index.js";

const seed = Number(process.argv[2] ?? 2);
const highs = await loadHighs();
for (const date of ["2027-06-21", "2027-11-12"]) {
  const neighbourhood = generateNeighbourhood({
    seed,
    prosumers: 30,
    zones: 2,
    pvShare: 0.6,
    batteryShareOfPv: 0.6,
  });
  // Pinned input; the flex entries below are this bench's own (grid-price limits).
  const data = simulateDayData({ neighbourhood, date, seed, lines: [], rollingCommit: "pinned" });
  const soc = new Map(
    neighbourhood.households.filter((h) => h.battery).map((h) => [h.id, h.battery!.initialSocWh]),
  );
  const t = { steps: 0, moving: 0, sameStep: 0, diffWh: 0, zones: 0, samePrice: 0, dPrice: 0, maxDPrice: 0 };
  let costPinned = 0;
  let costFlex = 0;
  let msPinned = 0;
  let msFlex = 0;
  for (let k = 0; k < data.intervalsPerDay; k += 3) {
    const input = rollingInputAt(data, k, soc);
    const batteries = input.batteries ?? [];
    const flex: FlexCommitEntry[] = batteries.map((b, j) => ({
      batteryId: b.id,
      orderId: toHex(BigInt(j + 1), { size: 32 }),
      maxChargePricePerKwh: "299999",
      minDischargePricePerKwh: "70001",
      maxChargeWh: b.maxChargeWh,
      maxDischargeWh: b.maxDischargeWh,
      socWh: b.initialSocWh,
      chargeEfficiencyBps: Math.round(b.chargeEfficiency * 10_000),
      dischargeEfficiencyBps: Math.round(b.dischargeEfficiency * 10_000),
    }));
    let t0 = performance.now();
    const pinned = solveRollingHorizonSync(input, highs);
    msPinned += performance.now() - t0;
    t0 = performance.now();
    const flexed = solveRollingHorizonSync({ ...input, flex }, highs);
    msFlex += performance.now() - t0;
    const price = (r: typeof pinned, zone: number) => r.prices.find((p) => p.zone === zone)!.pricePerKwh;
    for (const b of batteries) {
      const p = pinned.batteries.find((x) => x.batteryId === b.id)!;
      const f = flexed.batteries.find((x) => x.batteryId === b.id)!;
      t.steps++;
      if (p.chargeWh !== p.dischargeWh) t.moving++;
      if (p.chargeWh === f.chargeWh && p.dischargeWh === f.dischargeWh) t.sameStep++;
      t.diffWh += Math.abs(p.chargeWh - p.dischargeWh - (f.chargeWh - f.dischargeWh));
      costPinned += (price(pinned, b.zone) * (p.chargeWh - p.dischargeWh)) / 1000;
      costFlex += (price(flexed, b.zone) * (f.chargeWh - f.dischargeWh)) / 1000;
    }
    for (const z of input.zones) {
      const d = Math.abs(price(flexed, z) - price(pinned, z));
      t.zones++;
      if (d === 0) t.samePrice++;
      t.dPrice += d;
      t.maxDPrice = Math.max(t.maxDPrice, d);
    }
  }
  console.log(
    JSON.stringify({
      seed,
      date,
      batterySteps: t.steps,
      moving: t.moving,
      sameStep: t.sameStep,
      stepDiffWh: t.diffWh,
      zoneIntervals: t.zones,
      samePrice: t.samePrice,
      meanAbsPriceDiff: Math.round(t.dPrice / t.zones),
      maxPriceDiff: t.maxDPrice,
      batteryNetCostPinned: Math.round(costPinned),
      batteryNetCostFlex: Math.round(costFlex),
      msPinned: Math.round(msPinned),
      msFlex: Math.round(msFlex),
    }),
  );
}
