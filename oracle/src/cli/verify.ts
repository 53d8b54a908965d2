/**
 * `gridbrain verify <interval>`: recompute an interval's schedule from chain data alone (the
 * pipeline's own clearing rules, domain/clearing.ts) and compare it with what the committee committed: orders
 * digest, schedule root, fill count and zone prices; on a root mismatch, the fills that differ
 * (recomputed vs settled on-chain, where settled). It also applies the contract's budget rule
 * (domain/budget.ts) to the committed schedule when its fills are known (the recomputed root is
 * the committed one): a committed schedule that pays sellers more than its buyers pay can never
 * settle, and is reported as `unsettleable` with the amounts.
 *
 * Once the interval is metered it also recomputes the meter report's netted imbalance prices
 * (domain/imbalance-prices.ts) from the deviations settled so far (`ImbalanceSettled`), the
 * participants' zones and the tariffs at the report's block, and says whether they reproduce the
 * reported ones (`imbalance`), and the report's `zoneSurplusWh` (domain/forecast/meter-surplus.ts)
 * from each settled participant's metered net (its deviation plus its settled fills and flexibility
 * steps), the battery owners and the solar meters at the report's block: the figure the committee
 * plans later intervals on. The meter tree's leaves are not on chain, so while some participant
 * is unsettled a difference is not conclusive: it is reported, and does not change `status`.
 */
import { type Address, type Hex, type PublicClient, getAddress, zeroAddress } from "viem";
import { energyMarketAbi, flexibilityMarketAbi } from "../chain/abis.js";
import { readFlexibilityMarket } from "../chain/flexibility.js";
import {
  readIntervalState,
  readMeterRegistry,
  readParticipantZones,
  readRegisteredBatteries,
  readZoneGrids,
} from "../chain/market.js";
import { zoneSurplusOfParticipants } from "../domain/forecast/meter-surplus.js";
import { FLEX_DISCHARGE } from "../domain/flexibility/types.js";
import { imbalancePrices, zoneDeviations } from "../domain/imbalance-prices.js";
import type { IntervalBudget } from "../domain/budget.js";
import { committedBudget } from "../domain/clearing.js";
import { flexStepViolations } from "../domain/flexibility/index.js";
import { type CollectOptions, recomputeSchedule } from "../jobs/schedule.js";

export interface VerifyParameters {
  readonly client: PublicClient;
  readonly market: Address;
  readonly registry: Address;
  readonly intervalId: bigint;
  /** First block to read logs from (the market's deployment block is enough). */
  readonly fromBlock?: bigint;
  /** The committee's site location (its config); default the config's default. */
  readonly location?: CollectOptions["location"];
}

export interface FillDifference {
  readonly orderId: Hex;
  readonly owner: Address;
  readonly recomputedWh: bigint;
  /** Filled energy the chain settled for this order, if settled. */
  readonly settledWh: bigint | undefined;
}

/** The meter report's imbalance prices against their recomputation from the settled deviations. */
export type ImbalanceCheck =
  | { readonly status: "not-metered" }
  | {
      /**
       * `reproduced`: the netting of the settled deviations gives the reported prices in every zone,
       * and the settled participants' metered nets give the reported `zoneSurplusWh`.
       * `not-reproduced`: they do not; conclusive only when every participant of the meter tree is
       * settled (the tree's leaves are not on chain).
       */
      readonly status: "reproduced" | "not-reproduced";
      readonly settledParticipants: number;
      readonly reported: ReportedMeterFigures;
      readonly recomputed: ReportedMeterFigures;
    };

/** The figures of a meter report that verify recomputes. */
export interface ReportedMeterFigures {
  readonly shortPrices: readonly bigint[];
  readonly longPrices: readonly bigint[];
  readonly zoneSurplusWh: readonly bigint[];
}

