/**
 * Phase 3 of an interval: delivery. What the settled fills bought and sold per zone, then each
 * household's batteries follow their scheduled fills and its meter measures the actual energy.
 */
import type { Address } from "viem";
import type { HDAccount } from "viem/accounts";
import { applyBatteryEnergy, meterReading, type IntervalSimulation } from "../domain/simulation/index.js";
import { Side } from "../domain/eip712.js";
import type { EventLog } from "./chain-reads.js";
import type { RunContext } from "./context.js";
import type { ZoneEnergy } from "./interval-record.js";
import type { PlacedOrders } from "./orders.js";

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

/** Updates `context.socWh` as the batteries charge and discharge. */
export function deliver(
  context: RunContext,
  sim: IntervalSimulation,
  orders: PlacedOrders,
  fills: readonly EventLog[],
): Delivery {
  const { accounts, neighbourhood, retailPricePerKwh, feedInPricePerKwh } = context.parameters;
  const { socWh } = context;
  const { purposeBySlot } = orders;
  const { filledBy, zones, householdPaid, householdReceived } = tallyFills(context, fills);
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
    if (house.battery !== null) {
      if (purposeBySlot.get(`${owner}/${Side.Buy}`) === "battery-charge")
        chargeWh = Number(filledBy.get(`${owner}/${Side.Buy}`) ?? 0n);
      if (purposeBySlot.get(`${owner}/${Side.Sell}`) === "battery-discharge")
        dischargeWh = Number(filledBy.get(`${owner}/${Side.Sell}`) ?? 0n);
      try {
        socWh[house.id] = applyBatteryEnergy(house.battery, socWh[house.id]!, chargeWh, dischargeWh);
      } catch {
        // The battery cannot follow its schedule (state of charge limits): it stays idle and the
        // household's meter shows the difference, which is settled as imbalance.
        chargeWh = 0;
        dischargeWh = 0;
      }
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
  };
}
