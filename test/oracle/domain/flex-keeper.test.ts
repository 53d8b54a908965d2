import { expect } from "chai";
import {
  type FlexRefundFacts,
  flexEndInterval,
  flexIntervalsToClose,
  flexOrderFinished,
  flexRefundDue,
  flexResettleRange,
  firstSettleableFlexInterval,
  lastPastMeterDeadline,
} from "../../../oracle/src/domain/flex-keeper.js";
import { keeperDeadlines } from "../../../oracle/src/domain/keeper.js";

// The deployed defaults (deploy/modules/suite.ts): 900 s intervals, gate 300 s, schedule window
// 600 s, meter window 3600 s.
const T = {
  intervalSeconds: 900n,
  gateClosureSeconds: 300n,
  scheduleWindowSeconds: 600n,
  meterWindowSeconds: 3600n,
};
const J = 2_000_000n;
const meterDeadline = (i: bigint) => keeperDeadlines(T, i).meterDeadline;
const window = (firstInterval: bigint, endInterval: bigint) => ({ firstInterval, endInterval });

describe("flexibility keeper rule", () => {
  describe("lastPastMeterDeadline", () => {
    it("names the interval whose meter deadline is exactly now, and not the next", () => {
      expect(lastPastMeterDeadline(T, meterDeadline(J))).to.equal(J);
      expect(lastPastMeterDeadline(T, meterDeadline(J) - 1n)).to.equal(J - 1n);
      expect(lastPastMeterDeadline(T, meterDeadline(J + 1n) - 1n)).to.equal(J);
    });

    it("names none before interval 0's meter deadline", () => {
      expect(lastPastMeterDeadline(T, meterDeadline(0n) - 1n)).to.equal(undefined);
      expect(lastPastMeterDeadline(T, 0n)).to.equal(undefined);
      expect(lastPastMeterDeadline(T, meterDeadline(0n))).to.equal(0n);
    });
  });

  describe("flexEndInterval", () => {
    it("is the window's last interval unless a cancel or change ended it earlier", () => {
      expect(flexEndInterval(J + 10n, undefined)).to.equal(J + 10n);
      expect(flexEndInterval(J + 10n, J + 4n)).to.equal(J + 4n);
      expect(flexEndInterval(J + 10n, J + 12n)).to.equal(J + 10n);
      // Ended before its window: one before its first interval.
      expect(flexEndInterval(J + 10n, J - 1n)).to.equal(J - 1n);
    });
  });

  describe("flexIntervalsToClose", () => {
    describe("when the cursor interval has an active order", () => {
      it("is not due one second before its meter deadline", () => {
        const d = flexIntervalsToClose(T, J, [window(J, J + 3n)], meterDeadline(J) - 1n);
        expect(d).to.deep.equal({ due: [], more: false });
      });

      it("is due from its meter deadline (the contract's block.timestamp >= deadline)", () => {
        const d = flexIntervalsToClose(T, J, [window(J, J + 3n)], meterDeadline(J));
        expect(d).to.deep.equal({ due: [J], more: false });
      });

      it("then takes each later active interval whose deadline has passed, in cursor order", () => {
        const d = flexIntervalsToClose(T, J, [window(J, J + 3n)], meterDeadline(J + 2n));
        expect(d.due).to.deep.equal([J, J + 1n, J + 2n]);
      });
    });

    describe("when the cursor is in an idle stretch", () => {
      it("starts at the first active interval after it (the contract passes idle intervals itself)", () => {
        const d = flexIntervalsToClose(T, J - 5n, [window(J, J + 1n)], meterDeadline(J + 1n));
        expect(d.due).to.deep.equal([J, J + 1n]);
      });

      it("skips the gaps between windows and merges overlapping ones, each interval once", () => {
        const orders = [window(J + 4n, J + 5n), window(J, J + 1n), window(J + 1n, J + 2n)];
        const d = flexIntervalsToClose(T, J, orders, meterDeadline(J + 10n));
        expect(d.due).to.deep.equal([J, J + 1n, J + 2n, J + 4n, J + 5n]);
      });
    });

    describe("when intervals are behind the cursor", () => {
      it("never closes them (settled, missed or idle already)", () => {
        const d = flexIntervalsToClose(T, J + 2n, [window(J, J + 3n)], meterDeadline(J + 10n));
        expect(d.due).to.deep.equal([J + 2n, J + 3n]);
        expect(
          flexIntervalsToClose(T, J + 4n, [window(J, J + 3n)], meterDeadline(J + 10n)).due,
        ).to.deep.equal([]);
      });
    });

    it("ignores an order ended before its window (never active)", () => {
      const d = flexIntervalsToClose(T, J, [window(J + 2n, J + 1n)], meterDeadline(J + 10n));
      expect(d.due).to.deep.equal([]);
    });

    it("stops at the bound and says more are due", () => {
      const d = flexIntervalsToClose(T, J, [window(J, J + 9n)], meterDeadline(J + 9n), 4);
      expect(d).to.deep.equal({ due: [J, J + 1n, J + 2n, J + 3n], more: true });
      const exact = flexIntervalsToClose(T, J, [window(J, J + 3n)], meterDeadline(J + 9n), 4);
      expect(exact.more, "exactly the bound: nothing left").to.equal(false);
    });

    it("rejects a bound that is not a positive integer and a negative cursor, naming them", () => {
      expect(() => flexIntervalsToClose(T, J, [], 0n, 0)).to.throw(RangeError, /^max: /);
      expect(() => flexIntervalsToClose(T, -1n, [], 0n)).to.throw(RangeError, /^cursor: /);
    });
  });

  describe("flexRefundDue", () => {
    const facts = (f: Partial<FlexRefundFacts> = {}): FlexRefundFacts => ({
      firstInterval: J,
      endInterval: J + 3n,
      chargeBudget: 1_000n,
      spent: 0n,
      refunded: false,
      ...f,
    });

    it("waits while the order's last active interval is at or after the cursor", () => {
      expect(flexRefundDue(facts(), J + 3n)).to.equal(false);
      expect(flexOrderFinished(facts(), J + 3n)).to.equal(false);
    });

    it("is due once the cursor is past its last active interval", () => {
      expect(flexRefundDue(facts(), J + 4n)).to.equal(true);
    });

    it("is due at once for an order ended before its window, whatever the cursor", () => {
      expect(flexRefundDue(facts({ endInterval: J - 1n }), 0n)).to.equal(true);
    });

    it("is not due when refunded already, or when nothing of the budget is left", () => {
      expect(flexRefundDue(facts({ refunded: true }), J + 4n)).to.equal(false);
      expect(flexRefundDue(facts({ spent: 1_000n }), J + 4n)).to.equal(false);
      expect(flexRefundDue(facts({ chargeBudget: 0n }), J + 4n)).to.equal(false);
      expect(flexRefundDue(facts({ spent: 999n }), J + 4n), "1 unit left").to.equal(true);
    });

    it("rejects spent above the budget, naming the field", () => {
      expect(() => flexRefundDue(facts({ spent: 1_001n }), J + 4n)).to.throw(RangeError, /^spent: /);
    });
  });
});

