/**
 * A simulated day of the neighbourhood under four battery policies, for `npm run bench:value`:
 *   none       — no battery moves
 *   heuristic  — the household heuristic of strategy.ts: per-interval charge/discharge orders,
 *                cleared with the other orders; the battery does what its orders were filled
 *   rolling    — rolling-horizon dispatch: at each interval i the real orders of i, forecast
 *                orders after it to the day's end (forecast/, default rule, offers at the lead
 *                premium), every battery at its current SoC, leftovers valued at F + 1;
 *                interval i's battery steps are applied, then i + 1. Committed as the live
 *                committee commits (`rollingCommit: "flex"`, the default): every battery under a
 *                flexibility order at its owner's limits (`batteryPriceThresholds`), its step the
 *                fill of its synthetic order; or, the rule before, pinned to the plan's move
 *                (`rollingCommit: "pinned"`)
 *   perfect    — perfect foresight: one LP over the whole day with the actual positions
 * Every policy is then valued the same way (`settleInterval`): each household's metered position
 * (actual PV − load − charge + discharge) is cleared against the grid and its neighbours and
 * settled at the zone price with the contract's rounding (buyers ⌈p·Wh/1000⌉, sellers ⌊…⌋).
 * See docs/SIMULATION.md §11.
 *
 * Pure given a loaded HiGHS (passed in): no I/O, no clock.
 */
import type { Highs } from "highs";
import { toHex, type Address } from "viem";
import type { Battery, Line, Order } from "../dispatch/schema.js";
import type { SchedulePrice } from "../dispatch/schedule.js";
import { solveDispatchSync } from "../dispatch/solve.js";
import { flexCommitEntries, type FlexCommitEntry } from "../flexibility/plan.js";
import type { ActiveFlexOrder } from "../flexibility/types.js";
import {
  DEFAULT_FORECAST_RULE,
  forecastZones,
  observeOrders,
  surplusQuantileForecast,
  type ForecastRule,
  type ZoneIntervalObservation,
} from "../forecast/index.js";
import {
  METER_SURPLUS_LAG,
  type ZoneMeterSurplus,
  withMeterSurplus,
  zoneSurplusEstimates,
} from "../forecast/meter-surplus.js";
import {
  applyBatteryEnergy,
  batteryIntervalLimits,
  chargeHeadroomWh,
  dischargeHeadroomWh,
} from "../simulation/battery.js";
import type { CloudModel } from "../simulation/cloud.js";
import type { HomeBattery, Household, Neighbourhood } from "../simulation/neighbourhood.js";
import { NeighbourhoodSimulator, type IntervalSimulation } from "../simulation/simulator.js";
import {
  batteryPriceThresholds,
  GRID_TIE_BREAK_PER_KWH,
  parseStrategyOptions,
  placeOrders,
  type StrategyOrder,
} from "../simulation/strategy.js";
import { localMidnightUnix } from "../simulation/time.js";
import { standingOrderPriceLimits } from "../simulation/flex-orders.js";
import { type BatteryStep, zoneFollowingSteps } from "../simulation/zone-following.js";
import { resyncSocWh } from "../simulation/soc-resync.js";
import { costRoundedDown, costRoundedUp } from "../units.js";
import {
  criticalSurplusQuantile,
  dayEndValuePerKwh,
  defaultRollingHorizon,
  solveRollingHorizonSync,
  surplusLeadPremiumPerKwh,
  valuationDayHorizon,
  type RollingInput,
} from "./index.js";

export type BatteryPolicy = "none" | "heuristic" | "rolling" | "perfect";

