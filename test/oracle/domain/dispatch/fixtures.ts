/** Builders for dispatch instances used by the dispatch tests. */
import type { DispatchInstanceInput } from "../../../../oracle/src/domain/dispatch/index.js";

export const OWNER = "0x00000000000000000000000000000000000000a1";

export type OrderInput = DispatchInstanceInput["orders"][number];
export type BatteryInput = NonNullable<DispatchInstanceInput["batteries"]>[number];

export function order(
  id: string,
  zone: number,
  side: "bid" | "offer",
  quantityWh: number,
  limitPricePerKwh: number,
  interval = 100,
): OrderInput {
  return { id, owner: OWNER, zone, side, quantityWh, limitPricePerKwh, interval };
}

export function battery(id: string, zone: number, over: Partial<BatteryInput> = {}): BatteryInput {
  return {
    id,
    owner: OWNER,
    zone,
    capacityWh: 1000,
    maxChargeWh: 500,
    maxDischargeWh: 500,
    chargeEfficiency: 1,
    dischargeEfficiency: 1,
    minSocWh: 0,
    maxSocWh: 1000,
    initialSocWh: 0,
    endSocWh: 0,
    degradationCostPerKwh: 0,
    ...over,
  };
}
