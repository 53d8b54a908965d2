import { expect } from "chai";
import fc from "fast-check";
import { UnrecoverableInputError } from "../../../oracle/src/domain/errors.js";
import { privateKeyToAddress } from "viem/accounts";
import {
  type ZoneDeviation,
  imbalancePrices,
  intervalOutcome,
  zoneDeviations,
} from "../../../oracle/src/domain/imbalance-prices.js";

const R = 300_000n; // retail, token base units per kWh
const F = 70_000n; // feed-in
const tariffs = [{ retailPerKwh: R, feedInPerKwh: F }];

describe("imbalancePrices", () => {
  describe("when the zone price lies between the tariffs", () => {
    it("with nothing netted, charges short at retail and pays long at feed-in", () => {
      expect(imbalancePrices({ tariffs, zonePrices: [150_000n], deviations: [] })).to.deep.equal({
        shortPrices: [R],
        longPrices: [F],
      });
    });
  });
  describe("when the zone price is outside the tariffs", () => {
    it("follows the zone price above retail for short and below feed-in for long", () => {
      expect(imbalancePrices({ tariffs, zonePrices: [400_000n], deviations: [] }).shortPrices).to.deep.equal([
        400_000n,
      ]);
      expect(imbalancePrices({ tariffs, zonePrices: [10_000n], deviations: [] }).longPrices).to.deep.equal([
        10_000n,
      ]);
    });
  });
  describe("with several zones", () => {
    it("uses each zone's own tariffs", () => {
      const two = [...tariffs, { retailPerKwh: 250_000n, feedInPerKwh: 80_000n }];
      expect(
        imbalancePrices({ tariffs: two, zonePrices: [100_000n, 100_000n], deviations: [] }),
      ).to.deep.equal({
        shortPrices: [R, 250_000n],
        longPrices: [F, 80_000n],
      });
    });
  });
  describe("when a zone has no or invalid tariffs", () => {
    it("names the zone", () => {
      expect(() => imbalancePrices({ tariffs, zonePrices: [1n, 1n], deviations: [] }))
        .to.throw(UnrecoverableInputError)
        .with.property("field", "tariffs[1]");
      expect(() =>
        imbalancePrices({
          tariffs: [{ retailPerKwh: F, feedInPerKwh: R }],
          zonePrices: [1n],
          deviations: [],
        }),
      )
        .to.throw(UnrecoverableInputError, /feed-in <= retail/)
        .with.property("field", "tariffs[0]");
    });
  });
});

/**
 * Truthful scheduling (docs/MARKET_RULES.md): against scheduling exactly what is metered, each
 * deviation costs the participant a fixed amount per kWh.
 */
describe("intervalOutcome", () => {
  const p = 150_000n;
  const { shortPrices, longPrices } = imbalancePrices({ tariffs, zonePrices: [p], deviations: [] });
  const outcome = (scheduledNetWh: bigint, meteredNetWh: bigint) =>
    intervalOutcome({
      scheduledNetWh,
      meteredNetWh,
      zonePrice: p,
      shortPrice: shortPrices[0]!,
      longPrice: longPrices[0]!,
    });

  it("a short seller loses retail − price per kWh", () => {
    // sold 1000 Wh, delivered 800 Wh
    expect(outcome(800n, 800n) - outcome(1000n, 800n)).to.equal(((R - p) * 200n) / 1000n);
  });
  it("a long seller loses price − feed-in per kWh", () => {
    // sold 800 Wh, delivered 1000 Wh
    expect(outcome(1000n, 1000n) - outcome(800n, 1000n)).to.equal(((p - F) * 200n) / 1000n);
  });
  it("a short buyer loses retail − price per kWh", () => {
    // bought 1000 Wh, consumed 1200 Wh
    expect(outcome(-1200n, -1200n) - outcome(-1000n, -1200n)).to.equal(((R - p) * 200n) / 1000n);
  });
  it("a long buyer loses price − feed-in per kWh", () => {
    // bought 1000 Wh, consumed 800 Wh
    expect(outcome(-800n, -800n) - outcome(-1000n, -800n)).to.equal(((p - F) * 200n) / 1000n);
  });
  it("no schedule beats the truthful one, whatever the neighbours deviate (up to one base unit of rounding per side)", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -100_000n, max: 100_000n }),
        fc.bigInt({ min: -100_000n, max: 100_000n }),
        fc.bigInt({ min: F, max: R }),
        fc.bigInt({ min: 0n, max: 200_000n }),
        fc.bigInt({ min: 0n, max: 200_000n }),
        (scheduled, metered, price, othersShortWh, othersLongWh) => {
          // The participant's own deviation moves its zone's netting, and so the prices it pays.
          const at = (x: bigint) => {
            const own = metered - x;
            const zone: ZoneDeviation = {
              shortWh: othersShortWh + (own < 0n ? -own : 0n),
              longWh: othersLongWh + (own > 0n ? own : 0n),
            };
            const prices = imbalancePrices({ tariffs, zonePrices: [price], deviations: [zone] });
            return intervalOutcome({
              scheduledNetWh: x,
              meteredNetWh: metered,
              zonePrice: price,
              shortPrice: prices.shortPrices[0]!,
              longPrice: prices.longPrices[0]!,
            });
          };
          return at(scheduled) <= at(metered) + 2n;
        },
      ),
    );
  });
});

