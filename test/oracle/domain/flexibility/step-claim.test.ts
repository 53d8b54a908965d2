/**
 * domain/flexibility/step-claim.ts: the settleFlexSteps call built from a node's /schedule answer
 * only when the answer is the chain's commitment, and what an earlier interval needs for the
 * flexibility market's cursor to pass it.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import { type Hex, encodeAbiParameters, keccak256 } from "viem";
import {
  type FlexOrder,
  flexOrderId,
  flexStepKey,
  flexibilityDomain,
} from "../../../../oracle/src/domain/eip712.js";
import { UnrecoverableInputError } from "../../../../oracle/src/domain/errors.js";
import {
  type FlexIntervalFacts,
  type ServedSchedule,
  flexIntervalAction,
  stepSettlementCall,
} from "../../../../oracle/src/domain/flexibility/step-claim.js";
import { scheduleCommitment } from "../../../../oracle/src/domain/schedule.js";

const I = 1_000n;
const domain = flexibilityDomain(31337, `0x${"5f".repeat(20)}`);
const order = (batteryId: number, nonce: bigint): FlexOrder => ({
  owner: `0x${"23".repeat(20)}`,
  batteryId,
  firstInterval: I - 2n,
  lastInterval: I + 5n,
  maxChargePricePerKwh: 100_000n,
  minDischargePricePerKwh: 150_000n,
  chargeBudget: 1_000_000n,
  initialSocWh: 2_000n,
  nonce,
});
const A = order(0, 1n);
const B = order(1, 2n);
const fill = (n: number) => ({ orderId: keccak256(encodeAbiParameters([{ type: "uint256" }], [BigInt(n)])) });

/** A served schedule of three fills and steps of A (charge 1.2 kWh) and B (discharge 0.5 kWh), and its commitment. */
function served(): { schedule: ServedSchedule; commitment: Hex } {
  const leaves = [
    { ...fill(1), filledWh: 4_000n },
    { ...fill(2), filledWh: 1_000n },
    { ...fill(3), filledWh: 0n },
  ];
  const steps = [
    { orderId: flexOrderId(domain, A), direction: 0 as const, energyWh: 1_200n, order: A },
    { orderId: flexOrderId(domain, B), direction: 1 as const, energyWh: 500n, order: B },
  ].map((s) => ({ ...s, key: flexStepKey(s.orderId, s.direction) }));
  // The tree built here independently of domain/schedule.ts: OpenZeppelin's, over (id, Wh).
  const tree = StandardMerkleTree.of<[Hex, bigint]>(
    [
      ...leaves.map((l): [Hex, bigint] => [l.orderId, l.filledWh]),
      ...steps.map((s): [Hex, bigint] => [s.key, s.energyWh]),
    ],
    ["bytes32", "uint64"],
  );
  const zonePrices = [90_000n];
  return {
    schedule: { intervalId: I, scheduleRoot: tree.root as Hex, zonePrices, leaves, steps },
    commitment: scheduleCommitment(tree.root as Hex, zonePrices),
  };
}

const facts = (commitment: Hex, activeOrders = 2) => ({ intervalId: I, commitment, activeOrders, domain });

/** The UnrecoverableInputError `f` throws (fails the test when it returns). */
function refusal(f: () => unknown): UnrecoverableInputError {
  try {
    f();
  } catch (error) {
    expect(error).to.be.instanceOf(UnrecoverableInputError);
    return error as UnrecoverableInputError;
  }
  return expect.fail("expected a refusal");
}

