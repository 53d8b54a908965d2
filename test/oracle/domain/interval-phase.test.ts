import { expect } from "chai";
import { intervalPhase, type IntervalPhaseInput } from "../../../oracle/src/domain/interval-phase.js";

// Interval 1000 of 900 s with a 300 s gate closure, a 600 s schedule window and a 3600 s meter window.
const times = {
  gateClosure: 899_700n,
  scheduleDeadline: 900_300n,
  start: 900_000n,
  end: 900_900n,
  meterDeadline: 904_500n,
};
const at = (now: bigint, scheduled: boolean, metered = false): IntervalPhaseInput => ({
  now,
  times,
  scheduled,
  metered,
});

describe("intervalPhase", () => {
  describe("when no schedule was committed", () => {
    it("is open before gate closure, closed from it, expired from the schedule deadline", () => {
      expect(intervalPhase(at(times.gateClosure - 1n, false))).to.equal("open");
      expect(intervalPhase(at(times.gateClosure, false))).to.equal("closed");
      expect(intervalPhase(at(times.scheduleDeadline - 1n, false))).to.equal("closed");
      expect(intervalPhase(at(times.scheduleDeadline, false))).to.equal("expired (not scheduled)");
    });
  });
  describe("when a schedule was committed", () => {
    it("is scheduled before the interval starts, not delivery (whatever the settled fills)", () => {
      expect(intervalPhase(at(times.start - 1n, true))).to.equal("scheduled");
    });
    it("is delivery while the interval runs", () => {
      expect(intervalPhase(at(times.start, true))).to.equal("delivery");
      expect(intervalPhase(at(times.end - 1n, true))).to.equal("delivery");
    });
    it("awaits the meter report until the meter deadline, then is expired", () => {
      expect(intervalPhase(at(times.end, true))).to.equal("awaiting meter report");
      expect(intervalPhase(at(times.meterDeadline - 1n, true))).to.equal("awaiting meter report");
      expect(intervalPhase(at(times.meterDeadline, true))).to.equal("expired (not metered)");
    });
    it("is metered once the meter root is committed, also after the meter deadline", () => {
      expect(intervalPhase(at(times.end + 1n, true, true))).to.equal("metered");
      expect(intervalPhase(at(times.meterDeadline + 10n, true, true))).to.equal("metered");
    });
  });
});
