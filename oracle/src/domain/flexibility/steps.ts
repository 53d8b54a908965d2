/**
 * The steps a schedule commits for the active flexibility orders: one per order, in ascending
 * battery id (the order settleFlexSteps takes them in), each a leaf of the schedule tree.
 */
import type { Hex } from "viem";
import { UnrecoverableInputError } from "../errors.js";
import type { FillLeaf } from "../schedule.js";
import { FLEX_CHARGE, FLEX_DISCHARGE, type ActiveFlexOrder, type FlexDirection } from "./types.js";
import { checkFlexStep, flexStepKey, socAfterStep, type FlexStepError } from "./rules.js";

export interface FlexStep {
  readonly orderId: Hex;
  readonly batteryId: number;
  /** The battery's registered zone (its price settles the step); null when the battery is gone. */
  readonly zoneId: number | null;
  readonly direction: FlexDirection;
  /** Grid side: drawn from the grid (Charge) or delivered to it (Discharge). */
  readonly energyWh: bigint;
  /** The scheduled state of charge after the step, by the contract's integer rule. */
  readonly socWh: bigint;
  /** `(flexStepKey(orderId, direction), energyWh)`: a 0 Wh step is a Charge of 0. */
  readonly leaf: FillLeaf;
}

/**
 * One step per active order from the interval's fills (synthetic orders' fills keyed by the
 * decimal uint256 of `flexStepKey(orderId, direction)`; an order with no fill steps 0 Wh).
 *
 * @throws UnrecoverableInputError when two active orders share a battery (the contract allows one)
 *   or an order has both a charge and a discharge filled.
 */
export function flexSteps(
  active: readonly ActiveFlexOrder[],
  fills: readonly { readonly orderId: string; readonly filledWh: number }[],
): FlexStep[] {
  const filled = new Map(fills.map((f) => [f.orderId, f.filledWh]));
  const sorted = [...active].sort((a, b) => a.order.batteryId - b.order.batteryId);
  return sorted.map((a, k) => {
    if (k > 0 && sorted[k - 1]!.order.batteryId === a.order.batteryId)
      throw new UnrecoverableInputError("Two active flexibility orders share a battery", {
        field: "active.order.batteryId",
        details: `battery ${a.order.batteryId}: ${sorted[k - 1]!.orderId} and ${a.orderId}`,
      });
    const chargeKey = flexStepKey(a.orderId, FLEX_CHARGE);
    const dischargeKey = flexStepKey(a.orderId, FLEX_DISCHARGE);
    const charge = BigInt(filled.get(BigInt(chargeKey).toString()) ?? 0);
    const discharge = BigInt(filled.get(BigInt(dischargeKey).toString()) ?? 0);
    if (charge > 0n && discharge > 0n)
      throw new UnrecoverableInputError("A flexibility order both charges and discharges", {
        field: "fills",
        details: `order ${a.orderId}: charge ${charge} Wh, discharge ${discharge} Wh`,
      });
    const direction = discharge > 0n ? FLEX_DISCHARGE : FLEX_CHARGE;
    const energyWh = direction === FLEX_DISCHARGE ? discharge : charge;
    const b = a.battery;
    return {
      orderId: a.orderId,
      batteryId: a.order.batteryId,
      zoneId: b === null ? null : b.zoneId,
      direction,
      energyWh,
      socWh: b === null ? a.socWh : socAfterStep(a.socWh, direction, energyWh, b),
      leaf: { orderId: direction === FLEX_DISCHARGE ? dischargeKey : chargeKey, filledWh: energyWh },
    };
  });
}

export interface FlexStepViolation {
  readonly batteryId: number;
  readonly orderId: Hex;
  readonly error: FlexStepError;
}

/**
 * Every step the contract would refuse, with the error it would revert with (`checkFlexStep` at
 * the committed price of the battery's zone): empty when the interval's steps settle.
 * `gridbrain verify` and the tests use it. `active` and `steps` are matched by order id.
 */
export function flexStepViolations(
  steps: readonly FlexStep[],
  active: readonly ActiveFlexOrder[],
  zonePrices: readonly bigint[],
  intervalSeconds: bigint,
): FlexStepViolation[] {
  const byId = new Map(active.map((a) => [a.orderId.toLowerCase(), a]));
  return steps.flatMap((s) => {
    const a = byId.get(s.orderId.toLowerCase());
    if (a === undefined)
      throw new UnrecoverableInputError("A step has no active order", {
        field: "steps.orderId",
        details: s.orderId,
      });
    const error = checkFlexStep({
      active: a,
      direction: s.direction,
      energyWh: s.energyWh,
      zonePricePerKwh: s.zoneId === null ? 0n : (zonePrices[s.zoneId] ?? 0n),
      intervalSeconds,
    });
    return error === null ? [] : [{ batteryId: s.batteryId, orderId: s.orderId, error }];
  });
}