export interface ValueDayOptions {
  readonly neighbourhood: Neighbourhood;
  /** The day valued (local date); the day before is simulated too, as forecast history. */
  readonly date: string;
  readonly seed: number;
  readonly cloud?: Partial<CloudModel>;
  /** Cloud options of the day before (forecast history); default the simulation's defaults. */
  readonly yesterdayCloud?: Partial<CloudModel>;
  /** Lines between zones, as in the dispatch instance. */
  readonly lines: readonly Line[];
  /**
   * Rolling horizon H. Default "restOfDay": the valuation-day rule (never past the valued day's
   * end, leftovers valued at `endValuePerKwh`); "atLeastMin": `defaultRollingHorizon` (rest of the
   * day but at least 32, the rule before, which keeps energy for the next morning that the day's
   * cost values at the feed-in only); or a fixed H.
   */
  readonly horizon?: number | "restOfDay" | "atLeastMin";
  readonly forecastRule?: ForecastRule;
  /**
   * Price per kWh delivered at which the plan values energy left at its horizon's end
   * (`RollingInput.endValuePerKwh`); default the grid's offtake bid F + 1 (`dayEndValuePerKwh`).
   */
  readonly endValuePerKwh?: number;
  /**
   * Where the committee's forecast of the offered (PV surplus) volume comes from: "orders" (the
   * inflexible orders' history, the default rule) or "meters" (the committed meter report's
   * surplus of i − METER_LAG, solar-shaped, `withMeterSurplus`; also interval i's in the plan).
   */
  readonly surplusForecast?: "orders" | "meters" | "quantile";
  /**
   * `RollingInput.offerLeadPremiumPerKwh`; default `surplusLeadPremiumPerKwh` of the grid's supply
   * price R − 1 (3,000).
   */
  readonly offerLeadPremiumPerKwh?: number;
  /** For "quantile": the quantile (default `criticalSurplusQuantile`) and window (default 16). */
  readonly surplusQuantile?: number;
  readonly surplusWindow?: number;
  /**
   * Meter lag for `surplusForecast: "meters"`; default METER_LAG. 0 is a diagnostic, not a rule:
   * the plan then knows interval i's meters (what perfect knowledge of interval i is worth).
   */
  readonly meterLag?: number;
  /**
   * What the "meters" forecast reads as a zone's surplus: "committee" (default), the meter
   * report's estimate from the households without a battery (`meterSurplusHistory`,
   * forecast/meter-surplus.ts); "households", every household's own net with its battery left
   * out (`meterHistory`), which only a sub-meter on each battery could give (a diagnostic).
   */
  readonly meterScope?: "committee" | "households";
  /** With "meters": plan interval i itself on them ("meters", default) or on its real orders ("orders"). */
  readonly meterInterval?: "meters" | "orders";
  /**
   * How policy "rolling" commits interval i. "flex" (default): as the live committee does
   * (jobs/schedule.ts), every battery under a flexibility order at its owner's price limits
   * (`batteryPriceThresholds`, what the demo's owners place) with the contract's caps and an
   * ample budget (`flexEntriesAt`); its step is its synthetic order's fill, and the day's cost
   * settles the step on the battery's own account (`settleInterval`, `batteryAccounts`).
   * "pinned": every battery pinned to the plan's move in i (the commit before flexibility orders).
   */
  readonly rollingCommit?: "flex" | "pinned";
  /**
   * The price limits of the owners' flexibility orders under `rollingCommit: "flex"`: "standing"
   * (default), what the demo's owners place (`standingOrderPriceLimits`: the round-trip break-even
   * on both sides); "heuristic", the household heuristic's per-interval thresholds
   * (`batteryPriceThresholds`), what they placed before: a diagnostic of cautious owners.
   */
  readonly ownerLimits?: "standing" | "heuristic";
  /**
   * Diagnostic, not a rule (no node has it): "actual" gives the plan the actual metered positions
   * of every interval after i in place of the forecast (prices stay the forecast's), so that only
   * interval i's own uncertainty remains. Default "rule": the forecast rule.
   */
  readonly futureForecast?: "rule" | "actual";
  /**
   * Diagnostic, not a rule the contract has: after gate closure each battery also absorbs, in real
   * time, the deviation of "household" its own household's (actual − forecast net) or "zone" its
   * zone's (shared among the zone's batteries in proportion to their power) on top of its committed
   * step, within its power and state of charge. What batteries following a real-time signal could
   * add to a schedule fixed at gate closure (docs/BENCHMARKS.md, "Storage value"). The extra energy
   * is netted into the household's meter, so use it with `rollingCommit: "pinned"`.
   */
  readonly meterFollowing?: "household" | "zone";
  /**
   * The state of charge the committee plans interval i from (the contract's scheduled one), which
   * matters once batteries follow (`meterFollowing`) and move off their committed steps:
   * "exact" (default), the battery's physical SoC at the start of i, a diagnostic: at gate closure
   * i − 1 is still running, so no node has it; "lag", re-synchronised every interval from the
   * battery's metered SoC at the end of i − 2 (reported with i − 2's meters, before i's gate
   * closes) plus the committed step of i − 1, capped to what the battery can do from there, as the
   * demo's owners re-synchronise their orders (domain/simulation/soc-resync.ts); "none",
   * never re-synchronised: the start SoC plus every committed step (what the demo's contract does).
   */
  readonly socSync?: "exact" | "lag" | "none";
  /** With `socSync: "lag"`: re-synchronise only when more than this many Wh off (default 0). */
  readonly socResyncWh?: number;
}

/**
 * Intervals between the last committed meter report and the interval whose gate closes: at
 * gateClosure(i) = start(i) − 300 s interval i − 1 is still running, so i − 2 is the last one a
 * meter report can have committed (docs/MARKET_RULES.md, "Timeline").
 */
export const METER_LAG = METER_SURPLUS_LAG;

export interface DayData {
  readonly options: ValueDayOptions;
  readonly zones: readonly number[];
  readonly intervalSeconds: number;
  readonly intervalsPerDay: number;
  /** Yesterday, the day, and `extra` intervals after it (forecast evaluation targets). */
  readonly intervals: readonly IntervalSimulation[];
  /** Index in `intervals` of the day's first interval. */
  readonly dayStart: number;
  /** Observed inflexible orders per zone and interval, every simulated interval. */
  readonly history: readonly ZoneIntervalObservation[];
  /**
   * Committed meter totals per zone and interval, battery moves excluded: Σ deficits as `bidWh`,
   * Σ surpluses as `offerWh`, prices those of the interval's orders.
   */
  readonly meterHistory: readonly ZoneIntervalObservation[];
  /**
   * What each interval's meter report commits as `zoneSurplusWh` (`zoneSurplusEstimates`: the
   * households without a battery, scaled by solar meters): the "meters" forecast's input by default.
   */
  readonly meterSurplusHistory: readonly ZoneMeterSurplus[];
  /** Registered PV per zone, W peak. */
  readonly pvWpByZone: Readonly<Record<string, number>>;
}

export interface PolicyOutcome {
  readonly policy: BatteryPolicy;
  /** Households' total cost over the day, token base units (positive: they pay). */
  readonly cost: bigint;
  /** Largest interval import from the grid, summed over zones, Wh. */
  readonly peakImportWh: number;
  /** Σ (end − start) state of charge over all batteries, Wh (valued in `cost`, see settleDay). */
  readonly storedDeltaWh: number;
  /** Intervals whose rolling solve needed the relaxed end-of-horizon rule. */
  readonly relaxedSolves: number;
  /** Battery-intervals whose planned step the physical battery could not do in full. */
  readonly stepsShort: number;
  /** `socSync: "lag"`: battery-intervals whose scheduled SoC was re-synchronised (an order change each). */
  readonly resyncs: number;
  /** Battery energy moved per interval of the day: Σ charge and Σ discharge over batteries, Wh. */
  readonly chargeWh: readonly number[];
  readonly dischargeWh: readonly number[];
  /** Per interval of the day: the households' cost (before the end-of-day SoC value). */
  readonly intervalCost: readonly bigint[];
  /** Per interval: the settlement's zone prices (`settleInterval`). */
  readonly settlePrices: readonly (readonly SchedulePrice[])[];
  /** Per interval, policy "rolling" only: the commit's zone prices (the rolling solve's). */
  readonly commitPrices: readonly (readonly SchedulePrice[])[];
  /** Per interval: each battery's applied step, by household id. */
  readonly steps: readonly ReadonlyMap<string, { chargeWh: number; dischargeWh: number }>[];
}

