/**
 * The chaos suite's checks, as pure functions of what was read from the chain and Redis
 * (facts.ts). Each returns the problems it found, worded with the interval, the parties and the
 * amounts, so that a failing run says what went wrong without a re-run.
 */
import { costRoundedUp, orderLock } from "../../oracle/src/domain/units.js";
import type { ChainFacts, FillFact, RedisFacts } from "./facts.js";

const BUY = 0;
const SELL = 1;
const lower = (a: string) => a.toLowerCase();

/** Orders still holding a lock: placed and neither settled, cancelled nor released. */
function openOrders(f: ChainFacts) {
  const closed = new Set<string>([...f.cancelled, ...f.released, ...f.fills.map((x) => x.orderId)]);
  return f.orders.filter((o) => !closed.has(o.orderId));
}

const keyOf = (participant: string, intervalId: bigint) => `${lower(participant)}/${intervalId}`;

/** Sell fills whose collateral is still locked: neither imbalance-settled nor released. */
function pendingCollateral(f: ChainFacts): { fill: FillFact; amount: bigint }[] {
  const done = new Set<string>([
    ...f.imbalances.map((x) => keyOf(x.participant, x.intervalId)),
    ...f.collateralReleased.map((x) => keyOf(x.participant, x.intervalId)),
  ]);
  // Both sides keep the imbalance collateral of their filled part until their delivery settles, and
  // a seller its payout (sellers are paid after delivery); the grid's accounts keep nothing.
  return f.fills
    .filter((x) => !f.gridAccounts.has(lower(x.owner)) && !done.has(keyOf(x.owner, x.intervalId)))
    .map((fill) => ({
      fill,
      amount: costRoundedUp(f.offerCollateralPerKwh, fill.filledWh) + (fill.side === SELL ? fill.amount : 0n),
    }))
    .filter((x) => x.amount > 0n);
}

export interface ConservationResult {
  readonly marketTokenBalance: bigint;
  readonly owed: bigint;
  readonly parts: {
    freeBalances: bigint;
    openOrderLocks: bigint;
    deliveryLocks: bigint;
    intervalSurplus: bigint;
    operatorFunds: bigint;
  };
}

/**
 * The contract's identity (EnergyMarket.sol, `_operatorFunds`): its token balance equals the free
 * balances + the locks of open orders + the delivery locks of settled fills not yet imbalance-settled
 * (imbalance collateral of either side, a seller's withheld payout)
 * + Σ (receipts − payouts) of intervals + the operator funds. Locks and collateral are recomputed
 * from the events with the contract's rounding, not read from the contract's own accounting.
 */
export function conservation(f: ChainFacts): ConservationResult {
  const sum = (xs: readonly bigint[]) => xs.reduce((a, b) => a + b, 0n);
  const parts = {
    freeBalances: sum([...f.balances.values()]),
    openOrderLocks: sum(
      // A bid locks its payment and, like an offer, the imbalance collateral of its quantity.
      openOrders(f).map((o) =>
        orderLock(
          o.side === BUY ? "bid" : "offer",
          o.quantityWh,
          o.limitPricePerKwh,
          f.offerCollateralPerKwh,
        ),
      ),
    ),
    deliveryLocks: sum(pendingCollateral(f).map((x) => x.amount)),
    intervalSurplus: sum([...f.intervals.values()].map((i) => i.receipts - i.payouts)),
    operatorFunds: f.operatorFunds,
  };
  return { marketTokenBalance: f.marketTokenBalance, owed: sum(Object.values(parts)), parts };
}

/** Every settlement event at most once per order / participant and interval, every commit once. */
export function doubleSettlements(f: ChainFacts): string[] {
  const problems: string[] = [];
  const counts = (keys: readonly string[]) => {
    const m = new Map<string, number>();
    for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
    return [...m].filter(([, n]) => n > 1);
  };
  for (const [k, n] of counts(f.fills.map((x) => x.orderId)))
    problems.push(`order ${k} has ${n} FillSettled`);
  for (const [k, n] of counts(f.fills.map((x) => `${keyOf(x.owner, x.intervalId)}/side ${x.side}`)))
    problems.push(`position ${k} has ${n} FillSettled`);
  for (const [k, n] of counts([
    ...f.imbalances.map((x) => keyOf(x.participant, x.intervalId)),
    ...f.collateralReleased.map((x) => keyOf(x.participant, x.intervalId)),
  ]))
    problems.push(`participant/interval ${k} has ${n} ImbalanceSettled or CollateralReleased`);
  for (const i of f.intervals.values()) {
    if (i.scheduleRoots.length > 1)
      problems.push(`interval ${i.intervalId} has ${i.scheduleRoots.length} ScheduleCommitted`);
    if (i.meterRoots.length > 1)
      problems.push(`interval ${i.intervalId} has ${i.meterRoots.length} MeterReportCommitted`);
  }
  return problems;
}

