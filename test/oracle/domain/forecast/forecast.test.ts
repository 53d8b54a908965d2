import { expect } from "chai";
import {
  DEFAULT_FORECAST_RULE,
  forecastForInterval,
  forecastZones,
  observeOrders,
  surplusQuantileForecast,
  type ForecastInput,
  type ZoneIntervalObservation,
} from "../../../../oracle/src/domain/forecast/index.js";
import { UnrecoverableInputError } from "../../../../oracle/src/domain/errors.js";
import { AMSTERDAM, solarPosition } from "../../../../oracle/src/domain/simulation/solar.js";

/** Zone 0, intervals B..B+7 (two "days" of 4 intervals): bid = 100 + 10k Wh, offer = 50k Wh. */
const B = 1000;
const history: ZoneIntervalObservation[] = Array.from({ length: 8 }, (_, k) => ({
  intervalId: B + k,
  zone: 0,
  bidWh: 100 + 10 * k,
  bidPricePerKwh: 200_000 + k,
  offerWh: 50 * k,
  offerPricePerKwh: 80_000 + k,
}));
const input = (over: Partial<ForecastInput> = {}): ForecastInput => ({
  firstInterval: B + 8,
  intervals: 2,
  intervalSeconds: 900,
  zones: [0],
  history,
  location: { ...AMSTERDAM },
  intervalsPerDay: 4,
  ...over,
});
const pick = (f: ReturnType<typeof forecastZones>) =>
  f.map((x) => [x.intervalId, x.bidWh, x.bidPricePerKwh, x.offerWh, x.offerPricePerKwh]);