const R = () => parseStrategyOptions().retailPricePerKwh;
const F = () => parseStrategyOptions().feedInPricePerKwh;

export function householdAddress(index: number): string {
  return `0x${(index + 1).toString(16).padStart(40, "0")}`;
}
export function gridAddress(zone: number): string {
  return `0x${"e".repeat(32)}${zone.toString(16).padStart(8, "0")}`;
}
/** The account a battery's steps settle on when kept apart from its household's meter. */
export function batteryAddress(index: number): string {
  return `0x${"b".repeat(32)}${(index + 1).toString(16).padStart(8, "0")}`;
}

/**
 * A flexibility order's budget in the bench: ample (10^24 base units), so only power and state of
 * charge cap a step, as for a demo owner who locked enough for the window.
 */
export const AMPLE_FLEX_BUDGET = 10n ** 24n;

/**
 * The rolling input's `flex` entries at interval `intervalId`: one flexibility order per battery
 * of `owners`, at the limits the demo's battery owners place (`batteryPriceThresholds`: charge at
 * most ~F + 30% of the spread, discharge at least ~F + 50% and at least the round-trip break-even),
 * the battery registered as the demo registers it (oracle/src/demo/world.ts: power rounded to W,
 * efficiencies to bps, SoC bounds to Wh), the contract's state of charge = the simulated one
 * floored to Wh, and the caps of `flexCommitEntries` (power, SoC, budget `AMPLE_FLEX_BUDGET`).
 */
export function flexEntriesAt(
  data: DayData,
  intervalId: number,
  soc: ReadonlyMap<string, number>,
  owners: readonly Household[],
): FlexCommitEntry[] {
  const options = parseStrategyOptions();
  const active = owners.map((h): ActiveFlexOrder => {
    const b = h.battery!;
    const limits =
      data.options.ownerLimits === "heuristic"
        ? batteryPriceThresholds(h, data.options.seed, options)
        : standingOrderPriceLimits(b, options);
    const owner = householdAddress(h.index) as Address;
    const socWh = BigInt(Math.max(0, Math.floor(soc.get(h.id)! + 1e-6)));
    const powerW = BigInt(Math.round(b.maxPowerW));
    return {
      orderId: toHex(BigInt(h.index + 1), { size: 32 }),
      order: {
        owner,
        batteryId: h.index + 1,
        firstInterval: BigInt(intervalId),
        lastInterval: BigInt(intervalId),
        maxChargePricePerKwh: BigInt(limits.chargeMaxPricePerKwh),
        minDischargePricePerKwh: BigInt(limits.dischargeMinPricePerKwh),
        chargeBudget: AMPLE_FLEX_BUDGET,
        initialSocWh: socWh,
        nonce: 0n,
      },
      spent: 0n,
      socWh,
      battery: {
        owner,
        zoneId: h.zone,
        capacityWh: BigInt(Math.round(b.capacityWh)),
        maxChargeW: powerW,
        maxDischargeW: powerW,
        chargeEfficiencyBps: Math.round(b.chargeEfficiency * 10_000),
        dischargeEfficiencyBps: Math.round(b.dischargeEfficiency * 10_000),
        minSocWh: BigInt(Math.round(b.minSocWh)),
        maxSocWh: BigInt(Math.round(b.maxSocWh)),
      },
    };
  });
  return flexCommitEntries(active, BigInt(data.intervalSeconds));
}

/** Simulates yesterday, the day and `extra` intervals after it, and observes every interval. */
export function simulateDayData(options: ValueDayOptions, extra = 0): DayData {
  const nb = options.neighbourhood;
  const dayStartUnix = localMidnightUnix(options.date, nb.timeZone);
  const intervalSeconds = 900;
  const prevStartUnix = localMidnightUnix(shiftDate(options.date, -1), nb.timeZone);
  const nextStartUnix = localMidnightUnix(shiftDate(options.date, 1), nb.timeZone);
  const intervalsPerDay = (nextStartUnix - dayStartUnix) / intervalSeconds;
  const dayStart = (dayStartUnix - prevStartUnix) / intervalSeconds;
  // Yesterday has the demo's default weather and the day its own, so "same interval yesterday"
  // is not handed the day's weather for free.
  const yesterday = new NeighbourhoodSimulator(nb, {
    startUnix: prevStartUnix,
    intervalSeconds,
    seed: options.seed,
    cloud: options.yesterdayCloud ?? {},
  }).run(dayStart);
  const day = new NeighbourhoodSimulator(nb, {
    startUnix: dayStartUnix,
    intervalSeconds,
    seed: options.seed,
    cloud: options.cloud ?? {},
  }).run(intervalsPerDay + extra);
  const intervals = [...yesterday, ...day];
  const zones = Array.from({ length: nb.zones }, (_, z) => z);
  const history = intervals.flatMap((interval) =>
    observeOrders(interval.intervalId, zones, inflexibleOrders(nb, interval, options.seed)),
  );
  const meterHistory = intervals.flatMap((interval) => observeMeters(nb, interval, zones, history));
  const meterSurplusHistory = intervals.flatMap((interval) => meterReportSurplus(nb, interval, zones));
  const pvWpByZone: Record<string, number> = {};
  for (const h of nb.households)
    if (h.pv !== null)
      pvWpByZone[String(h.zone)] = (pvWpByZone[String(h.zone)] ?? 0) + Math.round(h.pv.peakPowerKwp * 1000);
  return {
    options,
    zones,
    intervalSeconds,
    intervalsPerDay,
    intervals,
    dayStart,
    history,
    meterHistory,
    meterSurplusHistory,
    pvWpByZone,
  };
}

