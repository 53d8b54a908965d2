import { expect } from "chai";
import type { Hex } from "viem";
import {
  FLEX_CHARGE,
  FLEX_DISCHARGE,
  type ActiveFlexOrder,
  type FlexDirection,
  type PendingFlexInterval,
  earlierFlexInterval,
  flexIntervalsStillOpen,
  flexStateAtStart,
  flexStepKey,
  flexSteps,
  stepLimits,
} from "../../../../oracle/src/domain/flexibility/index.js";
import { UnrecoverableInputError } from "../../../../oracle/src/domain/errors.js";
import { keeperDeadlines } from "../../../../oracle/src/domain/keeper.js";
import { ORDER_ID, SECONDS, active as baseActive, battery } from "./fixtures.js";

const OTHER_ID = `0x${"cd".repeat(32)}` as Hex;
/** j: the interval being collected. */
const J = 110n;

/** fixtures.ts's order with 1,234 base units already spent. */
const active = (over: Partial<ActiveFlexOrder> = {}, order: Partial<ActiveFlexOrder["order"]> = {}) =>
  baseActive({ spent: 1_234n, ...over }, order);

/** A committed interval with one step of `orderId`; zone 1 priced at `price`. */
const committed = (
  intervalId: bigint,
  direction: FlexDirection,
  energyWh: bigint,
  price: bigint,
  orderId: Hex = ORDER_ID,
): PendingFlexInterval => ({
  intervalId,
  zonePrices: [1n, price],
  steps: [{ orderId, batteryId: 7, direction, energyWh }],
});

const state = (settled: readonly ActiveFlexOrder[], pending: readonly PendingFlexInterval[]) =>
  flexStateAtStart({ intervalId: J, settled, pending, intervalSeconds: SECONDS });

/** The order's state when ready; fails the test when the rule waits. */
function ready(settled: readonly ActiveFlexOrder[], pending: readonly PendingFlexInterval[]) {
  const s = state(settled, pending);
  if (!s.ready) throw new Error(`expected ready, got a wait: ${s.reason}`);
  return s.active;
}

