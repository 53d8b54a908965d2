/**
 * Prosumer agents' bidding strategy and the grid counterparty. See docs/SIMULATION.md §9.
 *
 * Every household compares its FORECAST (never its actual) PV and load for the interval:
 * a surplus becomes a sell offer, a deficit a buy bid. Prices lie between the feed-in tariff F
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
import type { IntervalSimulation } from "./simulator.js";
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

export interface PlaceOrdersParameters {
  readonly neighbourhood: Neighbourhood;
  /** The interval; only `intervalId`, `startUnix`, `durationSeconds` and each household's `forecast` are read. */
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
    const side: "bid" | "offer" = net < 0 ? "bid" : "offer";
    const quantity = Math.abs(net);
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
