import { expect } from "chai";
import {
  KEEPER_MAX_TX_PER_JOB,
  type KeeperIntervalState,
  boundedWork,
  collateralReleasable,
  keeperDeadlines,
  keeperDecision,
  keeperEarliest,
  lastPastScheduleDeadline,
} from "../../../oracle/src/domain/keeper.js";

// The deployed defaults (deploy/modules/suite.ts): 900 s intervals, gate 300 s before the
// start, schedule window 600 s, meter window 3600 s.
const T = {
  intervalSeconds: 900n,
  gateClosureSeconds: 300n,
  scheduleWindowSeconds: 600n,
  meterWindowSeconds: 3600n,
};
const ID = 2_000_000n;
const START = ID * 900n;
const SCHEDULE_DEADLINE = START - 300n + 600n;
const METER_DEADLINE = START + 900n + 3600n;

const state = (s: Partial<KeeperIntervalState> = {}): KeeperIntervalState => ({
  scheduled: false,
  fillCount: 0,
  settledCount: 0,
  metered: false,
  surplus: 0n,
  ...s,
});

describe("keeper rule", () => {
  describe("keeperDeadlines", () => {
    it("computes the contract's schedule and meter deadlines", () => {
      expect(keeperDeadlines(T, ID)).to.deep.equal({
        scheduleDeadline: SCHEDULE_DEADLINE,
        meterDeadline: METER_DEADLINE,
      });
      expect(keeperEarliest(T, ID)).to.equal(SCHEDULE_DEADLINE);
    });
    it("clamps the gate closure of interval 0 at time 0, as the contract does", () => {
      expect(keeperDeadlines(T, 0n).scheduleDeadline).to.equal(600n);
    });
    it("rejects a negative interval id, naming the field", () => {
      expect(() => keeperDeadlines(T, -1n)).to.throw(RangeError, /intervalId/);
    });
  });

  describe("lastPastScheduleDeadline", () => {
    it("is the interval whose schedule deadline is exactly now, not the next", () => {
      expect(lastPastScheduleDeadline(T, SCHEDULE_DEADLINE)).to.equal(ID);
      expect(lastPastScheduleDeadline(T, SCHEDULE_DEADLINE - 1n)).to.equal(ID - 1n);
      expect(lastPastScheduleDeadline(T, SCHEDULE_DEADLINE + 899n)).to.equal(ID);
    });
    it("agrees with keeperDeadlines on both sides of the bound", () => {
      for (const now of [SCHEDULE_DEADLINE - 1n, SCHEDULE_DEADLINE, SCHEDULE_DEADLINE + 450n]) {
        const last = lastPastScheduleDeadline(T, now)!;
        expect(keeperDeadlines(T, last).scheduleDeadline, `now ${now}`).to.be.at.most(now);
        expect(keeperDeadlines(T, last + 1n).scheduleDeadline, `now ${now}`).to.be.above(now);
      }
    });
    it("is undefined while even the unclamped deadline of interval 0 (W − G) is ahead", () => {
      expect(lastPastScheduleDeadline(T, 299n)).to.equal(undefined);
      // interval 0's gate is clamped at 0, its real deadline is 600: named early, keeperDecision says not due
      expect(lastPastScheduleDeadline(T, 300n)).to.equal(0n);
      expect(keeperDecision(T, 0n, 300n, state()).due).to.equal(false);
    });
  });

  describe("keeperDecision", () => {
    describe("when the schedule deadline has not passed", () => {
      it("is not due, even for an unscheduled interval", () => {
        const d = keeperDecision(T, ID, SCHEDULE_DEADLINE - 1n, state());
        expect(d).to.deep.equal({ due: false, dueAt: SCHEDULE_DEADLINE });
      });
    });
    describe("when the interval was not scheduled by its schedule deadline", () => {
      it("releases its orders from the deadline's second on (the contract's `>=`)", () => {
        const d = keeperDecision(T, ID, SCHEDULE_DEADLINE, state());
        expect(d).to.deep.equal({ due: true, dueAt: SCHEDULE_DEADLINE, paths: ["release-orders"] });
      });
    });
    describe("when the interval is scheduled and the meter deadline has not passed", () => {
      it("leaves it to the committee's settlement", () => {
        const d = keeperDecision(T, ID, METER_DEADLINE - 1n, state({ scheduled: true, fillCount: 3 }));
        expect(d).to.deep.equal({ due: false, dueAt: METER_DEADLINE });
      });
    });
    describe("when a scheduled interval passed its meter deadline unmetered", () => {
      it("releases the sellers' collateral, and nothing else once every fill settled", () => {
        const d = keeperDecision(
          T,
          ID,
          METER_DEADLINE,
          state({ scheduled: true, fillCount: 3, settledCount: 3 }),
        );
        expect(d).to.deep.equal({ due: true, dueAt: METER_DEADLINE, paths: ["release-collateral"] });
      });
      it("first releases the orders of unsettled fills and then collects the grid revenue", () => {
        const d = keeperDecision(
          T,
          ID,
          METER_DEADLINE + 5n,
          state({ scheduled: true, fillCount: 3, settledCount: 1, surplus: 7n }),
        );
        expect(d.due && d.paths).to.deep.equal([
          "release-orders",
          "release-collateral",
          "collect-grid-revenue",
        ]);
      });
    });
    describe("when a scheduled interval passed its meter deadline metered", () => {
      it("settles the imbalances still open", () => {
        const d = keeperDecision(
          T,
          ID,
          METER_DEADLINE,
          state({ scheduled: true, fillCount: 2, settledCount: 2, metered: true }),
        );
        expect(d.due && d.paths).to.deep.equal(["settle-imbalances"]);
      });
      it("collects a surplus left by pending fills, after releasing them", () => {
        const d = keeperDecision(
          T,
          ID,
          METER_DEADLINE,
          state({ scheduled: true, fillCount: 2, settledCount: 1, metered: true, surplus: 1n }),
        );
        expect(d.due && d.paths).to.deep.equal([
          "release-orders",
          "settle-imbalances",
          "collect-grid-revenue",
        ]);
      });
    });
  });

  describe("boundedWork", () => {
    it("takes at most the bound now and leaves the rest, in order", () => {
      const work = Array.from({ length: KEEPER_MAX_TX_PER_JOB + 3 }, (_, i) => i);
      const { now, later } = boundedWork(work);
      expect(now).to.have.length(KEEPER_MAX_TX_PER_JOB);
      expect(later).to.deep.equal([
        KEEPER_MAX_TX_PER_JOB,
        KEEPER_MAX_TX_PER_JOB + 1,
        KEEPER_MAX_TX_PER_JOB + 2,
      ]);
    });
    it("rejects a bound below one, naming the field", () => {
      expect(() => boundedWork([1], 0)).to.throw(RangeError, /max/);
    });
  });
});

describe("collateralReleasable", () => {
  const none = { settled: false, filledWh: 0n };
  const locks = (over: Partial<Parameters<typeof collateralReleasable>[0]> = {}) => ({
    imbalanceSettled: false,
    bought: none,
    sold: none,
    ...over,
  });
  describe("when a settled fill with energy still holds its delivery locks", () => {
    it("is releasable, for a seller and for a buyer", () => {
      expect(collateralReleasable(locks({ sold: { settled: true, filledWh: 400n } }))).to.equal(true);
      expect(collateralReleasable(locks({ bought: { settled: true, filledWh: 1n } }))).to.equal(true);
    });
  });
  describe("when nothing is locked", () => {
    it("is not releasable once the imbalance is settled", () => {
      const sold = { settled: true, filledWh: 400n };
      expect(collateralReleasable(locks({ imbalanceSettled: true, sold }))).to.equal(false);
    });
    it("is not releasable for a fill of 0 Wh or a fill never settled (its order is released instead)", () => {
      expect(collateralReleasable(locks({ sold: { settled: true, filledWh: 0n } }))).to.equal(false);
      expect(collateralReleasable(locks({ bought: { settled: false, filledWh: 500n } }))).to.equal(false);
    });
  });
});
