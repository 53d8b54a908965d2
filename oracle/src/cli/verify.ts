/**
 * `gridbrain verify <interval>`: recompute an interval's schedule from chain data alone (the
 * pipeline's own clearing rules, domain/clearing.ts) and compare it with what the committee committed: orders
 * digest, schedule root, fill count and zone prices; on a root mismatch, the fills that differ
 * (recomputed vs settled on-chain, where settled). It also applies the contract's budget rule
 * (domain/budget.ts) to the committed schedule when its fills are known (the recomputed root is
 * the committed one): a committed schedule that pays sellers more than its buyers pay can never
 * settle, and is reported as `unsettleable` with the amounts.
 */
import { type Address, type Hex, type PublicClient } from "viem";
import { energyMarketAbi } from "../chain/abis.js";
import { type ChainOrder, readGrid, readIntervalState, readOrderBook } from "../chain/market.js";
import type { IntervalBudget } from "../domain/budget.js";
import {
  type IntervalSchedule,
  clearingInstance,
  committedBudget,
  intervalSchedule,
} from "../domain/clearing.js";
import { solveInWorker } from "../domain/dispatch/index.js";

export interface VerifyParameters {
  readonly client: PublicClient;
  readonly market: Address;
  readonly registry: Address;
  readonly intervalId: bigint;
  /** First block to read logs from (the market's deployment block is enough). */
  readonly fromBlock?: bigint;
}

export interface FillDifference {
  readonly orderId: Hex;
  readonly owner: Address;
  readonly recomputedWh: bigint;
  /** Filled energy the chain settled for this order, if settled. */
  readonly settledWh: bigint | undefined;
}

export type VerifyResult =
  | { readonly status: "not-scheduled"; readonly intervalId: bigint }
  | {
      /** `unsettleable`: the committed schedule is the recomputed one but fails the budget rule. */
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
  const { schedule, ordersDigest } = await recompute(client, market, params.registry, intervalId, fromBlock);
  const recomputed = {
    ordersDigest,
    scheduleRoot: schedule.scheduleRoot,
    fillCount: schedule.orders.length,
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
  const unsettleable = budget !== undefined && !budget.balanced;
  if (unsettleable)
    differences.push(
      `budget: payouts ${budget.payouts} > receipts ${budget.receipts}, the committed schedule can never settle (BudgetExceeded)`,
    );

  const fills: FillDifference[] = [];
  if (differences.length > 0) {
    const settled = await client.getContractEvents({
      address: market,
      abi: energyMarketAbi,
      eventName: "FillSettled",
      args: { intervalId },
      fromBlock,
      strict: true,
    });
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
        : unsettleable && differences.length === 1
          ? "unsettleable"
          : "mismatch",
    intervalId,
    committed,
    recomputed,
    differences,
    budget,
    fills,
  };
}

/**
 * The schedule of `intervalId` recomputed from chain data alone, through the clearing rules the
 * pipeline's collect and solve steps apply (domain/clearing.ts) and the same pinned solver.
 */
async function recompute(
  client: PublicClient,
  market: Address,
  registry: Address,
  intervalId: bigint,
  fromBlock: bigint,
): Promise<{ schedule: IntervalSchedule<ChainOrder>; ordersDigest: Hex }> {
  const [book, grid] = await Promise.all([
    readOrderBook(client, market, intervalId, fromBlock),
    readGrid(client, registry),
  ]);
  const result = await solveInWorker(clearingInstance(intervalId, book.open, grid));
  return { schedule: intervalSchedule(book.open, grid.zoneCount, result), ordersDigest: book.ordersDigest };
}
