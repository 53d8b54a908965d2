/**
 * The dispatch instance: what one clearing run reads (orders, zones, lines, batteries, horizon),
 * validated by one zod schema at the boundary. Every field error names the field (as a dotted
 * path) and the reason. Units: energy in integer Wh, prices in token base units per kWh.
 */
import { z } from "zod";
import { ORDER_SIDES } from "../eip712.js";

/** uint256 as a decimal string without leading zeros (on-chain order ids are uint256). */
const MAX_UINT256 = ((1n << 256n) - 1n).toString(); // 78 digits
const decimalUint = z
  .string()
  .regex(/^(0|[1-9][0-9]*)$/, "must be a decimal unsigned integer string without leading zeros")
  // Same-length decimal strings without leading zeros compare like the numbers (no BigInt per id).
  .refine((s) => s.length < 78 || (s.length === 78 && s <= MAX_UINT256), "must fit in uint256");

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 20-byte hex address (0x + 40 hex digits)");

/** A non-negative safe integer (energy, prices, ids): never NaN, never fractional. */
const uint = z
  .number({ invalid_type_error: "must be a number" })
  .int("must be an integer")
  .nonnegative("must not be negative")
  .safe("must be a safe integer");

/**
 * Energy bound: 10^12 Wh (1 TWh) per order/line/battery quantity keeps the LP well scaled and
 * every integer product `price * energy` exact in the bigint settlement maths.
 */
export const MAX_WH = 1_000_000_000_000;
const wh = uint.max(MAX_WH, `must be at most ${MAX_WH} Wh`);
/** Prices: at most 10^12 token base units per kWh. */
export const MAX_PRICE = 1_000_000_000_000;
const price = uint.max(MAX_PRICE, `must be at most ${MAX_PRICE} per kWh`);

const efficiency = z
  .number({ invalid_type_error: "must be a number" })
  .finite("must be finite")
  .gt(0, "must be greater than 0")
  .lte(1, "must be at most 1 (an efficiency above 1 creates energy)");

export const orderSchema = z
  .object({
    id: decimalUint,
    owner: address,
    zone: uint,
    side: z.enum(ORDER_SIDES),
    quantityWh: wh.refine((q) => q > 0, "must be positive"),
    limitPricePerKwh: price,
    interval: uint,
  })
  .strict();

export const lineSchema = z
  .object({
    from: uint,
    to: uint,
    /** Energy that may leave the sending zone per interval, in each direction. */
    capacityWh: wh,
    /** Fraction of the sent energy lost on the way, in [0, 0.5]. */
    lossFactor: z
      .number({ invalid_type_error: "must be a number" })
      .finite("must be finite")
      .min(0, "must not be negative")
      .max(0.5, "must be at most 0.5"),
    /** Wheeling fee per kWh sent, paid to the grid operator. */
    feePerKwh: price,
  })
  .strict();

export const batterySchema = z
  .object({
    id: decimalUint,
    owner: address,
    zone: uint,
    capacityWh: wh,
    /** Largest energy drawn from the grid in one interval. */
    maxChargeWh: wh,
    /** Largest energy delivered to the grid in one interval. */
    maxDischargeWh: wh,
    /** Stored energy per Wh drawn: SoC rises by chargeEfficiency × charge. */
    chargeEfficiency: efficiency,
    /** Delivered energy per Wh taken from storage: SoC falls by discharge / dischargeEfficiency. */
    dischargeEfficiency: efficiency,
    minSocWh: wh,
    maxSocWh: wh,
    /** State of charge before the first interval (carried in from the previous commit). */
    initialSocWh: wh,
    /** Lowest state of charge allowed at the end of the horizon. */
    endSocWh: wh,
    /** Wear cost per kWh of throughput (charge + discharge, grid side). */
    degradationCostPerKwh: price,
  })
  .strict();

export const horizonSchema = z
  .object({
    /** intervalId of the first interval solved. */
    firstInterval: uint,
    /** Number of consecutive intervals T. */
    intervals: uint.min(1, "must be at least 1").max(10_000, "must be at most 10000"),
  })
  .strict();

