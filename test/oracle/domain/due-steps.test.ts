import { expect } from "chai";
import {
  type StepState,
  dueSteps,
  jobsToCheck,
  undoneEffects,
  stepWindow,
  tickIntervals,
  windowAt,
} from "../../../oracle/src/domain/due-steps.js";

// 15-minute intervals, gate closure 5 min before, 10 min to schedule, 30 min to meter.
const timing = {
  intervalSeconds: 900n,
  gateClosureSeconds: 300n,
  scheduleWindowSeconds: 600n,
  meterWindowSeconds: 1_800n,
};
// Interval 1000: starts 900,000, gate 899,700, schedule deadline 900,300, ends 900,900, meter deadline 902,700.
const times = { gateClosure: 899_700n, scheduleDeadline: 900_300n, end: 900_900n, meterDeadline: 902_700n };
const GRACE = 60n;
const open: StepState = { scheduled: false, hasOrders: true, fillsPending: false, metered: false };
const scheduled: StepState = { scheduled: true, hasOrders: true, fillsPending: true, metered: false };

describe("tickIntervals", () => {
  it("starts at the newest interval whose gate has closed", () => {
    // at 899,700 the gate of interval 1000 closes; one second earlier only 999's has
    expect(tickIntervals(timing, 899_700n).newest).to.equal(1000n);
    expect(tickIntervals(timing, 899_699n).newest).to.equal(999n);
  });
  it("reaches back over gate, interval and both windows, plus one", () => {
    // (300 + 900 + 1,800 + 600) / 900 + 1 = 5 intervals back
    expect(tickIntervals(timing, 899_700n)).to.deep.equal({ newest: 1000n, oldest: 995n });
  });
  it("stops at interval 0 at the start of time", () => {
    expect(tickIntervals(timing, 1_000n)).to.deep.equal({ newest: 1n, oldest: 0n });
  });
});

describe("dueSteps", () => {
  describe("when the gate is still open", () => {
    it("asks for nothing", () => {
      expect(dueSteps(times, open, 899_699n, GRACE)).to.deep.equal([]);
    });
  });
  describe("when the interval is not scheduled", () => {
    it("collects it while the schedule window is open and it has orders", () => {
      expect(dueSteps(times, open, 899_700n, GRACE)).to.deep.equal(["collect"]);
      expect(dueSteps(times, open, 900_299n, GRACE)).to.deep.equal(["collect"]);
    });
    it("asks for nothing once the schedule deadline has passed (the keeper releases the orders)", () => {
      expect(dueSteps(times, open, 900_300n, GRACE)).to.deep.equal([]);
    });
    it("asks for nothing without orders", () => {
      expect(dueSteps(times, { ...open, hasOrders: false }, 899_800n, GRACE)).to.deep.equal([]);
    });
  });
  describe("when the interval is scheduled", () => {
    it("settles pending fills, and builds the meter report only after the end plus the grace", () => {
      expect(dueSteps(times, scheduled, 900_959n, GRACE)).to.deep.equal(["settle-fills"]);
      expect(dueSteps(times, scheduled, 900_960n, GRACE)).to.deep.equal(["settle-fills", "meter-report"]);
    });
    it("settles imbalances once metered, and fills only while some are pending", () => {
      expect(dueSteps(times, { ...scheduled, metered: true }, 901_000n, GRACE)).to.deep.equal([
        "settle-fills",
        "settle-imbalance",
      ]);
      expect(
        dueSteps(times, { ...scheduled, fillsPending: false, metered: true }, 901_000n, GRACE),
      ).to.deep.equal(["settle-imbalance"]);
    });
    it("asks for nothing from the meter deadline on (the keeper's turn)", () => {
      expect(dueSteps(times, { ...scheduled, metered: true }, 902_700n, GRACE)).to.deep.equal([]);
      expect(dueSteps(times, scheduled, 902_700n, GRACE)).to.deep.equal([]);
    });
  });
});

describe("stepWindow", () => {
  it("opens collect at gate closure and closes it at the schedule deadline", () => {
    expect(stepWindow("collect", times, GRACE)).to.deep.equal({ opensAt: 899_700n, closesAt: 900_300n });
  });
  it("closes a schedule commit at the schedule deadline, a meter commit and fill settlement at the meter deadline", () => {
    expect(stepWindow("commit-schedule", times, GRACE).closesAt).to.equal(900_300n);
    expect(stepWindow("commit-meter", times, GRACE).closesAt).to.equal(902_700n);
    expect(stepWindow("settle-fills", times, GRACE).closesAt).to.equal(902_700n);
  });
  it("opens the meter report at the interval's end plus the grace", () => {
    expect(stepWindow("meter-report", times, GRACE)).to.deep.equal({ opensAt: 900_960n, closesAt: 902_700n });
  });
});

describe("windowAt", () => {
  const w = { opensAt: 10n, closesAt: 20n };
  it("is early before the opening second, open from it, closed from the closing second", () => {
    expect([9n, 10n, 19n, 20n].map((now) => windowAt(w, now))).to.deep.equal([
      "early",
      "open",
      "open",
      "closed",
    ]);
  });
});

describe("undone effects (a reorg shallower than the watcher's confirmations)", () => {
  const none = { submitSchedule: false, submitMeter: false, settleFills: false };
  const settled = { scheduled: true, hasOrders: true, fillsPending: false, metered: true };

  it("finds a completed commit or settlement the chain no longer shows", () => {
    const dropped = { scheduled: false, hasOrders: true, fillsPending: false, metered: false };
    expect(undoneEffects(dropped, { ...none, submitSchedule: true })).to.deep.equal(["schedule-commit"]);
    const meterDropped = { ...settled, metered: false };
    expect(undoneEffects(meterDropped, { ...none, submitMeter: true })).to.deep.equal(["meter-commit"]);
    const fillsReopened = { ...settled, fillsPending: true };
    expect(undoneEffects(fillsReopened, { ...none, settleFills: true })).to.deep.equal(["fill-settlement"]);
  });

  it("finds nothing while a step is merely in progress or its job not completed", () => {
    // Not scheduled yet and the submit job not completed: the pipeline is still running.
    expect(undoneEffects({ ...settled, scheduled: false, metered: false }, none)).to.deep.equal([]);
    // Completed jobs whose effects are on chain.
    expect(
      undoneEffects(settled, { submitSchedule: true, submitMeter: true, settleFills: true }),
    ).to.deep.equal([]);
  });

  it("looks up only the jobs the chain state contradicts, and settle-fills only with push on", () => {
    expect(jobsToCheck(settled, true)).to.deep.equal([]);
    expect(jobsToCheck({ ...settled, scheduled: false, metered: false }, true)).to.deep.equal([
      "submitSchedule",
    ]);
    expect(jobsToCheck({ ...settled, metered: false, fillsPending: true }, true)).to.deep.equal([
      "submitMeter",
      "settleFills",
    ]);
    // Without push settlement a completed settle-fills job settles nothing, so it proves nothing.
    expect(jobsToCheck({ ...settled, fillsPending: true }, false)).to.deep.equal([]);
  });
});
