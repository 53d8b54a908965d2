/**
 * How the committee schedules flexibility orders in the rolling horizon (docs/DISPATCH.md,
 * "Flexibility orders"):
 *
 * - plan: each battery under an active order is a battery of the multi-interval LP, from its
 *   scheduled state of charge at the start of interval i, with its registered power, efficiencies
 *   and SoC bounds (`flexBatteriesForPlan`); the order's prices and budget are not in the plan;
 * - commit: the battery's planned net move in i becomes a synthetic order of i — a bid of the
 *   planned charge at the order's maxChargePricePerKwh, or an offer of the planned discharge at its
 *   minDischargePricePerKwh — clamped first by what the contract accepts (`stepLimits`), whose id
 *   is `flexStepKey(orderId, direction)`, so its fill is the step leaf (`syntheticFlexOrder`). The
 *   clearing's price bracket then keeps a filled charge at or below its limit and a filled
 *   discharge at or above it, and the budget rule counts them as any bid and offer.
 */
import { type Hex, isHex } from "viem";
import { z } from "zod";
import { MAX_PRICE, MAX_WH, type Battery, type Order } from "../dispatch/schema.js";
import { FLEX_CHARGE, FLEX_DISCHARGE, type ActiveFlexOrder } from "./types.js";
import { flexStepKey, orderControlsBattery, powerWh, stepLimits } from "./rules.js";

const uint = z.number().int("must be an integer").nonnegative("must not be negative").safe();
const decimal = z.string().regex(/^(0|[1-9][0-9]*)$/, "must be a decimal unsigned integer string");
const bps = z
  .number()
  .int("must be an integer")
  .min(1, "must be at least 1")
  .max(10_000, "must be at most 10000");

/**
 * One battery the commit clears through a synthetic order (the rolling input's `flex`): its order,
 * the order's price limits (decimal uint128 strings), what the contract accepts in interval i
 * (`stepLimits`), and the contract's state of charge and efficiencies for the step's SoC.
 */
export const flexCommitEntrySchema = z
  .object({
    /** The battery's id, as in the rolling input's `batteries`. */
    batteryId: decimal,
    orderId: z.string().refine((s) => isHex(s) && s.length === 66, "must be a 32-byte hex string"),
    maxChargePricePerKwh: decimal,
    minDischargePricePerKwh: decimal,
    maxChargeWh: uint,
    maxDischargeWh: uint,
    /** The contract's scheduled state of charge at the start of interval i. */
    socWh: uint,
    chargeEfficiencyBps: bps,
    dischargeEfficiencyBps: bps,
  })
  .strict();

export type FlexCommitEntry = z.output<typeof flexCommitEntrySchema>;

/** Bounds a bigint energy to what the dispatch schema takes; a smaller cap is always safe. */
function capWh(wh: bigint): number {
  return Number(wh < BigInt(MAX_WH) ? wh : BigInt(MAX_WH));
}

function byBatteryId(a: ActiveFlexOrder, b: ActiveFlexOrder): number {
  return a.order.batteryId - b.order.batteryId;
}

/** The orders whose battery the committee may move: registered, still owned by the order's owner. */
function controllable(active: readonly ActiveFlexOrder[]): ActiveFlexOrder[] {
  return active.filter(orderControlsBattery).sort(byBatteryId);
}

/**
 * The plan's batteries for the active orders (ascending battery id): initialSocWh = the scheduled
 * state of charge at the start of i (clamped into [minSocWh, maxSocWh], where the LP needs it),
 * efficiencies bps / 10000, power per interval, min/max SoC, end floor minSocWh, no wear cost.
 * Orders whose battery is gone or changed owner are left out: their step is 0 Wh.
 */
