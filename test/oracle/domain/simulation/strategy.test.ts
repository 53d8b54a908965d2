import { expect } from "chai";
import { solveDispatch } from "../../../../oracle/src/domain/dispatch/index.js";
import { UnrecoverableInputError } from "../../../../oracle/src/domain/errors.js";
import { generateNeighbourhood } from "../../../../oracle/src/domain/simulation/neighbourhood.js";
import {
  NeighbourhoodSimulator,
  type IntervalSimulation,
} from "../../../../oracle/src/domain/simulation/simulator.js";
import {
  GRID_OWNER,
  batteryPriceThresholds,
  parseStrategyOptions,
  placeOrders,
  type StrategyOrder,
} from "../../../../oracle/src/domain/simulation/strategy.js";

const RETAIL = 300_000;
const FEED_IN = 70_000;
const SPREAD = RETAIL - FEED_IN;
const neighbourhood = generateNeighbourhood({ seed: 21, prosumers: 30, zones: 3 });
const intervals = new NeighbourhoodSimulator(neighbourhood).run(96);
const at = (k: number) => intervals[k] as IntervalSimulation;
const NOON = 54; // 13:30 local
const EVENING = 80; // 20:00 local
const allOrders = intervals.flatMap((interval) => placeOrders({ neighbourhood, interval }));
const local = (o: StrategyOrder) => o.owner !== GRID_OWNER;