export type VerifyResult =
  | { readonly status: "not-scheduled"; readonly intervalId: bigint }
  | {
      /**
       * `unsettleable`: the committed schedule is the recomputed one but fails the budget rule or
       * holds a flexibility step the contract refuses.
       */
      readonly status: "ok" | "mismatch" | "unsettleable";
      readonly intervalId: bigint;
      readonly committed: {
        ordersDigest: Hex;
        scheduleRoot: Hex;
        fillCount: number;
        zonePrices: readonly bigint[];
      };
      readonly recomputed: {
        ordersDigest: Hex;
        scheduleRoot: Hex;
        fillCount: number;
        zonePrices: readonly bigint[];
      };
      /** Human-readable list of what differs or fails (empty when ok). */
      readonly differences: readonly string[];
      /** The contract's budget rule on the committed schedule; undefined when its fills are unknown (root mismatch). */
      readonly budget: IntervalBudget | undefined;
      readonly fills: readonly FillDifference[];
      readonly imbalance: ImbalanceCheck;
    };

export async function verifyInterval(params: VerifyParameters): Promise<VerifyResult> {
  const { client, market, intervalId } = params;
  const fromBlock = params.fromBlock ?? 0n;
  const state = await readIntervalState(client, market, intervalId);
  if (!state.scheduled) return { status: "not-scheduled", intervalId };
  const [event] = await client.getContractEvents({
    address: market,
    abi: energyMarketAbi,
    eventName: "ScheduleCommitted",
    args: { intervalId },
    fromBlock,
    strict: true,
  });
  if (event === undefined)
    throw new Error(`interval ${intervalId} is scheduled but its ScheduleCommitted log was not found`);
  const committed = {
    ordersDigest: event.args.ordersDigest,
    scheduleRoot: event.args.scheduleRoot,
    fillCount: event.args.fillCount,
    zonePrices: [...event.args.zonePrices],
  };
  // The pipeline's own collect and solve (jobs/schedule.ts): the clearing rules of domain/, the
  // rolling horizon when flexibility orders were active, the same pinned solver.
  const { schedule, ordersDigest, active } = await recomputeSchedule(
    client,
    { market, registry: params.registry },
    intervalId,
    fromBlock,
    params.location === undefined ? {} : { location: params.location },
  );
  const recomputed = {
    ordersDigest,
    scheduleRoot: schedule.scheduleRoot,
    fillCount: "fillCount" in schedule ? schedule.fillCount : schedule.orders.length,
    zonePrices: [...schedule.zonePrices],
  };
  const differences: string[] = [];
  if (committed.ordersDigest.toLowerCase() !== recomputed.ordersDigest.toLowerCase())
    differences.push(
      `ordersDigest: committed ${committed.ordersDigest}, recomputed ${recomputed.ordersDigest}`,
    );
  if (committed.scheduleRoot.toLowerCase() !== recomputed.scheduleRoot.toLowerCase())
    differences.push(
      `scheduleRoot: committed ${committed.scheduleRoot}, recomputed ${recomputed.scheduleRoot}`,
    );
  if (committed.fillCount !== recomputed.fillCount)
    differences.push(`fillCount: committed ${committed.fillCount}, recomputed ${recomputed.fillCount}`);
  const zones = Math.max(committed.zonePrices.length, recomputed.zonePrices.length);
  for (let z = 0; z < zones; z++)
    if (committed.zonePrices[z] !== recomputed.zonePrices[z])
      differences.push(
        `zonePrices[${z}]: committed ${committed.zonePrices[z] ?? "none"}, recomputed ${recomputed.zonePrices[z] ?? "none"}`,
      );

  const rootMatches = committed.scheduleRoot.toLowerCase() === recomputed.scheduleRoot.toLowerCase();
  const budget = rootMatches ? committedBudget(committed.zonePrices, schedule) : undefined;
  const violations =
    rootMatches && "flexSteps" in schedule
      ? flexStepViolations(
          schedule.flexSteps,
          active,
          committed.zonePrices,
          await client.readContract({
            address: market,
            abi: energyMarketAbi,
            functionName: "intervalSeconds",
          }),
        )
      : [];
  // What makes the committed schedule (the recomputed one) impossible to settle on chain.
  const unsettleable: string[] = [];
  if (budget !== undefined && !budget.balanced)
    unsettleable.push(
      `budget: payouts ${budget.payouts} > receipts ${budget.receipts}, the committed schedule can never settle (BudgetExceeded)`,
    );
  for (const v of violations)
    unsettleable.push(`flexibility step of battery ${v.batteryId}: the contract refuses it (${v.error})`);
  differences.push(...unsettleable);

  const fills: FillDifference[] = [];
  if (differences.length > 0) {
    const settled = await settledFills(client, market, intervalId, fromBlock);
    const settledWh = new Map(settled.map((e) => [e.args.orderId.toLowerCase(), e.args.filledWh]));
    schedule.orders.forEach((o, i) => {
      const s = settledWh.get(o.orderId.toLowerCase());
      const r = schedule.filledWh[i]!;
      // With a root mismatch every fill is suspect; list those settled differently, and the unsettled ones.
      if (s === undefined || s !== r)
        fills.push({ orderId: o.orderId, owner: o.owner, recomputedWh: r, settledWh: s });
    });
  }
  return {
    status:
      differences.length === 0
        ? "ok"
        : differences.length === unsettleable.length
          ? "unsettleable"
          : "mismatch",
    intervalId,
    committed,
    recomputed,
    differences,
    budget,
    fills,
    imbalance: await checkImbalancePrices(params, committed.zonePrices),
  };
}