describe("flexStateAtStart", () => {
  describe("when no earlier interval is pending", () => {
    it("returns the settled state unchanged", () => {
      const settled = [active(), active({ orderId: OTHER_ID }, { batteryId: 8 })];
      expect(ready(settled, [])).to.deep.equal(settled);
    });
  });

  describe("when one earlier interval is committed with a charge", () => {
    it("stores floor(c × ηc) and spends ceil(price × c / 1000) at the battery's zone price", () => {
      // 999 Wh at 100,001 per kWh: 99,900.999 rounded up to 99,901; stores 949.05 → 949.
      const [a] = ready([active()], [committed(J - 1n, FLEX_CHARGE, 999n, 100_001n)]);
      expect(a!.socWh, "5,000 + 949").to.equal(5_949n);
      expect(a!.spent, "1,234 + 99,901").to.equal(1_234n + 99_901n);
    });

    it("equals the SoC the commit itself computed for the step (flexSteps)", () => {
      const before = active();
      const key = BigInt(flexStepKey(ORDER_ID, FLEX_CHARGE)).toString();
      const [step] = flexSteps([before], [{ orderId: key, filledWh: 999 }]);
      const [a] = ready([before], [committed(J - 1n, FLEX_CHARGE, 999n, 100_001n)]);
      expect(a!.socWh).to.equal(step!.socWh);
    });
  });

  describe("when one earlier interval is committed with a discharge", () => {
    it("takes ceil(g / ηd) and leaves the spent budget", () => {
      // 500 Wh at η 9,500: 526.3 rounded up to 527 taken out of storage.
      const [a] = ready([active()], [committed(J - 1n, FLEX_DISCHARGE, 500n, 180_000n)]);
      expect(a!.socWh, "5,000 − 527").to.equal(4_473n);
      expect(a!.spent, "a discharge spends nothing").to.equal(1_234n);
    });
  });

  describe("when several earlier intervals are committed", () => {
    it("applies their steps in interval order", () => {
      const [a] = ready(
        [active()],
        [
          committed(J - 3n, FLEX_CHARGE, 1_000n, 50_000n),
          committed(J - 2n, FLEX_CHARGE, 0n, 50_000n),
          committed(J - 1n, FLEX_DISCHARGE, 95n, 160_000n),
        ],
      );
      // + 950, + 0, − 100.
      expect(a!.socWh).to.equal(5_850n);
      expect(a!.spent, "1,234 + 50,000").to.equal(51_234n);
    });
  });

  describe("when a pending step moves 0 Wh", () => {
    it("changes nothing, even for a battery that was removed", () => {
      const removed = active({ battery: null });
      expect(ready([removed], [committed(J - 1n, FLEX_CHARGE, 0n, 1n)])).to.deep.equal([removed]);
    });
  });

  describe("when a committed interval is not available locally", () => {
    it("waits, naming the interval and why", () => {
      const s = state(
        [active()],
        [
          committed(J - 2n, FLEX_CHARGE, 100n, 1_000n),
          { intervalId: J - 1n, why: "this node stored no schedule of it" },
        ],
      );
      expect(s.ready).to.equal(false);
      if (s.ready) return;
      expect(s.intervalId).to.equal(J - 1n);
      expect(s.reason)
        .to.contain(`interval ${J - 1n}`)
        .and.contain("this node stored no schedule of it");
    });

    it("does not wait for an interval before every order's first interval", () => {
      const late = active({}, { firstInterval: J - 1n });
      const [a] = ready(
        [late],
        [{ intervalId: J - 2n, why: "not committed yet" }, committed(J - 1n, FLEX_CHARGE, 1_000n, 10_000n)],
      );
      expect(a!.socWh).to.equal(5_950n);
    });
  });

  describe("when the stored schedule cannot be what the contract settles", () => {
    it("waits when an active order has no step in it", () => {
      const s = state([active()], [committed(J - 1n, FLEX_CHARGE, 100n, 1_000n, OTHER_ID)]);
      expect(s.ready).to.equal(false);
      if (!s.ready) expect(s.reason).to.contain("no step of order");
    });

    it("waits when the contract would refuse the step now (SoC, owner, zone price)", () => {
      const refused: [ActiveFlexOrder, PendingFlexInterval, string][] = [
        // 500 Wh takes 527, below the 1,000 Wh floor from 1,500.
        [active({ socWh: 1_500n }), committed(J - 1n, FLEX_DISCHARGE, 500n, 160_000n), "SocOutOfBounds"],
        [active({ battery: null }), committed(J - 1n, FLEX_CHARGE, 1n, 1_000n), "BatteryOwnerChanged"],
        [
          active({ battery: battery({ zoneId: 5 }) }),
          committed(J - 1n, FLEX_CHARGE, 1n, 1_000n),
          "UnknownZonePrice",
        ],
      ];
      for (const [a, k, error] of refused) {
        const s = state([a], [k]);
        expect(s.ready, error).to.equal(false);
        if (!s.ready) expect(s.reason).to.contain(error);
      }
    });
  });

  describe("when the pending list is malformed", () => {
    it("rejects an interval not before j, naming the field", () => {
      expect(() => state([active()], [committed(J, FLEX_CHARGE, 0n, 1n)]))
        .to.throw(UnrecoverableInputError)
        .with.property("field", "pending.0.intervalId");
    });
    it("rejects intervals out of order, naming the field", () => {
      expect(() =>
        state([active()], [committed(J - 1n, FLEX_CHARGE, 0n, 1n), committed(J - 2n, FLEX_CHARGE, 0n, 1n)]),
      )
        .to.throw(UnrecoverableInputError)
        .with.property("field", "pending.1.intervalId");
    });
  });
});

// The deployed defaults: 900 s intervals, gate 300 s, schedule window 600 s, meter window 3,600 s.
const T = {
  intervalSeconds: 900n,
  gateClosureSeconds: 300n,
  scheduleWindowSeconds: 600n,
  meterWindowSeconds: 3600n,
};

describe("flexIntervalsStillOpen", () => {
  const gate = (i: bigint) => i * T.intervalSeconds - T.gateClosureSeconds;
  it("spans from the cursor to j − 1 while their meter deadlines are ahead", () => {
    expect(flexIntervalsStillOpen(T, 1_000n, 997n, gate(1_000n))).to.deep.equal({ from: 997n, to: 999n });
  });
  it("starts after the last interval whose meter deadline has passed", () => {
    const m = 990n;
    const now = keeperDeadlines(T, m).meterDeadline;
    expect(flexIntervalsStillOpen(T, 1_000n, 980n, now)).to.deep.equal({ from: m + 1n, to: 999n });
    expect(flexIntervalsStillOpen(T, 1_000n, 980n, now - 1n)).to.deep.equal({ from: m, to: 999n });
  });
  it("is empty when the cursor is at j", () => {
    expect(flexIntervalsStillOpen(T, 1_000n, 1_000n, gate(1_000n))).to.equal(undefined);
  });
});

