import { expect } from "chai";
import { rankDelayMs, submitRank } from "../../../oracle/src/domain/submit-rank.js";

const A = "0x00000000000000000000000000000000000000a1";
const B = "0x00000000000000000000000000000000000000b2";
const C = "0x00000000000000000000000000000000000000c3";
const members = [A, B, C];

describe("submitRank", () => {
  describe("when self is a member", () => {
    it("is its index in the member list at an interval divisible by the committee size", () => {
      expect(members.map((m) => submitRank(members, m, 300n))).to.deep.equal([0, 1, 2]);
    });
    it("rotates by intervalId mod n, so each member goes first once every n intervals", () => {
      expect(members.map((m) => submitRank(members, m, 301n))).to.deep.equal([2, 0, 1]);
      expect(members.map((m) => submitRank(members, m, 302n))).to.deep.equal([1, 2, 0]);
      const firsts = [300n, 301n, 302n].map((i) => members.find((m) => submitRank(members, m, i) === 0));
      expect(new Set(firsts).size).to.equal(3);
    });
    it("gives every member a distinct rank in 0 .. n-1", () => {
      for (let i = 0n; i < 7n; i++) {
        const ranks = members.map((m) => submitRank(members, m, i)).sort();
        expect(ranks, `interval ${i}`).to.deep.equal([0, 1, 2]);
      }
    });
    it("compares addresses case-insensitively", () => {
      expect(submitRank(members, B.toUpperCase().replace("0X", "0x"), 300n)).to.equal(1);
    });
  });
  describe("when self is not a member", () => {
    it("is -1 (also for an empty committee)", () => {
      expect(submitRank(members, "0x00000000000000000000000000000000000000d4", 5n)).to.equal(-1);
      expect(submitRank([], A, 5n)).to.equal(-1);
    });
  });
});

describe("rankDelayMs", () => {
  it("waits rank × stagger", () => {
    expect([0, 1, 2].map((r) => rankDelayMs(r, 1_500))).to.deep.equal([0, 1_500, 3_000]);
  });
  it("does not wait for a non-member (rank -1)", () => {
    expect(rankDelayMs(-1, 1_500)).to.equal(0);
  });
});
