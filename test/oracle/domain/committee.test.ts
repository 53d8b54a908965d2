import { expect } from "chai";
import { committeeStatusLines, type CommitteeView } from "../../../oracle/src/domain/committee.js";

const A = "0x00000000000000000000000000000000000000a1";
const B = "0x00000000000000000000000000000000000000b2";
const C = "0x00000000000000000000000000000000000000c3";
const base: CommitteeView = {
  epoch: 1n,
  threshold: 2,
  members: [A, B, C],
  changeDelaySeconds: 172_800n,
  pending: null,
};

describe("committeeStatusLines", () => {
  describe("when no change is pending", () => {
    it("says so beside the current membership", () => {
      expect(committeeStatusLines(base, 1_000n)).to.deep.equal([
        "committee epoch 1: 2-of-3; changes wait 172800 s",
        "committee change pending: none",
      ]);
    });
  });
  describe("when a change is pending", () => {
    const pending = {
      ...base,
      pending: { threshold: 1, members: [C.toUpperCase().replace("0X", "0x")], executableAt: 5_000n },
    };
    it("shows the new threshold, the time left and who is added or removed", () => {
      const lines = committeeStatusLines(pending, 1_000n);
      expect(lines[1]).to.equal(
        "committee change PENDING: epoch 2 would be 1-of-1, executable at 5000 (in 4000 s)",
      );
      expect(lines[2]).to.equal("  added: -");
      expect(lines[3]).to.equal(`  removed: ${A}, ${B}`);
    });
    it("says it is executable once the delay has passed", () => {
      expect(committeeStatusLines(pending, 5_000n)[1]).to.match(/executable now \(since 5000\)$/);
    });
  });
});
