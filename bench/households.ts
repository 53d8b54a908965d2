/**
 * Households against the grid alone, replayed off-chain in seconds: the demo's neighbourhood,
 * simulator, strategy (`placeOrders`, merged to one order per side as the demo does) and clearing
 * engine (`solveDispatch` with the demo's lines), batteries following their fills, and settlement by
 * the imbalance rule (short at max(R, p), long at min(F, p); docs/MARKET_RULES.md). Per household:
 * net cost with the market against the same meter readings billed at the tariffs, as
 * oracle/src/domain/household-outcomes.ts does from the chain's events.
 *
 * An approximation of `npm run demo` (no chain, no committee, fill amounts rounded here rather than
 * by the contract), used to choose the strategy's quantiles before a 96-interval demo run. Checked
 * against the chain (docs/BENCHMARKS.md, "Economics"): on the 16-interval window of the last
 * measurement it gives −5.85 against the demo's −5.86 gUSD, and the same worse-off counts,
 * imbalance per class and worst household.
 *
 *   node --import tsx bench/households.ts
 *   HOUSEHOLDS_SEEDS=1,2 HOUSEHOLDS_QUANTILES=0.5/0.5,0.02/0.1 HOUSEHOLDS_INTERVALS=16 \
 *     HOUSEHOLDS_START_HOUR=9 HOUSEHOLDS_TRACE=h043 node --import tsx bench/households.ts
 *
 * Prints one line per (seed, offerQuantile/bidQuantile) and the HOUSEHOLDS_WORST (5) worst households; with
 * HOUSEHOLDS_TRACE, every interval of that household (forecast, actual, fills, price, deviation).
 */
import { oneOrderPerSide } from "../oracle/src/demo/run.js";
import { loadHighs, solveDispatchSync, type Line } from "../oracle/src/domain/dispatch/index.js";
import {
  NeighbourhoodSimulator,
  applyBatteryEnergy,
  generateNeighbourhood,
  meterReading,
  placeOrders,
} from "../oracle/src/domain/simulation/index.js";
import { localMidnightUnix } from "../oracle/src/domain/simulation/time.js";

const RETAIL = 300_000;
const FEED_IN = 70_000;
/** The demo's grid (oracle/src/demo/world.ts defaultGridLayout for 3 zones), as dispatch lines. */
const LINES: Line[] = [
  { from: 0, to: 1, capacityWh: 1_500, lossFactor: 0.02, feePerKwh: 5_000 },
  { from: 1, to: 2, capacityWh: 25_000, lossFactor: 0.02, feePerKwh: 5_000 },
];

const seeds = (process.env.HOUSEHOLDS_SEEDS ?? "1").split(",").map(Number);
const quantiles = (process.env.HOUSEHOLDS_QUANTILES ?? "0.5/0.5,0.02/0.1").split(",").map((q) => {
  const [offer, bid] = q.split("/").map(Number);
  return { offerQuantile: offer!, bidQuantile: bid! };
});
const intervals = Number(process.env.HOUSEHOLDS_INTERVALS ?? 96);
const startHour = Number(process.env.HOUSEHOLDS_START_HOUR ?? 0);
const trace = process.env.HOUSEHOLDS_TRACE;
const worstShown = Number(process.env.HOUSEHOLDS_WORST ?? 5);
const highs = await loadHighs();
const gUsd = (baseUnits: number) => (baseUnits / 1e6).toFixed(3);