describe("stepSettlementCall", () => {
  describe("when the answer is the chain's commitment", () => {
    it("proves every step with one multiproof that OpenZeppelin verifies against the committed root", () => {
      const { schedule, commitment } = served();
      const call = stepSettlementCall(schedule, facts(commitment));
      expect(call.scheduleRoot).to.equal(schedule.scheduleRoot);
      expect(call.zonePrices).to.deep.equal([90_000n]);
      expect(call.steps.map((s) => s.order.batteryId).sort()).to.deep.equal([0, 1]);
      expect([call.chargeWh, call.dischargeWh]).to.deep.equal([1_200n, 500n]);
      const leaves = call.steps.map((s): [Hex, bigint] => [
        flexStepKey(flexOrderId(domain, s.order), s.direction),
        s.energyWh,
      ]);
      expect(
        StandardMerkleTree.verifyMultiProof(call.scheduleRoot, ["bytes32", "uint64"], {
          leaves,
          proof: [...call.proof],
          proofFlags: [...call.proofFlags],
        }),
        "the multiproof, steps in the order given",
      ).to.equal(true);
    });
  });

  describe("when the answer is not the chain's commitment", () => {
    it("refuses a step whose energy differs from the committed one (scheduleRoot)", () => {
      const { schedule, commitment } = served();
      const tampered = {
        ...schedule,
        steps: schedule.steps.map((s, n) => (n === 0 ? { ...s, energyWh: s.energyWh + 1n } : s)),
      };
      const e = refusal(() => stepSettlementCall(tampered, facts(commitment)));
      expect(e.field).to.equal("scheduleRoot");
      expect(e.message).to.contain(`is not the commitment ${commitment}`);
    });

    it("refuses other zone prices than the committed ones (scheduleRoot)", () => {
      const { schedule, commitment } = served();
      const e = refusal(() => stepSettlementCall({ ...schedule, zonePrices: [90_001n] }, facts(commitment)));
      expect(e.field).to.equal("scheduleRoot");
    });

    it("refuses a step whose order fields do not hash to its id (steps.n.orderId)", () => {
      const { schedule, commitment } = served();
      const tampered = {
        ...schedule,
        steps: schedule.steps.map((s, n) =>
          n === 1 ? { ...s, order: { ...s.order, minDischargePricePerKwh: 1n } } : s,
        ),
      };
      expect(refusal(() => stepSettlementCall(tampered, facts(commitment))).field).to.equal(
        "steps.1.orderId",
      );
    });

    it("refuses a served key that is not flexStepKey(orderId, direction) (steps.n.key)", () => {
      const { schedule, commitment } = served();
      const tampered = {
        ...schedule,
        steps: schedule.steps.map((s, n) => (n === 0 ? { ...s, key: fill(9).orderId } : s)),
      };
      expect(refusal(() => stepSettlementCall(tampered, facts(commitment))).field).to.equal("steps.0.key");
    });

    it("refuses a step served among the fills: fewer steps than the market's active orders (steps)", () => {
      const { schedule, commitment } = served();
      const [first, second] = schedule.steps;
      // Same tree, same root: the second step's leaf moved to the fills under its key.
      const moved = {
        ...schedule,
        leaves: [...schedule.leaves, { orderId: second!.key!, filledWh: second!.energyWh }],
        steps: [first!],
      };
      const e = refusal(() => stepSettlementCall(moved, facts(commitment)));
      expect(e.field).to.equal("steps");
      expect(e.message).to.contain("the node lists 1 steps, the market counts 2 active orders");
    });

    it("refuses an answer for another interval (intervalId)", () => {
      const { schedule, commitment } = served();
      expect(
        refusal(() => stepSettlementCall({ ...schedule, intervalId: I + 1n }, facts(commitment))).field,
      ).to.equal("intervalId");
    });
  });
});

describe("flexIntervalAction", () => {
  const base: FlexIntervalFacts = {
    intervalId: 41n,
    activeOrders: 2,
    scheduled: false,
    now: 1_000n,
    scheduleDeadline: 1_100n,
    meterDeadline: 3_000n,
  };

  it("passes an interval without an active order, whatever its state", () => {
    expect(flexIntervalAction({ ...base, activeOrders: 0, now: 5_000n })).to.deep.equal({ action: "pass" });
  });

  it("settles a committed interval before its meter deadline", () => {
    expect(flexIntervalAction({ ...base, scheduled: true, now: 2_999n })).to.deep.equal({ action: "settle" });
  });

  it("closes an interval as missed from its meter deadline on, committed or not (block.timestamp >= deadline)", () => {
    expect(flexIntervalAction({ ...base, now: 3_000n })).to.deep.equal({ action: "close" });
    expect(flexIntervalAction({ ...base, scheduled: true, now: 3_000n })).to.deep.equal({ action: "close" });
  });

  it("waits for an uncommitted interval before its meter deadline, naming it and until when", () => {
    const open = flexIntervalAction(base);
    expect(open).to.deep.equal({
      action: "wait",
      reason:
        "interval 41 (2 active flexibility orders) has no committed schedule yet: the committee may commit it until unix time 1100, else it can be closed as missed from unix time 3000 (its meter deadline)",
    });
    const never = flexIntervalAction({ ...base, now: 1_100n });
    expect(never.action).to.equal("wait");
    expect("reason" in never && never.reason).to.equal(
      "interval 41 (2 active flexibility orders) was never committed (its schedule deadline passed at unix time 1100); it can be closed as missed from unix time 3000 (its meter deadline)",
    );
  });
});