describe("earlierFlexInterval", () => {
  it("is idle without active orders, committed when scheduled, undecided until the schedule deadline", () => {
    expect(earlierFlexInterval(0, true, 100n, 50n)).to.equal("idle");
    expect(earlierFlexInterval(2, true, 100n, 500n)).to.equal("committed");
    expect(earlierFlexInterval(2, false, 100n, 99n)).to.equal("undecided");
    expect(earlierFlexInterval(2, false, 100n, 100n), "the contract's deadline is exclusive").to.equal(
      "idle",
    );
  });
});

/**
 * The whole chain of rules the collect (and settle-fills' recompute) runs through readPendingFlex,
 * with the reads given: which earlier intervals may still settle (flexIntervalsStillOpen), what
 * each one is (earlierFlexInterval), and the state at the start of J (flexStateAtStart).
 */
describe("a committed interval later closed as missed", () => {
  // K and K + 1 = J − 1 are committed, this node holds both schedules; the cursor stops at K.
  const K = J - 2n;
  const meterDeadline = (i: bigint) => keeperDeadlines(T, i).meterDeadline;
  const stored = new Map<bigint, PendingFlexInterval>([
    [K, committed(K, FLEX_CHARGE, 999n, 100_001n)],
    [K + 1n, committed(K + 1n, FLEX_DISCHARGE, 500n, 180_000n)],
  ]);
  /** readPendingFlex's choices, then the state at J; every interval in range has the order active. */
  function derive(settled: readonly ActiveFlexOrder[], cursor: bigint, now: bigint) {
    const range = flexIntervalsStillOpen(T, J, cursor, now);
    const pending: PendingFlexInterval[] = [];
    for (let k = range?.from ?? J; k <= (range?.to ?? -1n); k++) {
      const kind = earlierFlexInterval(1, stored.has(k), keeperDeadlines(T, k).scheduleDeadline, now);
      if (kind === "committed") pending.push(stored.get(k)!);
      if (kind === "undecided") pending.push({ intervalId: k, why: "not committed yet" });
    }
    return flexStateAtStart({ intervalId: J, settled, pending, intervalSeconds: T.intervalSeconds });
  }
  function readyAt(settled: readonly ActiveFlexOrder[], cursor: bigint, now: bigint) {
    const s = derive(settled, cursor, now);
    if (!s.ready) throw new Error(`expected ready, got a wait: ${s.reason}`);
    return s.active[0]!;
  }
  // A budget that binds: 150,000 − 1,234 left before K's charge of 99,901.
  const settled = [active({}, { chargeBudget: 150_000n })];

  it("counts K's committed charge while K's meter deadline is ahead", () => {
    const a = readyAt(settled, K, meterDeadline(K) - 1n);
    expect(a.socWh, "5,000 + 949 − 527").to.equal(5_422n);
    expect(a.spent, "1,234 + 99,901").to.equal(101_135n);
    // What is left locked for charging: 48,865 buys ⌊48,865 × 1,000 / 200,000⌋ = 244 Wh.
    expect(stepLimits(a, T.intervalSeconds).maxChargeWh).to.equal(244n);
  });

  describe("when K's meter deadline passes (the keeper has not closed it yet)", () => {
    it("drops K's step from the state of charge and the spent budget, keeping K + 1's", () => {
      const a = readyAt(settled, K, meterDeadline(K));
      expect(a.socWh, "5,000 − 527: K + 1's discharge from the state without K").to.equal(4_473n);
      expect(a.spent, "only what settled").to.equal(1_234n);
      // 148,766 left buys ⌊148,766 × 1,000 / 200,000⌋ = 743 Wh, below the 1,000 Wh power limit.
      expect(stepLimits(a, T.intervalSeconds).maxChargeWh).to.equal(743n);
    });
  });

  describe("when the keeper has closed K (the cursor moved past it, nothing of K settled)", () => {
    it("derives the same state as at the deadline", () => {
      const atDeadline = readyAt(settled, K, meterDeadline(K));
      expect(readyAt(settled, K + 1n, meterDeadline(K) + 1n)).to.deep.equal(atDeadline);
    });
  });

  describe("when K + 1's committed step only fit on top of K's", () => {
    it("waits for K + 1, naming the refusal, rather than count K", () => {
      // From 1,500 Wh: + 949 − 527 fits; without K, − 527 ends below the 1,000 Wh floor.
      const low = [active({ socWh: 1_500n })];
      expect(readyAt(low, K, meterDeadline(K) - 1n).socWh).to.equal(1_922n);
      const s = derive(low, K, meterDeadline(K));
      expect(s.ready).to.equal(false);
      if (s.ready) return;
      expect(s.intervalId).to.equal(K + 1n);
      expect(s.reason).to.contain("SocOutOfBounds");
    });
  });
});
