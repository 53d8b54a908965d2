/**
 * The demo's interval loop on an accelerated chain clock. For each interval it: moves chain time
 * to just before gate closure, lets every agent place its orders (from forecasts), moves past
 * gate closure, waits for the committee to commit and settle the schedule, moves past the end of
 * the interval, has every meter sign its actual reading and posts them to the oracle nodes, waits
 * for the meter report and imbalance settlement, and claims certificates for buyers. Each phase
 * is one file of this folder; this one runs them in order.
 *
 * The demo never settles anything itself except certificate claims (anyone may call them): every
 * commit and settlement comes from the oracle nodes' pipeline.
 */
import type { IntervalSimulation } from "../domain/simulation/index.js";
import { gasSince } from "./accounting.js";
import { claimCertificates } from "./certificates.js";
import { awaitClearing, type Clearing } from "./clearing.js";
import { runContext, type RunContext, type RunParameters } from "./context.js";
import { flexWindows } from "../domain/simulation/index.js";
import type { LedgerFlexStep } from "../domain/household-outcomes.js";
import { deliver, type Delivery } from "./delivery.js";
import { placeFlexOrders, settledFlexSteps } from "./flexibility.js";
import { awaitImbalances } from "./imbalance.js";
import { stopwatch, type FlexResync, type IntervalRecord, type Stopwatch } from "./interval-record.js";
import { postMeterReadings } from "./meters.js";
import { resyncFlexOrders } from "./resync.js";
import { placeIntervalOrders, type PlacedOrders } from "./orders.js";

export type { IntervalTiming, RunParameters } from "./context.js";
export { PHASES, type IntervalRecord, type Phase, type UndoneAction } from "./interval-record.js";
export { oneOrderPerSide } from "./orders.js";

/** An interval whose schedule is settled and whose delivery is under way: it is finished during the next one. */
interface PendingInterval {
  readonly sim: IntervalSimulation;
  readonly index: number;
  readonly intervalId: bigint;
  readonly firstBlock: bigint;
  readonly orders: PlacedOrders;
  readonly clearing: Clearing;
  /** FlexStepSettled events of the interval (none when it was not scheduled in time). */
  readonly flexSteps: readonly LedgerFlexStep[];
  /** Each battery's SoC before this interval's delivery (Wh, by household id). */
  readonly meteredSocWh: Readonly<Record<string, number>>;
  /** Orders changed before its gate closure to re-synchronise the scheduled SoC. */
  readonly flexResyncs: readonly FlexResync[];
  readonly delivery: Delivery;
  /** Time spent on this interval's order and clearing steps (the rest is added when it finishes). */
  readonly watch: Stopwatch;
}

export interface RunResult {
  readonly records: IntervalRecord[];
  /** The neighbourhood's batteries (registry id, owner, initial SoC): the report's battery rows. */
  readonly batteries: RunContext["batteries"];
  readonly flexibilityMarket: `0x${string}`;
  /** Tokens minted into the battery owners' wallets for their flexibility budgets. */
  readonly flexBudgetsMinted: bigint;
}

export async function runIntervals(parameters: RunParameters): Promise<RunResult> {
  const context = await runContext(parameters);
  const windows = flexWindows(parameters.intervals).map((w, index) => ({ ...w, index }));
  let flexBudgetsMinted = 0n;
  const { chain, simulator, timing } = parameters;
  const records: IntervalRecord[] = [];
  let pending: PendingInterval | undefined;
  let gasCursor: bigint | undefined;

  for (let index = 0; index < parameters.intervals; index++) {
    const sim = simulator.step();
    const intervalId = BigInt(sim.intervalId);
    const firstBlock = (await chain.publicClient.getBlockNumber()) + 1n;
    const watch = stopwatch();

    // 0. As a window starts, the battery owners place their standing flexibility orders; otherwise,
    // with `socResyncWh`, they re-synchronise the contract's scheduled SoC with their meters.
    const window = windows.find((w) => w.offset === index);
    let flexResyncs: readonly FlexResync[] = [];
    if (window !== undefined && context.batteries.length > 0)
      flexBudgetsMinted += await placeFlexOrders(context, window, intervalId);
    else if (pending !== undefined) {
      const resync = await resyncFlexOrders(context, intervalId, pending.meteredSocWh, pending.flexSteps);
      flexBudgetsMinted += resync.minted;
      flexResyncs = resync.changed;
    }
    // 1. Orders, placed from forecasts before gate closure.
    const orders = await placeIntervalOrders(context, sim);
    watch.lap("orders");
    // 2. Gate closure; the committee clears, commits and settles.
    const clearing = await awaitClearing(
      context,
      intervalId,
      sim.startUnix - timing.gateClosureSeconds,
      firstBlock,
    );
    watch.lap("clearing");
    // 3. Delivery: batteries follow their settled steps; meters measure the actual energy.
    const flexSteps =
      clearing.problem === undefined ? await settledFlexSteps(context, intervalId, firstBlock) : [];
    for (const step of flexSteps) {
      const battery = context.batteries.find((b) => b.batteryId === step.batteryId);
      if (battery !== undefined) context.scheduledSocWh[battery.householdId] = Number(step.socWh);
    }
    // Each battery's SoC at the end of the previous interval, before this one's delivery: at the next
    // interval's gate closure this one is still running, so this is the latest SoC its owner has
    // measured when it re-synchronises (resync.ts).
    const meteredSocWh = { ...context.socWh };
    const delivery = deliver(context, sim, clearing.fills, flexSteps);

    // The previous interval is delivering now; finish it (meters, imbalances, certificates)
    // before this one's delivery. Chain time is before the previous interval's end here.
    if (pending !== undefined) await finish(pending);
    pending = {
      sim,
      index,
      intervalId,
      firstBlock,
      orders,
      clearing,
      flexSteps,
      meteredSocWh,
      flexResyncs,
      delivery,
      watch,
    };
  }
  if (pending !== undefined) await finish(pending);
  return {
    records,
    batteries: context.batteries,
    flexibilityMarket: context.flexibilityMarket,
    flexBudgetsMinted,
  };

  async function finish(p: PendingInterval): Promise<void> {
    const record = await finishInterval(context, p, gasCursor ?? p.firstBlock);
    gasCursor = record.nextGasBlock;
    records.push(record.record);
    await parameters.onInterval?.(record.record, p.index);
  }
}

