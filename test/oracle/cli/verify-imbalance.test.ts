/**
 * `gridbrain verify`'s imbalance check (oracle/src/cli/verify.ts, `checkImbalancePrices`) against a
 * real chain: a buyer that consumed 100 Wh more than it bought and a seller that injected 100 Wh
 * more than it sold, in the same zone, so the seller's surplus covered the buyer's shortfall and
 * both deviations settle at the zone price 150,000 (docs/MARKET_RULES.md, "Imbalance prices:
 * netted per zone"). A quorum that reports the bare tariffs instead (retail 250,000, feed-in
 * 50,000: within the contract's bounds) is caught once both deviations are settled; so is a false
 * `zoneSurplusWh` (the seller's 2,100 Wh surplus is the zone's: no battery owner has a solar meter).
 */
import { expect } from "chai";
import { checkImbalancePrices } from "../../../oracle/src/cli/verify.js";
import { readBatteryOwners, readMeterRegistry } from "../../../oracle/src/chain/market.js";
import { claimFill, settleImbalance } from "../../../oracle/src/client/index.js";
import {
  type ClientChain,
  FEED_IN,
  RETAIL,
  type TradedInterval,
  clientChain,
  tradedInterval,
} from "../client/chain.js";

describe("verify: the meter report's netted imbalance prices, recomputed from the settled deviations", function () {
  this.timeout(180_000);
  let chain: ClientChain;
  const open: TradedInterval[] = [];
  before(async () => {
    chain = await clientChain();
  });
  after(() => Promise.all(open.map((t) => t.close())));

  /**
   * Trades 2 kWh, meters the buyer 100 Wh short and the seller 100 Wh long, reports `prices` and
   * `zoneSurplusWh` (default the honest 2,100: the seller's), settles all.
   */
  async function settledWith(
    prices: { shortPrice: bigint; longPrice: bigint },
    zoneSurplusWh = 2_100n,
  ): Promise<TradedInterval> {
    const t = await tradedInterval(chain, { buyerConsumedWh: 2_100n, sellerInjectedWh: 2_100n });
    open.push(t);
    const target = { market: chain.market, nodeUrl: t.nodeUrl, intervalId: t.intervalId };
    await t.commitSchedule();
    // The honest surplus is the seller's alone only if every solar meter of the zone belongs to a
    // participant without a battery (else the rule scales it): other suites share this chain.
    const owners = await readBatteryOwners(chain.publicClient, chain.addresses.registry);
    const meters = await readMeterRegistry(chain.publicClient, chain.addresses.registry, 0n);
    const solarOwners = [...meters.values()].filter((m) => m.source === "solar" && owners.has(m.participant));
    expect(solarOwners, "battery owners with a solar meter on the shared chain").to.deep.equal([]);
    await t.commitMeter(prices, { zoneSurplusWh });
    await claimFill(t.buyer, { ...target, side: "bid" });
    await claimFill(t.seller, { ...target, side: "offer" });
    for (const who of [t.buyer, t.seller])
      expect((await settleImbalance(who, target)).status, "imbalance settled").to.equal("settled now");
    return t;
  }
  const check = (t: TradedInterval) =>
    checkImbalancePrices(
      {
        client: chain.publicClient,
        market: chain.market,
        registry: chain.addresses.registry,
        intervalId: t.intervalId,
      },
      [t.zonePrice],
    );

  it("reproduces prices netted at the zone price", async () => {
    const t = await settledWith({ shortPrice: 150_000n, longPrice: 150_000n });
    expect(await check(t)).to.deep.equal({
      status: "reproduced",
      settledParticipants: 2,
      reported: { shortPrices: [150_000n], longPrices: [150_000n], zoneSurplusWh: [2_100n] },
      recomputed: { shortPrices: [150_000n], longPrices: [150_000n], zoneSurplusWh: [2_100n] },
    });
  });

  it("does not reproduce the bare tariffs when the zone's deviations covered each other", async () => {
    const t = await settledWith({ shortPrice: RETAIL, longPrice: FEED_IN });
    expect(await check(t)).to.deep.equal({
      status: "not-reproduced",
      settledParticipants: 2,
      reported: { shortPrices: [RETAIL], longPrices: [FEED_IN], zoneSurplusWh: [2_100n] },
      recomputed: { shortPrices: [150_000n], longPrices: [150_000n], zoneSurplusWh: [2_100n] },
    });
  });

  it("does not reproduce a zone surplus the meters did not show", async () => {
    const t = await settledWith({ shortPrice: 150_000n, longPrice: 150_000n }, 9_000n);
    expect(await check(t)).to.deep.equal({
      status: "not-reproduced",
      settledParticipants: 2,
      reported: { shortPrices: [150_000n], longPrices: [150_000n], zoneSurplusWh: [9_000n] },
      recomputed: { shortPrices: [150_000n], longPrices: [150_000n], zoneSurplusWh: [2_100n] },
    });
  });

  it("says not metered before the meter report", async () => {
    const t = await tradedInterval(chain);
    open.push(t);
    await t.commitSchedule();
    expect(await check(t)).to.deep.equal({ status: "not-metered" });
  });
});