describe("placeOrders", () => {
  it("prices every order between the feed-in tariff and the retail price", () => {
    expect(allOrders.length).to.be.above(0);
    for (const o of allOrders) {
      expect(o.limitPricePerKwh).to.be.within(FEED_IN, RETAIL);
      expect(Number.isInteger(o.limitPricePerKwh)).to.equal(true);
      expect(Number.isInteger(o.quantityWh) && o.quantityWh >= 10).to.equal(true);
    }
  });

  it("puts every household bid above every household ask, so local trades gain welfare", () => {
    const bids = allOrders.filter((o) => local(o) && o.side === "bid" && o.purpose === "consumption");
    const asks = allOrders.filter((o) => local(o) && o.side === "offer" && o.purpose === "generation");
    const lowestBid = Math.min(...bids.map((o) => o.limitPricePerKwh));
    const highestAsk = Math.max(...asks.map((o) => o.limitPricePerKwh));
    expect(lowestBid).to.be.at.least(RETAIL - 0.45 * SPREAD - 1);
    expect(highestAsk).to.be.at.most(FEED_IN + 0.45 * SPREAD + 1);
    expect(lowestBid).to.be.above(highestAsk);
  });

  it("offers exactly the forecast surplus and bids exactly the forecast deficit", () => {
    for (const interval of [at(10), at(NOON), at(EVENING)]) {
      const orders = placeOrders({ neighbourhood, interval });
      for (const h of interval.households) {
        const own = orders.filter(
          (o) => o.owner === h.id && (o.purpose === "consumption" || o.purpose === "generation"),
        );
        const offered = own.filter((o) => o.side === "offer").reduce((a, o) => a + o.quantityWh, 0);
        const bid = own.filter((o) => o.side === "bid").reduce((a, o) => a + o.quantityWh, 0);
        if (Math.abs(h.forecast.netWh) < 10) expect(offered + bid).to.equal(0);
        else if (h.forecast.netWh > 0) expect([offered, bid]).to.deep.equal([h.forecast.netWh, 0]);
        else expect([offered, bid]).to.deep.equal([0, -h.forecast.netWh]);
      }
    }
  });

  it("reads only forecasts: changing the actuals leaves the orders unchanged", () => {
    const interval = at(NOON);
    const tampered: IntervalSimulation = {
      ...interval,
      households: interval.households.map((h) => ({
        ...h,
        actual: { pvWh: 0, loadWh: 99_999, netWh: -99_999 },
      })),
    };
    expect(placeOrders({ neighbourhood, interval: tampered })).to.deep.equal(
      placeOrders({ neighbourhood, interval }),
    );
  });

  it("lets the grid offer every zone's bids one unit below retail and bid for its offers one unit above feed-in", () => {
    for (const interval of [at(NOON), at(EVENING)]) {
      const orders = placeOrders({ neighbourhood, interval });
      for (let zone = 0; zone < 3; zone++) {
        const inZone = orders.filter((o) => local(o) && o.zone === zone);
        const bids = inZone.filter((o) => o.side === "bid").reduce((a, o) => a + o.quantityWh, 0);
        const offers = inZone.filter((o) => o.side === "offer").reduce((a, o) => a + o.quantityWh, 0);
        const grid = orders.filter((o) => o.owner === GRID_OWNER && o.zone === zone);
        expect(grid.find((o) => o.side === "offer")?.quantityWh ?? 0).to.equal(bids);
        // One base unit inside the tariffs: a household order at its outside option then strictly
        // gains from the trade, so a welfare-maximising clearing never leaves it unfilled.
        expect(grid.find((o) => o.side === "offer")?.limitPricePerKwh ?? RETAIL - 1).to.equal(RETAIL - 1);
        expect(grid.find((o) => o.side === "bid")?.quantityWh ?? 0).to.equal(offers);
        expect(grid.find((o) => o.side === "bid")?.limitPricePerKwh ?? FEED_IN + 1).to.equal(FEED_IN + 1);
      }
    }
  });

  describe("when the orders are cleared by the dispatch engine", () => {
    it("fills every household order placed at its outside option in full, at noon and in the evening", async () => {
      for (const k of [NOON, EVENING]) {
        const orders = placeOrders({ neighbourhood, interval: at(k) });
        const { schedule } = await solveDispatch({
          horizon: { firstInterval: at(k).intervalId, intervals: 1 },
          zones: [1, 2, 3],
          orders: orders.map((o, i) => ({
            id: String(i + 1),
            owner: `0x${(i + 1).toString(16).padStart(40, "0")}`,
            zone: o.zone + 1,
            side: o.side,
            quantityWh: o.quantityWh,
            limitPricePerKwh: o.limitPricePerKwh,
            interval: o.intervalId,
          })),
        });
        const filled = new Map(schedule.fills.map((f) => [f.orderId, f.filledWh]));
        let checked = 0;
        orders.forEach((o, i) => {
          // Remainder blocks (bid at retail, ask at feed-in): the grid always takes the other side.
          // Local blocks and battery orders may rightly stay unfilled when the price passes them.
          if (!local(o) || o.limitPricePerKwh !== (o.side === "bid" ? RETAIL : FEED_IN)) return;
          checked++;
          expect(
            filled.get(String(i + 1)),
            `${o.owner} ${o.side} ${o.quantityWh} Wh @ ${o.limitPricePerKwh}`,
          ).to.equal(o.quantityWh);
        });
      }
    });
  });

  describe("when a battery owner expects a PV surplus", () => {
    it("bids to charge at most its power and headroom", () => {
      const interval = at(NOON);
      const orders = placeOrders({ neighbourhood, interval });
      const charging = orders.filter((o) => o.purpose === "battery-charge");
      expect(charging.length).to.be.above(0);
      for (const o of charging) {
        const house = neighbourhood.households.find((h) => h.id === o.owner);
        const battery = house?.battery;
        if (battery === undefined || battery === null)
          throw new Error("charge bid from a household without battery");
        expect(interval.households.find((h) => h.id === o.owner)?.forecast.netWh).to.be.above(0);
        expect(o.quantityWh).to.be.at.most(Math.floor(battery.maxPowerW / 4));
        expect(o.quantityWh).to.be.at.most(Math.floor((battery.maxSocWh - battery.initialSocWh) / 0.95));
      }
    });

    it("bids nothing when the battery is full", () => {
      const interval = at(NOON);
      const full = Object.fromEntries(
        neighbourhood.households
          .filter((h) => h.battery !== null)
          .map((h) => [h.id, h.battery?.maxSocWh ?? 0]),
      );
      expect(
        placeOrders({ neighbourhood, interval, socWh: full }).filter((o) => o.purpose === "battery-charge"),
      ).to.deep.equal([]);
    });
  });

  describe("when it is evening", () => {
    it("offers battery discharge above the owner's break-even price, and none at night", () => {
      const options = parseStrategyOptions();
      const evening = placeOrders({ neighbourhood, interval: at(EVENING) }).filter(
        (o) => o.purpose === "battery-discharge",
      );
      expect(evening.length).to.be.above(0);
      for (const o of evening) {
        const house = neighbourhood.households.find((h) => h.id === o.owner);
        if (house === undefined) throw new Error("unknown owner");
        const t = batteryPriceThresholds(house, neighbourhood.seed, options);
        expect(o.limitPricePerKwh).to.equal(t.dischargeMinPricePerKwh);
        expect(t.dischargeMinPricePerKwh * 0.95 * 0.95).to.be.at.least(t.chargeMaxPricePerKwh);
      }
      expect(
        placeOrders({ neighbourhood, interval: at(8) }).filter((o) => o.purpose === "battery-discharge"),
      ).to.deep.equal([]);
    });
  });

  describe("when the remainder block is disabled", () => {
    it("places at most one energy order per household", () => {
      const orders = placeOrders({
        neighbourhood,
        interval: at(NOON),
        options: { remainderBlock: false, batteryOrders: false, gridOrders: false },
      });
      const owners = orders.map((o) => o.owner);
      expect(new Set(owners).size).to.equal(owners.length);
    });
  });

  describe("when the tariff is inverted", () => {
    it("throws naming the field", () => {
      expect(() =>
        placeOrders({ neighbourhood, interval: at(NOON), options: { feedInPricePerKwh: 400_000 } }),
      ).to.throw(UnrecoverableInputError, /feedInPricePerKwh/);
    });
  });

  it("is deterministic for a seed and changes with another seed", () => {
    const a = placeOrders({ neighbourhood, interval: at(NOON) });
    expect(placeOrders({ neighbourhood, interval: at(NOON) })).to.deep.equal(a);
    expect(placeOrders({ neighbourhood, interval: at(NOON), options: { seed: 77 } })).to.not.deep.equal(a);
  });
});