describe("imbalancePrices netting a zone's shorts against its longs", () => {
  const p = 150_000n; // between F = 70,000 and R = 300,000
  const net = (shortWh: bigint, longWh: bigint, zonePrice = p) =>
    imbalancePrices({ tariffs, zonePrices: [zonePrice], deviations: [{ shortWh, longWh }] });

  it("settles the covered part at the zone price and the rest at the tariffs", () => {
    // 300 Wh short, 100 Wh long: 100 Wh of the shorts at 150,000, 200 Wh at 300,000 →
    // (15,000,000 + 60,000,000) / 300 = 250,000; the longs are all covered: 150,000.
    expect(net(300n, 100n)).to.deep.equal({ shortPrices: [250_000n], longPrices: [150_000n] });
    // 100 Wh short, 300 Wh long: (100 · 150,000 + 200 · 70,000) / 300 = 96,666.67, rounded down.
    expect(net(100n, 300n)).to.deep.equal({ shortPrices: [150_000n], longPrices: [96_666n] });
  });
  it("charges and pays the zone price when the zone balances itself", () => {
    expect(net(500n, 500n)).to.deep.equal({ shortPrices: [p], longPrices: [p] });
  });
  it("rounds the short price up and the long price down", () => {
    // (1 · 150,001 + 2 · 300,000) / 3 = 250,000.33 → 250,001; (1 · 150,001 + 2 · 70,000) / 3 = 96,667 → 96,667.
    expect(net(3n, 1n, 150_001n).shortPrices).to.deep.equal([250_001n]);
    expect(net(1n, 3n, 150_001n).longPrices).to.deep.equal([96_667n]);
  });
  it("keeps the zone price beyond the tariffs as the rule's price for the uncovered part", () => {
    // Zone price 10,000 below feed-in: 50 of 100 Wh short covered at 10,000, 50 at retail → 155,000.
    expect(net(100n, 50n, 10_000n)).to.deep.equal({ shortPrices: [155_000n], longPrices: [10_000n] });
    // Zone price 400,000 above retail: short pays 400,000 whatever is covered; a covered long earns it.
    expect(net(100n, 100n, 400_000n)).to.deep.equal({ shortPrices: [400_000n], longPrices: [400_000n] });
  });
  it("names a negative deviation", () => {
    expect(() => net(-1n, 0n))
      .to.throw(UnrecoverableInputError, /must not be negative/)
      .with.property("field", "deviations[0]");
  });

  const zoneCase = fc.record({
    retail: fc.bigInt({ min: 1n, max: 1_000_000n }),
    feedInShare: fc.integer({ min: 1, max: 1000 }),
    price: fc.bigInt({ min: 0n, max: 2_000_000n }),
    shorts: fc.array(fc.bigInt({ min: 1n, max: 50_000n }), { maxLength: 8 }),
    longs: fc.array(fc.bigInt({ min: 1n, max: 50_000n }), { maxLength: 8 }),
  });
  it("stays within the contract's bounds: zone price ≤ short ≤ max(R, p), min(F, p) ≤ long ≤ zone price", () => {
    fc.assert(
      fc.property(zoneCase, ({ retail, feedInShare, price, shorts, longs }) => {
        const feedIn = (retail * BigInt(feedInShare) + 999n) / 1000n;
        const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);
        const { shortPrices, longPrices } = imbalancePrices({
          tariffs: [{ retailPerKwh: retail, feedInPerKwh: feedIn }],
          zonePrices: [price],
          deviations: [{ shortWh: sum(shorts), longWh: sum(longs) }],
        });
        const [short, long] = [shortPrices[0]!, longPrices[0]!];
        const maxShort = price > retail ? price : retail;
        const minLong = price < feedIn ? price : feedIn;
        return price <= short && short <= maxShort && minLong <= long && long <= price;
      }),
    );
  });

  it("never leaves the operator with less than the grid's part: what the zone as a whole was short or long", () => {
    fc.assert(
      fc.property(zoneCase, ({ retail, feedInShare, price, shorts, longs }) => {
        const feedIn = (retail * BigInt(feedInShare) + 999n) / 1000n;
        const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);
        const [S, L] = [sum(shorts), sum(longs)];
        const { shortPrices, longPrices } = imbalancePrices({
          tariffs: [{ retailPerKwh: retail, feedInPerKwh: feedIn }],
          zonePrices: [price],
          deviations: [{ shortWh: S, longWh: L }],
        });
        // Each participant settled as the contract does: short charges rounded up, long payouts down.
        const charged = sum(shorts.map((d) => (shortPrices[0]! * d + 999n) / 1000n));
        const paid = sum(longs.map((d) => (longPrices[0]! * d) / 1000n));
        const covered = S < L ? S : L;
        const gridShort = price > retail ? price : retail;
        const gridLong = price < feedIn ? price : feedIn;
        // × 1000 to compare in exact integers: Wh · price per kWh.
        return (charged - paid) * 1000n >= (S - covered) * gridShort - (L - covered) * gridLong;
      }),
    );
  });
});

