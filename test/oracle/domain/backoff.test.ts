import { expect } from "chai";
import { backoffDelayMs, retryDue, retryStart } from "../../../oracle/src/domain/backoff.js";

describe("backoffDelayMs", () => {
  it("doubles from the base and stops at the cap", () => {
    expect([0, 1, 2, 3, 4, 5, 8, 60].map((a) => backoffDelayMs(a, 200, 3_000))).to.deep.equal([
      200, 400, 800, 1_600, 3_000, 3_000, 3_000, 3_000,
    ]);
  });
  describe("when the input is out of range", () => {
    it("names the argument", () => {
      expect(() => backoffDelayMs(-1, 200, 3_000)).to.throw(RangeError, "attempt");
      expect(() => backoffDelayMs(0, 200, 100)).to.throw(RangeError, "capMs");
    });
  });
});

describe("retryDue", () => {
  describe("when a job looks every 200 ms for 10 minutes below quorum (cap 30 s)", () => {
    // The aggregate step's loop, on a simulated clock: before this rule every look re-sent.
    const lookMs = 200;
    const capMs = 30_000;
    const resendTimes: number[] = [];
    let schedule = retryStart(0, lookMs, capMs);
    for (let now = lookMs; now <= 10 * 60_000; now += lookMs) {
      const r = retryDue(schedule, now, lookMs, capMs);
      if (r.due) resendTimes.push(now);
      schedule = r.next;
    }
    const inMinute = (k: number) => resendTimes.filter((t) => t > k * 60_000 && t <= (k + 1) * 60_000).length;

    it("re-sends far less than once per look: 8 times in the first minute instead of 300", () => {
      expect(inMinute(0)).to.equal(8);
    });
    it("re-sends at most twice a minute once the cap is reached", () => {
      for (let k = 1; k < 10; k++) expect(inMinute(k), `minute ${k + 1}`).to.be.at.most(2);
    });
    it("never waits longer than the cap between two re-sends", () => {
      for (let i = 1; i < resendTimes.length; i++)
        expect(resendTimes[i]! - resendTimes[i - 1]!).to.be.at.most(capMs + lookMs);
    });
  });
});