describe("forecastZones", () => {
  describe("baselines on a hand-computed case", () => {
    it("persistence repeats the last known interval (B+7) at every lead", () => {
      expect(pick(forecastZones(input(), "persistence"))).to.deep.equal([
        [B + 8, 170, 200_007, 350, 80_007],
        [B + 9, 170, 200_007, 350, 80_007],
      ]);
    });

    it("yesterday takes the same interval one day (4 intervals) earlier", () => {
      expect(pick(forecastZones(input(), "yesterday"))).to.deep.equal([
        [B + 8, 140, 200_004, 200, 80_004],
        [B + 9, 150, 200_005, 250, 80_005],
      ]);
    });

    it("yesterday looks two days back for a lead beyond one day", () => {
      // B+13 − 4 = B+9 is not known yet; B+5 is.
      const f = forecastZones(input({ intervals: 6 }), "yesterday");
      expect(pick(f)[5]).to.deep.equal([B + 13, 150, 200_005, 250, 80_005]);
    });

    it("recentMean averages the last 4 intervals, rounding half up", () => {
      // bids 140..170 → 155; prices 200004..200007 → 200005.5 → 200006; offers 200..350 → 275
      expect(pick(forecastZones(input(), "recentMean"))).to.deep.equal([
        [B + 8, 155, 200_006, 275, 80_006],
        [B + 9, 155, 200_006, 275, 80_006],
      ]);
    });

    it("recentMean averages a price over the intervals with orders on its side only (no orders is no price, not price 0)", () => {
      // B+6 has no bids and B+7 no offers: their zero prices are not prices. Bid price over
      // B+4, B+5, B+7 → (200004 + 200005 + 200007) / 3 = 200005.33 → 200005; offer price over
      // B+4..B+6 → 80005; volumes still average all 4 records, zeros included.
      const gaps = history.map((h) =>
        h.intervalId === B + 6
          ? { ...h, bidWh: 0, bidPricePerKwh: 0 }
          : h.intervalId === B + 7
            ? { ...h, offerWh: 0, offerPricePerKwh: 0 }
            : h,
      );
      expect(pick(forecastZones(input({ history: gaps }), "recentMean"))[0]).to.deep.equal([
        B + 8,
        Math.round((140 + 150 + 0 + 170) / 4),
        200_005,
        Math.round((200 + 250 + 300 + 0) / 4),
        80_005,
      ]);
      // A side without orders in any of the 4 intervals forecasts price 0 (and volume 0).
      const none = history.map((h) => ({ ...h, bidWh: 0, bidPricePerKwh: 0 }));
      expect(pick(forecastZones(input({ history: none }), "recentMean"))[0]!.slice(1, 3)).to.deep.equal([
        0, 0,
      ]);
    });

    it("solarShape scales the last offered volume by the sun's elevation ratio and persists the rest", () => {
      // Local noon on 2027-06-21 in Amsterdam ≈ 11:40 UTC; last known 10:00, forecast 10:15.
      const noon = Date.UTC(2027, 5, 21, 10, 0, 0) / 1000 / 900;
      const h = [
        {
          intervalId: noon,
          zone: 0,
          bidWh: 300,
          bidPricePerKwh: 250_000,
          offerWh: 4000,
          offerPricePerKwh: 90_000,
        },
      ];
      const [f] = forecastZones(
        input({
          firstInterval: noon + 1,
          intervals: 1,
          history: h,
          pvWpByZone: { "0": 20_000 },
          intervalsPerDay: 96,
        }),
        "solarShape",
      );
      const sine = (id: number) =>
        Math.sin((solarPosition(id * 900 + 450, AMSTERDAM).elevationDeg * Math.PI) / 180);
      const expected = Math.round((4000 * sine(noon + 1)) / sine(noon));
      expect(expected).to.be.greaterThan(4000); // the sun still rises: the shape adds volume
      expect(f).to.deep.equal({
        intervalId: noon + 1,
        zone: 0,
        bidWh: 300,
        bidPricePerKwh: 250_000,
        offerWh: expected,
        offerPricePerKwh: 90_000,
      });
    });

    it("solarShape forecasts no offered volume at night", () => {
      const midnight = Date.UTC(2027, 5, 20, 22, 0, 0) / 1000 / 900; // 00:00 CEST
      const h = [
        { intervalId: midnight, zone: 0, bidWh: 300, bidPricePerKwh: 1, offerWh: 50, offerPricePerKwh: 1 },
      ];
      const [f] = forecastZones(
        input({ firstInterval: midnight + 1, intervals: 1, history: h, pvWpByZone: { "0": 20_000 } }),
        "solarShape",
      );
      expect(f!.offerWh).to.equal(0);
    });
  });

  describe("when inputs are missing", () => {
    it("falls back to zero for every method when there is no history", () => {
      for (const method of ["persistence", "yesterday", "recentMean", "solarShape"] as const)
        expect(pick(forecastZones(input({ history: [] }), method))).to.deep.equal([
          [B + 8, 0, 0, 0, 0],
          [B + 9, 0, 0, 0, 0],
        ]);
    });

    it("yesterday falls back to persistence when the day-old record is absent", () => {
      const h = history.filter((x) => x.intervalId !== B + 4);
      expect(pick(forecastZones(input({ history: h }), "yesterday"))[0]).to.deep.equal([
        B + 8,
        170,
        200_007,
        350,
        80_007,
      ]);
    });

    it("persistence falls back to zero when the last interval is absent", () => {
      const h = history.filter((x) => x.intervalId !== B + 7);
      expect(pick(forecastZones(input({ history: h }), "persistence"))[0]).to.deep.equal([B + 8, 0, 0, 0, 0]);
    });

    it("forecasts every listed zone, a zone without records as zeros", () => {
      const f = forecastZones(input({ zones: [1, 0], intervals: 1 }), DEFAULT_FORECAST_RULE);
      expect(f.map((x) => x.zone)).to.deep.equal([0, 1]);
      expect(pick([f[1]!])).to.deep.equal([[B + 8, 0, 0, 0, 0]]);
    });
  });

  describe("determinism", () => {
    it("gives the same bytes for the same input, in any history order", () => {
      const a = JSON.stringify(forecastZones(input({ intervals: 8 })));
      const b = JSON.stringify(forecastZones(input({ intervals: 8, history: [...history].reverse() })));
      expect(a).to.equal(b);
      expect(JSON.stringify(forecastZones(input({ intervals: 8 })))).to.equal(a);
      for (const f of forecastZones(input({ intervals: 8 })))
        for (const v of Object.values(f)) expect(Number.isSafeInteger(v)).to.equal(true);
    });
  });

  describe("when the input is malformed", () => {
    it("rejects a duplicate record, naming it", () => {
      expect(() => forecastZones(input({ history: [...history, history[3]!] })))
        .to.throw(UnrecoverableInputError)
        .with.property("details")
        .that.matches(/history\.8: duplicate record for zone 0, interval 1003/);
    });

    it("rejects a negative volume, naming the field", () => {
      const bad = [{ ...history[0]!, bidWh: -1 }];
      expect(() => forecastZones(input({ history: bad })))
        .to.throw(UnrecoverableInputError)
        .with.property("details")
        .that.matches(/history\.0\.bidWh: must not be negative/);
    });
  });
});

describe("observeOrders", () => {
  it("sums volumes per zone and side and rounds the volume-weighted price half up", () => {
    const obs = observeOrders(
      7,
      [0, 1],
      [
        { zone: 0, side: "bid", quantityWh: 1, limitPricePerKwh: 100 },
        { zone: 0, side: "bid", quantityWh: 1, limitPricePerKwh: 101 }, // mean 100.5 → 101
        { zone: 0, side: "offer", quantityWh: 3, limitPricePerKwh: 10 },
        { zone: 0, side: "offer", quantityWh: 1, limitPricePerKwh: 20 }, // 50 / 4 = 12.5 → 13
      ],
    );
    expect(obs).to.deep.equal([
      { intervalId: 7, zone: 0, bidWh: 2, bidPricePerKwh: 101, offerWh: 4, offerPricePerKwh: 13 },
      { intervalId: 7, zone: 1, bidWh: 0, bidPricePerKwh: 0, offerWh: 0, offerPricePerKwh: 0 },
    ]);
  });
});