for (const seed of seeds) {
  for (const q of quantiles) {
    const nb = generateNeighbourhood({ seed, prosumers: 50, zones: 3 });
    const simulator = new NeighbourhoodSimulator(nb, {
      startUnix: localMidnightUnix("2027-06-21") + startHour * 3600,
      intervalSeconds: 900,
      seed,
    });
    const soc: Record<string, number> = {};
    for (const h of nb.households) if (h.battery !== null) soc[h.id] = h.battery.initialSocWh;
    const rows = nb.households.map((h) => ({
      id: h.id,
      cls: h.battery !== null ? "battery" : h.pv !== null ? "pv" : "neither",
      fills: 0,
      charged: 0,
      paid: 0,
      alone: 0,
      shortWh: 0,
      longWh: 0,
    }));
    for (let k = 0; k < intervals; k++) {
      const interval = simulator.step();
      const wanted = oneOrderPerSide(
        placeOrders({
          neighbourhood: nb,
          interval,
          socWh: soc,
          options: { retailPricePerKwh: RETAIL, feedInPricePerKwh: FEED_IN, ...q },
        }),
      );
      const { schedule } = solveDispatchSync(
        {
          horizon: { firstInterval: interval.intervalId, intervals: 1 },
          zones: [0, 1, 2],
          lines: LINES,
          batteries: [],
          orders: wanted.map((o, i) => ({
            id: String(i + 1),
            owner: `0x${(i + 1).toString(16).padStart(40, "0")}`,
            zone: o.zone,
            side: o.side,
            quantityWh: o.quantityWh,
            limitPricePerKwh: o.limitPricePerKwh,
            interval: o.intervalId,
          })),
        },
        highs,
      );
      const filled = new Map(schedule.fills.map((f) => [f.orderId, f.filledWh]));
      nb.households.forEach((house, index) => {
        const row = rows[index]!;
        const hs = interval.households.find((x) => x.id === house.id)!;
        const p = schedule.prices.find((x) => x.zone === house.zone)!.pricePerKwh;
        let sold = 0;
        let bought = 0;
        let chargeWh = 0;
        let dischargeWh = 0;
        wanted.forEach((o, i) => {
          if (o.owner !== house.id) return;
          const f = filled.get(String(i + 1)) ?? 0;
          if (o.side === "offer") {
            sold += f;
            row.fills -= Math.floor((f * p) / 1000);
            if (o.purpose === "battery-discharge") dischargeWh = f;
          } else {
            bought += f;
            row.fills += Math.ceil((f * p) / 1000);
            if (o.purpose === "battery-charge") chargeWh = f;
          }
        });
        if (house.battery !== null) {
          try {
            soc[house.id] = applyBatteryEnergy(house.battery, soc[house.id]!, chargeWh, dischargeWh);
          } catch {
            // As in the demo: a battery that cannot follow its schedule stays idle.
            chargeWh = 0;
            dischargeWh = 0;
          }
        }
        const m = meterReading({
          pvWh: hs.actual.pvWh,
          loadWh: hs.actual.loadWh,
          batteryChargeWh: chargeWh,
          batteryDischargeWh: dischargeWh,
        });
        const deviation = m.injectedWh - m.consumedWh - (sold - bought);
        const imbalance =
          deviation < 0
            ? (deviation * Math.max(RETAIL, p)) / 1000
            : (deviation * Math.min(FEED_IN, p)) / 1000;
        if (deviation < 0) {
          row.charged -= imbalance;
          row.shortWh -= deviation;
        } else {
          row.paid += imbalance;
          row.longWh += deviation;
        }
        const alone = (m.consumedWh * RETAIL - m.injectedWh * FEED_IN) / 1000;
        row.alone += alone;
        if (house.id === trace) {
          const time = new Date(interval.startUnix * 1000).toISOString().slice(11, 16);
          const market = ((sold - bought) * p) / 1000 + imbalance;
          console.log(
            `  ${time}Z forecast net ${hs.forecast.netWh} (index ${hs.clearSkyIndex.forecast.toFixed(2)}) ` +
              `actual ${hs.actual.netWh} (index ${hs.clearSkyIndex.actual.toFixed(2)}) sold ${sold} bought ${bought} ` +
              `price ${p} deviation ${deviation} imbalance ${gUsd(imbalance)} saving ${gUsd(market + alone)}`,
          );
        }
      });
    }
    const out = rows.map((r) => {
      const net = r.fills + r.charged - r.paid;
      return { ...r, net, saving: r.alone - net };
    });
    const total = (f: (x: (typeof out)[number]) => number) => out.reduce((a, x) => a + f(x), 0);
    const net = total((x) => x.net);
    const alone = total((x) => x.alone);
    const beyond = out.filter((x) => -x.saving * 100 > 2 * Math.abs(x.alone)).length;
    const kWh = (cls: string) =>
      (out.filter((x) => x.cls === cls).reduce((a, x) => a + x.shortWh + x.longWh, 0) / 1000).toFixed(1);
    console.log(
      `seed ${seed} quantiles ${q.offerQuantile}/${q.bidQuantile}: net ${gUsd(net)} vs grid alone ${gUsd(alone)} ` +
        `(${(100 * (1 - net / alone)).toFixed(1)} % below), worse off ${out.filter((x) => x.saving < 0).length}, ` +
        `by > 2 %: ${beyond}; imbalance kWh battery ${kWh("battery")} pv ${kWh("pv")} neither ${kWh("neither")}`,
    );
    for (const x of out.sort((a, b) => a.saving - b.saving).slice(0, worstShown))
      console.log(
        `  ${x.id} ${x.cls}: saving ${gUsd(x.saving)}, grid alone ${gUsd(x.alone)}, fills ${gUsd(x.fills)}, ` +
          `charged ${gUsd(x.charged)}, paid ${gUsd(x.paid)}, short ${x.shortWh} Wh, long ${x.longWh} Wh`,
      );
  }
}
