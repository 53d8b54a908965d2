/**
 * Phase 3 of an interval: delivery. What the settled fills bought and sold per zone, then each
 * household's battery follows its settled flexibility step, plus (with `batteryFollowing: "zone"`)
 * its power's share of its zone's real-time deviation from the schedule (domain/simulation/
 * zone-following.ts), and its meter (net of house and battery) measures the actual energy.
 *
 * The zone's deviation is what a transformer meter would show against the committed schedule: the
 * zone households' actual net injection (PV − load) minus their scheduled net (sold − bought). The
 * simulation computes it exactly; a real controller would read it within the interval.
 */
import type { Address } from "viem";
import type { HDAccount } from "viem/accounts";
import type { LedgerFlexStep } from "../domain/household-outcomes.js";
import {
  followFlexStep,
  meterReading,
  zoneFollowingSteps,
  type BatteryStep,
  type IntervalSimulation,
} from "../domain/simulation/index.js";
import { Side } from "../domain/eip712.js";
import type { EventLog } from "./chain-reads.js";
import type { RunContext } from "./context.js";
import type { ZoneEnergy } from "./interval-record.js";

export interface Reading {
  readonly participant: Address;
  readonly meter: HDAccount;
  readonly injectedWh: bigint;
  readonly consumedWh: bigint;
}

export interface Delivery {
  readonly zones: readonly ZoneEnergy[];
  readonly householdPaid: bigint;
  readonly householdReceived: bigint;
  readonly readings: readonly Reading[];
  readonly actualPvWh: number;
  readonly actualLoadWh: number;
  readonly noMarketCost: bigint;
  readonly renewableDeliveredWh: bigint;
  /** Every battery's state of charge after this interval, summed (Wh). */
  readonly batterySocWh: number;
  /** Batteries that could not do their whole step (settled step plus zone share; the SoC did not allow it). */
  readonly batteriesNotFollowing: number;
  /**
   * Of those, batteries that did less than their settled step itself in its direction: the steps the
   * committee planned from a scheduled SoC the battery no longer had (what re-synchronising reduces).
   */
  readonly settledStepsShort: number;
  /**
   * Zone following, Σ over the batteries of what they did beyond their settled steps (Wh, grid side):
   * charged more or discharged less (`absorbedWh`), discharged more or charged less (`suppliedWh`).
   */
  readonly followedWh: { readonly absorbedWh: number; readonly suppliedWh: number };
}

interface FillTally {
  /** Filled energy by `<lower-case owner>/<side code>`. */
  readonly filledBy: ReadonlyMap<string, bigint>;
  readonly zones: readonly ZoneEnergy[];
  readonly householdPaid: bigint;
  readonly householdReceived: bigint;
}

function tallyFills(context: RunContext, fills: readonly EventLog[]): FillTally {
  const { accounts, neighbourhood } = context.parameters;
  const filledBy = new Map<string, bigint>();
  const zones = Array.from({ length: neighbourhood.zones }, () => ({
    bought: 0n,
    sold: 0n,
    gridSupply: 0n,
    gridOfftake: 0n,
  }));
  let householdPaid = 0n;
  let householdReceived = 0n;
  for (const log of fills) {
    const a = log.args as { owner: Address; side: number; filledWh: bigint; amount: bigint };
    const owner = a.owner.toLowerCase();
    filledBy.set(`${owner}/${a.side}`, a.filledWh);
    const houseIndex = context.householdByAddress.get(owner);
    if (houseIndex !== undefined) {
      const zone = zones[neighbourhood.households[houseIndex]!.zone]!;
      if (a.side === Side.Buy) {
        zone.bought += a.filledWh;
        householdPaid += a.amount;
      } else {
        zone.sold += a.filledWh;
        householdReceived += a.amount;
      }
    } else if (context.gridAddresses.has(owner)) {
      const z = accounts.grid.findIndex((g) => g.address.toLowerCase() === owner);
      if (a.side === Side.Buy) zones[z]!.gridOfftake += a.filledWh;
      else zones[z]!.gridSupply += a.filledWh;
    }
  }
  return { filledBy, zones, householdPaid, householdReceived };
}

/**
 * Updates `context.socWh` as the batteries charge and discharge. A battery with no settled step
 * (the interval was not scheduled) idles, as the contract takes it.
 */
