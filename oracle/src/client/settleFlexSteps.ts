/**
 * `settleFlexSteps`: pull settlement of an interval's flexibility steps by anyone, from an oracle
 * node's `GET /proofs/:i/schedule` answer alone (docs/ORACLE.md, "Proof API"). With push settlement
 * off nothing else settles them, and a seller in an interval where a battery charges is paid out
 * of the buyers' payments plus that charge, so its claim waits for them (`gridbrain claim` calls
 * this before the sell side).
 *
 * Nothing is sent on the node's word: the tree is rebuilt from the answer, its root with the
 * served zone prices must be the chain's commitment, and each step's key is recomputed from its
 * order's fields (domain/flexibility/step-claim.ts). FlexibilityMarket settles intervals in order
 * from its cursor, so an earlier interval with active orders is moved first: settled from the
 * node's answer while committed and before its meter deadline, closed as missed
 * (`closeMissedInterval`) once that deadline has passed; one that is neither (not committed yet,
 * deadline ahead) stops the action with `FlexIntervalPending`, naming it and until when. Which
 * interval blocks is the contract's own answer (`FlexIntervalOutOfOrder` from simulating the
 * wanted interval's call), so idle stretches cost nothing to skip.
 */
import type { Address, Hex, PublicClient } from "viem";
import { energyMarketAbi, flexibilityMarketAbi } from "../chain/abis.js";
import { type FlexDirection, flexibilityDomain } from "../domain/eip712.js";
import { UnrecoverableInputError } from "../domain/errors.js";
import {
  type FlexIntervalFacts,
  type ServedSchedule,
  type StepSettlementCall,
  flexIntervalAction,
  stepSettlementCall,
} from "../domain/flexibility/step-claim.js";
import { type WriteClients, chainIdOf } from "./clients.js";
import { ClientError, decodeError } from "./errors.js";
import { type FlexTarget, flexOrderArg, resolveFlexMarket, sendFlexTransaction } from "./flexMarket.js";
import { type ScheduleLeaves, getScheduleLeaves } from "./nodeProofs.js";

export interface SettleFlexStepsParameters extends FlexTarget {
  /** An oracle node's HTTP URL (its Proof API). */
  readonly nodeUrl: string;
  readonly intervalId: bigint;
}

/** One transaction the action sent, for the wanted interval or an earlier one that blocked it. */
export interface FlexIntervalOutcome {
  readonly intervalId: bigint;
  /** `settled`: its steps, by `settleFlexSteps`; `missed`: closed by `closeMissedInterval` after its meter deadline. */
  readonly outcome: "settled" | "missed";
  /** Its active orders: the steps settled, or the batteries left idle. */
  readonly steps: number;
  /** Σ charges paid into the interval (each rounded up), Σ discharges credited (each rounded down); 0 when missed. */
  readonly charged: bigint;
  readonly paid: bigint;
  readonly transaction: Hex;
}

export type SettleFlexStepsReturnType =
  /** `intervals`: every transaction sent, in interval order, the wanted interval's last. */
  | { readonly status: "settled now"; readonly intervals: readonly FlexIntervalOutcome[] }
  /** The market's cursor is past the interval: settled (or closed as missed), by anyone. */
  | { readonly status: "already settled" }
  /** No flexibility order is active in the interval: nothing to settle. */
  | { readonly status: "no steps" }
  /** Its meter deadline passed with the steps unsettled: they can never settle (`reason` says when). */
  | { readonly status: "closed"; readonly reason: string };

/**
 * @throws ClientError `FlexIntervalPending` when the interval, or an earlier one with active orders,
 *   is not committed yet and its meter deadline is ahead (the message names it and until when);
 *   `NodeScheduleRejected` when a node's answer does not match the chain (nothing was sent for that
 *   interval); `ProofUnavailable`/`NodeUnreachable`/`UnexpectedNodeAnswer` from the node; a revert
 *   (decode it with `decodeError`: `BudgetExceeded` while the buyers who pay for a discharge have
 *   not claimed yet).
 */