export type IntervalOutcome =
  | { intervalId: bigint; status: "final" }
  | { intervalId: bigint; status: "released" }
  | { intervalId: bigint; status: "untraded" }
  | { intervalId: bigint; status: "stuck"; problems: string[] };

/**
 * Final: schedule committed, every fill settled, meter report committed, and every participant
 * (not the grid's accounts) with settled energy or a non-zero reading in any node's meter store imbalance-settled.
 * Released: nothing of the interval is locked any more (no open order, no offer collateral, no
 * surplus left between receipts and payouts), i.e. the liveness paths were taken.
 * Untraded: no order was ever placed (the demo stopped before it). Anything else is stuck, with
 * what is still locked.
 */
export function intervalOutcomes(
  f: ChainFacts,
  r: RedisFacts,
  intervalIds: readonly bigint[],
): IntervalOutcome[] {
  const open = openOrders(f);
  const collateral = pendingCollateral(f);
  return intervalIds.map((intervalId): IntervalOutcome => {
    const i = f.intervals.get(intervalId);
    const settled = new Set(
      f.imbalances.filter((x) => x.intervalId === intervalId).map((x) => lower(x.participant)),
    );
    const needing = new Set<string>();
    for (const x of f.fills) if (x.intervalId === intervalId && x.filledWh > 0n) needing.add(lower(x.owner));
    for (const store of r.meterStores.values())
      for (const [meter, reading] of store.get(intervalId) ?? new Map())
        if (reading.injectedWh + reading.consumedWh > 0n) needing.add(f.meterOwner.get(meter) ?? meter);
    // The grid's accounts are the zones' balancing parties: never metered, never imbalance-settled.
    const unsettled = [...needing].filter((p) => !settled.has(p) && !f.gridAccounts.has(p));
    const isFinal =
      i !== undefined &&
      i.scheduled &&
      i.settledCount === i.fillCount &&
      !/^0x0+$/.test(i.meterRoot) &&
      unsettled.length === 0;
    if (isFinal) return { intervalId, status: "final" };
    if (!f.orders.some((o) => o.intervalId === intervalId)) return { intervalId, status: "untraded" };
    const problems: string[] = [];
    for (const o of open.filter((o) => o.intervalId === intervalId))
      problems.push(`open order of ${o.owner} side ${o.side} ${o.quantityWh} Wh @ ${o.limitPricePerKwh}`);
    for (const c of collateral.filter((c) => c.fill.intervalId === intervalId))
      problems.push(
        `delivery lock ${c.amount} of ${c.fill.owner} (${c.fill.filledWh} Wh side ${c.fill.side}) still locked`,
      );
    if (i !== undefined && i.receipts !== i.payouts)
      problems.push(`interval surplus ${i.receipts - i.payouts} not credited to the operator`);
    if (problems.length === 0) return { intervalId, status: "released" };
    const state =
      i === undefined
        ? "no state"
        : `scheduled ${i.scheduled}, fills ${i.settledCount}/${i.fillCount}, meter root ${/^0x0+$/.test(i.meterRoot) ? "none" : "committed"}, ${unsettled.length} imbalances unsettled`;
    return { intervalId, status: "stuck", problems: [state, ...problems] };
  });
}

/** Every failed job has its dead-letter entry (`<queue>-<jobId>`, same node) with a reason. */
export function deadLetterProblems(r: RedisFacts): string[] {
  const problems: string[] = [];
  const entries = new Map(r.deadLetters.map((d) => [`${d.prefix}/${d.id}`, d]));
  for (const job of r.failed) {
    const entry = entries.get(`${job.prefix}/${job.queue}-${job.jobId}`);
    if (entry === undefined)
      problems.push(
        `${job.prefix} ${job.queue} job ${job.jobId} failed ("${job.failedReason}") with no dead-letter entry`,
      );
    else if (entry.reason.trim() === "") problems.push(`${job.prefix} dead letter ${entry.id} has no reason`);
  }
  for (const d of r.deadLetters)
    if (d.reason.trim() === "") problems.push(`${d.prefix} dead letter ${d.id} has no reason`);
  return [...new Set(problems)];
}

export interface Comparison {
  readonly qualifying: readonly bigint[];
  /** Why the first non-qualifying interval does not qualify (later ones follow from it). */
  readonly cutoff?: string;
  readonly differences: readonly string[];
}

