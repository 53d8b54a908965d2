/**
 * `validateFlexOrder`: checks a flexibility order against what the chain says before anything is
 * signed, and names the field and the reason when it cannot be accepted — the same rules the
 * contract enforces (IFlexibilityMarket), so a user learns "initialSocWh: 9000 Wh is above the
 * battery's maxSocWh 8000" instead of a revert. What it cannot see (a gate closing between the
 * check and the transaction) still reverts and is decoded by `decodeError`.
 */
import type { Address, PublicClient } from "viem";
import { energyMarketAbi, flexibilityMarketAbi, gridRegistryAbi, testTokenAbi } from "../chain/abis.js";
import { InvalidParameterError } from "./errors.js";
import { type FlexOrder, type FlexTarget, resolveFlexMarket } from "./flexMarket.js";

/** The largest values the contract's fields hold. */
const UINT32_MAX = 2n ** 32n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const UINT128_MAX = 2n ** 128n - 1n;

export interface ValidateFlexOrderParameters extends FlexTarget {
  readonly order: FlexOrder;
  /**
   * Token base units the wallet must hold for this order (default `order.chargeBudget`); the
   * caller's approval is its own business, the balance is not.
   */
  readonly fundsNeeded?: bigint;
}

/** What the check read, for the caller to use without reading it again. */
export interface ValidateFlexOrderReturnType {
  readonly flexMarket: Address;
  readonly token: Address;
  readonly firstOpenInterval: bigint;
  readonly maxWindowIntervals: bigint;
  readonly walletBalance: bigint;
  readonly battery: {
    readonly owner: Address;
    readonly zoneId: number;
    readonly capacityWh: bigint;
    readonly minSocWh: bigint;
    readonly maxSocWh: bigint;
  };
}

/**
 * @throws InvalidParameterError naming the field: `batteryId` (not registered, or not the owner's),
 *   `firstInterval` (gate closed: before the first open interval), `lastInterval` (before
 *   `firstInterval`, or a window longer than MAX_WINDOW_INTERVALS), `initialSocWh` (outside the battery's registered SoC bounds),
 *   `chargeBudget` (more than the wallet holds), or a field too large for the contract's type.
 */
export async function validateFlexOrder(
  publicClient: PublicClient,
  parameters: ValidateFlexOrderParameters,
): Promise<ValidateFlexOrderReturnType> {
  const { order } = parameters;
  checkRanges(order);
  if (order.lastInterval < order.firstInterval)
    throw new InvalidParameterError(
      "lastInterval",
      `${order.lastInterval} is before firstInterval ${order.firstInterval}`,
    );
  // The two limits need no order: a charge limit above the discharge limit hands the choice
  // between them to the committee's plan across intervals (the demo's owners place such orders,
  // domain/simulation/flex-orders.ts `standingOrderPriceLimits`); the contract does not order them.

  const flexMarket = await resolveFlexMarket(publicClient, parameters);
  const at = { address: flexMarket, abi: flexibilityMarketAbi } as const;
  const [firstOpenInterval, maxWindowIntervals, token, registry] = await Promise.all([
    publicClient.readContract({ ...at, functionName: "firstOpenInterval" }),
    publicClient.readContract({ ...at, functionName: "MAX_WINDOW_INTERVALS" }),
    publicClient.readContract({ address: parameters.market, abi: energyMarketAbi, functionName: "token" }),
    publicClient.readContract({ address: parameters.market, abi: energyMarketAbi, functionName: "registry" }),
  ]);
  const [battery, walletBalance] = await Promise.all([
    publicClient.readContract({
      address: registry,
      abi: gridRegistryAbi,
      functionName: "battery",
      args: [order.batteryId],
    }),
    publicClient.readContract({
      address: token,
      abi: testTokenAbi,
      functionName: "balanceOf",
      args: [order.owner],
    }),
  ]);

  if (BigInt(battery.owner) === 0n)
    throw new InvalidParameterError("batteryId", `no battery ${order.batteryId} is registered`);
  if (battery.owner.toLowerCase() !== order.owner.toLowerCase())
    throw new InvalidParameterError(
      "batteryId",
      `battery ${order.batteryId} belongs to ${battery.owner}, not to ${order.owner} (only its owner places its orders)`,
    );
  if (order.firstInterval < firstOpenInterval)
    throw new InvalidParameterError(
      "firstInterval",
      `interval ${order.firstInterval} is in the past (its gate closed); the first open interval is ${firstOpenInterval}`,
    );
  const length = order.lastInterval - order.firstInterval + 1n;
  if (length > maxWindowIntervals)
    throw new InvalidParameterError(
      "lastInterval",
      `the window is ${length} intervals long, more than MAX_WINDOW_INTERVALS (${maxWindowIntervals})`,
    );
  if (order.initialSocWh < battery.minSocWh || order.initialSocWh > battery.maxSocWh)
    throw new InvalidParameterError(
      "initialSocWh",
      `${order.initialSocWh} Wh is outside battery ${order.batteryId}'s registered bounds [${battery.minSocWh}, ${battery.maxSocWh}] Wh`,
    );
  const needed = parameters.fundsNeeded ?? order.chargeBudget;
  if (walletBalance < needed)
    throw new InvalidParameterError(
      "chargeBudget",
      `the wallet holds ${walletBalance} token base units, the order locks ${needed}`,
    );
  return {
    flexMarket,
    token,
    firstOpenInterval,
    maxWindowIntervals,
    walletBalance,
    battery: {
      owner: battery.owner,
      zoneId: battery.zoneId,
      capacityWh: battery.capacityWh,
      minSocWh: battery.minSocWh,
      maxSocWh: battery.maxSocWh,
    },
  };
}

function checkRanges(o: FlexOrder): void {
  const fits = (field: string, v: bigint, max: bigint, type: string) => {
    if (v < 0n || v > max) throw new InvalidParameterError(field, `${v} does not fit the contract's ${type}`);
  };
  fits("batteryId", BigInt(o.batteryId), UINT32_MAX, "uint32");
  fits("firstInterval", o.firstInterval, UINT64_MAX, "uint64");
  fits("lastInterval", o.lastInterval, UINT64_MAX, "uint64");
  fits("maxChargePricePerKwh", o.maxChargePricePerKwh, UINT128_MAX, "uint128");
  fits("minDischargePricePerKwh", o.minDischargePricePerKwh, UINT128_MAX, "uint128");
  fits("chargeBudget", o.chargeBudget, UINT128_MAX, "uint128");
  fits("initialSocWh", o.initialSocWh, UINT64_MAX, "uint64");
  fits("nonce", o.nonce, UINT64_MAX, "uint64");
}
