/**
 * Household consumption from the BDEW H25 standard load profile (data in bdewH25.ts), scaled to
 * a household's annual consumption with the BDEW dynamisation polynomial. See
 * docs/SIMULATION.md §5.
 *
 *   E(quarter-hour k of local day d) = annualKwh / 10^6 · F(d) · H25[month][dayType][k]   (kWh)
 *   F(t) = −3.92·10⁻¹⁰ t⁴ + 3.20·10⁻⁷ t³ − 7.02·10⁻⁵ t² + 2.10·10⁻³ t + 1.24,  t = day of year
 */
import { H25_KWH_PER_QUARTER_HOUR_PER_GWH_YEAR } from "./bdewH25.js";
import { CENTRAL_EUROPEAN_TIME, dayTypeOf, localTime, type DayType, type TimeZoneRule } from "./time.js";

const QUARTER_HOUR = 900;

/** BDEW dynamisation factor for day of year `t` (1 on 1 January). */
export function bdewDynamisationFactor(dayOfYear: number): number {
  const t = dayOfYear;
  return -3.92e-10 * t ** 4 + 3.2e-7 * t ** 3 - 7.02e-5 * t ** 2 + 2.1e-3 * t + 1.24;
}

/** The 96 H25 values (kWh per quarter-hour, 10^6 kWh/yr, undynamised) of a month (1..12) and day type. */
export function h25Day(month: number, dayType: DayType): readonly number[] {
  const entry = H25_KWH_PER_QUARTER_HOUR_PER_GWH_YEAR[month - 1];
  if (entry === undefined) throw new RangeError(`month must be 1..12, got ${month}`);
  return entry[dayType];
}

/** Expected consumption (Wh, not rounded) in the local quarter-hour containing `unixSeconds`. */
export function quarterHourLoadWh(
  annualKwh: number,
  unixSeconds: number,
  zone: TimeZoneRule = CENTRAL_EUROPEAN_TIME,
): number {
  const local = localTime(unixSeconds, zone);
  const slot = Math.floor(local.secondOfDay / QUARTER_HOUR);
  const value = h25Day(local.month, dayTypeOf(local.weekday))[slot] ?? 0;
  // value kWh per 10^6 kWh/yr → Wh for `annualKwh`: value · annualKwh / 10^6 · 1000
  return (value * annualKwh * bdewDynamisationFactor(local.dayOfYear)) / 1000;
}

/**
 * Expected consumption (Wh, not rounded) over [startUnix, startUnix + durationSeconds): the
 * quarter-hour energies weighted by their overlap with the interval (exact for aligned
 * 15-minute intervals, pro rata otherwise).
 */
export function expectedLoadWh(
  annualKwh: number,
  startUnix: number,
  durationSeconds: number,
  zone: TimeZoneRule = CENTRAL_EUROPEAN_TIME,
): number {
  const end = startUnix + durationSeconds;
  let total = 0;
  let t = startUnix;
  while (t < end) {
    const slotEnd = Math.min(end, (Math.floor(t / QUARTER_HOUR) + 1) * QUARTER_HOUR);
    total += quarterHourLoadWh(annualKwh, t, zone) * ((slotEnd - t) / QUARTER_HOUR);
    t = slotEnd;
  }
  return total;
}
