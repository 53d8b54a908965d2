/**
 * The days `npm run bench:value` values, shared by bench/value.ts and its one-off tools
 * (value-trace.ts, value-variants.ts) so that every figure in docs/BENCHMARKS.md, "Storage
 * value", is measured on the same neighbourhood, grid and weather.
 */
import type { Line } from "../oracle/src/domain/dispatch/index.js";
import { generateNeighbourhood } from "../oracle/src/domain/simulation/index.js";

/** The demo's grid (oracle/src/demo/world.ts defaultGridLayout for 3 zones), as dispatch lines. */
export const LINES: Line[] = [
  { from: 0, to: 1, capacityWh: 1_500, lossFactor: 0.02, feePerKwh: 5_000 },
  { from: 1, to: 2, capacityWh: 25_000, lossFactor: 0.02, feePerKwh: 5_000 },
];

/** The simulation has no weather regimes: a day's weather is its cloud process's options. */
export const WEATHER = {
  sunny: { date: "2027-06-21", cloud: { mean: 0.95, stationarySd: 0.05 } },
  cloudy: { date: "2027-06-22", cloud: { mean: 0.35, stationarySd: 0.15 } },
} as const;
export type Weather = keyof typeof WEATHER;

export function isWeather(value: string): value is Weather {
  return Object.hasOwn(WEATHER, value);
}

/** The demo's default neighbourhood for a seed. */
export const neighbourhoodFor = (seed: number) => generateNeighbourhood({ seed, prosumers: 50, zones: 3 });
