import { expect } from "chai";
import { expectClose } from "../../../helpers/approx.js";
import {
  DispatchInputError,
  loadHighs,
  solveRollingInWorker,
} from "../../../../oracle/src/domain/dispatch/index.js";
import { indexInstance } from "../../../../oracle/src/domain/dispatch/indexed.js";
import { solveLp } from "../../../../oracle/src/domain/dispatch/model.js";
import type { DispatchInstance } from "../../../../oracle/src/domain/dispatch/schema.js";
import { Prng } from "../../../../oracle/src/domain/simulation/random.js";
import {
  FORECAST_OWNER,
  aggregatePlanOrders,
  buildRollingInstance,
  criticalSurplusQuantile,
  dayEndValuePerKwh,
  defaultRollingHorizon,
  surplusLeadPremiumPerKwh,
  valuationDayHorizon,
  solveRollingHorizonSync,
  type RollingInput,
} from "../../../../oracle/src/domain/rolling/index.js";

const A = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;
const I = 500;

/**
 * One zone. Interval i: a PV surplus offered at 50,000 with the grid bidding 70,001 for it.
 * Interval i+1 (forecast): a 1,000 Wh bid at 250,000; the grid supplies at 299,999.
 * A lossless 1,000 Wh battery, empty: storing the surplus in i and delivering it in i+1 is worth
 * (250,000 − 70,001) per kWh more than selling to the grid.
 */
const base = (over: Partial<RollingInput> = {}): RollingInput => ({
  interval: I,
  horizon: 2,
  zones: [0],
  batteries: [
    {
      id: "1",
      owner: A(9),
      zone: 0,
      capacityWh: 1000,
      maxChargeWh: 1000,
      maxDischargeWh: 1000,
      chargeEfficiency: 1,
      dischargeEfficiency: 1,
      minSocWh: 0,
      maxSocWh: 1000,
      initialSocWh: 0,
      endSocWh: 0,
      degradationCostPerKwh: 0,
    },
  ],
  orders: [
    { id: "1", owner: A(1), zone: 0, side: "offer", quantityWh: 1000, limitPricePerKwh: 50_000, interval: I },
    { id: "2", owner: A(2), zone: 0, side: "bid", quantityWh: 2000, limitPricePerKwh: 70_001, interval: I },
  ],
  forecast: [
    { intervalId: I + 1, zone: 0, bidWh: 1000, bidPricePerKwh: 250_000, offerWh: 0, offerPricePerKwh: 0 },
  ],
  grid: { supplyPricePerKwh: 299_999, offtakePricePerKwh: 70_001 },
  ...over,
});

