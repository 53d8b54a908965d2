import { expect } from "chai";
import fc from "fast-check";
import { UnrecoverableInputError } from "../../../oracle/src/domain/errors.js";
import { imbalancePrices, intervalOutcome } from "../../../oracle/src/domain/imbalance-prices.js";

const R = 300_000n; // retail, token base units per kWh
const F = 70_000n; // feed-in
const tariffs = [{ retailPerKwh: R, feedInPerKwh: F }];

describe("imbalancePrices", () => {
  describe("when the zone price lies between the tariffs", () => {
    it("charges short at retail and pays long at feed-in", () => {
      expect(imbalancePrices({ tariffs, zonePrices: [150_000n] })).to.deep.equal({
        shortPrices: [R],
        longPrices: [F],
      });
    });
  });
  describe("when the zone price is outside the tariffs", () => {
    it("follows the zone price above retail for short and below feed-in for long", () => {
      expect(imbalancePrices({ tariffs, zonePrices: [400_000n] }).shortPrices).to.deep.equal([400_000n]);
      expect(imbalancePrices({ tariffs, zonePrices: [10_000n] }).longPrices).to.deep.equal([10_000n]);
    });
  });
  describe("with several zones", () => {
    it("uses each zone's own tariffs", () => {
      const two = [...tariffs, { retailPerKwh: 250_000n, feedInPerKwh: 80_000n }];
      expect(imbalancePrices({ tariffs: two, zonePrices: [100_000n, 100_000n] })).to.deep.equal({
        shortPrices: [R, 250_000n],
        longPrices: [F, 80_000n],
      });
    });
  });
  describe("when a zone has no or invalid tariffs", () => {
    it("names the zone", () => {
      expect(() => imbalancePrices({ tariffs, zonePrices: [1n, 1n] }))
        .to.throw(UnrecoverableInputError)
        .with.property("field", "tariffs[1]");
      expect(() => imbalancePrices({ tariffs: [{ retailPerKwh: F, feedInPerKwh: R }], zonePrices: [1n] }))
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
  const { shortPrices, longPrices } = imbalancePrices({ tariffs, zonePrices: [p] });
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
  it("no schedule beats the truthful one (up to one base unit of rounding per side)", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -100_000n, max: 100_000n }),
        fc.bigInt({ min: -100_000n, max: 100_000n }),
        fc.bigInt({ min: F, max: R }),
        (scheduled, metered, price) => {
          const { shortPrices: s, longPrices: l } = imbalancePrices({ tariffs, zonePrices: [price] });
          const at = (x: bigint) =>
            intervalOutcome({
              scheduledNetWh: x,
              meteredNetWh: metered,
              zonePrice: price,
              shortPrice: s[0]!,
              longPrice: l[0]!,
            });
          return at(scheduled) <= at(metered) + 2n;
        },
      ),
    );
  });
});
