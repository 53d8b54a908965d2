import { expect } from "chai";
import type { RunContext, RunParameters } from "../../../oracle/src/demo/context.js";
import { deliver } from "../../../oracle/src/demo/delivery.js";
import { demoAccounts } from "../../../oracle/src/demo/world.js";
import {
  NeighbourhoodSimulator,
  generateNeighbourhood,
  localMidnightUnix,
} from "../../../oracle/src/domain/simulation/index.js";

// The demo's delivery phase on the default neighbourhood, without a chain: every battery has a settled
// idle step and nobody traded, so each zone's deviation from the schedule is its households' whole net.
const neighbourhood = generateNeighbourhood({ seed: 1, prosumers: 50, zones: 3 });
const accounts = demoAccounts(3, 50, 1);
const timing = { intervalSeconds: 900, gateClosureSeconds: 300, meterGraceSeconds: 60 };
const withBattery = neighbourhood.households.filter((h) => h.battery !== null);

function contextFor(batteryFollowing: "zone" | "none"): RunContext {
  const parameters = {
    accounts,
    neighbourhood,
    timing,
    retailPricePerKwh: 300_000,
    feedInPricePerKwh: 70_000,
    batteryFollowing,
  } as Partial<RunParameters> as RunParameters;
  return {
    parameters,
    chainId: 31337,
    householdByAddress: new Map(accounts.households.map((a, i) => [a.address.toLowerCase(), i])),
    gridAddresses: new Set(accounts.grid.map((a) => a.address.toLowerCase())),
    socWh: Object.fromEntries(withBattery.map((h) => [h.id, h.battery!.initialSocWh])),
    flexibilityMarket: "0x0000000000000000000000000000000000000001",
    flexOrders: new Map(),
    scheduledSocWh: {},
    batteries: withBattery.map((h, batteryId) => ({
      householdId: h.id,
      batteryId,
      owner: accounts.households[h.index]!.address,
      initialSocWh: BigInt(h.battery!.initialSocWh),
      zone: h.zone,
      chargeEfficiencyBps: 9_500,
      dischargeEfficiencyBps: 9_500,
    })),
    undone: () => undefined,
  };
}

// 07:30 local on the default day: zone 0 is 127 Wh long, zones 1 and 2 are 265 and 239 Wh short, all well
// within their batteries' power.
const sim = new NeighbourhoodSimulator(neighbourhood, {
  startUnix: localMidnightUnix("2027-06-21") + 7.5 * 3600,
  intervalSeconds: timing.intervalSeconds,
  seed: 1,
}).step();
const idleSteps = (context: RunContext) =>
  context.batteries.map((b) => ({
    owner: b.owner,
    batteryId: b.batteryId,
    direction: 0,
    energyWh: 0n,
    socWh: b.initialSocWh,
    amount: 0n,
  }));
/** Σ metered net injection per zone (households and their batteries), from the delivery's readings. */
function meteredByZone(readings: ReturnType<typeof deliver>["readings"]): Map<number, bigint> {
  const sums = new Map<number, bigint>();
  for (const r of readings) {
    const house = neighbourhood.households.find(
      (h) => accounts.households[h.index]!.address === r.participant,
    )!;
    sums.set(house.zone, (sums.get(house.zone) ?? 0n) + r.injectedWh - r.consumedWh);
  }
  return sums;
}

describe("demo delivery (zone following)", () => {
  describe('with batteryFollowing "none"', () => {
    it("leaves each zone's deviation on its meters and moves no battery beyond its step", () => {
      const context = contextFor("none");
      const delivery = deliver(context, sim, [], idleSteps(context));
      expect(delivery.followedWh).to.deep.equal({ absorbedWh: 0, suppliedWh: 0 });
      const zones = meteredByZone(delivery.readings);
      const households = new Map<number, number>();
      for (const hs of sim.households) {
        const zone = neighbourhood.households.find((h) => h.id === hs.id)!.zone;
        households.set(zone, (households.get(zone) ?? 0) + hs.actual.pvWh - hs.actual.loadWh);
      }
      for (const [zone, wh] of households) expect(zones.get(zone), `zone ${zone}`).to.equal(BigInt(wh));
      // The fixture is not vacuous: the zones do deviate.
      expect([...households.values()].some((wh) => Math.abs(wh) > 100)).to.equal(true);
    });
  });
  describe('with batteryFollowing "zone"', () => {
    it("has the batteries absorb each zone's deviation, so the zone's meters net to its rounding", () => {
      const context = contextFor("zone");
      const delivery = deliver(context, sim, [], idleSteps(context));
      expect(delivery.batteriesNotFollowing, "every battery did its whole step").to.equal(0);
      const zones = meteredByZone(delivery.readings);
      for (const zone of new Set(withBattery.map((h) => h.zone))) {
        const batteries = withBattery.filter((h) => h.zone === zone).length;
        const sum = zones.get(zone)!;
        expect(
          sum >= -BigInt(batteries) && sum <= BigInt(batteries),
          `zone ${zone}: meters net to ${sum} Wh with ${batteries} batteries`,
        ).to.equal(true);
      }
      const moved = delivery.followedWh.absorbedWh + delivery.followedWh.suppliedWh;
      expect(moved, "energy the batteries moved beyond their steps").to.be.greaterThan(100);
      // Losses only ever take energy away: a battery stores less than it draws and gives less than it takes.
      const stored = withBattery.reduce((s, h) => s + context.socWh[h.id]! - h.battery!.initialSocWh, 0);
      expect(stored).to.not.equal(0);
      expect(stored).to.be.at.most(delivery.followedWh.absorbedWh - delivery.followedWh.suppliedWh);
    });
  });
});