/** The interval's `FillSettled` events. */
function settledFills(client: PublicClient, market: Address, intervalId: bigint, fromBlock: bigint) {
  return client.getContractEvents({
    address: market,
    abi: energyMarketAbi,
    eventName: "FillSettled",
    args: { intervalId },
    fromBlock,
    strict: true,
  });
}

/** Recomputes the interval's netted imbalance prices from the chain (see the file comment). */
export async function checkImbalancePrices(
  params: VerifyParameters,
  zonePrices: readonly bigint[],
): Promise<ImbalanceCheck> {
  const { client, market, registry, intervalId } = params;
  const fromBlock = params.fromBlock ?? 0n;
  const [report] = await client.getContractEvents({
    address: market,
    abi: energyMarketAbi,
    eventName: "MeterReportCommitted",
    args: { intervalId },
    fromBlock,
    strict: true,
  });
  if (report === undefined) return { status: "not-metered" };
  const settled = await client.getContractEvents({
    address: market,
    abi: energyMarketAbi,
    eventName: "ImbalanceSettled",
    args: { intervalId },
    fromBlock,
    strict: true,
  });
  // As the committee priced them: tariffs and zones as registered when the report was committed.
  const [tariffs, zones] = await Promise.all([
    readZoneGrids(client, registry, report.blockNumber),
    readParticipantZones(
      client,
      registry,
      settled.map((e) => e.args.participant),
      report.blockNumber,
    ),
  ]);
  const deviations = zoneDeviations(
    settled.map((e) => ({ participant: e.args.participant, deviationWh: e.args.deviationWh })),
    (participant) => zones.get(participant),
    zonePrices.length,
  );
  const prices = imbalancePrices({ tariffs, zonePrices, deviations });
  const recomputed: ReportedMeterFigures = {
    shortPrices: [...prices.shortPrices],
    longPrices: [...prices.longPrices],
    zoneSurplusWh: await recomputeZoneSurplus(
      params,
      report.blockNumber,
      zonePrices.length,
      settled.map((e) => ({ participant: e.args.participant, deviationWh: e.args.deviationWh })),
      zones,
    ),
  };
  const reported: ReportedMeterFigures = {
    shortPrices: [...report.args.shortPrices],
    longPrices: [...report.args.longPrices],
    zoneSurplusWh: [...report.args.zoneSurplusWh],
  };
  const same = (a: readonly bigint[], b: readonly bigint[]) =>
    a.length === b.length && a.every((x, i) => x === b[i]);
  return {
    status:
      same(reported.shortPrices, recomputed.shortPrices) &&
      same(reported.longPrices, recomputed.longPrices) &&
      same(reported.zoneSurplusWh, recomputed.zoneSurplusWh)
        ? "reproduced"
        : "not-reproduced",
    settledParticipants: settled.length,
    reported,
    recomputed,
  };
}