/**
 * Each household's own metered energy per zone and interval, its battery left out (what a
 * sub-meter on every battery would give): Σ deficits as `bidWh`, Σ surpluses as `offerWh`, prices
 * those of the interval's orders. Diagnostics read it (`futureForecast: "actual"`, "quantile",
 * `meterScope: "households"`).
 */
function observeMeters(
  nb: Neighbourhood,
  interval: IntervalSimulation,
  zones: readonly number[],
  history: readonly ZoneIntervalObservation[],
): ZoneIntervalObservation[] {
  const zoneOf = new Map(nb.households.map((h) => [h.id, h.zone]));
  return zones.map((zone) => {
    let bidWh = 0;
    let offerWh = 0;
    for (const hi of interval.households) {
      if (zoneOf.get(hi.id) !== zone) continue;
      if (hi.actual.netWh < 0) bidWh -= hi.actual.netWh;
      else offerWh += hi.actual.netWh;
    }
    const orders = history.find((h) => h.intervalId === interval.intervalId && h.zone === zone);
    return {
      intervalId: interval.intervalId,
      zone,
      bidWh,
      bidPricePerKwh: orders?.bidPricePerKwh ?? 0,
      offerWh,
      offerPricePerKwh: orders?.offerPricePerKwh ?? 0,
    };
  });
}

/**
 * The interval's `zoneSurplusWh` as the committee's meter job computes it (`zoneSurplusEstimates`).
 * The households left out are those with a battery, so their net here (before the battery) only
 * matters in a zone without a solar meter of its own, where the live report would include what
 * the batteries did.
 */
function meterReportSurplus(
  nb: Neighbourhood,
  interval: IntervalSimulation,
  zones: readonly number[],
): ZoneMeterSurplus[] {
  const byId = new Map(nb.households.map((h) => [h.id, h]));
  const estimates = zoneSurplusEstimates(
    zones.length,
    interval.households.map((hi) => {
      const h = byId.get(hi.id)!;
      const net = BigInt(hi.actual.netWh);
      return {
        zone: h.zone,
        injectedWh: net > 0n ? net : 0n,
        consumedWh: net < 0n ? -net : 0n,
        solar: h.pv !== null,
        battery: h.battery !== null,
      };
    }),
  );
  return zones.map((zone) => ({
    intervalId: interval.intervalId,
    zone,
    surplusWh: Number(estimates[zone]!),
  }));
}

