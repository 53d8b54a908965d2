/**
 * Prosumer agents' bidding strategy and the grid counterparty. See docs/SIMULATION.md §9.
 *
 * Every household compares its FORECAST (never its actual) PV and load for the interval:
 * a surplus becomes a sell offer, a deficit a buy bid. It trades only what it is fairly sure of:
 * a seller offers the `offerQuantile` of its surplus, a buyer bids the `bidQuantile` of its deficit
 * (see `hedgedPositionWh`), because under the imbalance rule (docs/MARKET_RULES.md) a seller short
 * of its schedule pays retail for the missing energy and a buyer long of it is paid only feed-in,
 * while the energy it does not trade is settled exactly as the grid alone would (surplus at
 * feed-in, deficit at retail). Holding back therefore never costs more than the grid alone; trading
 * a forecast that fails does. Prices lie between the feed-in tariff F
 * (what the grid pays for exports: every seller's outside option) and the retail price R (what
 * the grid charges: every buyer's outside option), with spread S = R − F:
 *
 *   buyer, local block    : bid = R − S · u,  u ~ U(0.05, 0.45)   → bids in [R − 0.45 S, R − 0.05 S]
 *   seller, local block   : ask = F + S · u,  u ~ U(0.05, 0.45)   → asks in [F + 0.05 S, F + 0.45 S]
 *   remainder block       : bid = R (buyer), ask = F (seller)      (the outside option)
 *   battery charge bid    : F + S · u, u ~ U(0.25, 0.35), when the owner expects a PV surplus
 *   battery discharge ask : F + S · u, u ~ U(0.45, 0.55), in the evening window,
 *                           raised to at least charge / (ηc · ηd) so a cycle never loses money
 *   grid, per zone        : offer at R − 1 for Σ bids in the zone, bid at F + 1 for Σ offers in
 *                           the zone (one token base unit per kWh inside the tariffs; see below)
 *
 * Every local bid is above every local ask (R − 0.45 S > F + 0.45 S), so any local match gains
 * welfare over trading with the grid; the remainder blocks and the grid orders make every
 * interval clear in full. The grid's orders sit one base unit inside the tariffs because the
 * clearing maximises welfare: a remainder bid at R against a grid offer at R (or an ask at F against
 * a grid bid at F) adds zero welfare, so the solver is free to leave it unfilled, and the household
 * would then settle that part as imbalance (at R or F: the same money, but an unscheduled flow the
 * grid balances after the fact, and a lock the household must wait for). One unit (10⁻⁶ of a token
 * per kWh) makes every such trade strictly worth doing, so the schedule is deterministic.
 *
 * The grid's orders are placed through each zone's registered grid account (`GridRegistry.setZoneGrid`):
 * the balancing party, never metered and never settled for imbalance (docs/MARKET_RULES.md, "The grid"). The share of the position in the local block is drawn in [0.4, 0.8].
 * Draws come from a stream derived from (seed, intervalId, household), so orders are a pure
 * function of the inputs.
 */
import { z } from "zod";
import { UnrecoverableInputError, formatIssues } from "../errors.js";
import { chargeHeadroomWh, dischargeHeadroomWh } from "./battery.js";
import type { Household, Neighbourhood } from "./neighbourhood.js";
import { Prng, deriveSeed } from "./random.js";
import type { EnergyWh, IntervalSimulation } from "./simulator.js";
import { localTime } from "./time.js";

/** How far inside the tariffs the grid's orders sit (token base units per kWh): see the header. */
export const GRID_TIE_BREAK_PER_KWH = 1;

/** Owner of the grid counterparty's orders. */
export const GRID_OWNER = "grid";

export type OrderPurpose =
  "consumption" | "generation" | "battery-charge" | "battery-discharge" | "grid-supply" | "grid-offtake";