export function deliver(
  context: RunContext,
  sim: IntervalSimulation,
  fills: readonly EventLog[],
  flexSteps: readonly LedgerFlexStep[],
): Delivery {
  const { accounts, neighbourhood, retailPricePerKwh, feedInPricePerKwh, timing } = context.parameters;
  const { socWh } = context;
  let batteriesNotFollowing = 0;
  let settledStepsShort = 0;
  const followedWh = { absorbedWh: 0, suppliedWh: 0 };
  const { filledBy, zones, householdPaid, householdReceived } = tallyFills(context, fills);
  const zoneDeviation = zoneDeviationsWh(context, sim, filledBy);
  const targets = batteryTargets(context, flexSteps, zoneDeviation, timing.intervalSeconds);
  const settledNetOf = new Map(
    flexSteps.map((s) => [s.batteryId, s.direction === 0 ? Number(s.energyWh) : -Number(s.energyWh)]),
  );
  const batteryIdOf = new Map(context.batteries.map((b) => [b.householdId, b.batteryId]));
  const readings: Reading[] = [];
  let actualPvWh = 0;
  let actualLoadWh = 0;
  let noMarketCost = 0n;
  let renewableDeliveredWh = 0n;
  for (const hs of sim.households) {
    const house = neighbourhood.households.find((h) => h.id === hs.id)!;
    const owner = accounts.households[house.index]!.address.toLowerCase();
    let chargeWh = 0;
    let dischargeWh = 0;
    const target = targets.get(house.id);
    if (house.battery !== null && target !== undefined) {
      // Where the simulated SoC cannot take the whole step, the battery does what it can; the
      // meter shows the rest, which EnergyMarket settles as imbalance against the scheduled net.
      const followed = followFlexStep(house.battery, socWh[house.id]!, target);
      socWh[house.id] = followed.socWh;
      chargeWh = followed.chargeWh;
      dischargeWh = followed.dischargeWh;
      if (!followed.followed) batteriesNotFollowing++;
      const settledNet = settledNetOf.get(batteryIdOf.get(house.id)!) ?? 0;
      const doneNet = followed.chargeWh - followed.dischargeWh;
      // Short of its settled step itself (not of a zone share that reduced it): the SoC stopped it.
      if (!followed.followed && (settledNet > 0 ? doneNet < settledNet : doneNet > settledNet))
        settledStepsShort++;
      const beyond = doneNet - settledNet;
      if (beyond > 0) followedWh.absorbedWh += beyond;
      else followedWh.suppliedWh -= beyond;
    }
    const reading = meterReading({
      pvWh: hs.actual.pvWh,
      loadWh: hs.actual.loadWh,
      batteryChargeWh: chargeWh,
      batteryDischargeWh: dischargeWh,
    });
    actualPvWh += hs.actual.pvWh;
    actualLoadWh += hs.actual.loadWh;
    noMarketCost +=
      (BigInt(reading.consumedWh) * BigInt(retailPricePerKwh)) / 1000n -
      (BigInt(reading.injectedWh) * BigInt(feedInPricePerKwh)) / 1000n;
    if (house.pv !== null) {
      // The certificate rule, recomputed here independently of the contract: renewable energy
      // a seller both sold and injected.
      const sold = filledBy.get(`${owner}/${Side.Sell}`) ?? 0n;
      const injected = BigInt(reading.injectedWh);
      renewableDeliveredWh += sold < injected ? sold : injected;
    }
    readings.push({
      participant: accounts.households[house.index]!.address,
      meter: accounts.meters[house.index]!,
      injectedWh: BigInt(reading.injectedWh),
      consumedWh: BigInt(reading.consumedWh),
    });
  }
  return {
    zones,
    householdPaid,
    householdReceived,
    readings,
    actualPvWh,
    actualLoadWh,
    noMarketCost,
    renewableDeliveredWh,
    batterySocWh: Object.values(socWh).reduce((sum, v) => sum + v, 0),
    batteriesNotFollowing,
    settledStepsShort,
    followedWh,
  };
}

/** Each zone's actual minus scheduled net injection of its households, batteries left out (Wh). */
function zoneDeviationsWh(
  context: RunContext,
  sim: IntervalSimulation,
  filledBy: ReadonlyMap<string, bigint>,
): Map<number, number> {
  const { accounts, neighbourhood } = context.parameters;
  const deviation = new Map<number, number>();
  for (const hs of sim.households) {
    const house = neighbourhood.households.find((h) => h.id === hs.id)!;
    const owner = accounts.households[house.index]!.address.toLowerCase();
    const scheduledNet = Number(
      (filledBy.get(`${owner}/${Side.Sell}`) ?? 0n) - (filledBy.get(`${owner}/${Side.Buy}`) ?? 0n),
    );
    const actualNet = hs.actual.pvWh - hs.actual.loadWh;
    deviation.set(house.zone, (deviation.get(house.zone) ?? 0) + actualNet - scheduledNet);
  }
  return deviation;
}

/**
 * What each battery does this interval, by household id: its settled step, plus its zone share under
 * `batteryFollowing: "zone"`. A battery without a settled step (the interval was not scheduled, or
 * its order did not cover it) idles, as the contract takes it, and follows nothing.
 */
function batteryTargets(
  context: RunContext,
  flexSteps: readonly LedgerFlexStep[],
  zoneDeviation: ReadonlyMap<number, number>,
  intervalSeconds: number,
): Map<string, BatteryStep> {
  const { neighbourhood, batteryFollowing } = context.parameters;
  const stepOf = new Map(flexSteps.map((s) => [s.batteryId, s]));
  const followers = context.batteries.flatMap((b) => {
    const step = stepOf.get(b.batteryId);
    const house = neighbourhood.households.find((h) => h.id === b.householdId)!;
    if (step === undefined || house.battery === null) return [];
    const committed: BatteryStep = {
      direction: step.direction === 0 ? "charge" : "discharge",
      energyWh: Number(step.energyWh),
    };
    return [{ id: house.id, zone: house.zone, battery: house.battery, committed }];
  });
  if ((batteryFollowing ?? "none") === "none") return new Map(followers.map((f) => [f.id, f.committed]));
  return zoneFollowingSteps(followers, zoneDeviation, intervalSeconds);
}