export function flexBatteriesForPlan(active: readonly ActiveFlexOrder[], intervalSeconds: bigint): Battery[] {
  return controllable(active).map((a) => {
    const b = a.battery!;
    const soc = a.socWh < b.minSocWh ? b.minSocWh : a.socWh > b.maxSocWh ? b.maxSocWh : a.socWh;
    return {
      id: a.order.batteryId.toString(),
      owner: a.order.owner,
      zone: b.zoneId,
      capacityWh: capWh(b.capacityWh),
      maxChargeWh: capWh(powerWh(b.maxChargeW, intervalSeconds)),
      maxDischargeWh: capWh(powerWh(b.maxDischargeW, intervalSeconds)),
      chargeEfficiency: b.chargeEfficiencyBps / 10_000,
      dischargeEfficiency: b.dischargeEfficiencyBps / 10_000,
      minSocWh: capWh(b.minSocWh),
      maxSocWh: capWh(b.maxSocWh),
      initialSocWh: capWh(soc),
      endSocWh: capWh(b.minSocWh),
      degradationCostPerKwh: 0,
    };
  });
}

/** The rolling input's `flex` entries for the active orders (same batteries as flexBatteriesForPlan). */
export function flexCommitEntries(
  active: readonly ActiveFlexOrder[],
  intervalSeconds: bigint,
): FlexCommitEntry[] {
  return controllable(active).map((a) => {
    const limits = stepLimits(a, intervalSeconds);
    return {
      batteryId: a.order.batteryId.toString(),
      orderId: a.orderId,
      maxChargePricePerKwh: a.order.maxChargePricePerKwh.toString(),
      minDischargePricePerKwh: a.order.minDischargePricePerKwh.toString(),
      maxChargeWh: capWh(limits.maxChargeWh),
      maxDischargeWh: capWh(limits.maxDischargeWh),
      socWh: capWh(a.socWh),
      chargeEfficiencyBps: a.battery!.chargeEfficiencyBps,
      dischargeEfficiencyBps: a.battery!.dischargeEfficiencyBps,
    };
  });
}

/**
 * The synthetic order of interval `interval` for one flex battery whose plan moves `plannedNetWh`
 * (charge > 0, discharge < 0; floored to whole Wh with a 1e-6 tolerance for the LP's float noise,
 * then clamped to the entry's caps), or null when the move is 0 Wh. A bid is priced at
 * min(maxChargePricePerKwh, the dispatch schema's largest price): a lower limit only tightens the
 * order. An offer whose minimum price is above that largest price can never clear: null.
 */
export function syntheticFlexOrder(
  interval: number,
  entry: FlexCommitEntry,
  battery: { readonly zone: number; readonly owner: string },
  plannedNetWh: number,
): Order | null {
  const q = Math.floor(Math.abs(plannedNetWh) + 1e-6);
  const charge = plannedNetWh > 0;
  const quantityWh = Math.min(q, charge ? entry.maxChargeWh : entry.maxDischargeWh);
  if (quantityWh <= 0) return null;
  const limit = BigInt(charge ? entry.maxChargePricePerKwh : entry.minDischargePricePerKwh);
  const max = BigInt(MAX_PRICE);
  if (!charge && limit > max) return null;
  return {
    id: BigInt(flexStepKey(entry.orderId as Hex, charge ? FLEX_CHARGE : FLEX_DISCHARGE)).toString(),
    owner: battery.owner,
    zone: battery.zone,
    side: charge ? "bid" : "offer",
    quantityWh,
    limitPricePerKwh: Number(limit < max ? limit : max),
    interval,
  };
}

/**
 * The synthetic orders of interval `interval` for the active orders, from each battery's planned
 * net move (`plannedNetWh`, keyed by decimal battery id; a battery missing there does not move).
 * Ascending battery id.
 */
export function flexCommitOrders(
  interval: number,
  active: readonly ActiveFlexOrder[],
  plannedNetWh: ReadonlyMap<string, number>,
  intervalSeconds: bigint,
): Order[] {
  const entries = flexCommitEntries(active, intervalSeconds);
  const orders: Order[] = [];
  for (const [k, a] of controllable(active).entries()) {
    const o = syntheticFlexOrder(
      interval,
      entries[k]!,
      { zone: a.battery!.zoneId, owner: a.order.owner },
      plannedNetWh.get(a.order.batteryId.toString()) ?? 0,
    );
    if (o !== null) orders.push(o);
  }
  return orders;
}
