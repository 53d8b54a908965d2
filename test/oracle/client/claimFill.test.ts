/**
 * client/claimFill.ts against a real chain and a real Proof API server: a committed schedule's
 * fills are claimed by their owners with the node's proofs, once each.
 */
import { expect } from "chai";
import { energyMarketAbi } from "../../../oracle/src/chain/abis.js";
import { claimFill, decodeError, readPosition } from "../../../oracle/src/client/index.js";
import { type ClientChain, type TradedInterval, clientChain, tradedInterval } from "./chain.js";

describe("claimFill", function () {
  this.timeout(180_000);
  let chain: ClientChain;
  let t: TradedInterval;
  before(async () => {
    chain = await clientChain();
    t = await tradedInterval(chain);
  });
  after(() => t?.close());

  describe("before the schedule is committed", () => {
    it("fails with the contract's NotScheduled, decoded, and reports none for an interval without an order", async () => {
      const base = { market: chain.market, nodeUrl: t.nodeUrl, side: "bid" as const };
      const error = await claimFill(t.buyer, { ...base, intervalId: t.intervalId }).catch((e: unknown) => e);
      expect(decodeError(error)).to.deep.equal({ name: "NotScheduled", args: [t.intervalId] });
      expect(await claimFill(t.buyer, { ...base, intervalId: t.intervalId + 1n })).to.deep.equal({
        status: "none",
      });
    });
  });

  describe("once the schedule is committed", () => {
    before(() => t.commitSchedule());

    it("claims the buyer's fill, then the seller's, with FillSettled from each owner's transaction", async () => {
      const base = { market: chain.market, nodeUrl: t.nodeUrl, intervalId: t.intervalId };
      const bought = await claimFill(t.buyer, { ...base, side: "bid" });
      const sold = await claimFill(t.seller, { ...base, side: "offer" });
      expect(bought).to.include({ status: "claimed", orderId: t.bid.orderId, filledWh: 2_000n });
      expect(sold).to.include({ status: "claimed", orderId: t.offer.orderId, filledWh: 2_000n });
      const events = await chain.publicClient.getContractEvents({
        address: chain.market,
        abi: energyMarketAbi,
        eventName: "FillSettled",
        args: { intervalId: t.intervalId },
        fromBlock: 0n,
      });
      expect(events.map((e) => [e.args.orderId, e.args.amount, e.transactionHash])).to.deep.equal([
        [t.bid.orderId, 300_000n, bought.status === "claimed" ? bought.transaction : "?"],
        [t.offer.orderId, 300_000n, sold.status === "claimed" ? sold.transaction : "?"],
      ]);
      const position = await readPosition(chain.publicClient, {
        market: chain.market,
        owner: t.buyer.walletClient.account.address,
        intervalId: t.intervalId,
        side: "bid",
      });
      expect(position).to.include({ status: "settled", filledWh: 2_000n });
    });

    it("reports settled for a claimed fill and none for an empty side, sending nothing", async () => {
      const base = { market: chain.market, nodeUrl: t.nodeUrl, intervalId: t.intervalId };
      const sent = await chain.publicClient.getTransactionCount({
        address: t.buyer.walletClient.account.address,
      });
      expect(await claimFill(t.buyer, { ...base, side: "bid" })).to.deep.equal({ status: "settled" });
      expect(await claimFill(t.buyer, { ...base, side: "offer" })).to.deep.equal({ status: "none" });
      expect(
        await chain.publicClient.getTransactionCount({ address: t.buyer.walletClient.account.address }),
      ).to.equal(sent);
    });
  });
});