export const dispatchInstanceSchema = z
  .object({
    horizon: horizonSchema,
    zones: z.array(uint).min(1, "must list at least one zone"),
    lines: z.array(lineSchema).default([]),
    batteries: z.array(batterySchema).default([]),
    orders: z.array(orderSchema),
  })
  .strict()
  .superRefine((inst, ctx) => {
    const zones = new Set<number>();
    inst.zones.forEach((zone, i) => {
      if (zones.has(zone))
        ctx.addIssue({ code: "custom", path: ["zones", i], message: `duplicate zone ${zone}` });
      zones.add(zone);
    });
    const first = inst.horizon.firstInterval;
    const last = first + inst.horizon.intervals - 1;
    const pairs = new Set<string>();
    inst.lines.forEach((line, i) => {
      if (!zones.has(line.from))
        ctx.addIssue({ code: "custom", path: ["lines", i, "from"], message: `unknown zone ${line.from}` });
      if (!zones.has(line.to))
        ctx.addIssue({ code: "custom", path: ["lines", i, "to"], message: `unknown zone ${line.to}` });
      if (line.from === line.to)
        ctx.addIssue({
          code: "custom",
          path: ["lines", i, "to"],
          message: `a line cannot connect zone ${line.from} to itself`,
        });
      const key = line.from < line.to ? `${line.from}-${line.to}` : `${line.to}-${line.from}`;
      if (pairs.has(key))
        ctx.addIssue({ code: "custom", path: ["lines", i], message: `duplicate line between zones ${key}` });
      pairs.add(key);
    });
    const batteryIds = new Set<string>();
    inst.batteries.forEach((b, i) => {
      const at = (field: string, message: string) =>
        ctx.addIssue({ code: "custom", path: ["batteries", i, field], message });
      if (batteryIds.has(b.id)) at("id", `duplicate battery id ${b.id}`);
      batteryIds.add(b.id);
      if (!zones.has(b.zone)) at("zone", `unknown zone ${b.zone}`);
      if (b.maxSocWh > b.capacityWh) at("maxSocWh", `must be at most capacityWh (${b.capacityWh})`);
      if (b.minSocWh > b.maxSocWh) at("minSocWh", `must be at most maxSocWh (${b.maxSocWh})`);
      if (b.initialSocWh < b.minSocWh || b.initialSocWh > b.maxSocWh)
        at("initialSocWh", `must be within [minSocWh, maxSocWh] = [${b.minSocWh}, ${b.maxSocWh}]`);
      if (b.endSocWh < b.minSocWh || b.endSocWh > b.maxSocWh)
        at("endSocWh", `must be within [minSocWh, maxSocWh] = [${b.minSocWh}, ${b.maxSocWh}]`);
      // Reachability of the end state: the most the battery can store over the horizon.
      const reachable = b.initialSocWh + inst.horizon.intervals * b.maxChargeWh * b.chargeEfficiency;
      if (b.endSocWh > b.initialSocWh && reachable < b.endSocWh)
        at(
          "endSocWh",
          `infeasible end state: at most ${Math.floor(reachable)} Wh reachable from initialSocWh ${b.initialSocWh} in ${inst.horizon.intervals} intervals`,
        );
    });
    const orderIds = new Set<string>();
    inst.orders.forEach((o, i) => {
      const at = (field: string, message: string) =>
        ctx.addIssue({ code: "custom", path: ["orders", i, field], message });
      if (orderIds.has(o.id)) at("id", `duplicate order id ${o.id}`);
      orderIds.add(o.id);
      if (!zones.has(o.zone)) at("zone", `unknown zone ${o.zone}`);
      if (o.interval < first || o.interval > last)
        at("interval", `interval ${o.interval} outside the horizon [${first}, ${last}]`);
    });
  });

/** The instance as written in JSON (optional fields may be absent). */
export type DispatchInstanceInput = z.input<typeof dispatchInstanceSchema>;
/** The validated instance. */
export type DispatchInstance = z.output<typeof dispatchInstanceSchema>;
export type Order = z.output<typeof orderSchema>;
export type Line = z.output<typeof lineSchema>;
export type Battery = z.output<typeof batterySchema>;
