/**
 * File importers for meter readings: CSV and JSON, including Green Button-style interval
 * readings (a start time and a duration per reading). They turn a file into items in the wire
 * shape of `SignedMeterReadingSchema` (values in integer Wh as decimal strings), converting the
 * declared unit exactly, and reject a row whose unit, time or value cannot be mapped, naming the
 * row and the field. Signatures and registration are checked afterwards by `verifyMeterReadings`.
 *
 * Units: a `unit` field is required and must be "Wh" or "kWh". kWh values are converted to Wh
 * exactly (decimal arithmetic on the string, never floating point); a kWh value with more than
 * three significant decimals is a fractional Wh and is rejected, as readings are signed in whole Wh.
 */
import { type Address, getAddress, isAddress } from "viem";

export interface ImportedItem {
  /** Where the item came from: `line 3` (CSV) or `readings[2]` (JSON). */
  readonly origin: string;
  /** Wire-shape reading: `{ meter, intervalId, injectedWh, consumedWh, signature }`. */
  readonly item: Record<string, unknown>;
}

export interface ImportRejection {
  readonly origin: string;
  readonly reason: string;
  readonly input: unknown;
}

export interface ImportResult {
  readonly items: readonly ImportedItem[];
  readonly rejected: readonly ImportRejection[];
}

export interface ImportOptions {
  readonly intervalSeconds: bigint;
}

type Normalized = { ok: true; item: Record<string, unknown> } | { ok: false; reason: string };

/** Converts `value` given in `unit` to an integer Wh decimal string, exactly. */
export function toWattHours(
  field: string,
  value: unknown,
  unit: unknown,
): { ok: true; wh: string } | { ok: false; reason: string } {
  if (unit !== "Wh" && unit !== "kWh")
    return { ok: false, reason: `unit: must be "Wh" or "kWh", got ${JSON.stringify(unit ?? null)}` };
  let text: string;
  if (typeof value === "number") {
    if (!Number.isFinite(value))
      return { ok: false, reason: `${field}: must be a finite number, got ${value}` };
    text = String(value);
    if (/e/i.test(text))
      return { ok: false, reason: `${field}: exponent notation is not accepted, got ${text}` };
  } else if (typeof value === "string") {
    text = value.trim();
  } else {
    return { ok: false, reason: `${field}: is required (a number in ${unit})` };
  }
  if (text.startsWith("-")) return { ok: false, reason: `${field}: must not be negative, got "${text}"` };
  if (/[a-zA-Z]/.test(text))
    return { ok: false, reason: `${field}: must be a plain number without a unit, got "${text}"` };
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (match === null) return { ok: false, reason: `${field}: is not a decimal number: "${text}"` };
  const whole = match[1]!;
  const fraction = (match[2] ?? "").replace(/0+$/, "");
  if (unit === "Wh") {
    if (fraction !== "")
      return { ok: false, reason: `${field}: must be a whole number of Wh, got "${text}"` };
    return { ok: true, wh: BigInt(whole).toString() };
  }
  if (fraction.length > 3)
    return {
      ok: false,
      reason: `${field}: ${text} kWh is a fractional number of Wh (readings are whole Wh)`,
    };
  return { ok: true, wh: (BigInt(whole) * 1000n + BigInt(fraction.padEnd(3, "0"))).toString() };
}

function parseStart(value: unknown): bigint | string {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === "string") {
    const t = value.trim();
    if (/^\d+$/.test(t)) return BigInt(t);
    // ISO 8601 with an explicit offset only: a local time would depend on the importer's zone.
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(t)) {
      const ms = Date.parse(t);
      if (!Number.isNaN(ms) && ms % 1000 === 0) return BigInt(ms / 1000);
    }
  }
  return `start: must be unix seconds or an ISO 8601 time with a zone offset, got ${JSON.stringify(value ?? null)}`;
}

/**
 * Maps one file item to the wire shape. Accepts either `intervalId` or (`start`, `duration`) —
 * the Green Button shape — where the duration must be one market interval and the start must be
 * an interval boundary.
 */