/** Phases 4–6 of a pending interval, then its gas; the record the report reads. */
async function finishInterval(
  context: RunContext,
  p: PendingInterval,
  gasFromBlock: bigint,
): Promise<{ record: IntervalRecord; nextGasBlock: bigint }> {
  const { sim, index, intervalId, firstBlock, orders, clearing, flexSteps, delivery, watch } = p;
  const { flexResyncs } = p;
  watch.restart(); // the time since its clearing step belongs to the next interval's steps
  // 4. Meters sign their readings and send them to every oracle node; then the interval ends.
  await postMeterReadings(context, index, intervalId, sim.startUnix, delivery.readings);
  watch.lap("meters");
  // 5. Meter report and imbalance settlement by the committee.
  const imbalance = await awaitImbalances(context, intervalId, firstBlock, delivery.readings);
  const problem = clearing.problem ?? imbalance.problem;
  watch.lap("imbalance");
  // 6. Certificates for the renewable energy each household bought and received.
  const claims =
    problem === undefined
      ? await claimCertificates(context, intervalId, clearing.fills)
      : { certificatesWh: 0n, buyers: 0 };
  watch.lap("certificates");
  // Gas of every block mined since the previous record (agents', oracle nodes', claims): each
  // block is counted once; intervals overlap in time, so the split between neighbours is approximate.
  const { gasUsed, nextBlock } = await gasSince(context.parameters.chain, gasFromBlock);
  watch.lap("accounting");
  const record: IntervalRecord = {
    intervalId,
    startUnix: sim.startUnix,
    orders: orders.wanted.length,
    zonePrices: clearing.zonePrices,
    zones: delivery.zones,
    actualPvWh: delivery.actualPvWh,
    actualLoadWh: delivery.actualLoadWh,
    batterySocWh: delivery.batterySocWh,
    batteriesNotFollowing: delivery.batteriesNotFollowing,
    settledStepsShort: delivery.settledStepsShort,
    batteryFollowedWh: delivery.followedWh,
    flexResyncs,
    zoneSurplusWh: imbalance.zoneSurplusWh,
    imbalanceWh: imbalance.imbalanceWh,
    imbalanceShortWh: imbalance.imbalanceShortWh,
    imbalanceCharged: imbalance.imbalanceCharged,
    imbalancePaid: imbalance.imbalancePaid,
    householdPaid: delivery.householdPaid,
    householdReceived: delivery.householdReceived,
    noMarketCost: delivery.noMarketCost,
    certificatesWh: claims.certificatesWh,
    certificatesIssuedWh: imbalance.certificatesIssuedWh,
    renewableDeliveredWh: delivery.renewableDeliveredWh,
    buyers: claims.buyers,
    gasUsed,
    ledger: {
      fills: clearing.fills.map((l) => {
        const a = l.args as { owner: `0x${string}`; side: number; filledWh: bigint; amount: bigint };
        return { owner: a.owner, side: a.side, filledWh: a.filledWh, amount: a.amount };
      }),
      flexSteps,
      imbalances: imbalance.imbalances,
      readings: delivery.readings.map((r) => ({
        participant: r.participant,
        injectedWh: r.injectedWh,
        consumedWh: r.consumedWh,
      })),
    },
    phaseMs: { ...watch.ms },
    final: problem === undefined,
    ...(problem === undefined ? {} : { problem }),
  };
  return { record, nextGasBlock: nextBlock };
}
