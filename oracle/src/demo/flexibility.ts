/**
 * The batteries' standing flexibility orders (issue 14): every household with a battery places one
 * order per window of the run (domain/simulation/flex-orders.ts) before the window's first gate
 * closure, and after each interval's schedule is settled the demo reads the steps FlexibilityMarket
 * settled, which its batteries then follow (delivery.ts).
 *
 * Orders go through the FlexibilityMarket ABI and the demo's own sender (the typed client has no
 * flexibility actions yet), like world.ts's registry calls.
 */
import { type Address, parseEventLogs, zeroAddress } from "viem";
import { flexibilityMarketAbi, gridRegistryAbi } from "../chain/abis.js";
import type { LedgerFlexStep } from "../domain/household-outcomes.js";
import { parseStrategyOptions, standingFlexOrder, type FlexWindow } from "../domain/simulation/index.js";
import type { RunContext } from "./context.js";
import type { DemoChain } from "./world.js";

/** A registered battery of the neighbourhood: its household, registry id and owner. */
export interface DemoBattery {
  readonly householdId: string;
  readonly batteryId: number;
  readonly owner: Address;
  readonly initialSocWh: bigint;
  /** As registered (GridRegistry.battery): the zone whose price its steps settle at, and the efficiencies of
   * the contract's state-of-charge rule, so a reader of the report can recompute both. */
  readonly zone: number;
  readonly chargeEfficiencyBps: number;
  readonly dischargeEfficiencyBps: number;
}

/** What the registry holds of a battery that the report needs besides its owner. */
export type RegisteredBattery = Pick<
  DemoBattery,
  "batteryId" | "zone" | "chargeEfficiencyBps" | "dischargeEfficiencyBps"
>;

/** EnergyMarket's flexibility market (the deployed suite includes it). */
export async function flexibilityMarketOf(chain: DemoChain): Promise<Address> {
  return (await chain.publicClient.readContract({
    address: chain.addresses.market,
    abi: chain.abis.market,
    functionName: "flexibilityMarket",
  })) as Address;
}

/** Registered batteries by lower-case owner, read from the registry (one battery per household). */
export async function batteriesByOwner(chain: DemoChain): Promise<Map<string, RegisteredBattery>> {
  const count = await chain.publicClient.readContract({
    address: chain.addresses.registry,
    abi: gridRegistryAbi,
    functionName: "batteryCount",
  });
  const batteries = new Map<string, RegisteredBattery>();
  for (let id = 0; id < count; id++) {
    const battery = await chain.publicClient.readContract({
      address: chain.addresses.registry,
      abi: gridRegistryAbi,
      functionName: "battery",
      args: [id],
    });
    batteries.set(battery.owner.toLowerCase(), {
      batteryId: id,
      zone: battery.zoneId,
      chargeEfficiencyBps: battery.chargeEfficiencyBps,
      dischargeEfficiencyBps: battery.dischargeEfficiencyBps,
    });
  }
  return batteries;
}

/**
 * Every battery household places its order for `window` (nonce = the window's number), starting at
 * `firstInterval`, from its battery's simulated state of charge now. Its wallet is minted the
 * budget (households deposit everything else into the market) and approves exactly that amount.
 * Returns the tokens minted (each mint counted once it is mined, whether or not its order then was
 * placed, so the closing conservation check stays exact); an order that fails is reported as not
 * done, and its battery then idles.
 */
export async function placeFlexOrders(
  context: RunContext,
  window: FlexWindow & { readonly index: number },
  firstInterval: bigint,
): Promise<bigint> {
  const { chain, accounts, neighbourhood, timing } = context.parameters;
  const options = parseStrategyOptions({
    retailPricePerKwh: context.parameters.retailPricePerKwh,
    feedInPricePerKwh: context.parameters.feedInPricePerKwh,
  });
  let minted = 0n;
  const results = await Promise.allSettled(
    context.batteries.map(async (b) => {
      const household = neighbourhood.households.find((h) => h.id === b.householdId)!;
      const account = accounts.households[household.index]!;
      const order = {
        owner: account.address,
        batteryId: b.batteryId,
        ...standingFlexOrder({
          household,
          options,
          firstInterval,
          windowIntervals: window.intervals,
          intervalSeconds: timing.intervalSeconds,
          socWh: context.socWh[b.householdId]!,
        }),
        nonce: BigInt(window.index),
      };
      const { token } = chain.addresses;
      await chain.send(account, token, chain.abis.token, "mint", [account.address, order.chargeBudget]);
      minted += order.chargeBudget;
      await chain.send(account, token, chain.abis.token, "approve", [
        context.flexibilityMarket,
        order.chargeBudget,
      ]);
      await chain.send(account, context.flexibilityMarket, flexibilityMarketAbi, "placeFlexOrder", [order]);
      context.flexOrders.set(b.householdId, order);
      context.scheduledSocWh[b.householdId] = Number(order.initialSocWh);
    }),
  );
  results.forEach((result, i) => {
    if (result.status === "rejected")
      context.undone(
        firstInterval,
        `place flexibility order of battery ${context.batteries[i]!.batteryId}`,
        result.reason,
      );
  });
  return minted;
}

/** The steps FlexibilityMarket settled for `intervalId` (events since `fromBlock`), with each battery's owner. */
export async function settledFlexSteps(
  context: RunContext,
  intervalId: bigint,
  fromBlock: bigint,
): Promise<LedgerFlexStep[]> {
  const { chain } = context.parameters;
  const logs = parseEventLogs({
    abi: flexibilityMarketAbi,
    eventName: "FlexStepSettled",
    logs: await chain.publicClient.getLogs({ address: context.flexibilityMarket, fromBlock }),
  });
  const ownerOf = new Map(context.batteries.map((b) => [b.batteryId, b.owner]));
  return logs
    .filter((l) => l.args.intervalId === intervalId)
    .map((l) => ({
      owner: ownerOf.get(l.args.batteryId) ?? zeroAddress,
      batteryId: l.args.batteryId,
      direction: l.args.direction,
      energyWh: l.args.energyWh,
      socWh: l.args.socWh,
      amount: l.args.amount,
    }));
}