describe("rolling horizon", function () {
  this.timeout(60_000);

  describe("buildRollingInstance", () => {
    it("adds the forecast orders and the grid's rule sized to cover the batteries", () => {
      const inst = buildRollingInstance(base());
      const forecast = inst.orders.filter((o) => o.owner === FORECAST_OWNER);
      expect(forecast.map((o) => [o.interval, o.side, o.quantityWh, o.limitPricePerKwh])).to.deep.equal([
        [I + 1, "bid", 1000, 250_000],
        [I + 1, "offer", 2000, 299_999], // forecast bids 1,000 + the battery's 1,000 charge limit
        [I + 1, "bid", 1000, 70_001], // forecast offers 0 + the battery's 1,000 discharge limit
      ]);
      expect(inst.horizon).to.deep.equal({ firstInterval: I, intervals: 2 });
    });

    it("adds the lead premium to forecast offers only, per interval of lead", () => {
      const f = (lead: number) => ({
        intervalId: I + lead,
        zone: 0,
        bidWh: 10,
        bidPricePerKwh: 250_000,
        offerWh: 20,
        offerPricePerKwh: 60_000,
      });
      const inst = buildRollingInstance(
        base({ horizon: 4, forecast: [f(1), f(3)], grid: undefined, offerLeadPremiumPerKwh: 3_000 }),
      );
      const forecast = inst.orders.filter((o) => o.owner === FORECAST_OWNER);
      expect(forecast.map((o) => [o.interval, o.side, o.limitPricePerKwh])).to.deep.equal([
        [I + 1, "bid", 250_000],
        [I + 1, "offer", 63_000],
        [I + 3, "bid", 250_000],
        [I + 3, "offer", 69_000],
      ]);
    });

    it("ignores forecasts outside (i, i + H)", () => {
      const f = { intervalId: I + 5, zone: 0, bidWh: 1, bidPricePerKwh: 1, offerWh: 1, offerPricePerKwh: 1 };
      const inst = buildRollingInstance(base({ forecast: [f], grid: undefined }));
      expect(inst.orders).to.have.length(2);
    });

    it("rejects a real order of another interval, naming it", () => {
      const orders = [{ ...base().orders[0]!, interval: I + 1 }];
      expect(() => buildRollingInstance(base({ orders })))
        .to.throw(DispatchInputError)
        .with.property("details")
        .that.matches(/orders\.0\.interval: must be the committed interval 500, got 501/);
    });
  });

  describe("solveRollingHorizonSync", () => {
    it("charges in interval i for the forecast demand of i + 1 and returns interval i only", async () => {
      const r = solveRollingHorizonSync(base(), await loadHighs());
      expect(r.interval).to.equal(I);
      expect(r.batteries).to.deep.equal([{ batteryId: "1", chargeWh: 1000, dischargeWh: 0, socWh: 1000 }]);
      // (+ 0: the engine may write −0 for an unfilled order; it serialises as 0)
      expect(r.fills.map((f) => [f.orderId, f.filledWh + 0])).to.deep.equal([
        ["1", 1000],
        ["2", 0],
      ]);
      expect(r.prices.map((p) => p.interval)).to.deep.equal([I]);
      expect(r.relaxedEndSoc).to.equal(false);
    });

    it("does not charge when nothing after i values the energy (horizon 1)", async () => {
      const r = solveRollingHorizonSync(base({ horizon: 1 }), await loadHighs());
      expect(r.batteries[0]).to.include({ chargeWh: 0, dischargeWh: 0 });
      expect(r.fills[1]).to.deep.equal({ orderId: "2", filledWh: 1000 }); // the grid takes the surplus
    });

    it("keeps energy the end-of-horizon value prices above what it fetches now (horizon 1)", async () => {
      // Stored at 0.9 × 0.9: 1,000 Wh charged are worth 810 Wh × 100,000 at the end, more than
      // the 50,000 the surplus costs; the 70,001 the grid bids for it is less than that too.
      const b = { ...base().batteries![0]!, chargeEfficiency: 0.9, dischargeEfficiency: 0.9 };
      const r = solveRollingHorizonSync(
        base({ horizon: 1, batteries: [b], endValuePerKwh: 100_000 }),
        await loadHighs(),
      );
      expect(r.batteries[0]).to.include({ chargeWh: 1000, dischargeWh: 0 });
    });

    it("does not keep energy whose end value, after losses, is below the grid's bid now", async () => {
      // 0.9 × 75,000 = 67,500 per Wh stored, under the 70,001 the grid bids for the surplus.
      const b = { ...base().batteries![0]!, chargeEfficiency: 1, dischargeEfficiency: 0.9 };
      const r = solveRollingHorizonSync(
        base({ horizon: 1, batteries: [b], endValuePerKwh: 75_000 }),
        await loadHighs(),
      );
      expect(r.batteries[0]).to.include({ chargeWh: 0, dischargeWh: 0 });
    });

    it("charges from interval i's surplus before a forecast one that the premium makes dearer", async () => {
      // i: 1,000 Wh offered at 60,000; i + 1: a forecast 1,000 Wh offered at 58,000; i + 2: a
      // forecast 1,000 Wh bid at 250,000. One 1,000 Wh battery (lossless, empty) can serve the bid
      // from either surplus. Without a premium the forecast one looks 2,000 cheaper and the plan
      // waits; with 3,000 per interval of lead (lead 1) it costs 61,000 and the plan charges in i.
      const over = (offerLeadPremiumPerKwh: number): Partial<RollingInput> => ({
        horizon: 3,
        grid: undefined,
        orders: [{ ...base().orders[0]!, limitPricePerKwh: 60_000 }],
        forecast: [
          {
            intervalId: I + 1,
            zone: 0,
            bidWh: 0,
            bidPricePerKwh: 0,
            offerWh: 1000,
            offerPricePerKwh: 58_000,
          },
          {
            intervalId: I + 2,
            zone: 0,
            bidWh: 1000,
            bidPricePerKwh: 250_000,
            offerWh: 0,
            offerPricePerKwh: 0,
          },
        ],
        offerLeadPremiumPerKwh,
      });
      const highs = await loadHighs();
      const waits = solveRollingHorizonSync(base(over(0)), highs);
      const charges = solveRollingHorizonSync(base(over(3_000)), highs);
      expect(waits.batteries[0]).to.include({ chargeWh: 0 });
      expect(charges.batteries[0]).to.include({ chargeWh: 1000 });
    });

    it("plans interval i on the committee's forecast when given, and commits the real orders", async () => {
      // The real orders offer 1,000 Wh, but the committee forecasts no surplus in i: the plan
      // does not charge, and the real surplus goes to the grid's bid.
      const intervalForecast = [
        { intervalId: I, zone: 0, bidWh: 0, bidPricePerKwh: 0, offerWh: 0, offerPricePerKwh: 0 },
      ];
      const r = solveRollingHorizonSync(base({ intervalForecast }), await loadHighs());
      expect(r.batteries[0]).to.include({ chargeWh: 0, dischargeWh: 0 });
      expect(r.fills.map((f) => [f.orderId, f.filledWh + 0])).to.deep.equal([
        ["1", 1000],
        ["2", 1000],
      ]);
    });

    it("rejects an interval forecast of another interval, naming it", async () => {
      const intervalForecast = [
        { intervalId: I + 1, zone: 0, bidWh: 0, bidPricePerKwh: 0, offerWh: 0, offerPricePerKwh: 0 },
      ];
      expect(() => buildRollingInstance(base({ intervalForecast })))
        .to.throw(DispatchInputError)
        .with.property("details")
        .that.matches(/intervalForecast\.0\.intervalId: must be the committed interval 500, got 501/);
    });

    it("relaxes the end-of-horizon floor when nothing can charge the battery, and says so", async () => {
      // No supply at all in i or i+1 (no grid rule), yet the battery must end at 500 Wh.
      const b = { ...base().batteries![0]!, endSocWh: 500 };
      const r = solveRollingHorizonSync(
        base({ batteries: [b], grid: undefined, orders: [base().orders[1]!] }),
        await loadHighs(),
      );
      expect(r.relaxedEndSoc).to.equal(true);
      expect(r.batteries[0]).to.include({ chargeWh: 0, dischargeWh: 0 });
    });
  });

  describe("solveRollingInWorker", () => {
    it("returns the same interval-i schedule as the in-thread solve", async () => {
      const [inWorker, inThread] = await Promise.all([
        solveRollingInWorker(base()),
        loadHighs().then((h) => solveRollingHorizonSync(base(), h)),
      ]);
      expect({ ...inWorker, stats: undefined }).to.deep.equal({ ...inThread, stats: undefined });
    });

    it("rejects bad input with DispatchInputError naming the field", async () => {
      const err = await solveRollingInWorker(base({ horizon: 0 })).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(DispatchInputError);
      expect((err as DispatchInputError).details).to.match(/horizon: must be at least 1/);
    });
  });

  describe("aggregatePlanOrders", () => {
    /** Random instances with many orders on a few price levels, lines, losses and batteries. */
    const randomInstance = (seed: number): DispatchInstance => {
      const rng = new Prng(seed);
      const int = (lo: number, hi: number) => lo + Math.floor(rng.uniform() * (hi - lo + 1));
      const T = int(1, 4);
      const zones = [0, 1, 2].slice(0, int(1, 3));
      const levels = [50_000, 70_001, 120_000, 250_000, 299_999];
      const orders = Array.from({ length: int(4, 40) }, (_, k) => ({
        id: String(int(1, 3) * 1000 + k),
        owner: A(k + 1),
        zone: zones[int(0, zones.length - 1)]!,
        side: rng.uniform() < 0.5 ? ("bid" as const) : ("offer" as const),
        quantityWh: int(1, 3000),
        limitPricePerKwh: levels[int(0, levels.length - 1)]!,
        interval: I + int(0, T - 1),
      }));
      const lines =
        zones.length > 1
          ? [{ from: 0, to: 1, capacityWh: int(0, 2000), lossFactor: 0.02, feePerKwh: 5 }]
          : [];
      const batteries = Array.from({ length: int(0, 2) }, (_, k) => ({
        ...base().batteries![0]!,
        id: String(k + 1),
        zone: zones[int(0, zones.length - 1)]!,
        chargeEfficiency: 0.95,
        dischargeEfficiency: 0.9,
        initialSocWh: int(0, 1000),
      }));
      return { horizon: { firstInterval: I, intervals: T }, zones, lines, batteries, orders };
    };

    it("merges orders of the same interval, zone, side and price, keeping the smallest id", () => {
      const o = base().orders[0]!;
      const inst = buildRollingInstance(
        base({
          forecast: [],
          grid: undefined,
          orders: [
            { ...o, id: "7", quantityWh: 100 },
            { ...o, id: "3", quantityWh: 200 },
            { ...o, id: "5", quantityWh: 300, limitPricePerKwh: 50_001 },
          ],
        }),
      );
      const merged = aggregatePlanOrders(inst).orders.map((x) => [x.id, x.quantityWh, x.limitPricePerKwh]);
      expect(merged).to.deep.equal([
        ["3", 300, 50_000],
        ["5", 300, 50_001],
      ]);
    });

    it("gives the same optimal welfare as the unmerged model on 200 random instances", async () => {
      const highs = await loadHighs();
      let merged = 0;
      for (let seed = 1; seed <= 200; seed++) {
        const inst = randomInstance(seed);
        const agg = aggregatePlanOrders(inst);
        merged += inst.orders.length - agg.orders.length;
        const a = solveLp(indexInstance(inst), highs).objective;
        const b = solveLp(indexInstance(agg), highs).objective;
        // Welfare in token base units: equal to well under one base unit.
        expect(Math.abs(a - b), `seed ${seed}: ${a} vs ${b}`).to.be.below(1e-6 * Math.max(1, Math.abs(a)));
      }
      expect(merged, "orders merged over all instances").to.be.above(1000);
    });
  });

  it("criticalSurplusQuantile is the newsvendor ratio (supply·η − offtake) / (supply − offtake)", () => {
    const battery = { chargeEfficiency: 0.95, dischargeEfficiency: 0.95 };
    const q = criticalSurplusQuantile(299_999, 70_001, [{ battery }, { battery: null }]);
    expectClose(q, (299_999 * 0.9025 - 70_001) / (299_999 - 70_001), 1e-12);
    expectClose(q, 0.8728, 1e-4);
    expect(criticalSurplusQuantile(299_999, 70_001, [])).to.equal(0.5);
  });

  it("surplusLeadPremiumPerKwh is 1% of the grid's supply price, rounded half up", () => {
    expect(surplusLeadPremiumPerKwh(299_999)).to.equal(3_000);
    expect(surplusLeadPremiumPerKwh(150)).to.equal(2); // 1.5 → 2
  });

  it("dayEndValuePerKwh is the grid's offtake bid", () => {
    expect(dayEndValuePerKwh(70_001)).to.equal(70_001);
  });

  it("valuationDayHorizon runs to the day's end, its last interval included", () => {
    expect(valuationDayHorizon(0)).to.equal(96);
    expect(valuationDayHorizon(80)).to.equal(16);
    expect(valuationDayHorizon(95)).to.equal(1);
  });

  it("defaultRollingHorizon covers the rest of the day but at least 32 intervals", () => {
    expect(defaultRollingHorizon(0)).to.equal(96);
    expect(defaultRollingHorizon(60)).to.equal(36);
    expect(defaultRollingHorizon(80)).to.equal(32);
  });
});
