/**
 * The certificate actions against a real chain: claimCertificates mints the buyer's share of a
 * settled interval's solar pool, readCertificates lists it by id, retireCertificate burns part.
 */
import { expect } from "chai";
import {
  certificateId,
  claimCertificates,
  claimFill,
  decodeError,
  readCertificates,
  retireCertificate,
  settleImbalance,
} from "../../../oracle/src/client/index.js";
import { type ClientChain, type TradedInterval, clientChain, tradedInterval } from "./chain.js";

describe("certificates", function () {
  this.timeout(180_000);
  let chain: ClientChain;
  let t: TradedInterval;
  before(async () => {
    chain = await clientChain();
    t = await tradedInterval(chain);
    const target = { market: chain.market, nodeUrl: t.nodeUrl, intervalId: t.intervalId };
    await t.commitSchedule();
    await claimFill(t.buyer, { ...target, side: "bid" });
    await claimFill(t.seller, { ...target, side: "offer" });
    await t.commitMeter();
    await settleImbalance(t.seller, target);
    await settleImbalance(t.buyer, target);
  });
  after(() => t?.close());

  describe("claimCertificates", () => {
    it("mints the buyer's 2 kWh of solar; a second claim has nothing left (ZeroAmount)", async () => {
      await claimCertificates(t.buyer, { market: chain.market, intervalId: t.intervalId, source: "solar" });
      const again = await claimCertificates(t.buyer, {
        market: chain.market,
        intervalId: t.intervalId,
        source: "solar",
      }).catch((e: unknown) => e);
      expect(decodeError(again)?.name).to.equal("ZeroAmount");
    });
  });

  describe("readCertificates", () => {
    it("lists the holding by id with its interval, source and Wh", async () => {
      const { held, certificates } = await readCertificates(chain.publicClient, {
        market: chain.market,
        account: t.buyer.walletClient.account.address,
      });
      expect(certificates).to.equal(chain.addresses.certificates);
      expect(held).to.deep.equal([
        {
          id: certificateId(t.intervalId, "solar"),
          intervalId: t.intervalId,
          sourceCode: 1,
          source: "Solar",
          amountWh: 2_000n,
        },
      ]);
    });
  });

  describe("retireCertificate", () => {
    it("burns part of the holding, and more than held fails with ERC1155InsufficientBalance", async () => {
      const id = certificateId(t.intervalId, "solar");
      const base = { market: chain.market, id, beneficiary: t.buyer.walletClient.account.address };
      await retireCertificate(t.buyer, { ...base, amountWh: 500n, claimData: "test" });
      const { held } = await readCertificates(chain.publicClient, {
        market: chain.market,
        account: t.buyer.walletClient.account.address,
      });
      expect(held[0]?.amountWh).to.equal(1_500n);
      const error = await retireCertificate(t.buyer, { ...base, amountWh: 1_501n }).catch((e: unknown) => e);
      expect(decodeError(error)?.name).to.equal("ERC1155InsufficientBalance");
    });
  });
});
