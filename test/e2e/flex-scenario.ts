/**
 * The flexibility e2e scenario (flexibility.test.ts, keeper-flex.test.ts): one zone where a seller's
 * surplus falls short of a buyer's demand, so a battery's stored energy is worth the buyer's bid,
 * and helpers to register a battery owner and place a standing order through the contract's ABI.
 */
import { type Address, type Hex, type LocalAccount, maxUint256, parseEventLogs } from "viem";
import {
  energyMarketAbi,
  flexibilityMarketAbi,
  gridRegistryAbi,
  testTokenAbi,
} from "../../oracle/src/chain/abis.js";
import type { FlexOrder } from "../../oracle/src/domain/eip712.js";
import { type Env, type Party, devAccount } from "./harness.js";

/** Both efficiencies of the scenario's batteries, in basis points. */
export const FLEX_ETA_BPS = 9_500n;

export function flexParties(): { seller: Party; buyer: Party } {
  return {
    seller: {
      name: "S",
      account: devAccount(6),
      zone: 0,
      side: "offer",
      quantityWh: 500n,
      limit: 80_000n,
      meter: undefined,
    },
    buyer: {
      name: "B",
      account: devAccount(7),
      zone: 0,
      side: "bid",
      quantityWh: 2_000n,
      limit: 250_000n,
      meter: undefined,
    },
  };
}

/** The market's flexibility market (the deployed suite sets it). */
export async function flexibilityMarketOf(env: Env): Promise<Address> {
  return env.client.readContract({
    address: env.addresses.market,
    abi: energyMarketAbi,
    functionName: "flexibilityMarket",
  });
}

/** The zone price committed for `intervalId` (its `ScheduleCommitted` event), zone 0 by default. */
export async function committedZonePrice(env: Env, intervalId: bigint, zone = 0): Promise<bigint> {
  const [committed] = await env.client.getContractEvents({
    address: env.addresses.market,
    abi: energyMarketAbi,
    eventName: "ScheduleCommitted",
    args: { intervalId },
    fromBlock: 0n,
    strict: true,
  });
  if (committed === undefined) throw new Error(`interval ${intervalId} has no ScheduleCommitted event`);
  return committed.args.zonePrices[zone]!;
}

/**
 * Registers `owner` in zone 0 with a 10 kWh battery (2,000 Wh per interval either way, η 9,500 bps,
 * SoC 0–10,000 Wh), mints it `budget` and approves the flexibility market for it.
 */
export async function registerBatteryOwner(env: Env, owner: LocalAccount, budget: bigint): Promise<void> {
  const operator = devAccount(0);
  const { registry, token } = env.addresses;
  await env.write(operator, registry, gridRegistryAbi, "registerParticipant", [owner.address, 0]);
  await env.write(operator, registry, gridRegistryAbi, "registerBattery", [
    {
      owner: owner.address,
      zoneId: 0,
      capacityWh: 10_000n,
      maxChargeW: 8_000n, // 2,000 Wh per 15-minute interval
      maxDischargeW: 8_000n,
      chargeEfficiencyBps: Number(FLEX_ETA_BPS),
      dischargeEfficiencyBps: Number(FLEX_ETA_BPS),
      minSocWh: 0n,
      maxSocWh: 10_000n,
    },
  ]);
  await env.write(operator, token, testTokenAbi, "mint", [owner.address, budget]);
  await env.write(owner, token, testTokenAbi, "approve", [await flexibilityMarketOf(env), maxUint256]);
}

/** Places `order` from `owner`'s account; returns its id from the FlexOrderPlaced log. */
export async function placeFlexOrderOf(env: Env, owner: LocalAccount, order: FlexOrder): Promise<Hex> {
  const hash = await env.write(
    owner,
    await flexibilityMarketOf(env),
    flexibilityMarketAbi,
    "placeFlexOrder",
    [order],
  );
  const [log] = parseEventLogs({
    abi: flexibilityMarketAbi,
    eventName: "FlexOrderPlaced",
    logs: (await env.client.getTransactionReceipt({ hash })).logs,
  });
  return log!.args.orderId;
}