/** An order an agent wants to place. Same side names and units as the dispatch instance. */
export interface StrategyOrder {
  /** Household id, or `GRID_OWNER`. */
  readonly owner: string;
  readonly zone: number;
  readonly intervalId: number;
  readonly side: "bid" | "offer";
  /** Integer Wh, > 0. */
  readonly quantityWh: number;
  /** Token base units per kWh, integer. */
  readonly limitPricePerKwh: number;
  readonly purpose: OrderPurpose;
}

const price = z
  .number()
  .int("must be an integer")
  .min(0, "must not be negative")
  .max(1e12, "must be at most 10^12");

const quantile = z
  .number()
  .gt(0, "must be above 0 (a quantile of 0 would trade nothing)")
  .max(0.5, "must be at most 0.5 (above the forecast itself is never safer)");

export const strategyOptionsSchema = z
  .object({
    /** Grid retail price, token base units per kWh (6-decimal token: 300_000 = 0.30). */
    retailPricePerKwh: price.default(300_000),
    /** Feed-in tariff, token base units per kWh (70_000 = 0.07). */
    feedInPricePerKwh: price.default(70_000),
    /** Seed of the price draws; defaults to the neighbourhood's seed. */
    seed: z.number().int().min(0).max(0xffffffff, "must fit in 32 bits").optional(),
    /** Split each position into a local block and a remainder at the outside-option price. */
    remainderBlock: z.boolean().default(true),
    /** Positions below this are not worth an order (gas). */
    minOrderWh: z.number().int().min(1, "must be at least 1").default(10),
    /** Place battery charge/discharge orders (false when batteries are scheduled as flexible assets). */
    batteryOrders: z.boolean().default(true),
    /** Local hours [from, to) in which batteries offer to discharge. */
    eveningFromHour: z.number().int().min(0).max(23).default(17),
    eveningToHour: z.number().int().min(1).max(24).default(23),
    /** Add the grid's per-zone offer at retail and bid at feed-in. */
    gridOrders: z.boolean().default(true),
    /**
     * A seller offers this quantile of its surplus: the chance that it delivers less than it sold
     * is about this (0.5 offers the forecast itself). A shortfall costs retail − price per kWh, a
     * sale gains price − feed-in, which in a zone with surplus is one base unit: so a small quantile.
     * Measured in docs/BENCHMARKS.md, "Economics".
     */
    offerQuantile: quantile.default(0.02),
    /**
     * A buyer bids this quantile of its deficit: the chance that it needs less than it bought.
     * Over-buying costs price − feed-in per kWh; under-buying only forgoes part of the saving (the
     * rest is bought from the grid at retail, as without the market), so a larger quantile.
     */
    bidQuantile: quantile.default(0.1),
    /**
     * Standard deviation of the actual clear-sky index around the household's forecast of it.
     * Default from the simulator's default cloud model (docs/SIMULATION.md §3–4): the AR(1) error
     * two steps ahead, 0.22·√(1 − 0.9⁴) = 0.129, with the per-house spread 0.05 at the mean index
     * 0.68: √(0.129² + 0.034²) = 0.133.
     */
    clearSkyIndexSd: z.number().min(0, "must not be negative").max(2, "must be at most 2").default(0.133),
    /**
     * Log-standard deviation of the actual load around the forecast (the expected profile). Default
     * from the simulator's defaults: the per-interval noise 0.25 and the unforecast day level 0.1,
     * √(0.25² + 0.1²) = 0.27.
     */
    loadLogSd: z.number().min(0, "must not be negative").max(2, "must be at most 2").default(0.27),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.feedInPricePerKwh >= o.retailPricePerKwh)
      ctx.addIssue({
        code: "custom",
        path: ["feedInPricePerKwh"],
        message: `must be below retailPricePerKwh (${o.retailPricePerKwh})`,
      });
    if (o.eveningFromHour >= o.eveningToHour)
      ctx.addIssue({ code: "custom", path: ["eveningFromHour"], message: "must be before eveningToHour" });
  });

export type StrategyOptionsInput = z.input<typeof strategyOptionsSchema>;
export type StrategyOptions = z.output<typeof strategyOptionsSchema>;

