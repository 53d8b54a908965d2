/**
 * Pull settlement of an interval's flexibility steps by anyone (`gridbrain claim`, the client's
 * `settleFlexSteps`): the two rules it needs, pure.
 *
 * - `stepSettlementCall`: the arguments of `FlexibilityMarket.settleFlexSteps` built from an oracle
 *   node's `GET /proofs/:i/schedule` answer alone, after checking that answer against the chain —
 *   never a transaction on a node's word. The tree is rebuilt here from the served leaves (fills,
 *   then steps: `scheduleLeaves`), each step's key from the EIP-712 hash of the order fields it
 *   carries (so the fields the contract will hash are the ones the root binds), and the rebuilt
 *   root with the served zone prices must be the interval's commitment on chain. The steps must be
 *   as many as the orders the market counts active (a node that served a step's leaf among the
 *   fills would leave one out: `FlexStepCount`). The multiproof covers every step, in the order
 *   the proof expects them.
 * - `flexIntervalAction`: what an interval before the wanted one, from the market's cursor, needs
 *   for the cursor to pass it. The contract settles steps in interval order (`_passTo`): an
 *   interval with active orders blocks every later one until its steps settle (possible while it
 *   is committed and before its meter deadline, when EnergyMarket closes its settlement) or it is
 *   closed as missed (`closeMissedInterval`, possible from its meter deadline on: the contract's
 *   `block.timestamp >= meterDeadline`). Between the two — not committed yet, deadline not passed —
 *   nobody can move it, and the wanted interval waits.
 */
import type { Hex } from "viem";
import {
  type FlexDirection,
  type FlexOrder,
  type FlexibilityDomain,
  flexOrderId,
  flexStepKey,
} from "../eip712.js";
import { UnrecoverableInputError } from "../errors.js";
import {
  type FillLeaf,
  fillMultiProof,
  indexedFillTree,
  scheduleCommitment,
  scheduleLeaves,
} from "../schedule.js";

/** A step as a node serves it (`FlexStepLeafJson`, amounts as bigints). */
export interface ServedFlexStep {
  /** The flexibility order's id, as the node says. */
  readonly orderId: Hex;
  readonly direction: FlexDirection;
  readonly energyWh: bigint;
  /** The leaf's key, as the node says (checked when given). */
  readonly key?: Hex;
  readonly order: FlexOrder;
}

/** A node's `/schedule` answer (`ScheduleLeavesJson`, amounts as bigints). */
export interface ServedSchedule {
  readonly intervalId: bigint;
  readonly scheduleRoot: Hex;
  readonly zonePrices: readonly bigint[];
  readonly leaves: readonly FillLeaf[];
  readonly steps: readonly ServedFlexStep[];
}

/** What the chain says of the interval. */
export interface StepSettlementChainFacts {
  readonly intervalId: bigint;
  /** `intervalState(i).commitment` of a scheduled interval. */
  readonly commitment: Hex;
  /** `activeOrderCount(i)`: the steps `settleFlexSteps` must receive. */
  readonly activeOrders: number;
  /** The FlexibilityMarket's EIP-712 domain (the orders' ids). */
  readonly domain: FlexibilityDomain;
}

/** The arguments of `settleFlexSteps(intervalId, scheduleRoot, zonePrices, steps, proof, proofFlags)`. */
export interface StepSettlementCall {
  readonly intervalId: bigint;
  readonly scheduleRoot: Hex;
  readonly zonePrices: readonly bigint[];
  /** In the order the multiproof expects them. */
  readonly steps: readonly {
    readonly order: FlexOrder;
    readonly direction: FlexDirection;
    readonly energyWh: bigint;
  }[];
  readonly proof: readonly Hex[];
  readonly proofFlags: readonly boolean[];
  /** Σ energy of the charge steps and of the discharge steps (for a report; the contract prices them). */
  readonly chargeWh: bigint;
  readonly dischargeWh: bigint;
}

/**
 * The `settleFlexSteps` call of `served`, checked against `chain`.
 * @throws UnrecoverableInputError naming the field of the answer at fault: `intervalId` (another
 *   interval), `steps.n.orderId` / `steps.n.key` (the order's fields do not hash to it),
 *   `scheduleRoot` (the rebuilt root or the zone prices are not the chain's commitment; the served
 *   root differs from the rebuilt one), `steps` (not one step per active order; none at all).
 */