describe("imbalancePrices and the missing-reading rule", () => {
  // A silent meter counts as injecting nothing (docs/OPERATIONS.md, "Missing meter data"), which
  // can only make its participant's short deviation larger. Netting must not make that cheaper than
  // the truth: what a short pays never falls as its own deviation grows, whatever the neighbours do.
  it("a short's charge never falls as its own deviation grows", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 100_000n }),
        fc.bigInt({ min: 0n, max: 100_000n }),
        fc.bigInt({ min: 1n, max: 50_000n }),
        fc.bigInt({ min: 0n, max: 50_000n }),
        fc.bigInt({ min: F, max: R }),
        (othersShortWh, othersLongWh, truthWh, missingWh, price) => {
          const charge = (ownShortWh: bigint) => {
            const { shortPrices } = imbalancePrices({
              tariffs,
              zonePrices: [price],
              deviations: [{ shortWh: othersShortWh + ownShortWh, longWh: othersLongWh }],
            });
            return (shortPrices[0]! * ownShortWh + 999n) / 1000n;
          };
          return charge(truthWh + missingWh) >= charge(truthWh);
        },
      ),
    );
  });
});

describe("zoneDeviations", () => {
  const [a, b, c, d] = [1n, 2n, 3n, 4n].map((k) =>
    privateKeyToAddress(`0x${k.toString(16).padStart(64, "0")}`),
  );
  it("sums each zone's shorts and longs, and leaves unzoned participants out", () => {
    const zoneOf = new Map([
      [a!, 0],
      [b!, 0],
      [c!, 1],
    ]);
    const deviations = zoneDeviations(
      [
        { participant: a!, deviationWh: -200n }, // seller 200 short
        { participant: b!, deviationWh: 100n }, // buyer 100 long
        { participant: c!, deviationWh: -100n }, // buyer 100 short, zone 1
        { participant: d!, deviationWh: -5000n }, // no zone: nets with nobody
      ],
      (participant) => zoneOf.get(participant),
      3,
    );
    expect(deviations).to.deep.equal([
      { shortWh: 200n, longWh: 100n },
      { shortWh: 100n, longWh: 0n },
      { shortWh: 0n, longWh: 0n },
    ]);
  });
});
