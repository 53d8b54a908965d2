/**
 * What every phase of the demo's interval loop reads: the run's parameters, the accounts by
 * address, the batteries' state of charge (carried from one interval to the next), and where an
 * action the demo could not do is reported.
 */
import type { Address } from "viem";
import type { HDAccount } from "viem/accounts";
import { batteriesByOwner, flexibilityMarketOf, type DemoBattery } from "./flexibility.js";
import type { Neighbourhood, NeighbourhoodSimulator } from "../domain/simulation/index.js";
import type { IntervalRecord, UndoneAction } from "./interval-record.js";
import type { DemoAccounts, DemoChain } from "./world.js";
import type { FlexOrder } from "../domain/eip712.js";

export interface IntervalTiming {
  readonly intervalSeconds: number;
  readonly gateClosureSeconds: number;
  /** The oracle nodes wait this long after an interval ends before reporting its meters. */
  readonly meterGraceSeconds: number;
}

export interface RunParameters {
  readonly chain: DemoChain;
  readonly accounts: DemoAccounts;
  readonly neighbourhood: Neighbourhood;
  readonly simulator: NeighbourhoodSimulator;
  readonly timing: IntervalTiming;
  readonly intervals: number;
  /** Oracle nodes' HTTP base URLs: meter readings are posted to each. */
  readonly nodeUrls: readonly string[];
  readonly retailPricePerKwh: number;
  readonly feedInPricePerKwh: number;
  /** Per-step wait limit for the committee (ms). */
  readonly stepTimeoutMs: number;
  readonly onInterval?: (record: IntervalRecord, index: number) => void | Promise<void>;
  /** Called with each action the demo could not do; the run goes on (the committee may ride through). */
  readonly onUndone?: (undone: UndoneAction) => void;
  /** Fault injection: runs just before the meter readings of interval `index` (0-based) are posted. */
  readonly beforeReadings?: (index: number) => Promise<void>;
  /**
   * "zone": each battery also follows its power's share of its zone's real-time deviation from the
   * schedule (delivery.ts); "none" (default): it does its settled step only.
   */
  readonly batteryFollowing?: "zone" | "none";
  /**
   * Re-synchronising the contract's scheduled state of charge (resync.ts): before each gate closure an
   * owner whose predicted SoC is more than this many Wh off the scheduled one changes its order to
   * restart from the prediction. Undefined: never (the orders keep their initial SoC).
   */
  readonly socResyncWh?: number;
  /** The households' hedging quantiles (domain/simulation/strategy.ts, `hedgedPositionWh`); default the strategy's. */
  readonly hedge?: { readonly offerQuantile?: number; readonly bidQuantile?: number };
}

export interface RunContext {
  readonly parameters: RunParameters;
  readonly chainId: number;
  /** Household index by lower-case address. */
  readonly householdByAddress: ReadonlyMap<string, number>;
  /** The grid's zone accounts, lower-case. */
  readonly gridAddresses: ReadonlySet<string>;
  /** State of charge of each household's battery (Wh) by household id, updated as batteries follow their steps. */
  readonly socWh: Record<string, number>;
  /** EnergyMarket's FlexibilityMarket, where the batteries' standing orders live. */
  readonly flexibilityMarket: Address;
  /** The neighbourhood's batteries with their registry ids, in household order. */
  readonly batteries: readonly DemoBattery[];
  /** Each battery's current flexibility order by household id (placed or last re-synchronised). */
  readonly flexOrders: Map<string, FlexOrder>;
  /**
   * The contract's scheduled state of charge of each battery by household id: its order's
   * `initialSocWh`, then the SoC of its latest settled step (FlexStepSettled), as FlexibilityMarket keeps it.
   */
  readonly scheduledSocWh: Record<string, number>;
  /** Reports an action the demo could not do (first line of the reason); the run goes on. */
  undone(intervalId: bigint, action: string, reason: unknown): void;
}

export async function runContext(parameters: RunParameters): Promise<RunContext> {
  const { chain, accounts, neighbourhood } = parameters;
  const socWh: Record<string, number> = {};
  for (const h of neighbourhood.households) if (h.battery !== null) socWh[h.id] = h.battery.initialSocWh;
  const registered = await batteriesByOwner(chain);
  const batteries: DemoBattery[] = [];
  for (const h of neighbourhood.households) {
    if (h.battery === null) continue;
    const owner = accounts.households[h.index]!.address;
    const battery = registered.get(owner.toLowerCase());
    if (battery === undefined)
      throw new Error(`household ${h.id}'s battery is not registered (owner ${owner})`);
    batteries.push({ householdId: h.id, owner, initialSocWh: BigInt(h.battery.initialSocWh), ...battery });
  }
  return {
    parameters,
    chainId: await chain.publicClient.getChainId(),
    householdByAddress: new Map<string, number>(
      accounts.households.map((a, i) => [a.address.toLowerCase(), i]),
    ),
    gridAddresses: new Set(accounts.grid.map((a) => a.address.toLowerCase())),
    socWh,
    flexibilityMarket: await flexibilityMarketOf(chain),
    batteries,
    flexOrders: new Map(),
    scheduledSocWh: {},
    undone: (intervalId, action, reason) =>
      parameters.onUndone?.({
        intervalId,
        action,
        reason: (reason instanceof Error ? reason.message : String(reason)).split("\n")[0]!,
      }),
  };
}

/** The account that signs for `owner`: a household's own, or the grid's account of its zone. */
export function accountOf(context: RunContext, owner: string): HDAccount {
  const { accounts } = context.parameters;
  const houseIndex = context.householdByAddress.get(owner);
  return houseIndex !== undefined
    ? accounts.households[houseIndex]!
    : accounts.grid.find((g) => g.address.toLowerCase() === owner)!;
}