export function normalizeFileItem(
  raw: Record<string, unknown>,
  options: ImportOptions,
  defaults: Record<string, unknown> = {},
): Normalized {
  const merged: Record<string, unknown> = { ...defaults, ...raw };
  const allowed = new Set([
    "meter",
    "intervalId",
    "start",
    "duration",
    "injected",
    "consumed",
    "unit",
    "signature",
  ]);
  for (const key of Object.keys(merged))
    if (!allowed.has(key))
      return { ok: false, reason: `${key}: unknown field (expected ${[...allowed].join(", ")})` };

  let intervalId: string;
  if (merged["intervalId"] !== undefined && merged["intervalId"] !== "") {
    if (merged["start"] !== undefined || merged["duration"] !== undefined)
      return { ok: false, reason: "intervalId: give either intervalId or start and duration, not both" };
    const v = merged["intervalId"];
    if (
      typeof v === "number"
        ? !Number.isSafeInteger(v) || v < 0
        : typeof v !== "string" || !/^\d+$/.test(v.trim())
    )
      return { ok: false, reason: `intervalId: must be a non-negative integer, got ${JSON.stringify(v)}` };
    intervalId = String(v).trim();
  } else {
    const start = parseStart(merged["start"]);
    if (typeof start === "string") return { ok: false, reason: start };
    const d = merged["duration"];
    const duration =
      typeof d === "number" ? d : typeof d === "string" && /^\d+$/.test(d.trim()) ? Number(d) : NaN;
    if (!Number.isSafeInteger(duration))
      return {
        ok: false,
        reason: `duration: must be an integer number of seconds, got ${JSON.stringify(d ?? null)}`,
      };
    if (BigInt(duration) !== options.intervalSeconds)
      return {
        ok: false,
        reason: `duration: must equal one market interval (${options.intervalSeconds} s), got ${duration} s`,
      };
    if (start % options.intervalSeconds !== 0n)
      return {
        ok: false,
        reason: `start: ${start} is not aligned to a market interval boundary (multiple of ${options.intervalSeconds} s)`,
      };
    intervalId = (start / options.intervalSeconds).toString();
  }

  const injected = toWattHours("injected", merged["injected"], merged["unit"]);
  if (!injected.ok) return injected;
  const consumed = toWattHours("consumed", merged["consumed"], merged["unit"]);
  if (!consumed.ok) return consumed;
  return {
    ok: true,
    item: {
      meter: merged["meter"],
      intervalId,
      injectedWh: injected.wh,
      consumedWh: consumed.wh,
      signature: merged["signature"],
    },
  };
}

/** Splits one CSV line (RFC 4180 quoting: "a,b" and "" inside quotes). */
function splitCsvLine(line: string): string[] | undefined {
  const out: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === "") quoted = true;
    else if (ch === ",") {
      out.push(field);
      field = "";
    } else field += ch;
  }
  if (quoted) return undefined;
  out.push(field);
  return out.map((f) => f.trim());
}

/**
 * CSV with a header row. Columns: `meter`, `intervalId` or (`start`, `duration`), `injected`,
 * `consumed`, `unit`, `signature`. Empty lines and lines starting with `#` are skipped.
 */