/**
 * Households' money compared with a fault-free run of the same seed, wherever the faults cannot
 * change the outcome. An interval qualifies when:
 *  (a) every earlier interval qualifies: a household's orders and battery state in an interval
 *      follow from its earlier fills and meters, so one legitimate difference carries forward;
 *  (b) its schedule was committed in both runs: the schedule is a deterministic function of the
 *      order book, whoever submits it, but a quorum lost for the whole schedule window
 *      legitimately ends in released orders instead;
 *  (c) every reading the fault-free run's meters produced reached at least one node of the chaos
 *      run (it is in that node's meter store in Redis, which survives a Redis kill under AOF):
 *      a reading any member holds before the deadline must count (issue #11, defect 2), while a
 *      reading that reached no node is legitimately missing and estimated;
 *  (d) its meter report was committed in both runs (the demo got that far).
 * For a qualifying interval the committed schedule root, zone prices and meter root must be
 * equal, and so must every household's fills (energy and amount) and imbalance (deviation,
 * charge, payment). When every interval qualifies, every free balance must be equal too.
 */
export function compareWithReference(
  chaos: { chain: ChainFacts; redis: RedisFacts },
  reference: { chain: ChainFacts; redis: RedisFacts },
  intervalIds: readonly bigint[],
  households: readonly string[],
): Comparison {
  const qualifying: bigint[] = [];
  const differences: string[] = [];
  let cutoff: string | undefined;
  const readings = (r: RedisFacts, intervalId: bigint) => {
    const union = new Map<string, string>();
    for (const store of r.meterStores.values())
      for (const [meter, v] of store.get(intervalId) ?? new Map())
        union.set(meter, `${v.injectedWh}/${v.consumedWh}`);
    return union;
  };
  for (const intervalId of intervalIds) {
    const c = chaos.chain.intervals.get(intervalId);
    const ref = reference.chain.intervals.get(intervalId);
    const notMetered = (x: typeof c) => x === undefined || /^0x0+$/.test(x.meterRoot);
    if (c === undefined || ref === undefined || !c.scheduled || !ref.scheduled)
      cutoff = `interval ${intervalId}: schedule not committed (chaos ${c?.scheduled}, reference ${ref?.scheduled})`;
    else if (notMetered(c) || notMetered(ref))
      cutoff = `interval ${intervalId}: meter report not committed (chaos ${!notMetered(c)}, reference ${!notMetered(ref)})`;
    else {
      const chaosReadings = readings(chaos.redis, intervalId);
      const missing = [...readings(reference.redis, intervalId)].filter(
        ([m, v]) => chaosReadings.get(m) !== v,
      );
      if (missing.length > 0)
        cutoff = `interval ${intervalId}: ${missing.length} readings reached no node (${missing.map(([m]) => m).join(", ")})`;
    }
    if (cutoff !== undefined) break;
    qualifying.push(intervalId);
    if (c!.scheduleRoots[0] !== ref!.scheduleRoots[0] || c!.zonePrices.join() !== ref!.zonePrices.join())
      differences.push(
        `interval ${intervalId}: schedule ${c!.scheduleRoots[0]} prices ${c!.zonePrices.join("/")} vs fault-free ${ref!.scheduleRoots[0]} prices ${ref!.zonePrices.join("/")}`,
      );
    if (c!.meterRoot !== ref!.meterRoot)
      differences.push(`interval ${intervalId}: meter root ${c!.meterRoot} vs fault-free ${ref!.meterRoot}`);
    for (const h of households) {
      const money = (f: ChainFacts) =>
        [
          ...f.fills
            .filter((x) => x.intervalId === intervalId && lower(x.owner) === h)
            .map((x) => `fill side ${x.side} ${x.filledWh} Wh ${x.amount}`)
            .sort(),
          ...f.imbalances
            .filter((x) => x.intervalId === intervalId && lower(x.participant) === h)
            .map((x) => `imbalance ${x.deviationWh} Wh charged ${x.charged} paid ${x.paid}`),
        ].join("; ");
      const a = money(chaos.chain);
      const b = money(reference.chain);
      if (a !== b) differences.push(`interval ${intervalId} household ${h}: [${a}] vs fault-free [${b}]`);
    }
  }
  if (cutoff === undefined)
    for (const h of households) {
      const a = chaos.chain.balances.get(h) ?? 0n;
      const b = reference.chain.balances.get(h) ?? 0n;
      if (a !== b) differences.push(`household ${h}: free balance ${a} vs fault-free ${b} (${a - b})`);
    }
  return { qualifying, ...(cutoff === undefined ? {} : { cutoff }), differences };
}