function shiftDate(iso: string, days: number): string {
  const d = new Date(`${iso}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/**
 * The value bench trades each household's forecast position itself (quantile 0.5), as measured in
 * docs/BENCHMARKS.md "Storage value": it values batteries against the forecast, not the demo's
 * hedged positions, which are a choice about imbalance risk that this valuation does not price.
 */
const FORECAST_POSITIONS = { offerQuantile: 0.5, bidQuantile: 0.5 } as const;

/** The households' orders without battery and grid orders: the inflexible orders. */
function inflexibleOrders(nb: Neighbourhood, interval: IntervalSimulation, seed: number): StrategyOrder[] {
  return placeOrders({
    neighbourhood: nb,
    interval,
    options: { seed, batteryOrders: false, gridOrders: false, ...FORECAST_POSITIONS },
  });
}

function toDispatchOrders(nb: Neighbourhood, orders: readonly StrategyOrder[], firstId = 1): Order[] {
  const index = new Map(nb.households.map((h) => [h.id, h.index]));
  return orders.map((o, k) => ({
    id: String(firstId + k),
    owner: o.owner === "grid" ? gridAddress(o.zone) : householdAddress(index.get(o.owner)!),
    zone: o.zone,
    side: o.side,
    quantityWh: o.quantityWh,
    limitPricePerKwh: o.limitPricePerKwh,
    interval: o.intervalId,
  }));
}

/** The grid's orders when batteries are dispatched: the zone's bids/offers plus battery limits. */
function gridOrders(
  nb: Neighbourhood,
  intervalId: number,
  bidsByZone: readonly number[],
  offersByZone: readonly number[],
  intervalSeconds: number,
  firstId: number,
  owners: readonly Household[] = nb.households.filter((h) => h.battery !== null),
): Order[] {
  const out: Order[] = [];
  for (let zone = 0; zone < nb.zones; zone++) {
    let flex = 0;
    for (const h of owners)
      if (h.zone === zone) flex += batteryIntervalLimits(h.battery!, intervalSeconds).maxChargeWh;
    const supply = bidsByZone[zone]! + flex;
    const offtake = offersByZone[zone]! + flex;
    if (supply > 0)
      out.push({
        id: String(firstId + out.length),
        owner: gridAddress(zone),
        zone,
        side: "offer",
        quantityWh: supply,
        limitPricePerKwh: R() - GRID_TIE_BREAK_PER_KWH,
        interval: intervalId,
      });
    if (offtake > 0)
      out.push({
        id: String(firstId + out.length),
        owner: gridAddress(zone),
        zone,
        side: "bid",
        quantityWh: offtake,
        limitPricePerKwh: F() + GRID_TIE_BREAK_PER_KWH,
        interval: intervalId,
      });
  }
  return out;
}

function sumBySide(nb: Neighbourhood, orders: readonly { zone: number; side: string; quantityWh: number }[]) {
  const bids = new Array<number>(nb.zones).fill(0);
  const offers = new Array<number>(nb.zones).fill(0);
  for (const o of orders) (o.side === "bid" ? bids : offers)[o.zone]! += o.quantityWh;
  return { bids, offers };
}

function batteryOf(h: Household, socWh: number, endSocWh: number, intervalSeconds: number): Battery {
  const b = h.battery!;
  const { maxChargeWh, maxDischargeWh } = batteryIntervalLimits(b, intervalSeconds);
  return {
    id: String(h.index + 1),
    owner: householdAddress(h.index),
    zone: h.zone,
    capacityWh: b.capacityWh,
    maxChargeWh,
    maxDischargeWh,
    chargeEfficiency: b.chargeEfficiency,
    dischargeEfficiency: b.dischargeEfficiency,
    minSocWh: b.minSocWh,
    maxSocWh: b.maxSocWh,
    initialSocWh: socWh,
    endSocWh: Math.min(b.maxSocWh, Math.max(b.minSocWh, endSocWh)),
    degradationCostPerKwh: 0,
  };
}

export interface IntervalSettlement {
  readonly cost: bigint;
  readonly importWh: number;
  readonly prices: readonly SchedulePrice[];
}

/**
 * Clears the households' metered positions of one interval (bid at retail R / offer at feed-in F,
 * the grid at R − 1 / F + 1, the lines) and settles every household at its zone price with the
 * contract's rounding. An unfilled position (none in practice) is charged at R or paid nothing.
 *
 * `batteryAccounts`: each battery's step is settled on its own account, as the contract settles a
 * flexibility step at the zone price like a fill (charge: a bid, charged ⌈p·Wh/1000⌉; discharge:
 * an offer, paid ⌊…⌋), and the household's meter holds its inflexible position only; the day's
 * cost is still the sum over households and their batteries. Without it the step is netted into
 * the household's metered position (the valuation before). The zones' net positions, hence the
 * grid's trades and imports, are the same either way; what differs is the rounding of the split
 * amounts (and which price HiGHS reports where the zone price is not unique).
 */
export function settleInterval(
  data: DayData,
  interval: IntervalSimulation,
  moves: ReadonlyMap<string, { chargeWh: number; dischargeWh: number }>,
  highs: Highs,
  batteryAccounts = false,
): IntervalSettlement {
  const nb = data.options.neighbourhood;
  const orders: Order[] = [];
  const position = (owner: string, zone: number, net: number) => {
    if (net === 0) return;
    orders.push({
      id: String(orders.length + 1),
      owner,
      zone,
      side: net < 0 ? "bid" : "offer",
      quantityWh: Math.abs(net),
      limitPricePerKwh: net < 0 ? R() : F(),
      interval: interval.intervalId,
    });
  };
  for (const hi of interval.households) {
    const house = nb.households.find((h) => h.id === hi.id)!;
    const m = moves.get(hi.id);
    if (batteryAccounts) {
      position(householdAddress(house.index), house.zone, hi.actual.netWh);
      position(batteryAddress(house.index), house.zone, -(m?.chargeWh ?? 0));
      position(batteryAddress(house.index), house.zone, m?.dischargeWh ?? 0);
    } else {
      position(
        householdAddress(house.index),
        house.zone,
        hi.actual.netWh - (m?.chargeWh ?? 0) + (m?.dischargeWh ?? 0),
      );
    }
  }
  const { bids, offers } = sumBySide(nb, orders);
  const grid: Order[] = [];
  for (let zone = 0; zone < nb.zones; zone++) {
    if (bids[zone]! > 0)
      grid.push({
        id: String(orders.length + grid.length + 1),
        owner: gridAddress(zone),
        zone,
        side: "offer",
        quantityWh: bids[zone]!,
        limitPricePerKwh: R() - GRID_TIE_BREAK_PER_KWH,
        interval: interval.intervalId,
      });
    if (offers[zone]! > 0)
      grid.push({
        id: String(orders.length + grid.length + 1),
        owner: gridAddress(zone),
        zone,
        side: "bid",
        quantityWh: offers[zone]!,
        limitPricePerKwh: F() + GRID_TIE_BREAK_PER_KWH,
        interval: interval.intervalId,
      });
  }
  if (orders.length === 0) return { cost: 0n, importWh: 0, prices: [] };
  const { schedule } = solveDispatchSync(
    {
      horizon: { firstInterval: interval.intervalId, intervals: 1 },
      zones: [...data.zones],
      lines: [...data.options.lines],
      batteries: [],
      orders: [...orders, ...grid],
    },
    highs,
  );
  const fill = new Map(schedule.fills.map((f) => [f.orderId, f.filledWh]));
  const price = new Map(schedule.prices.map((p) => [p.zone, BigInt(Math.max(0, p.pricePerKwh))]));
  let cost = 0n;
  for (const o of orders) {
    const x = BigInt(fill.get(o.id) ?? 0);
    const p = price.get(o.zone) ?? 0n;
    const rest = BigInt(o.quantityWh) - x;
    // SettlementMath's rounding: buyers are charged up, sellers paid down. Every amount here is
    // non-negative (prices clamped at 0, fills within their order), where units.ts is exact.
    if (o.side === "bid") cost += costRoundedUp(p, x) + costRoundedUp(BigInt(R()), rest);
    else cost -= costRoundedDown(p, x);
  }
  let importWh = 0;
  for (const g of grid) if (g.side === "offer") importWh += fill.get(g.id) ?? 0;
  return { cost, importWh, prices: schedule.prices };
}

/**
 * The rolling-horizon input at the day's k-th interval: its real (inflexible household) orders,
 * the grid's orders sized to cover the batteries, the forecast of the rest of the horizon from the
 * history known at i, and every battery at `soc` with its end floor at `endSoc` (default the SoC).
 */
export function rollingInputAt(
  data: DayData,
  k: number,
  soc: ReadonlyMap<string, number>,
  endSoc: ReadonlyMap<string, number> = soc,
  owners: readonly Household[] = data.options.neighbourhood.households.filter((h) => h.battery !== null),
): RollingInput {
  const flexCommit = (data.options.rollingCommit ?? "flex") === "flex";
  const nb = data.options.neighbourhood;
  const interval = data.intervals[data.dayStart + k]!;
  const i = interval.intervalId;
  const h = data.options.horizon;
  const horizon =
    h === undefined || h === "restOfDay"
      ? valuationDayHorizon(k, data.intervalsPerDay)
      : h === "atLeastMin"
        ? defaultRollingHorizon(k, data.intervalsPerDay)
        : h;
  const real = toDispatchOrders(nb, inflexibleOrders(nb, interval, data.options.seed));
  const { bids, offers } = sumBySide(nb, real);
  const grid = gridOrders(nb, i, bids, offers, data.intervalSeconds, real.length + 1, owners);
  const rule = data.options.forecastRule ?? DEFAULT_FORECAST_RULE;
  const history = data.history.filter((h) => h.intervalId <= i);
  const forecastFrom = (rows: readonly ZoneIntervalObservation[], first: number) =>
    forecastZones(
      {
        firstInterval: first,
        intervals: Math.max(1, i + horizon - first),
        intervalSeconds: data.intervalSeconds,
        zones: [...data.zones],
        history: [...rows],
        pvWpByZone: { ...data.pvWpByZone },
        location: { ...nb.location },
        intervalsPerDay: data.intervalsPerDay,
      },
      rule,
    );
  let forecast = forecastFrom(history, i + 1);
  if (data.options.futureForecast === "actual") {
    const metered = new Map(data.meterHistory.map((m) => [`${m.zone}:${m.intervalId}`, m]));
    forecast = forecast.map((f) => {
      const m = metered.get(`${f.zone}:${f.intervalId}`);
      return m === undefined ? f : { ...f, bidWh: m.bidWh, offerWh: m.offerWh };
    });
  }
  let intervalForecast: typeof forecast | undefined;
  if (data.options.surplusForecast === "meters") {
    // Offered volume from the committed meter estimates of i − lag (solar-shaped), as the
    // committee does (domain/forecast/meter-surplus.ts); the rest from orders.
    const planned = withMeterSurplus({
      interval: i,
      horizon,
      zones: data.zones,
      intervalSeconds: data.intervalSeconds,
      solarZones: data.zones.filter((z) => (data.pvWpByZone[String(z)] ?? 0) > 0),
      location: nb.location,
      forecast,
      intervalOrders: history.filter((h) => h.intervalId === i),
      meters:
        (data.options.meterScope ?? "committee") === "committee"
          ? data.meterSurplusHistory.filter((m) => m.intervalId <= i)
          : data.meterHistory
              .filter((m) => m.intervalId <= i)
              .map((m) => ({ intervalId: m.intervalId, zone: m.zone, surplusWh: m.offerWh })),
      lag: data.options.meterLag ?? METER_LAG,
    });
    if (planned !== undefined) {
      forecast = planned.forecast;
      if (data.options.meterInterval !== "orders") intervalForecast = planned.intervalForecast;
    }
  }
  if (data.options.surplusForecast === "quantile") {
    const lastMetered = i - METER_LAG;
    const offered = surplusQuantileForecast({
      interval: i,
      intervalSeconds: data.intervalSeconds,
      zones: data.zones,
      offeredWh: new Map(history.filter((h) => h.intervalId === i).map((h) => [h.zone, h.offerWh])),
      orders: history.filter((h) => h.intervalId <= lastMetered),
      meters: data.meterHistory.filter((h) => h.intervalId <= lastMetered),
      lastMetered,
      window: data.options.surplusWindow ?? 16,
      quantile:
        data.options.surplusQuantile ??
        criticalSurplusQuantile(R() - GRID_TIE_BREAK_PER_KWH, F() + GRID_TIE_BREAK_PER_KWH, owners),
      location: nb.location,
    });
    intervalForecast = history
      .filter((h) => h.intervalId === i)
      .map((h) => ({ ...h, offerWh: offered.get(h.zone) ?? h.offerWh }));
  }
  return {
    interval: i,
    horizon,
    zones: [...data.zones],
    lines: [...data.options.lines],
    batteries: owners.map((h) => batteryOf(h, soc.get(h.id)!, endSoc.get(h.id)!, data.intervalSeconds)),
    orders: [...real, ...grid],
    forecast,
    grid: {
      supplyPricePerKwh: R() - GRID_TIE_BREAK_PER_KWH,
      offtakePricePerKwh: F() + GRID_TIE_BREAK_PER_KWH,
    },
    offerLeadPremiumPerKwh:
      data.options.offerLeadPremiumPerKwh ?? surplusLeadPremiumPerKwh(R() - GRID_TIE_BREAK_PER_KWH),
    endValuePerKwh: data.options.endValuePerKwh ?? dayEndValuePerKwh(F() + GRID_TIE_BREAK_PER_KWH),
    ...(intervalForecast === undefined ? {} : { intervalForecast }),
    ...(flexCommit ? { flex: flexEntriesAt(data, i, soc, owners) } : {}),
  };
}

type Planner = (
  k: number,
  interval: IntervalSimulation,
  soc: ReadonlyMap<string, number>,
) => {
  moves: Map<string, { chargeWh: number; dischargeWh: number }>;
  relaxed?: boolean;
  prices?: readonly SchedulePrice[];
};

/**
 * Runs the day under `policy`: plan interval i, apply the battery moves to the actual state of
 * charge (clamped to what the battery can physically do), settle the metered positions, move on.
 */
export function runPolicy(data: DayData, policy: BatteryPolicy, highs: Highs): PolicyOutcome {
  const nb = data.options.neighbourhood;
  const owners = nb.households.filter((h) => h.battery !== null);
  const startSoc = new Map(owners.map((h) => [h.id, h.battery!.initialSocWh]));
  const soc = new Map(startSoc);
  const planner = plannerFor(data, policy, highs, startSoc);
  const batteryAccounts = policy === "rolling" && (data.options.rollingCommit ?? "flex") === "flex";
  const intervalCost: bigint[] = [];
  const settlePrices: (readonly SchedulePrice[])[] = [];
  const commitPrices: (readonly SchedulePrice[])[] = [];
  const steps: Map<string, { chargeWh: number; dischargeWh: number }>[] = [];
  let cost = 0n;
  let peak = 0;
  let relaxedSolves = 0;
  const chargeWh: number[] = [];
  const dischargeWh: number[] = [];
  const socSync = data.options.socSync ?? "exact";
  // The contract's scheduled SoC at the start of interval k (socSync "lag" / "none"), and the
  // physical SoC at the end of every interval so far (for "lag").
  let scheduledSoc = new Map(startSoc);
  const physicalEnd: ReadonlyMap<string, number>[] = [];
  let stepsShort = 0;
  let resyncs = 0;
  for (let k = 0; k < data.intervalsPerDay; k++) {
    const interval = data.intervals[data.dayStart + k]!;
    const planSoc = socSync === "exact" ? soc : scheduledSoc;
    const plan = planner(k, interval, planSoc);
    if (plan.relaxed === true) relaxedSolves++;
    const applied = new Map<string, { chargeWh: number; dischargeWh: number }>();
    let ch = 0;
    let dis = 0;
    // The committed moves first (within power and SoC), then, with `meterFollowing`, each battery's
    // move after following its group's deviation (zone-following.ts), again within power and SoC.
    const committed = new Map<string, { chargeWh: number; dischargeWh: number }>();
    const contractSteps = new Map<string, { chargeWh: number; dischargeWh: number }>();
    for (const h of owners) {
      const want = plan.moves.get(h.id);
      if (want === undefined) continue;
      contractSteps.set(h.id, capToHeadroom(h.battery!, planSoc.get(h.id)!, want, data.intervalSeconds));
      const now = soc.get(h.id)!;
      const done = capToHeadroom(h.battery!, now, want, data.intervalSeconds);
      if (done.chargeWh < want.chargeWh || done.dischargeWh < want.dischargeWh) stepsShort++;
      committed.set(h.id, done);
    }
    const following =
      data.options.meterFollowing === undefined
        ? undefined
        : followingTargets(data.options.meterFollowing, interval, owners, committed, data.intervalSeconds);
    for (const h of owners) {
      const move = committed.get(h.id);
      if (move === undefined) continue;
      const now = soc.get(h.id)!;
      let c = move.chargeWh;
      let d = move.dischargeWh;
      const target = following?.get(h.id);
      if (target !== undefined) {
        c =
          target.direction === "charge"
            ? Math.min(target.energyWh, chargeHeadroomWh(h.battery!, now, data.intervalSeconds))
            : 0;
        d =
          target.direction === "discharge"
            ? Math.min(target.energyWh, dischargeHeadroomWh(h.battery!, now, data.intervalSeconds))
            : 0;
      }
      soc.set(h.id, applyBatteryEnergy(h.battery!, now, c, d));
      applied.set(h.id, { chargeWh: c, dischargeWh: d });
      ch += c;
      dis += d;
    }
    chargeWh.push(ch);
    dischargeWh.push(dis);
    physicalEnd.push(new Map(soc));
    // The contract's SoC at the start of k + 1: its own step of k applied to the value it holds
    // ("none"); with "lag", the owner's re-synchronisation (soc-resync.ts) when the SoC metered at
    // the end of k − 1 (the start SoC before the day) plus that step is more than
    // `socResyncWh` off it.
    // ("exact" plans from `soc` itself, which the loop above has moved on to the end of k.)
    const metered = k >= 1 ? physicalEnd[k - 1]! : startSoc;
    const next = new Map<string, number>();
    for (const h of socSync === "exact" ? [] : owners) {
      const step = contractSteps.get(h.id) ?? { chargeWh: 0, dischargeWh: 0 };
      const own = applyBatteryEnergy(h.battery!, planSoc.get(h.id)!, step.chargeWh, step.dischargeWh);
      const net = step.chargeWh - step.dischargeWh;
      const resynced =
        socSync === "lag"
          ? resyncSocWh({
              battery: h.battery!,
              meteredSocWh: metered.get(h.id)!,
              committed:
                net >= 0
                  ? { direction: "charge", energyWh: net }
                  : { direction: "discharge", energyWh: -net },
              scheduledSocWh: own,
              thresholdWh: data.options.socResyncWh ?? 0,
              intervalSeconds: data.intervalSeconds,
            })
          : undefined;
      if (resynced !== undefined) resyncs++;
      next.set(h.id, resynced ?? own);
    }
    scheduledSoc = next;
    const settled = settleInterval(data, interval, applied, highs, batteryAccounts);
    cost += settled.cost;
    intervalCost.push(settled.cost);
    settlePrices.push(settled.prices);
    commitPrices.push(plan.prices ?? []);
    steps.push(applied);
    peak = Math.max(peak, settled.importWh);
  }
  // Energy left in (or taken from) the batteries at the end of the day is valued at what it can
  // at least be sold for: the grid's feed-in bid (F + 1) after discharge losses.
  let storedDeltaWh = 0;
  for (const h of owners) {
    const delta = soc.get(h.id)! - startSoc.get(h.id)!;
    storedDeltaWh += delta;
    const value = Math.floor(
      (delta * h.battery!.dischargeEfficiency * (F() + GRID_TIE_BREAK_PER_KWH)) / 1000,
    );
    cost -= BigInt(value);
  }
  return {
    policy,
    cost,
    peakImportWh: peak,
    storedDeltaWh,
    relaxedSolves,
    stepsShort,
    resyncs,
    chargeWh,
    dischargeWh,
    intervalCost,
    settlePrices,
    commitPrices,
    steps,
  };
}

/** `move` capped to what `battery` can charge or discharge from `socWh` in one interval. */
function capToHeadroom(
  battery: HomeBattery,
  socWh: number,
  move: { readonly chargeWh: number; readonly dischargeWh: number },
  intervalSeconds: number,
): { chargeWh: number; dischargeWh: number } {
  return {
    chargeWh: Math.min(move.chargeWh, chargeHeadroomWh(battery, socWh, intervalSeconds)),
    dischargeWh: Math.min(move.dischargeWh, dischargeHeadroomWh(battery, socWh, intervalSeconds)),
  };
}

/**
 * `meterFollowing`: every battery's move after following (zone-following.ts): "zone", its power's
 * share of its zone's deviation from the households' forecast; "household", its own household's
 * (each battery a group of its own). A battery without a committed move idles in the commit but its
 * power still counts in its zone's shares.
 */
function followingTargets(
  follow: "household" | "zone",
  interval: IntervalSimulation,
  owners: readonly Household[],
  committed: ReadonlyMap<string, { readonly chargeWh: number; readonly dischargeWh: number }>,
  intervalSeconds: number,
): Map<string, BatteryStep> {
  const groupOf = (h: { readonly index: number; readonly zone: number }) =>
    follow === "household" ? h.index : h.zone;
  const ownerIndex = new Map(owners.map((o) => [o.id, o.index]));
  const deviation = new Map<number, number>();
  for (const x of interval.households) {
    const index = ownerIndex.get(x.id);
    if (follow === "household" && index === undefined) continue;
    const group = groupOf({ index: index ?? -1, zone: x.zone });
    deviation.set(group, (deviation.get(group) ?? 0) + x.actual.netWh - x.forecast.netWh);
  }
  const followers = owners.map((o) => {
    const move = committed.get(o.id) ?? { chargeWh: 0, dischargeWh: 0 };
    const net = move.chargeWh - move.dischargeWh;
    return {
      id: o.id,
      zone: groupOf(o),
      battery: o.battery!,
      committed:
        net >= 0
          ? { direction: "charge" as const, energyWh: net }
          : { direction: "discharge" as const, energyWh: -net },
    };
  });
  return zoneFollowingSteps(followers, deviation, intervalSeconds);
}

function plannerFor(
  data: DayData,
  policy: BatteryPolicy,
  highs: Highs,
  startSoc: ReadonlyMap<string, number>,
): Planner {
  const nb = data.options.neighbourhood;
  const owners = nb.households.filter((h) => h.battery !== null);
  const byBatteryId = new Map(owners.map((h) => [String(h.index + 1), h]));
  // No end-of-day floor above minSoc: energy left at the end is worth the grid's feed-in bid,
  // which the LP sees as that bid in the last intervals and the day's cost counts the same way
  // (runPolicy). A floor at the day's start SoC would stop (c) and (d) from using the energy the
  // batteries start with while the heuristic may, and (d) would no longer be an upper bound.
  const floors = new Map(owners.map((h) => [h.id, h.battery!.minSocWh]));
  switch (policy) {
    case "none":
      return () => ({ moves: new Map() });
    case "heuristic":
      return (_k, interval, soc) => {
        const placed = placeOrders({
          neighbourhood: nb,
          interval,
          socWh: Object.fromEntries(soc),
          options: { seed: data.options.seed, ...FORECAST_POSITIONS },
        });
        const orders = toDispatchOrders(nb, placed);
        const { schedule } = solveDispatchSync(
          {
            horizon: { firstInterval: interval.intervalId, intervals: 1 },
            zones: [...data.zones],
            lines: [...data.options.lines],
            batteries: [],
            orders,
          },
          highs,
        );
        const moves = new Map<string, { chargeWh: number; dischargeWh: number }>();
        schedule.fills.forEach((f) => {
          const o = placed[Number(f.orderId) - 1]!;
          if (f.filledWh === 0 || (o.purpose !== "battery-charge" && o.purpose !== "battery-discharge"))
            return;
          const m = moves.get(o.owner) ?? { chargeWh: 0, dischargeWh: 0 };
          if (o.purpose === "battery-charge") m.chargeWh += f.filledWh;
          else m.dischargeWh += f.filledWh;
          moves.set(o.owner, m);
        });
        return { moves };
      };
    case "rolling":
      return (k, _interval, soc) => {
        const result = solveRollingHorizonSync(rollingInputAt(data, k, soc, floors), highs);
        const moves = new Map<string, { chargeWh: number; dischargeWh: number }>();
        for (const b of result.batteries)
          moves.set(byBatteryId.get(b.batteryId)!.id, { chargeWh: b.chargeWh, dischargeWh: b.dischargeWh });
        return { moves, relaxed: result.relaxedEndSoc, prices: result.prices };
      };
    case "perfect": {
      // One LP over the day on the actual positions, computed once, replayed interval by interval.
      const first = data.intervals[data.dayStart]!.intervalId;
      const orders: Order[] = [];
      for (let k = 0; k < data.intervalsPerDay; k++) {
        const interval = data.intervals[data.dayStart + k]!;
        const own: Order[] = [];
        for (const hi of interval.households) {
          const net = hi.actual.netWh;
          if (net === 0) continue;
          const house = nb.households.find((h) => h.id === hi.id)!;
          own.push({
            id: String(orders.length + own.length + 1),
            owner: householdAddress(house.index),
            zone: house.zone,
            side: net < 0 ? "bid" : "offer",
            quantityWh: Math.abs(net),
            limitPricePerKwh: net < 0 ? R() : F(),
            interval: interval.intervalId,
          });
        }
        const { bids, offers } = sumBySide(nb, own);
        orders.push(...own);
        orders.push(
          ...gridOrders(nb, interval.intervalId, bids, offers, data.intervalSeconds, orders.length + 1),
        );
      }
      const { schedule } = solveDispatchSync(
        {
          horizon: { firstInterval: first, intervals: data.intervalsPerDay },
          zones: [...data.zones],
          lines: [...data.options.lines],
          batteries: owners.map((h) =>
            batteryOf(h, startSoc.get(h.id)!, floors.get(h.id)!, data.intervalSeconds),
          ),
          orders,
        },
        highs,
        { method: "lp" },
      );
      const steps = new Map(schedule.batteries.map((b) => [byBatteryId.get(b.batteryId)!.id, b.steps]));
      return (_k, interval) => {
        const moves = new Map<string, { chargeWh: number; dischargeWh: number }>();
        for (const [id, s] of steps) {
          const step = s.find((x) => x.interval === interval.intervalId);
          if (step !== undefined) moves.set(id, { chargeWh: step.chargeWh, dischargeWh: step.dischargeWh });
        }
        return { moves };
      };
    }
  }
}

export type { HomeBattery };
