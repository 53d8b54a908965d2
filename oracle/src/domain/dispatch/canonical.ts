/**
 * Canonical encoding of a schedule: JSON with object keys sorted by UTF-16 code unit, no
 * whitespace, integers only (welfare as a decimal string), arrays in the schedule's fixed order.
 * Two processes that compute the same schedule produce the same bytes, hence the same hash.
 */
import { keccak256, type Hex } from "viem";
import type { CanonicalSchedule } from "./schedule.js";

/** Canonical JSON of a plain value (objects, arrays, strings, safe integers, booleans, null). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value))
      throw new TypeError(`canonical JSON holds safe integers only, got ${value}`);
    return Object.is(value, -0) ? "0" : String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  throw new TypeError(`canonical JSON cannot encode ${typeof value}`);
}

/** UTF-8 bytes of the canonical JSON of `schedule`. */
export function canonicalBytes(schedule: CanonicalSchedule): Uint8Array {
  return new TextEncoder().encode(canonicalJson(schedule));
}

/** keccak256 of `canonicalBytes(schedule)`. */
export function canonicalHash(schedule: CanonicalSchedule): Hex {
  return keccak256(canonicalBytes(schedule));
}