export async function settleFlexSteps(
  clients: WriteClients,
  parameters: SettleFlexStepsParameters,
): Promise<SettleFlexStepsReturnType> {
  const { publicClient } = clients;
  const { intervalId } = parameters;
  const flexMarket = await resolveFlexMarket(publicClient, parameters);
  const flex = { address: flexMarket, abi: flexibilityMarketAbi } as const;
  const cursor = () => publicClient.readContract({ ...flex, functionName: "nextInterval" });
  if ((await cursor()) > intervalId) return { status: "already settled" };

  const target = await intervalFacts(publicClient, parameters.market, flexMarket, intervalId);
  const plan = flexIntervalAction(target.facts);
  if (plan.action === "pass") return { status: "no steps" };
  if (plan.action === "close")
    return {
      status: "closed",
      reason: `interval ${intervalId}'s meter deadline passed at unix time ${target.facts.meterDeadline} with its flexibility steps unsettled; they can no longer settle`,
    };
  if (plan.action === "wait")
    throw new ClientError(
      "FlexIntervalPending",
      `the flexibility steps of interval ${intervalId} cannot settle yet`,
      {
        details: plan.reason,
        meta: { intervalId, waitsFor: intervalId },
      },
    );

  const domain = flexibilityDomain(await chainIdOf(publicClient), flexMarket);
  // The wanted interval's answer is checked before any transaction, an earlier interval's included.
  const call = await checkedCall(parameters.nodeUrl, domain, target);
  const intervals: FlexIntervalOutcome[] = [];
  let moved = -1n;
  for (;;) {
    const blocking = await blockingInterval(clients, flexMarket, call);
    if (blocking === undefined) {
      intervals.push(await sendSettle(clients, flexMarket, call));
      return { status: "settled now", intervals };
    }
    // Someone else moved the cursor past the interval meanwhile.
    if (blocking > intervalId) return { status: "already settled" };
    if (blocking <= moved)
      throw new ClientError("FlexCursorStuck", `interval ${blocking} still blocks interval ${intervalId}`, {
        details: `the flexibility market's cursor did not pass it after this action moved it`,
      });
    const earlier = await intervalFacts(publicClient, parameters.market, flexMarket, blocking);
    const action = flexIntervalAction(earlier.facts);
    if (action.action === "wait")
      throw new ClientError(
        "FlexIntervalPending",
        `the flexibility steps of interval ${intervalId} wait for interval ${blocking}`,
        { details: action.reason, meta: { intervalId, waitsFor: blocking } },
      );
    if (action.action === "pass")
      throw new ClientError("FlexCursorStuck", `interval ${blocking} blocks interval ${intervalId}`, {
        details: "the market reports it out of order but counts no active order in it",
      });
    const done = await passEarlier(clients, flexMarket, blocking, action.action, () =>
      checkedCall(parameters.nodeUrl, domain, earlier),
    );
    if (done !== undefined) intervals.push(done);
    moved = blocking;
  }
}

interface IntervalRead {
  readonly facts: FlexIntervalFacts;
  readonly commitment: Hex;
}

async function intervalFacts(
  publicClient: PublicClient,
  market: Address,
  flexMarket: Address,
  intervalId: bigint,
): Promise<IntervalRead> {
  const at = { address: market, abi: energyMarketAbi } as const;
  const [state, activeOrders, scheduleDeadline, meterDeadline, block] = await Promise.all([
    publicClient.readContract({ ...at, functionName: "intervalState", args: [intervalId] }),
    publicClient.readContract({
      address: flexMarket,
      abi: flexibilityMarketAbi,
      functionName: "activeOrderCount",
      args: [intervalId],
    }),
    publicClient.readContract({ ...at, functionName: "scheduleDeadline", args: [intervalId] }),
    publicClient.readContract({ ...at, functionName: "meterDeadline", args: [intervalId] }),
    publicClient.getBlock({ blockTag: "latest" }),
  ]);
  return {
    facts: {
      intervalId,
      activeOrders: Number(activeOrders),
      scheduled: state.scheduled,
      now: block.timestamp,
      scheduleDeadline,
      meterDeadline,
    },
    commitment: state.commitment,
  };
}

/** The node's answer for the interval, checked against the chain and made into the call. */
async function checkedCall(
  nodeUrl: string,
  domain: ReturnType<typeof flexibilityDomain>,
  read: IntervalRead,
): Promise<StepSettlementCall> {
  const { intervalId, activeOrders } = read.facts;
  const served = await getScheduleLeaves({ nodeUrl, intervalId });
  try {
    return stepSettlementCall(servedSchedule(served), {
      intervalId,
      commitment: read.commitment,
      activeOrders,
      domain,
    });
  } catch (error) {
    if (!(error instanceof UnrecoverableInputError)) throw error;
    throw new ClientError(
      "NodeScheduleRejected",
      `the schedule of interval ${intervalId} from node ${nodeUrl} does not match the chain; nothing was sent`,
      { details: `${error.field ?? "answer"}: ${error.message}`, cause: error, meta: { intervalId } },
    );
  }
}

