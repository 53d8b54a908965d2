import { expect } from "chai";
import {
  type PeerSignatureCheck,
  judgePeerSignature,
  quorumSignatures,
} from "../../../oracle/src/domain/peer-signatures.js";

const MARKET = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const A = "0x00000000000000000000000000000000000000A1";
const B = "0x00000000000000000000000000000000000000b2";
const C = "0x00000000000000000000000000000000000000c3";
const DIGEST = `0x${"ab".repeat(32)}`;
const ok: PeerSignatureCheck = {
  reportMarket: MARKET,
  market: MARKET,
  reportEpoch: 3n,
  epoch: 3n,
  signer: B,
  members: [A, B],
  digest: DIGEST,
  ownDigest: undefined,
};

describe("judgePeerSignature", () => {
  describe("when every rule holds", () => {
    it("accepts a member's signature before this node has its own report", () => {
      expect(judgePeerSignature(ok)).to.deep.equal({ accept: true });
    });
    it("accepts it when this node's report has the same digest, whatever the hex case", () => {
      expect(
        judgePeerSignature({ ...ok, ownDigest: DIGEST.toUpperCase().replace("0X", "0x") }).accept,
      ).to.equal(true);
    });
    it("compares the signer with the members case-insensitively", () => {
      expect(judgePeerSignature({ ...ok, signer: A.toLowerCase() }).accept).to.equal(true);
    });
  });
  describe("when a rule fails", () => {
    it("refuses another market with 400, naming report.market", () => {
      const v = judgePeerSignature({ ...ok, reportMarket: A });
      expect(v).to.include({ accept: false, reason: "market", status: 400 });
      expect(v)
        .to.have.property("error")
        .that.matches(/^report\.market: /);
    });
    it("refuses another epoch with 409, naming report.configEpoch", () => {
      const v = judgePeerSignature({ ...ok, reportEpoch: 2n });
      expect(v).to.include({ accept: false, reason: "epoch", status: 409 });
      expect(v).to.have.property("error", "report.configEpoch: 2 is not the current epoch 3");
    });
    it("refuses a signature that does not recover with 400", () => {
      expect(judgePeerSignature({ ...ok, signer: undefined })).to.include({
        accept: false,
        reason: "signature",
        status: 400,
      });
    });
    it("refuses a signer outside the committee with 403", () => {
      const v = judgePeerSignature({ ...ok, signer: C });
      expect(v).to.include({ accept: false, reason: "member", status: 403 });
      expect(v).to.have.property("error").that.contains(C);
    });
    it("refuses a report that differs from this node's own with 409, giving both digests", () => {
      const own = `0x${"cd".repeat(32)}`;
      const v = judgePeerSignature({ ...ok, ownDigest: own });
      expect(v).to.include({ accept: false, reason: "digest", status: 409 });
      expect(v).to.have.property("error").that.contains(own).and.contains(DIGEST);
    });
    it("checks the market before anything else", () => {
      expect(judgePeerSignature({ ...ok, reportMarket: A, reportEpoch: 9n, signer: undefined })).to.include({
        reason: "market",
      });
    });
  });
});

describe("quorumSignatures", () => {
  const held = { [C.toLowerCase()]: "0x03", [B.toLowerCase()]: "0x02", [A.toLowerCase()]: "0x01" };

  it("keeps current members only", () => {
    expect(quorumSignatures(held, [A, C]).map((s) => s.signature)).to.deep.equal(["0x01", "0x03"]);
  });
  it("sorts by signer ascending, as the committee contract requires", () => {
    expect(quorumSignatures(held, [C, B, A]).map((s) => s.signer)).to.deep.equal([
      A.toLowerCase(),
      B.toLowerCase(),
      C.toLowerCase(),
    ]);
  });
  it("returns none when no holder is a member", () => {
    expect(quorumSignatures(held, ["0x00000000000000000000000000000000000000d4"])).to.deep.equal([]);
  });
});