export function parseStrategyOptions(input: StrategyOptionsInput = {}): StrategyOptions {
  const parsed = strategyOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new UnrecoverableInputError("invalid strategy options", {
      details: formatIssues(parsed.error.issues),
      field: first === undefined ? undefined : first.path.join("."),
    });
  }
  return parsed.data;
}

/** A battery owner's price limits, fixed for the day: usable for per-interval orders and for a standing flexibility order. */
export interface BatteryPriceThresholds {
  /** Highest price it pays to charge. */
  readonly chargeMaxPricePerKwh: number;
  /** Lowest price it accepts to discharge; ≥ chargeMax / (ηc · ηd) unless that exceeds retail. */
  readonly dischargeMinPricePerKwh: number;
}

export function batteryPriceThresholds(
  household: Household,
  seed: number,
  options: StrategyOptions,
): BatteryPriceThresholds {
  if (household.battery === null) throw new RangeError(`household ${household.id} has no battery`);
  const { retailPricePerKwh: r, feedInPricePerKwh: f } = options;
  const spread = r - f;
  const rng = new Prng(deriveSeed(seed, "battery-thresholds", household.index));
  const charge = Math.round(f + spread * rng.uniformIn(0.25, 0.35));
  const drawn = Math.round(f + spread * rng.uniformIn(0.45, 0.55));
  const breakEven = Math.ceil(
    charge / (household.battery.chargeEfficiency * household.battery.dischargeEfficiency),
  );
  return { chargeMaxPricePerKwh: charge, dischargeMinPricePerKwh: Math.min(r, Math.max(drawn, breakEven)) };
}

/**
 * The standard normal quantile Φ⁻¹(p), 0 < p < 1 (Acklam's rational approximation, relative error
 * below 1.2·10⁻⁹: far below a Wh at any household's scale).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/**
 * The position a household trades for an interval, from its forecast: positive is the energy it
 * offers, negative the energy it bids for (Wh, integer; 0 when it is not sure enough of either).
 *
 * The actual net surplus is modelled as normal around the forecast, with standard deviation
 * σ = √(σ_pv² + σ_load²): σ_pv = pv_forecast · clearSkyIndexSd / forecast index (PV energy is
 * proportional to the index, less where the inverter clips, so this errs on the safe side) and
 * σ_load = load_forecast · loadLogSd. A seller offers ⌊surplus + Φ⁻¹(offerQuantile) · σ⌋, a buyer
 * bids ⌊deficit + Φ⁻¹(bidQuantile) · σ⌋, never below zero. At quantile 0.5 this is the forecast.
 */
export function hedgedPositionWh(
  // Only the forecasts: the type keeps the actuals out of reach.
  household: { readonly forecast: EnergyWh; readonly clearSkyIndex: { readonly forecast: number } },
  options: Pick<StrategyOptions, "offerQuantile" | "bidQuantile" | "clearSkyIndexSd" | "loadLogSd">,
): number {
  const { pvWh, loadWh, netWh } = household.forecast;
  const index = household.clearSkyIndex.forecast;
  const pvSd = pvWh > 0 && index > 0 ? (pvWh * options.clearSkyIndexSd) / index : 0;
  const loadSd = loadWh * options.loadLogSd;
  const sd = Math.sqrt(pvSd * pvSd + loadSd * loadSd);
  if (netWh > 0) return Math.max(0, Math.floor(netWh + normalQuantile(options.offerQuantile) * sd));
  return -Math.max(0, Math.floor(-netWh + normalQuantile(options.bidQuantile) * sd));
}

export interface PlaceOrdersParameters {
  readonly neighbourhood: Neighbourhood;
  /** The interval; only `intervalId`, `startUnix`, `durationSeconds` and each household's `forecast` and `clearSkyIndex.forecast` are read. */
  readonly interval: IntervalSimulation;
  /** Current state of charge per battery-owning household id (defaults to the battery's initialSocWh). */
  readonly socWh?: Readonly<Record<string, number>>;
  readonly options?: StrategyOptionsInput;
}