describe("surplusQuantileForecast", () => {
  // Midday in Amsterdam, 21 June 2027 (11:00 UTC): the sun is high for every interval used.
  const i = Date.UTC(2027, 5, 21, 11, 0) / 1000 / 900;
  const sine = (t: number) =>
    Math.sin((solarPosition(t * 900 + 450, AMSTERDAM).elevationDeg * Math.PI) / 180);
  const rows = (offers: readonly number[]) =>
    offers.map((offerWh, k) => ({
      intervalId: i - 2 - k,
      zone: 0,
      bidWh: 0,
      bidPricePerKwh: 0,
      offerWh,
      offerPricePerKwh: 0,
    }));
  const orders = rows([1000, 1000, 1000, 1000, 1000]);
  // Metered minus ordered at i−2 … i−6: +500, −200, +100, +300, 0.
  const meters = rows([1500, 800, 1100, 1300, 1000]);
  const run = (quantile: number, over: Partial<Parameters<typeof surplusQuantileForecast>[0]> = {}) =>
    surplusQuantileForecast({
      interval: i,
      intervalSeconds: 900,
      zones: [0],
      offeredWh: new Map([[0, 2000]]),
      orders,
      meters,
      lastMetered: i - 2,
      window: 16,
      quantile,
      location: AMSTERDAM,
      ...over,
    }).get(0);

  it("adds the nearest-rank quantile of the sun-normalised errors, scaled to interval i's sun", () => {
    const errors = [500, -200, 100, 300, 0].map((e, k) => e / sine(i - 2 - k)).sort((a, b) => a - b);
    // 5 errors: rank ⌈0.8·5⌉ = 4 → the 4th smallest; rank ⌈0.1·5⌉ = 1 → the smallest.
    expect(run(0.8)).to.equal(Math.round(2000 + errors[3]! * sine(i)));
    expect(run(0.1)).to.equal(Math.round(2000 + errors[0]! * sine(i)));
    expect(run(0.8)).to.be.above(2000);
    expect(run(0.1)).to.be.below(2000);
  });

  it("returns the ordered volume with fewer than 4 metered intervals in the window", () => {
    expect(run(0.8, { window: 3 })).to.equal(2000);
  });

  it("returns the ordered volume at night", () => {
    const night = Date.UTC(2027, 5, 21, 23, 0) / 1000 / 900;
    expect(run(0.8, { interval: night, lastMetered: night - 2 })).to.equal(2000);
  });

  it("never forecasts a negative surplus", () => {
    expect(run(0.1, { offeredWh: new Map([[0, 0]]) })).to.equal(0);
  });
});

describe("forecastForInterval", () => {
  // Midday in Amsterdam, 21 June 2027 (11:00 UTC): the sun is high at i and after.
  const i = Date.UTC(2027, 5, 21, 11, 0) / 1000 / 900;
  const sine = (t: number) =>
    Math.sin((solarPosition(t * 900 + 450, AMSTERDAM).elevationDeg * Math.PI) / 180);
  const record = (intervalId: number, zone: number, offerWh: number): ZoneIntervalObservation => ({
    intervalId,
    zone,
    bidWh: 300,
    bidPricePerKwh: 200_000,
    offerWh,
    offerPricePerKwh: 70_000,
  });
  const base = {
    interval: i,
    horizon: 3,
    zones: [0, 1],
    intervalSeconds: 900,
    observations: [record(i, 0, 1_000), record(i, 1, 1_000)],
    solarZones: [1],
    location: AMSTERDAM,
  };

  describe("when given the records of i", () => {
    it("gives rows for i+1 … i+H−1 sorted by (interval, zone), solar-shaping only the zones with PV", () => {
      const rows = forecastForInterval(base, "solarShape");
      expect(rows.map((r) => [r.intervalId, r.zone])).to.deep.equal([
        [i + 1, 0],
        [i + 1, 1],
        [i + 2, 0],
        [i + 2, 1],
      ]);
      // Zone 0 has no solar meter: persistence. Zone 1: 1,000 × s(t)/s(i), rounded.
      expect(rows.map((r) => r.offerWh)).to.deep.equal([
        1_000,
        Math.round((1_000 * sine(i + 1)) / sine(i)),
        1_000,
        Math.round((1_000 * sine(i + 2)) / sine(i)),
      ]);
      expect(rows[1]!.offerWh, "the sun moves between i and i + 1").to.not.equal(1_000);
    });

    it("equals forecastZones from i + 1 with the day's intervals from intervalSeconds", () => {
      expect(forecastForInterval(base)).to.deep.equal(
        forecastZones({
          firstInterval: i + 1,
          intervals: 2,
          intervalSeconds: 900,
          zones: [0, 1],
          history: base.observations,
          pvWpByZone: { "1": 5_000 },
          location: AMSTERDAM,
          intervalsPerDay: 96,
        }),
      );
    });

    it("gives no rows for H = 1 (interval i alone)", () => {
      expect(forecastForInterval({ ...base, horizon: 1 })).to.deep.equal([]);
    });
  });

  describe("when the input is bad", () => {
    it("names the field", () => {
      expect(() => forecastForInterval({ ...base, horizon: 0 }))
        .to.throw(UnrecoverableInputError)
        .with.property("field", "horizon");
      expect(() => forecastForInterval({ ...base, intervalSeconds: 7 }))
        .to.throw(UnrecoverableInputError)
        .with.property("field", "intervalSeconds");
    });
  });
});