function servedSchedule(s: ScheduleLeaves): ServedSchedule {
  return {
    intervalId: BigInt(s.intervalId),
    scheduleRoot: s.scheduleRoot as Hex,
    zonePrices: s.zonePrices.map(BigInt),
    leaves: s.leaves.map((l) => ({ orderId: l.orderId as Hex, filledWh: BigInt(l.filledWh) })),
    steps: s.steps.map((step) => ({
      orderId: step.orderId as Hex,
      direction: step.direction as FlexDirection,
      energyWh: BigInt(step.energyWh),
      key: step.key as Hex,
      order: {
        owner: step.order.owner,
        batteryId: step.order.batteryId,
        firstInterval: BigInt(step.order.firstInterval),
        lastInterval: BigInt(step.order.lastInterval),
        maxChargePricePerKwh: BigInt(step.order.maxChargePricePerKwh),
        minDischargePricePerKwh: BigInt(step.order.minDischargePricePerKwh),
        chargeBudget: BigInt(step.order.chargeBudget),
        initialSocWh: BigInt(step.order.initialSocWh),
        nonce: BigInt(step.order.nonce),
      },
    })),
  };
}

const settleArgs = (call: StepSettlementCall) => [
  call.intervalId,
  call.scheduleRoot,
  [...call.zonePrices],
  call.steps.map((s) => ({ order: flexOrderArg(s.order), direction: s.direction, energyWh: s.energyWh })),
  [...call.proof],
  [...call.proofFlags],
];

/** The interval that the market says must pass before `call`'s (its `FlexIntervalOutOfOrder`), or undefined when `call` would settle. */
async function blockingInterval(
  clients: WriteClients,
  flexMarket: Address,
  call: StepSettlementCall,
): Promise<bigint | undefined> {
  try {
    await clients.publicClient.simulateContract({
      account: clients.walletClient.account,
      address: flexMarket,
      abi: flexibilityMarketAbi,
      functionName: "settleFlexSteps",
      args: settleArgs(call) as never,
    });
    return undefined;
  } catch (error) {
    const outOfOrder = expectedInterval(error);
    if (outOfOrder === undefined) throw error;
    return outOfOrder;
  }
}

/** The cursor's interval a `FlexIntervalOutOfOrder` revert names, else undefined. */
function expectedInterval(error: unknown): bigint | undefined {
  const decoded = decodeError(error);
  return decoded?.name === "FlexIntervalOutOfOrder" ? (decoded.args[1] as bigint) : undefined;
}

async function sendSettle(
  clients: WriteClients,
  flexMarket: Address,
  call: StepSettlementCall,
): Promise<FlexIntervalOutcome> {
  const { hash, event } = await sendFlexTransaction(clients, {
    flexMarket,
    functionName: "settleFlexSteps",
    args: settleArgs(call),
    event: "FlexIntervalSettled",
    expect: (e) => e.intervalId === call.intervalId,
    missing: (tx) =>
      new ClientError("FlexStepsNotSettled", `no FlexIntervalSettled for interval ${call.intervalId}`, {
        details: `transaction ${tx}`,
      }),
  });
  return {
    intervalId: call.intervalId,
    outcome: "settled",
    steps: Number(event.steps),
    charged: event.charged,
    paid: event.paid,
    transaction: hash,
  };
}

/**
 * Moves the cursor past earlier interval `intervalId`: closes it as missed, or settles it from the
 * node's checked answer. Undefined when someone else moved the cursor past it first.
 */
async function passEarlier(
  clients: WriteClients,
  flexMarket: Address,
  intervalId: bigint,
  action: "close" | "settle",
  call: () => Promise<StepSettlementCall>,
): Promise<FlexIntervalOutcome | undefined> {
  try {
    return action === "settle"
      ? await sendSettle(clients, flexMarket, await call())
      : await sendClose(clients, flexMarket, intervalId);
  } catch (error) {
    const expected = expectedInterval(error);
    if (expected === undefined || expected <= intervalId) throw error;
    return undefined;
  }
}

async function sendClose(
  clients: WriteClients,
  flexMarket: Address,
  intervalId: bigint,
): Promise<FlexIntervalOutcome> {
  const { hash, event } = await sendFlexTransaction(clients, {
    flexMarket,
    functionName: "closeMissedInterval",
    args: [intervalId],
    event: "FlexIntervalMissed",
    expect: (e) => e.intervalId === intervalId,
    missing: (tx) =>
      new ClientError("FlexIntervalNotClosed", `no FlexIntervalMissed for interval ${intervalId}`, {
        details: `transaction ${tx}`,
      }),
  });
  return {
    intervalId,
    outcome: "missed",
    steps: Number(event.activeOrders),
    charged: 0n,
    paid: 0n,
    transaction: hash,
  };
}
