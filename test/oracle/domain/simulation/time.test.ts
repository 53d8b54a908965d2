import { expect } from "chai";
import {
  dayTypeOf,
  localMidnightUnix,
  localTime,
  utcOffsetSeconds,
} from "../../../../oracle/src/domain/simulation/time.js";

const utc = (iso: string) => Date.parse(iso) / 1000;

describe("utcOffsetSeconds", () => {
  describe("when summer time is in force (CEST)", () => {
    it("is two hours, switching at 01:00 UTC on the last Sundays of March and October 2026", () => {
      expect(utcOffsetSeconds(utc("2026-03-29T00:59:59Z"))).to.equal(3600);
      expect(utcOffsetSeconds(utc("2026-03-29T01:00:00Z"))).to.equal(7200);
      expect(utcOffsetSeconds(utc("2026-06-21T12:00:00Z"))).to.equal(7200);
      expect(utcOffsetSeconds(utc("2026-10-25T00:59:59Z"))).to.equal(7200);
      expect(utcOffsetSeconds(utc("2026-10-25T01:00:00Z"))).to.equal(3600);
    });
  });
});

describe("localMidnightUnix", () => {
  it("is 22:00 UTC the day before in summer and 23:00 UTC in winter", () => {
    expect(localMidnightUnix("2026-06-21")).to.equal(utc("2026-06-20T22:00:00Z"));
    expect(localMidnightUnix("2026-01-15")).to.equal(utc("2026-01-14T23:00:00Z"));
  });

  describe("when the date is malformed or impossible", () => {
    it("throws naming the date", () => {
      expect(() => localMidnightUnix("2026-6-21")).to.throw(RangeError, /YYYY-MM-DD/);
      expect(() => localMidnightUnix("2026-02-30")).to.throw(RangeError, /not a calendar day/);
    });
  });
});

describe("localTime", () => {
  it("gives the local date, weekday and day of year", () => {
    const t = localTime(utc("2026-06-21T03:18:00Z"));
    expect(t).to.deep.include({ year: 2026, month: 6, day: 21, weekday: 0, dayOfYear: 172 });
    expect(t.secondOfDay).to.equal(5 * 3600 + 18 * 60);
  });
});

describe("dayTypeOf", () => {
  it("maps Sunday, Saturday and weekdays to the BDEW day types", () => {
    expect(dayTypeOf(0)).to.equal("sunday");
    expect(dayTypeOf(6)).to.equal("saturday");
    expect(dayTypeOf(3)).to.equal("workday");
  });
});
