/**
 * Home-battery bookkeeping and the meter reading a household produces. Integer Wh throughout;
 * rounding always errs on the side of less stored energy, so a simulated battery never creates
 * energy. See docs/SIMULATION.md §8.
 */
import type { HomeBattery } from "./neighbourhood.js";

/** Grid-side energy limits of `battery` for an interval of `intervalSeconds`. */
export function batteryIntervalLimits(
  battery: HomeBattery,
  intervalSeconds: number,
): { maxChargeWh: number; maxDischargeWh: number } {
  const wh = Math.floor((battery.maxPowerW * intervalSeconds) / 3600);
  return { maxChargeWh: wh, maxDischargeWh: wh };
}

/** Largest grid-side charge possible from `socWh` in one interval. */
export function chargeHeadroomWh(battery: HomeBattery, socWh: number, intervalSeconds: number): number {
  const byPower = batteryIntervalLimits(battery, intervalSeconds).maxChargeWh;
  const bySoc = Math.floor(Math.max(0, battery.maxSocWh - socWh) / battery.chargeEfficiency);
  return Math.max(0, Math.min(byPower, bySoc));
}

/** Largest grid-side discharge possible from `socWh` in one interval. */
export function dischargeHeadroomWh(battery: HomeBattery, socWh: number, intervalSeconds: number): number {
  const byPower = batteryIntervalLimits(battery, intervalSeconds).maxDischargeWh;
  const bySoc = Math.floor(Math.max(0, socWh - battery.minSocWh) * battery.dischargeEfficiency);
  return Math.max(0, Math.min(byPower, bySoc));
}

/**
 * State of charge after drawing `chargedWh` from and delivering `dischargedWh` to the grid in one
 * interval: soc + floor(charged · ηc) − ceil(discharged / ηd). Throws a RangeError when the
 * result leaves [minSocWh, maxSocWh] or a quantity is not a non-negative integer.
 */
export function applyBatteryEnergy(
  battery: HomeBattery,
  socWh: number,
  chargedWh: number,
  dischargedWh: number,
): number {
  for (const [name, value] of [
    ["socWh", socWh],
    ["chargedWh", chargedWh],
    ["dischargedWh", dischargedWh],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
  const next =
    socWh +
    Math.floor(chargedWh * battery.chargeEfficiency) -
    Math.ceil(dischargedWh / battery.dischargeEfficiency);
  if (next < battery.minSocWh || next > battery.maxSocWh)
    throw new RangeError(
      `state of charge ${next} Wh would leave [${battery.minSocWh}, ${battery.maxSocWh}] (from ${socWh}, +${chargedWh}, -${dischargedWh})`,
    );
  return next;
}

/**
 * What a net smart meter reads for the interval: the household's pv − load − charge + discharge,
 * positive part as injection, negative part as consumption (one of the two is zero).
 */
export function meterReading(energy: {
  pvWh: number;
  loadWh: number;
  batteryChargeWh?: number;
  batteryDischargeWh?: number;
}): {
  injectedWh: number;
  consumedWh: number;
} {
  const net = energy.pvWh - energy.loadWh - (energy.batteryChargeWh ?? 0) + (energy.batteryDischargeWh ?? 0);
  return net >= 0 ? { injectedWh: net, consumedWh: 0 } : { injectedWh: 0, consumedWh: -net };
}
