/** The flexibility domain tests' battery and order (flexibility.test.ts, pending.test.ts). */
import type { Address, Hex } from "viem";
import type { ActiveFlexOrder, RegisteredBattery } from "../../../../oracle/src/domain/flexibility/index.js";

export const OWNER = "0x00000000000000000000000000000000000000a1" as Address;
export const ORDER_ID = `0x${"ab".repeat(32)}` as Hex;
/** 15-minute intervals. */
export const SECONDS = 900n;

/**
 * 10 kWh battery in zone 1, SoC bounds [1,000, 9,000] Wh, 4 kW charge (1,000 Wh per interval),
 * 2 kW discharge (500 Wh per interval), η 9,500 / 9,500 bps.
 */
export const battery = (over: Partial<RegisteredBattery> = {}): RegisteredBattery => ({
  owner: OWNER,
  zoneId: 1,
  capacityWh: 10_000n,
  maxChargeW: 4_000n,
  maxDischargeW: 2_000n,
  chargeEfficiencyBps: 9_500,
  dischargeEfficiencyBps: 9_500,
  minSocWh: 1_000n,
  maxSocWh: 9_000n,
  ...over,
});

/** Battery 7's order over intervals 100–200 (charge ≤ 200,000, discharge ≥ 150,000), SoC 5,000 Wh, nothing spent. */
export const active = (
  over: Partial<ActiveFlexOrder> = {},
  order: Partial<ActiveFlexOrder["order"]> = {},
): ActiveFlexOrder => ({
  orderId: ORDER_ID,
  order: {
    owner: OWNER,
    batteryId: 7,
    firstInterval: 100n,
    lastInterval: 200n,
    maxChargePricePerKwh: 200_000n,
    minDischargePricePerKwh: 150_000n,
    chargeBudget: 10n ** 12n,
    initialSocWh: 5_000n,
    nonce: 0n,
    ...order,
  },
  spent: 0n,
  socWh: 5_000n,
  battery: battery(),
  ...over,
});
