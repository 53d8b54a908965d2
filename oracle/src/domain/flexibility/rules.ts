/**
 * The flexibility market's per-step rules, twins of what IFlexibilityMarket.settleFlexSteps checks
 * (contracts/interfaces/IFlexibilityMarket.sol). The committee clamps its steps with `stepLimits`
 * so that they settle, and `checkFlexStep` names the error the contract would revert with, for
 * `gridbrain verify` and the tests. All integer, in bigint, as on-chain.
 */
import { type Hex, encodeAbiParameters, keccak256 } from "viem";
import { costRoundedUp } from "../units.js";
import { FLEX_CHARGE, type ActiveFlexOrder, type FlexDirection, type RegisteredBattery } from "./types.js";

const BPS = 10_000n;

/**
 * `keccak256(abi.encode(bytes32 orderId, uint8 direction))`: the id under which an order's step is
 * a leaf `(key, energyWh)` of the schedule tree, and the id (as a decimal uint256) of the synthetic
 * order the commit clears for it.
 */
export function flexStepKey(orderId: Hex, direction: FlexDirection): Hex {
  return keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint8" }], [orderId, direction]));
}

/** Per-interval power limit in Wh: `floor(watts * intervalSeconds / 3600)`. */
export function powerWh(watts: bigint, intervalSeconds: bigint): bigint {
  return (watts * intervalSeconds) / 3600n;
}

/**
 * The scheduled state of charge after a step, by the contract's integer rule: charging `c` Wh
 * stores `floor(c * chargeEfficiencyBps / 10000)`; discharging `g` Wh takes
 * `ceil(g * 10000 / dischargeEfficiencyBps)`. Negative when the discharge takes more than is stored
 * (the contract's SocOutOfBounds carries it as int256).
 */
export function socAfterStep(
  socWh: bigint,
  direction: FlexDirection,
  energyWh: bigint,
  battery: Pick<RegisteredBattery, "chargeEfficiencyBps" | "dischargeEfficiencyBps">,
): bigint {
  if (direction === FLEX_CHARGE) return socWh + (energyWh * BigInt(battery.chargeEfficiencyBps)) / BPS;
  const eta = BigInt(battery.dischargeEfficiencyBps);
  return socWh - (energyWh * BPS + eta - 1n) / eta;
}

export interface StepLimits {
  /** The largest charge (grid side, Wh) the contract accepts in the interval. */
  readonly maxChargeWh: bigint;
  /** The largest discharge (grid side, Wh) the contract accepts in the interval. */
  readonly maxDischargeWh: bigint;
}

/** True when the battery is registered and still owned by the order's owner. */
export function orderControlsBattery(active: ActiveFlexOrder): boolean {
  return active.battery !== null && active.battery.owner.toLowerCase() === active.order.owner.toLowerCase();
}

/**
 * The most the contract accepts for `active`'s step in one interval, from the battery's state of
 * charge at its start:
 * - power: `floor(maxChargeW * intervalSeconds / 3600)` (likewise discharge);
 * - state of charge: the largest `c` with `soc + floor(c * ηc / 10000) <= maxSocWh`, i.e.
 *   `floor(((maxSocWh − soc + 1) * 10000 − 1) / ηc)` (at a full battery still the few Wh that
 *   store 0: the contract accepts them), and the largest `g` with
 *   `ceil(g * 10000 / ηd) <= soc − minSocWh`, i.e. `floor((soc − minSocWh) * ηd / 10000)`;
 * - budget: the largest `q` with `ceil(maxChargePrice * q / 1000) <= budget − spent`, i.e.
 *   `floor((budget − spent) * 1000 / maxChargePrice)` (no limit at a price of 0): the zone price a
 *   filled charge pays is at most its limit, so the actual cost fits too;
 * - 0 both ways when the battery is gone or its registered owner is no longer the order's.
 */
export function stepLimits(active: ActiveFlexOrder, intervalSeconds: bigint): StepLimits {
  const b = active.battery;
  if (b === null || !orderControlsBattery(active)) return { maxChargeWh: 0n, maxDischargeWh: 0n };
  const soc = active.socWh;
  const socCharge =
    soc > b.maxSocWh ? 0n : ((b.maxSocWh - soc + 1n) * BPS - 1n) / BigInt(b.chargeEfficiencyBps);
  const socDischarge = soc <= b.minSocWh ? 0n : ((soc - b.minSocWh) * BigInt(b.dischargeEfficiencyBps)) / BPS;
  const left = active.order.chargeBudget - active.spent;
  const price = active.order.maxChargePricePerKwh;
  const budgetCharge = left <= 0n ? 0n : price === 0n ? null : (left * 1000n) / price;
  let maxChargeWh = min(powerWh(b.maxChargeW, intervalSeconds), socCharge);
  if (budgetCharge !== null) maxChargeWh = min(maxChargeWh, budgetCharge);
  return { maxChargeWh, maxDischargeWh: min(powerWh(b.maxDischargeW, intervalSeconds), socDischarge) };
}

/** The contract's errors a step can revert with (IFlexibilityMarket.sol). */
export type FlexStepError =
  "BatteryOwnerChanged" | "ExceedsPower" | "SocOutOfBounds" | "FlexPriceOutsideLimit" | "FlexBudgetExceeded";

export interface FlexStepCheck {
  readonly active: ActiveFlexOrder;
  readonly direction: FlexDirection;
  readonly energyWh: bigint;
  /** The committed price of the battery's registered zone. */
  readonly zonePricePerKwh: bigint;
  readonly intervalSeconds: bigint;
}

/**
 * The error `settleFlexSteps` reverts with for this step, or null when it settles. A 0 Wh step
 * always settles; any other is checked in the contract's order: the owner (a battery removed or
 * sold takes only a 0 Wh step), power, the state of charge after the step within [minSocWh,
 * maxSocWh], the price limit, the budget (`spent + ceil(price * energy / 1000) <= chargeBudget`,
 * charges only).
 */
export function checkFlexStep(c: FlexStepCheck): FlexStepError | null {
  const { active, direction, energyWh } = c;
  // The contract checks nothing for a 0 Wh step (FlexibilityMarket._settleStep): not the owner, nor
  // the state of charge, which may lie outside bounds the registry has since moved.
  if (energyWh === 0n) return null;
  const b = active.battery;
  if (b === null || !orderControlsBattery(active)) return "BatteryOwnerChanged";
  const charge = direction === FLEX_CHARGE;
  if (energyWh > powerWh(charge ? b.maxChargeW : b.maxDischargeW, c.intervalSeconds)) return "ExceedsPower";
  const soc = socAfterStep(active.socWh, direction, energyWh, b);
  if (soc < b.minSocWh || soc > b.maxSocWh) return "SocOutOfBounds";
  const o = active.order;
  if (charge ? c.zonePricePerKwh > o.maxChargePricePerKwh : c.zonePricePerKwh < o.minDischargePricePerKwh)
    return "FlexPriceOutsideLimit";
  if (charge && active.spent + costRoundedUp(c.zonePricePerKwh, energyWh) > o.chargeBudget)
    return "FlexBudgetExceeded";
  return null;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