/**
 * `zoneSurplusEstimates` from the chain: each settled participant's metered net is its deviation
 * plus its scheduled net (settled fills: sold − bought; its batteries' settled steps: discharged −
 * charged; all of the interval's, which settle before its imbalances), as `settleImbalance`
 * computed it; the registered solar meters' participants that are not settled count with no
 * surplus (their meters still scale the zone). Battery owners, solar meters and zones as
 * registered at the report's block.
 */
async function recomputeZoneSurplus(
  params: VerifyParameters,
  atBlock: bigint,
  zoneCount: number,
  settled: readonly { readonly participant: Address; readonly deviationWh: bigint }[],
  zones: ReadonlyMap<Address, number | undefined>,
): Promise<bigint[]> {
  const { client, market, registry, intervalId } = params;
  const fromBlock = params.fromBlock ?? 0n;
  const scheduled = new Map<Address, bigint>();
  const add = (owner: Address, wh: bigint) =>
    scheduled.set(getAddress(owner), (scheduled.get(getAddress(owner)) ?? 0n) + wh);
  const fills = await settledFills(client, market, intervalId, fromBlock);
  for (const f of fills) add(f.args.owner, f.args.side === 1 ? f.args.filledWh : -f.args.filledWh);
  // The registry as the report saw it: battery owners by id, and the meters.
  const [batteries, meters] = await Promise.all([
    readRegisteredBatteries(client, registry, atBlock),
    readMeterRegistry(client, registry, fromBlock, atBlock),
  ]);
  const ownerOf = new Map(batteries.map(({ id, battery }) => [id, getAddress(battery.owner)] as const));
  const flexibilityMarket = await readFlexibilityMarket(client, market);
  if (flexibilityMarket !== zeroAddress) {
    const steps = await client.getContractEvents({
      address: flexibilityMarket,
      abi: flexibilityMarketAbi,
      eventName: "FlexStepSettled",
      args: { intervalId },
      fromBlock,
      strict: true,
    });
    for (const step of steps) {
      const owner = ownerOf.get(step.args.batteryId);
      if (owner !== undefined)
        add(owner, step.args.direction === FLEX_DISCHARGE ? step.args.energyWh : -step.args.energyWh);
    }
  }
  const solar = new Set([...meters.values()].filter((m) => m.source === "solar").map((m) => m.participant));
  const settledParticipants = new Set(settled.map((s) => getAddress(s.participant)));
  const unsettledSolar = [...solar].filter((p) => !settledParticipants.has(p));
  const solarZones = await readParticipantZones(client, registry, unsettledSolar, atBlock);
  const netEnergy = (participant: Address, netWh: bigint) => ({
    participant,
    injectedWh: netWh > 0n ? netWh : 0n,
    consumedWh: netWh < 0n ? -netWh : 0n,
  });
  return zoneSurplusOfParticipants(
    zoneCount,
    [
      ...settled.map((s) =>
        netEnergy(s.participant, s.deviationWh + (scheduled.get(getAddress(s.participant)) ?? 0n)),
      ),
      ...unsettledSolar.map((participant) => netEnergy(participant, 0n)),
    ],
    {
      zoneOf: (participant) => zones.get(participant) ?? solarZones.get(participant),
      solar,
      batteryOwners: new Set(ownerOf.values()),
    },
  );
}
