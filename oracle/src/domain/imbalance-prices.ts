/**
 * Netted imbalance prices (docs/MARKET_RULES.md, "Imbalance prices"). The grid is each zone's
 * balancing party, but only for what the zone as a whole is short or long: a household's shortfall
 * that a neighbour's surplus covered in the same interval never reached the grid. So, per zone z
 * with retail tariff R, feed-in tariff F, zone price p, S Wh of shorts and L Wh of longs against the
 * schedule, and m = min(S, L) the part of each that the other covered:
 *
 *   short price = ⌈(m·p + (S − m)·max(R, p)) / S⌉   (max(R, p) when S = 0)
 *   long price  = ⌊(m·p + (L − m)·min(F, p)) / L⌋   (min(F, p) when L = 0)
 *
 * The covered part is settled at the zone price, the rest as the grid settles it. The zone price is
 * the only single price for the covered part that keeps deviating unprofitable: a short pays at
 * least p (never better than buying at p) and a long earns at most p (never better than selling at
 * p). Rounding (short up, long down) keeps what the shorts pay at least what is paid to the longs
 * plus the grid's part. With nothing covered these are the grid's tariffs, R and F. The contract
 * enforces the bounds p ≤ short ≤ max(R, p) and min(F, p) ≤ long ≤ p (`commitMeterReport`, error
 * `ImbalancePriceOutOfBounds`); where in them the price lies needs every meter leaf, which only the
 * committee has until the deviations are settled (`ImbalanceSettled`).
 */
import { type Address, getAddress } from "viem";
import { UnrecoverableInputError } from "./errors.js";

/** The grid's tariffs in one zone, token base units per kWh (`GridRegistry.zoneGrid`). */
export interface ZoneTariffs {
  readonly retailPerKwh: bigint;
  readonly feedInPerKwh: bigint;
}

/** A zone's total deviations against the schedule in one interval, Wh (both ≥ 0). */
export interface ZoneDeviation {
  /** Σ over the zone's participants that metered less net injection than scheduled. */
  readonly shortWh: bigint;
  /** Σ over those that metered more. */
  readonly longWh: bigint;
}

export interface ImbalancePricesParameters {
  /** Tariffs per zone, index = zone id; at least one entry per zone price. */
  readonly tariffs: readonly ZoneTariffs[];
  /** The interval's committed zone prices, index = zone id. */
  readonly zonePrices: readonly bigint[];
  /** Per zone (index = zone id) the metered deviations (`zoneDeviations`); a missing zone has none. */
  readonly deviations: readonly (ZoneDeviation | undefined)[];
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
 * (0 < feed-in ≤ retail, as the registry enforces), a zone price is negative or a deviation is.
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
    const { shortWh, longWh } = params.deviations[z] ?? { shortWh: 0n, longWh: 0n };
    if (shortWh < 0n || longWh < 0n)
      throw new UnrecoverableInputError(`deviations[${z}] must not be negative`, {
        field: `deviations[${z}]`,
        details: `short ${shortWh} Wh, long ${longWh} Wh`,
      });
    const gridShort = p > t.retailPerKwh ? p : t.retailPerKwh;
    const gridLong = p < t.feedInPerKwh ? p : t.feedInPerKwh;
    const covered = shortWh < longWh ? shortWh : longWh;
    shortPrices.push(
      shortWh === 0n ? gridShort : ceilDiv(covered * p + (shortWh - covered) * gridShort, shortWh),
    );
    longPrices.push(longWh === 0n ? gridLong : (covered * p + (longWh - covered) * gridLong) / longWh);
  });
  return { shortPrices, longPrices };
}

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;

/** A participant's deviation in an interval: metered net − scheduled net (Wh), as `settleImbalance` computes it. */
export interface ParticipantDeviation {
  readonly participant: Address;
  readonly deviationWh: bigint;
}

/**
 * Each zone's shorts and longs (index = zone id, `zoneCount` entries), from every participant's
 * deviation (negative: short). A participant without a registered zone (`zoneOf` gives undefined)
 * is settled at the interval's worst prices and nets with nobody.
 */
export function zoneDeviations(
  participants: readonly ParticipantDeviation[],
  zoneOf: (participant: Address) => number | undefined,
  zoneCount: number,
): ZoneDeviation[] {
  const zones = Array.from({ length: zoneCount }, () => ({ shortWh: 0n, longWh: 0n }));
  for (const p of participants) {
    const zone = zoneOf(getAddress(p.participant));
    if (zone === undefined || zone >= zoneCount) continue;
    if (p.deviationWh < 0n) zones[zone]!.shortWh -= p.deviationWh;
    else zones[zone]!.longWh += p.deviationWh;
  }
  return zones;
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
  const fills =
    scheduledNetWh >= 0n
      ? (zonePrice * scheduledNetWh) / 1000n
      : -ceilDiv(zonePrice * -scheduledNetWh, 1000n);
  const deviation = meteredNetWh - scheduledNetWh;
  const imbalance =
    deviation >= 0n ? (longPrice * deviation) / 1000n : -ceilDiv(shortPrice * -deviation, 1000n);
  return fills + imbalance;
}