/** The orders every agent (and the grid) places for one interval, households in index order, grid orders last by zone. */
export function placeOrders(parameters: PlaceOrdersParameters): StrategyOrder[] {
  const { neighbourhood, interval } = parameters;
  const o = parseStrategyOptions(parameters.options);
  const seed = o.seed ?? neighbourhood.seed;
  const r = o.retailPricePerKwh;
  const f = o.feedInPricePerKwh;
  const spread = r - f;
  const intervalId = interval.intervalId;
  const hour = localTime(interval.startUnix, neighbourhood.timeZone).secondOfDay / 3600;
  const evening = hour >= o.eveningFromHour && hour < o.eveningToHour;
  const byId = new Map(neighbourhood.households.map((h) => [h.id, h]));

  const orders: StrategyOrder[] = [];
  const push = (
    owner: string,
    zone: number,
    side: "bid" | "offer",
    quantityWh: number,
    limitPricePerKwh: number,
    purpose: OrderPurpose,
  ) => {
    if (quantityWh >= o.minOrderWh)
      orders.push({ owner, zone, intervalId, side, quantityWh, limitPricePerKwh, purpose });
  };

  for (const hi of interval.households) {
    const house = byId.get(hi.id);
    if (house === undefined) throw new RangeError(`interval household ${hi.id} is not in the neighbourhood`);
    const rng = new Prng(deriveSeed(seed, "strategy", intervalId, house.index));
    const localShare = rng.uniformIn(0.4, 0.8);
    const u = rng.uniformIn(0.05, 0.45);
    const net = hi.forecast.netWh;
    const position = hedgedPositionWh(hi, o);
    const side: "bid" | "offer" = net < 0 ? "bid" : "offer";
    const quantity = Math.abs(position);
    const localPrice = Math.round(side === "bid" ? r - spread * u : f + spread * u);
    const outsidePrice = side === "bid" ? r : f;
    const purpose: OrderPurpose = side === "bid" ? "consumption" : "generation";
    const local = Math.round(quantity * localShare);
    if (o.remainderBlock && local >= o.minOrderWh && quantity - local >= o.minOrderWh) {
      push(house.id, house.zone, side, local, localPrice, purpose);
      push(house.id, house.zone, side, quantity - local, outsidePrice, purpose);
    } else {
      // Too small to split: one order at the local price, so nothing of the position is dropped.
      push(house.id, house.zone, side, quantity, localPrice, purpose);
    }

    if (o.batteryOrders && house.battery !== null) {
      const soc = parameters.socWh?.[house.id] ?? house.battery.initialSocWh;
      const thresholds = batteryPriceThresholds(house, seed, o);
      if (net > 0) {
        push(
          house.id,
          house.zone,
          "bid",
          chargeHeadroomWh(house.battery, soc, interval.durationSeconds),
          thresholds.chargeMaxPricePerKwh,
          "battery-charge",
        );
      } else if (evening) {
        push(
          house.id,
          house.zone,
          "offer",
          dischargeHeadroomWh(house.battery, soc, interval.durationSeconds),
          thresholds.dischargeMinPricePerKwh,
          "battery-discharge",
        );
      }
    }
  }

  if (o.gridOrders) {
    for (let zone = 0; zone < neighbourhood.zones; zone++) {
      let bids = 0;
      let offers = 0;
      for (const order of orders) {
        if (order.zone !== zone) continue;
        if (order.side === "bid") bids += order.quantityWh;
        else offers += order.quantityWh;
      }
      if (bids > 0)
        orders.push({
          owner: GRID_OWNER,
          zone,
          intervalId,
          side: "offer",
          quantityWh: bids,
          limitPricePerKwh: r - GRID_TIE_BREAK_PER_KWH,
          purpose: "grid-supply",
        });
      if (offers > 0)
        orders.push({
          owner: GRID_OWNER,
          zone,
          intervalId,
          side: "bid",
          quantityWh: offers,
          limitPricePerKwh: f + GRID_TIE_BREAK_PER_KWH,
          purpose: "grid-offtake",
        });
    }
  }
  return orders;
}
