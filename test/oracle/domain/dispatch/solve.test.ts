import { expect } from "chai";
import {
  DispatchInputError,
  DispatchModelError,
  HIGHS_PACKAGE_VERSION,
  solveDispatch,
  type DispatchInstanceInput,
} from "../../../../oracle/src/domain/dispatch/index.js";
import { readFileSync } from "node:fs";
import { battery, order } from "./fixtures.js";

const fillsOf = (r: { schedule: { fills: readonly { orderId: string; filledWh: number }[] } }) =>
  Object.fromEntries(r.schedule.fills.map((f) => [f.orderId, f.filledWh]));

describe("solveDispatch", () => {
  describe("when one zone clears a merit order (hand-computed)", () => {
    // Bids 100@30, 200@20, 100@10; offers 150@5, 100@15, 200@25.
    // Crossing: 100 (30 vs 5), 50 (20 vs 5), 100 (20 vs 15); then 20 < 25 stops.
    // Bid 2 is marginal (150 of 200) → bracket [20, 20] → price 20.
    // Welfare = 30·100 + 20·150 − 5·150 − 15·100 = 3750 milli-units.
    const instance: DispatchInstanceInput = {
      horizon: { firstInterval: 100, intervals: 1 },
      zones: [1],
      orders: [
        order("1", 1, "bid", 100, 30),
        order("2", 1, "bid", 200, 20),
        order("3", 1, "bid", 100, 10),
        order("4", 1, "offer", 150, 5),
        order("5", 1, "offer", 100, 15),
        order("6", 1, "offer", 200, 25),
      ],
    };
    for (const method of ["merit", "lp"] as const) {
      it(`fills, prices and welfare match the hand computation (${method})`, async () => {
        const r = await solveDispatch(instance, { method });
        expect(fillsOf(r)).to.deep.equal({ "1": 100, "2": 150, "3": 0, "4": 150, "5": 100, "6": 0 });
        expect(r.schedule.prices).to.deep.equal([{ interval: 100, zone: 1, pricePerKwh: 20 }]);
        expect(r.schedule.welfareMilli).to.equal("3750");
        expect(r.stats.method).to.equal(method);
      });
    }
  });

  describe("when two zones are joined by a binding line", () => {
    // Zone 1: offer 1000@10. Zone 2: bid 1000@50, offer 1000@40. Line cap 400, fee 2, no loss.
    // Import is worth 50 − 10 − 2 = 38 per kWh, so the line runs full (400); zone 2 tops up 600 at 40.
    // Zone 1 offer marginal (400/1000) → 10; zone 2 offer marginal (600/1000) → 40.
    // Welfare = 50·1000 − 10·400 − 40·600 − 2·400 = 21200.
    const instance: DispatchInstanceInput = {
      horizon: { firstInterval: 100, intervals: 1 },
      zones: [2, 1],
      lines: [{ from: 2, to: 1, capacityWh: 400, lossFactor: 0, feePerKwh: 2 }],
      orders: [
        order("1", 1, "offer", 1000, 10),
        order("2", 2, "bid", 1000, 50),
        order("3", 2, "offer", 1000, 40),
      ],
    };
    it("runs the line at capacity and prices the zones apart", async () => {
      const r = await solveDispatch(instance);
      expect(fillsOf(r)).to.deep.equal({ "1": 400, "2": 1000, "3": 600 });
      expect(r.schedule.prices).to.deep.equal([
        { interval: 100, zone: 1, pricePerKwh: 10 },
        { interval: 100, zone: 2, pricePerKwh: 40 },
      ]);
      expect(r.schedule.flows).to.deep.equal([
        { interval: 100, from: 1, to: 2, sentWh: 400, receivedWh: 400 },
      ]);
      expect(r.schedule.welfareMilli).to.equal("21200");
    });
    it("leaves a congestion rent of (40 − 10 − 2) per kWh on the line", async () => {
      const r = await solveDispatch(instance);
      // buyers pay 40·1000; sellers get 10·400 + 40·600; the operator's fee is 2·400; rent is the rest.
      const rentMilli = 40 * 1000 - (10 * 400 + 40 * 600) - 2 * 400;
      expect(rentMilli).to.equal((40 - 10 - 2) * 400);
      expect(r.schedule.prices.map((p) => p.pricePerKwh)).to.deep.equal([10, 40]);
    });
  });

  describe("when a battery arbitrages two intervals with losses", () => {
    // t0: offer 1000@10; t1: bid 1000@100. Battery: charge ≤ 500, η_ch = 0.9, η_dis = 0.8, empty at both ends.
    // Charging 500 stores 450; discharging d takes d/0.8 from storage, so d = 0.8·450 = 360.
    // (Applying η wrongly, e.g. d = 450·0.9 or 500·0.8·0.8, gives 405 or 320.)
    // Welfare = 100·360 − 10·500 = 31000; t0 offer marginal → 10, t1 bid marginal → 100.
    const instance: DispatchInstanceInput = {
      horizon: { firstInterval: 100, intervals: 2 },
      zones: [1],
      batteries: [battery("7", 1, { chargeEfficiency: 0.9, dischargeEfficiency: 0.8 })],
      orders: [order("1", 1, "offer", 1000, 10, 100), order("2", 1, "bid", 1000, 100, 101)],
    };
    it("charges 500, discharges 360 and ends empty", async () => {
      const r = await solveDispatch(instance);
      expect(r.schedule.batteries).to.deep.equal([
        {
          batteryId: "7",
          steps: [
            { interval: 100, chargeWh: 500, dischargeWh: 0, socWh: 450 },
            { interval: 101, chargeWh: 0, dischargeWh: 360, socWh: 0 },
          ],
        },
      ]);
      expect(fillsOf(r)).to.deep.equal({ "1": 500, "2": 360 });
      expect(r.schedule.prices.map((p) => p.pricePerKwh)).to.deep.equal([10, 100]);
      expect(r.schedule.welfareMilli).to.equal("31000");
    });
  });

  describe("when the dual is not unique", () => {
    // Bid 100@30 and offer 100@10 cross fully: any price in [10, 30] clears. The rule picks the
    // midpoint ⌊(10 + 30)/2⌋ = 20, on both paths.
    const instance: DispatchInstanceInput = {
      horizon: { firstInterval: 100, intervals: 1 },
      zones: [1],
      orders: [order("1", 1, "bid", 100, 30), order("2", 1, "offer", 100, 10)],
    };
    for (const method of ["merit", "lp"] as const) {
      it(`prices at the bracket midpoint (${method})`, async () => {
        const r = await solveDispatch(instance, { method });
        expect(r.schedule.prices[0]!.pricePerKwh).to.equal(20);
      });
    }
    // A flat supply curve: two offers of 100 at 10 for a bid of 150 at 30. Either split is optimal;
    // the merit order gives the lower id the full 100. The price is pinned at 10 either way.
    const flat: DispatchInstanceInput = {
      horizon: { firstInterval: 100, intervals: 1 },
      zones: [1],
      orders: [
        order("5", 1, "offer", 100, 10),
        order("3", 1, "offer", 100, 10),
        order("9", 1, "bid", 150, 30),
      ],
    };
    it("splits a flat curve by order id on the merit path", async () => {
      const r = await solveDispatch(flat, { method: "merit" });
      expect(fillsOf(r)).to.deep.equal({ "3": 100, "5": 50, "9": 150 });
      expect(r.schedule.prices[0]!.pricePerKwh).to.equal(10);
    });
    it("gives the same welfare and price on the LP path", async () => {
      const r = await solveDispatch(flat, { method: "lp" });
      expect(r.schedule.welfareMilli).to.equal(String(30 * 150 - 10 * 150));
      expect(r.schedule.prices[0]!.pricePerKwh).to.equal(10);
      expect(fillsOf(r)["9"]).to.equal(150);
    });
  });

  describe("when no order can trade", () => {
    it("prices an isolated zone at its best bid when only bids exist", async () => {
      const r = await solveDispatch({
        horizon: { firstInterval: 1, intervals: 1 },
        zones: [1],
        orders: [order("1", 1, "bid", 10, 7, 1), order("2", 1, "bid", 10, 9, 1)],
      });
      expect(r.schedule.prices[0]!.pricePerKwh).to.equal(9);
      expect(r.schedule.fills.every((f) => f.filledWh === 0)).to.equal(true);
    });
    it("prices a zone without orders at 0", async () => {
      const r = await solveDispatch({ horizon: { firstInterval: 1, intervals: 1 }, zones: [1], orders: [] });
      expect(r.schedule.prices).to.deep.equal([{ interval: 1, zone: 1, pricePerKwh: 0 }]);
    });
  });

  describe("when the battery end state cannot be supplied", () => {
    it("throws DispatchModelError with status infeasible", async () => {
      const instance: DispatchInstanceInput = {
        horizon: { firstInterval: 1, intervals: 2 },
        zones: [1],
        batteries: [battery("1", 1, { endSocWh: 500 })],
        orders: [order("1", 1, "bid", 100, 10, 1)],
      };
      const error = await solveDispatch(instance).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(DispatchModelError);
      expect((error as DispatchModelError).status).to.equal("infeasible");
    });
  });

  describe("when the input is invalid", () => {
    const base = (): DispatchInstanceInput => ({
      horizon: { firstInterval: 100, intervals: 2 },
      zones: [1, 2],
      lines: [{ from: 1, to: 2, capacityWh: 10, lossFactor: 0, feePerKwh: 0 }],
      batteries: [battery("1", 1)],
      orders: [order("1", 1, "bid", 10, 5)],
    });
    const cases: Array<[string, (i: DispatchInstanceInput) => unknown, string]> = [
      [
        "NaN quantity",
        (i) => ((i.orders[0] as { quantityWh: number }).quantityWh = NaN),
        "orders.0.quantityWh",
      ],
      [
        "negative quantity",
        (i) => ((i.orders[0] as { quantityWh: number }).quantityWh = -5),
        "orders.0.quantityWh",
      ],
      [
        "fractional price",
        (i) => ((i.orders[0] as { limitPricePerKwh: number }).limitPricePerKwh = 1.5),
        "orders.0.limitPricePerKwh",
      ],
      ["unknown zone", (i) => ((i.orders[0] as { zone: number }).zone = 9), "orders.0.zone"],
      [
        "interval outside the horizon",
        (i) => ((i.orders[0] as { interval: number }).interval = 102),
        "orders.0.interval",
      ],
      ["a line to itself", (i) => ((i.lines![0] as { to: number }).to = 1), "lines.0.to"],
      [
        "efficiency above 1",
        (i) => ((i.batteries![0] as { chargeEfficiency: number }).chargeEfficiency = 1.2),
        "batteries.0.chargeEfficiency",
      ],
      [
        "unreachable end state",
        (i) =>
          ((i.batteries![0] as { endSocWh: number }).endSocWh = 1000) &&
          ((i.batteries![0] as { maxChargeWh: number }).maxChargeWh = 100),
        "batteries.0.endSocWh",
      ],
      ["non-decimal order id", (i) => ((i.orders[0] as { id: string }).id = "0x1"), "orders.0.id"],
      [
        "an order id of 2^256",
        (i) => ((i.orders[0] as { id: string }).id = (1n << 256n).toString()),
        "orders.0.id",
      ],
      ["duplicate order id", (i) => i.orders.push(order("1", 2, "offer", 1, 1)), "orders.1.id"],
    ];
    for (const [name, mutate, field] of cases) {
      it(`rejects ${name}, naming ${field}`, async () => {
        const instance = base();
        mutate(instance);
        const error = await solveDispatch(instance).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).to.be.instanceOf(DispatchInputError);
        expect((error as DispatchInputError).message).to.include(field);
      });
    }
  });

  describe("when an order id is the largest uint256", () => {
    it("accepts it and orders it after smaller ids", async () => {
      const max = ((1n << 256n) - 1n).toString();
      const r = await solveDispatch({
        horizon: { firstInterval: 1, intervals: 1 },
        zones: [1],
        orders: [order(max, 1, "bid", 10, 5, 1), order("99", 1, "offer", 10, 1, 1)],
      });
      expect(r.schedule.fills.map((f) => f.orderId)).to.deep.equal(["99", max]);
    });
  });

  describe("when prices are too large to pack with the order index", () => {
    // 9,200 orders with a 10^12 price exceed 2^53 when packed, so the merit order falls back to a
    // comparator sort; it must still agree with the LP.
    it("the merit order still matches the LP's welfare and price", async () => {
      const orders = Array.from({ length: 9_200 }, (_, i) =>
        order(
          String(i + 1),
          1,
          i % 2 === 0 ? "bid" : "offer",
          10 + (i % 17),
          i === 0 ? 1_000_000_000_000 : 50 + ((i * 37) % 100),
          1,
        ),
      );
      const instance: DispatchInstanceInput = {
        horizon: { firstInterval: 1, intervals: 1 },
        zones: [1],
        orders,
      };
      const [merit, lp] = await Promise.all([
        solveDispatch(instance, { method: "merit" }),
        solveDispatch(instance, { method: "lp" }),
      ]);
      expect(merit.schedule.welfareMilli).to.equal(lp.schedule.welfareMilli);
      expect(merit.schedule.prices).to.deep.equal(lp.schedule.prices);
    });
  });

  describe("HIGHS_PACKAGE_VERSION", () => {
    it("equals the installed highs package version", () => {
      const pkg = JSON.parse(
        readFileSync(new URL("../../../../node_modules/highs/package.json", import.meta.url), "utf8"),
      ) as { version: string };
      expect(HIGHS_PACKAGE_VERSION).to.equal(pkg.version);
    });
  });
});
