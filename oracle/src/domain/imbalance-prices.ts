/**
 * Imbalance prices by rule (docs/MARKET_RULES.md, "Imbalance prices"). The grid is each zone's
 * balancing party: it supplies what a participant is short of and absorbs what it is long of, at
 * its registered tariffs. So, per zone z with retail tariff R, feed-in tariff F and zone price p:
 *
 *   short price = max(R, p)   — missing energy costs what the grid charges, never less than the market
 *   long price  = min(F, p)   — surplus earns what the grid pays, never more than the market
 *
 * With F ≤ p ≤ R (the grid is every buyer's and seller's outside option) these are R and F, and any
 * deviation from the schedule costs the participant: a short seller loses R − p per kWh, a long
 * seller p − F, a short buyer R − p, a long buyer p − F. The contract enforces the same bounds
 * (`commitMeterReport`, error `ImbalancePriceOutOfBounds`).
 */
import { UnrecoverableInputError } from "./errors.js";

/** The grid's tariffs in one zone, token base units per kWh (`GridRegistry.zoneGrid`). */
export interface ZoneTariffs {
  readonly retailPerKwh: bigint;
  readonly feedInPerKwh: bigint;
}

export interface ImbalancePricesParameters {
  /** Tariffs per zone, index = zone id; at least one entry per zone price. */
  readonly tariffs: readonly ZoneTariffs[];
  /** The interval's committed zone prices, index = zone id. */
  readonly zonePrices: readonly bigint[];
}

export interface ImbalancePricesReturnType {
  /** Per zone: charged per kWh missing against the schedule. */
  readonly shortPrices: readonly bigint[];
  /** Per zone: paid per kWh in excess of the schedule. */
  readonly longPrices: readonly bigint[];
}

/**
 * The imbalance prices of every zone of an interval.
 *
 * @throws UnrecoverableInputError naming the zone when its tariffs are missing or invalid
 * (0 < feed-in ≤ retail, as the registry enforces), or a zone price is negative.
 */
export function imbalancePrices(params: ImbalancePricesParameters): ImbalancePricesReturnType {
  const shortPrices: bigint[] = [];
  const longPrices: bigint[] = [];
  params.zonePrices.forEach((p, z) => {
    const t = params.tariffs[z];
    if (t === undefined)
      throw new UnrecoverableInputError(
        `tariffs[${z}] is missing: zone ${z} has no registered grid tariffs`,
        {
          field: `tariffs[${z}]`,
        },
      );
    if (t.feedInPerKwh <= 0n || t.feedInPerKwh > t.retailPerKwh)
      throw new UnrecoverableInputError(`tariffs[${z}] must satisfy 0 < feed-in <= retail`, {
        field: `tariffs[${z}]`,
        details: `retail ${t.retailPerKwh}, feed-in ${t.feedInPerKwh}`,
      });
    if (p < 0n)
      throw new UnrecoverableInputError(`zonePrices[${z}] must not be negative`, {
        field: `zonePrices[${z}]`,
        details: String(p),
      });
    shortPrices.push(p > t.retailPerKwh ? p : t.retailPerKwh);
    longPrices.push(p < t.feedInPerKwh ? p : t.feedInPerKwh);
  });
  return { shortPrices, longPrices };
}

/**
 * What a participant receives (positive) or pays (negative) over an interval for a schedule and a
 * metering, under the settlement rules: fills at the zone price, deviations at the imbalance prices,
 * with the contract's rounding (payouts down, charges up). `scheduledNetWh` and `meteredNetWh` are
 * net injections (sold − bought, injected − consumed). Used to check that truthful scheduling is
 * each participant's best choice.
 */
export function intervalOutcome(parameters: {
  readonly scheduledNetWh: bigint;
  readonly meteredNetWh: bigint;
  readonly zonePrice: bigint;
  readonly shortPrice: bigint;
  readonly longPrice: bigint;
}): bigint {
  const { scheduledNetWh, meteredNetWh, zonePrice, shortPrice, longPrice } = parameters;
  const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;
  const fills =
    scheduledNetWh >= 0n
      ? (zonePrice * scheduledNetWh) / 1000n
      : -ceilDiv(zonePrice * -scheduledNetWh, 1000n);
  const deviation = meteredNetWh - scheduledNetWh;
  const imbalance =
    deviation >= 0n ? (longPrice * deviation) / 1000n : -ceilDiv(shortPrice * -deviation, 1000n);
  return fills + imbalance;
}
