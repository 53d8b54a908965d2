/**
 * Calendar helpers for the simulation: UTC ↔ local civil time under the EU summer-time rule,
 * day of year, and the BDEW day type. Pure arithmetic on Unix seconds; no Intl, no system
 * time zone, so every machine gets the same answer.
 */

/** How local civil time relates to UTC. */
export interface TimeZoneRule {
  /** Standard-time offset east of UTC, in minutes (CET: 60). */
  readonly standardOffsetMinutes: number;
  /**
   * Apply EU summer time (Directive 2000/84/EC): +60 minutes from 01:00 UTC on the last Sunday
   * of March until 01:00 UTC on the last Sunday of October.
   */
  readonly euSummerTime: boolean;
}

/** Amsterdam (and all of CET): UTC+1, UTC+2 in summer. */
export const CENTRAL_EUROPEAN_TIME: TimeZoneRule = Object.freeze({
  standardOffsetMinutes: 60,
  euSummerTime: true,
});

const DAY = 86_400;

/** Unix seconds of 01:00 UTC on the last Sunday of `month` (1-based) in `year`. */
function lastSundayOneUtc(year: number, month: number): number {
  const lastDay = Date.UTC(year, month, 0) / 1000; // day 0 of the next month = last day of `month`
  const weekday = new Date(lastDay * 1000).getUTCDay(); // 0 = Sunday
  return lastDay - weekday * DAY + 3600;
}

/** Offset of local civil time from UTC at `unixSeconds`, in seconds. */
export function utcOffsetSeconds(unixSeconds: number, zone: TimeZoneRule = CENTRAL_EUROPEAN_TIME): number {
  const standard = zone.standardOffsetMinutes * 60;
  if (!zone.euSummerTime) return standard;
  const year = new Date(unixSeconds * 1000).getUTCFullYear();
  const inSummer = unixSeconds >= lastSundayOneUtc(year, 3) && unixSeconds < lastSundayOneUtc(year, 10);
  return inSummer ? standard + 3600 : standard;
}

/** Local civil date and time of day at `unixSeconds`. */
export interface LocalTime {
  readonly year: number;
  /** 1..12 */
  readonly month: number;
  /** 1..31 */
  readonly day: number;
  /** 1..366, 1 on 1 January. */
  readonly dayOfYear: number;
  /** 0 = Sunday … 6 = Saturday. */
  readonly weekday: number;
  /** Seconds since local midnight, in [0, 86400). */
  readonly secondOfDay: number;
}

export function localTime(unixSeconds: number, zone: TimeZoneRule = CENTRAL_EUROPEAN_TIME): LocalTime {
  const local = unixSeconds + utcOffsetSeconds(unixSeconds, zone);
  const date = new Date(local * 1000);
  const year = date.getUTCFullYear();
  const midnight = Date.UTC(year, date.getUTCMonth(), date.getUTCDate()) / 1000;
  return {
    year,
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    dayOfYear: Math.round((midnight - Date.UTC(year, 0, 1) / 1000) / DAY) + 1,
    weekday: date.getUTCDay(),
    secondOfDay: local - midnight,
  };
}

/**
 * Unix seconds of local midnight starting the civil date `isoDate` ("2026-06-21").
 * Summer time never changes at midnight in the EU (it changes at 01:00 UTC), so the offset at
 * midnight is the day's offset before any change.
 */
export function localMidnightUnix(isoDate: string, zone: TimeZoneRule = CENTRAL_EUROPEAN_TIME): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  if (match === null) throw new RangeError(`date must be YYYY-MM-DD, got "${isoDate}"`);
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const utcMidnight = Date.UTC(year, month - 1, day) / 1000;
  const check = new Date(utcMidnight * 1000);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day)
    throw new RangeError(`date is not a calendar day: "${isoDate}"`);
  // First guess with the offset at UTC midnight, then correct with the offset at the result.
  const guess = utcMidnight - utcOffsetSeconds(utcMidnight, zone);
  return utcMidnight - utcOffsetSeconds(guess, zone);
}

/** BDEW day types: Monday–Friday, Saturday, Sunday (and public holidays, not modelled). */
export type DayType = "workday" | "saturday" | "sunday";

export function dayTypeOf(weekday: number): DayType {
  if (weekday === 0) return "sunday";
  if (weekday === 6) return "saturday";
  return "workday";
}
