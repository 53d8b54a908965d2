/**
 * client/settleImbalance.ts against a real chain and a real Proof API server: pending until the
 * meter report and every fill are in, then settled with the participant's own signed proof request.
 */
import { expect } from "chai";
import { energyMarketAbi } from "../../../oracle/src/chain/abis.js";
import { claimFill, readBalances, settleImbalance } from "../../../oracle/src/client/index.js";
import { type ClientChain, type TradedInterval, clientChain, tradedInterval } from "./chain.js";

describe("settleImbalance", function () {
  this.timeout(180_000);
  let chain: ClientChain;
  let t: TradedInterval;
  const target = () => ({ market: chain.market, nodeUrl: t.nodeUrl, intervalId: t.intervalId });
  before(async () => {
    chain = await clientChain();
    t = await tradedInterval(chain);
    await t.commitSchedule();
  });
  after(() => t?.close());

  it("is pending without a meter report, then until every fill is settled", async () => {
    const early = await settleImbalance(t.seller, target());
    expect(early).to.deep.equal({
      status: "pending",
      reason: `interval ${t.intervalId} has no committed meter report yet`,
    });
    await t.commitMeter();
    const waiting = await settleImbalance(t.seller, target());
    expect(waiting).to.deep.equal({
      status: "pending",
      reason: "the imbalance settles once every fill of the interval has (0/2 settled)",
    });
  });

  it("settles the seller's delivery: its withheld payout and collateral return to free", async () => {
    await claimFill(t.buyer, { ...target(), side: "bid" });
    await claimFill(t.seller, { ...target(), side: "offer" });
    const account = t.seller.walletClient.account.address;
    const before = await readBalances(chain.publicClient, { market: chain.market, account });
    expect(before.pendingPayouts).to.equal(300_000n);
    const out = await settleImbalance(t.seller, target());
    expect(out).to.include({ status: "settled now", injectedWh: 2_000n, consumedWh: 0n });
    const after = await readBalances(chain.publicClient, { market: chain.market, account });
    expect(after.pendingPayouts).to.equal(0n);
    expect(after.locked).to.equal(0n);
    expect(after.free).to.equal(before.free + before.locked);
    expect(
      await chain.publicClient.readContract({
        address: chain.market,
        abi: energyMarketAbi,
        functionName: "imbalanceSettled",
        args: [account, t.intervalId],
      }),
    ).to.equal(true);
  });

  it("reports an imbalance already settled without sending", async () => {
    expect(await settleImbalance(t.seller, target())).to.deep.equal({ status: "already settled" });
  });
});