export function stepSettlementCall(
  served: ServedSchedule,
  chain: StepSettlementChainFacts,
): StepSettlementCall {
  if (served.intervalId !== chain.intervalId)
    throw new UnrecoverableInputError("The node answered for another interval", {
      field: "intervalId",
      details: `asked ${chain.intervalId}, got ${served.intervalId}`,
    });
  const keys = served.steps.map((s, n) => {
    const orderId = flexOrderId(chain.domain, s.order);
    if (orderId.toLowerCase() !== s.orderId.toLowerCase())
      throw new UnrecoverableInputError("A step's order does not hash to its id", {
        field: `steps.${n}.orderId`,
        details: `served ${s.orderId}, its fields hash to ${orderId}`,
      });
    const key = flexStepKey(orderId, s.direction);
    if (s.key !== undefined && s.key.toLowerCase() !== key.toLowerCase())
      throw new UnrecoverableInputError("A step's key is not flexStepKey(orderId, direction)", {
        field: `steps.${n}.key`,
        details: `served ${s.key}, expected ${key}`,
      });
    return key;
  });
  const leaves = scheduleLeaves(
    served.leaves,
    served.leaves.map((l) => l.filledWh),
    served.steps.map((s, n) => ({ orderId: keys[n]!, filledWh: s.energyWh })),
  );
  if (leaves.length === 0)
    throw new UnrecoverableInputError("The node served no leaf", {
      field: "leaves",
      details: "empty schedule",
    });
  const { tree } = indexedFillTree(leaves);
  const root = tree.root as Hex;
  if (scheduleCommitment(root, served.zonePrices) !== chain.commitment)
    throw new UnrecoverableInputError("The served schedule is not the chain's commitment", {
      field: "scheduleRoot",
      details: `interval ${chain.intervalId}: the served leaves hash to ${root}, which with the served zone prices [${served.zonePrices.join(", ")}] is not the commitment ${chain.commitment}`,
    });
  if (root.toLowerCase() !== served.scheduleRoot.toLowerCase())
    throw new UnrecoverableInputError("The served root is not the root of the served leaves", {
      field: "scheduleRoot",
      details: `served ${served.scheduleRoot}, rebuilt ${root}`,
    });
  if (served.steps.length !== chain.activeOrders || served.steps.length === 0)
    throw new UnrecoverableInputError("Not one step per active flexibility order", {
      field: "steps",
      details: `interval ${chain.intervalId}: the node lists ${served.steps.length} steps, the market counts ${chain.activeOrders} active orders`,
    });
  const multi = fillMultiProof(tree, keys);
  const byKey = new Map(keys.map((k, n) => [k.toLowerCase(), served.steps[n]!] as const));
  const steps = multi.leaves.map((l) => {
    const s = byKey.get(l.orderId.toLowerCase())!;
    return { order: s.order, direction: s.direction, energyWh: s.energyWh };
  });
  let chargeWh = 0n;
  let dischargeWh = 0n;
  for (const s of steps)
    if (s.direction === 0) chargeWh += s.energyWh;
    else dischargeWh += s.energyWh;
  return {
    intervalId: chain.intervalId,
    scheduleRoot: root,
    zonePrices: served.zonePrices,
    steps,
    proof: multi.proof,
    proofFlags: multi.proofFlags,
    chargeWh,
    dischargeWh,
  };
}

/** What the chain says of an interval at or after the cursor, with the chain time. */
export interface FlexIntervalFacts {
  readonly intervalId: bigint;
  /** `activeOrderCount(k)`. */
  readonly activeOrders: number;
  readonly scheduled: boolean;
  /** Latest block's timestamp. */
  readonly now: bigint;
  readonly scheduleDeadline: bigint;
  readonly meterDeadline: bigint;
}

/**
 * - `pass`: no order active; the cursor passes it by itself.
 * - `close`: its meter deadline has passed, its steps can never settle: `closeMissedInterval`.
 * - `settle`: committed and before its meter deadline: `settleFlexSteps` from a node's answer.
 * - `wait`: not committed, meter deadline not passed: nobody can move it now (`reason` says until when).
 */
export type FlexIntervalAction =
  { readonly action: "pass" | "close" | "settle" } | { readonly action: "wait"; readonly reason: string };

/** What the cursor needs to pass interval `f.intervalId` (see the file comment). */
export function flexIntervalAction(f: FlexIntervalFacts): FlexIntervalAction {
  if (f.activeOrders === 0) return { action: "pass" };
  if (f.now >= f.meterDeadline) return { action: "close" };
  if (f.scheduled) return { action: "settle" };
  const orders = `${f.activeOrders} active flexibility order${f.activeOrders === 1 ? "" : "s"}`;
  const closable = `it can be closed as missed from unix time ${f.meterDeadline} (its meter deadline)`;
  return {
    action: "wait",
    reason:
      f.now < f.scheduleDeadline
        ? `interval ${f.intervalId} (${orders}) has no committed schedule yet: the committee may commit it until unix time ${f.scheduleDeadline}, else ${closable}`
        : `interval ${f.intervalId} (${orders}) was never committed (its schedule deadline passed at unix time ${f.scheduleDeadline}); ${closable}`,
  };
}