export function importCsv(text: string, options: ImportOptions): ImportResult {
  const items: ImportedItem[] = [];
  const rejected: ImportRejection[] = [];
  const lines = text.split(/\r?\n/);
  let header: string[] | undefined;
  for (const [i, line] of lines.entries()) {
    const origin = `line ${i + 1}`;
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    const cells = splitCsvLine(line);
    if (cells === undefined) {
      rejected.push({ origin, reason: "unterminated quoted field", input: line });
      continue;
    }
    if (header === undefined) {
      header = cells;
      const missing = ["meter", "injected", "consumed", "unit", "signature"].filter(
        (c) => !header!.includes(c),
      );
      const hasTime =
        header.includes("intervalId") || (header.includes("start") && header.includes("duration"));
      if (missing.length > 0 || !hasTime)
        return {
          items: [],
          rejected: [
            {
              origin,
              reason: `header: missing column(s) ${[...missing, ...(hasTime ? [] : ["intervalId or start+duration"])].join(", ")}`,
              input: line,
            },
          ],
        };
      continue;
    }
    if (cells.length !== header.length) {
      rejected.push({
        origin,
        reason: `row has ${cells.length} columns, the header has ${header.length}`,
        input: line,
      });
      continue;
    }
    const raw: Record<string, unknown> = {};
    for (const [c, name] of header.entries()) if (cells[c] !== "") raw[name] = cells[c];
    const result = normalizeFileItem(raw, options);
    if (result.ok) items.push({ origin, item: result.item });
    else rejected.push({ origin, reason: result.reason, input: line });
  }
  if (header === undefined)
    rejected.push({ origin: "line 1", reason: "header: the file is empty", input: text });
  return { items, rejected };
}

/**
 * JSON: either an array of flat items (each with `unit`), or a Green Button-style block
 * `{ meter, unit, intervalReadings: [{ start, duration, injected, consumed, signature }] }`
 * whose `meter` and `unit` apply to every reading.
 */
export function importJson(text: string, options: ImportOptions): ImportResult {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (error) {
    return {
      items: [],
      rejected: [{ origin: "file", reason: `not valid JSON: ${(error as Error).message}`, input: text }],
    };
  }
  let list: unknown[];
  let defaults: Record<string, unknown> = {};
  let path: string;
  if (Array.isArray(root)) {
    list = root;
    path = "readings";
  } else if (
    typeof root === "object" &&
    root !== null &&
    Array.isArray((root as Record<string, unknown>)["intervalReadings"])
  ) {
    const { intervalReadings, ...rest } = root as Record<string, unknown>;
    list = intervalReadings as unknown[];
    defaults = rest;
    path = "intervalReadings";
  } else {
    return {
      items: [],
      rejected: [
        {
          origin: "file",
          reason: "root: expected an array of readings or an object with intervalReadings",
          input: root,
        },
      ],
    };
  }
  const items: ImportedItem[] = [];
  const rejected: ImportRejection[] = [];
  for (const [i, entry] of list.entries()) {
    const origin = `${path}[${i}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      rejected.push({ origin, reason: "expected an object", input: entry });
      continue;
    }
    const result = normalizeFileItem(entry as Record<string, unknown>, options, defaults);
    if (result.ok) items.push({ origin, item: result.item });
    else rejected.push({ origin, reason: result.reason, input: entry });
  }
  return { items, rejected };
}

export interface GapRange {
  readonly from: bigint;
  readonly to: bigint;
}

/**
 * Missing intervals per meter: for each meter, the ranges of interval ids without a reading
 * between `range.from` and `range.to` (inclusive), or between the meter's first and last reading
 * when no range is given. Meters with no gap are omitted.
 */
export function findGaps(
  readings: Iterable<{ readonly meter: string; readonly intervalId: bigint }>,
  range?: GapRange,
): Map<Address, GapRange[]> {
  const seen = new Map<Address, Set<bigint>>();
  for (const r of readings) {
    if (!isAddress(r.meter, { strict: false })) continue;
    const meter = getAddress(r.meter);
    let set = seen.get(meter);
    if (set === undefined) seen.set(meter, (set = new Set()));
    set.add(r.intervalId);
  }
  const gaps = new Map<Address, GapRange[]>();
  for (const [meter, set] of [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const sorted = [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const from = range?.from ?? sorted[0]!;
    const to = range?.to ?? sorted[sorted.length - 1]!;
    const missing: GapRange[] = [];
    let expected = from;
    for (const id of sorted) {
      if (id < from || id > to) continue;
      if (id > expected) missing.push({ from: expected, to: id - 1n });
      expected = id + 1n;
    }
    if (expected <= to) missing.push({ from: expected, to });
    if (missing.length > 0) gaps.set(meter, missing);
  }
  return gaps;
}