describe("firstSettleableFlexInterval", () => {
  it("is the cursor while no interval from it is past its meter deadline", () => {
    expect(firstSettleableFlexInterval(T, J, meterDeadline(J) - 1n)).to.equal(J);
    expect(firstSettleableFlexInterval(T, J, 0n), "no deadline passed at all").to.equal(J);
  });
  it("is the interval after the last one past its meter deadline, when that is after the cursor", () => {
    expect(firstSettleableFlexInterval(T, J, meterDeadline(J))).to.equal(J + 1n);
    expect(firstSettleableFlexInterval(T, J, meterDeadline(J + 3n))).to.equal(J + 4n);
  });
  it("never goes back before the cursor", () => {
    expect(firstSettleableFlexInterval(T, J + 10n, meterDeadline(J))).to.equal(J + 10n);
  });
});

describe("flexResettleRange", () => {
  const T2 = {
    intervalSeconds: 900n,
    gateClosureSeconds: 300n,
    scheduleWindowSeconds: 600n,
    meterWindowSeconds: 3600n,
  };
  const K = 2_000_000n;
  const md = (i: bigint) => keeperDeadlines(T2, i).meterDeadline;

  it("starts after the last interval past its meter deadline and ends at the last closed gate", () => {
    // At j's meter deadline j is closed for settlement; j + 1 … j + 5 have closed gates
    // (gateClosure(j + 5) = (j + 5)·900 − 300 ≤ (j + 1)·900 + 3600), j + 6 has not.
    expect(flexResettleRange(T2, K, md(K))).to.deep.equal({ from: K + 1n, to: K + 5n });
    expect(flexResettleRange(T2, K, md(K) - 1n), "one second earlier j still settles").to.deep.equal({
      from: K,
      to: K + 5n,
    });
  });

  it("starts at the cursor when the cursor is later", () => {
    expect(flexResettleRange(T2, K + 3n, md(K))).to.deep.equal({ from: K + 3n, to: K + 5n });
  });

  it("is empty when the cursor is past every closed gate", () => {
    expect(flexResettleRange(T2, K + 6n, md(K))).to.equal(undefined);
  });
});
