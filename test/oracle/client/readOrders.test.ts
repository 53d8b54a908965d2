/** client/readOrders.ts: the state rule, and orders read from a real chain by owner and by interval. */
import { expect } from "chai";
import {
  type OrderFacts,
  cancelOrder,
  orderLock,
  orderState,
  placeBid,
  placeOffer,
  readMarket,
  readOrders,
} from "../../../oracle/src/client/index.js";
import { type ClientChain, clientChain, tradedInterval } from "./chain.js";

describe("orderState", () => {
  const none: OrderFacts = {
    cancelled: false,
    released: false,
    settled: false,
    scheduled: false,
    now: 100n,
    gateClosure: 200n,
  };

  it("is open before gate closure and closed from it on", () => {
    expect(orderState(none)).to.equal("open");
    expect(orderState({ ...none, now: 199n })).to.equal("open");
    expect(orderState({ ...none, now: 200n })).to.equal("closed");
  });

  it("is scheduled once its interval's schedule is committed, whatever the time", () => {
    expect(orderState({ ...none, scheduled: true })).to.equal("scheduled");
    expect(orderState({ ...none, scheduled: true, now: 300n })).to.equal("scheduled");
  });

  it("is settled once its fill is, over scheduled", () => {
    expect(orderState({ ...none, scheduled: true, settled: true })).to.equal("settled");
  });

  it("is cancelled or released over everything else, cancelled first", () => {
    const all = { ...none, scheduled: true, settled: true, released: true };
    expect(orderState(all)).to.equal("released");
    expect(orderState({ ...all, cancelled: true })).to.equal("cancelled");
  });
});

describe("readOrders", function () {
  this.timeout(180_000);
  let chain: ClientChain;
  before(async () => {
    chain = await clientChain();
  });

  it("lists an owner's orders in placing order, with their lock and state", async () => {
    const me = await chain.newProsumer();
    await chain.fund(me, 5_000_000n);
    const market = chain.market;
    const intervalId = await chain.futureInterval(5n);
    const bid = await placeBid(me, {
      market,
      intervalId,
      zoneId: 0,
      quantityWh: 1_000n,
      limitPricePerKwh: 200_000n,
    });
    const offer = await placeOffer(me, {
      market,
      intervalId,
      zoneId: 0,
      quantityWh: 400n,
      limitPricePerKwh: 10n,
    });
    await cancelOrder(me, { market, orderId: offer.orderId });
    const { collateralPerKwh } = await readMarket(chain.publicClient, { market });
    const list = await readOrders(chain.publicClient, { market, owner: me.walletClient.account.address });
    expect(list.map((o) => [o.orderId, o.side, o.state, o.lock])).to.deep.equal([
      [bid.orderId, "bid", "open", orderLock("bid", 1_000n, 200_000n, collateralPerKwh)],
      [offer.orderId, "offer", "cancelled", orderLock("offer", 400n, 10n, collateralPerKwh)],
    ]);
  });

  it("reads an interval's book, and follows a traded order to scheduled", async () => {
    const t = await tradedInterval(chain);
    try {
      // Other test files trade in the same interval: keep this trade's two orders.
      const ours = async () => {
        const book = await readOrders(chain.publicClient, {
          market: chain.market,
          intervalIds: [t.intervalId],
        });
        expect(
          book.every((o) => o.intervalId === t.intervalId),
          "only the asked interval",
        ).to.equal(true);
        return book
          .filter((o) => o.orderId === t.bid.orderId || o.orderId === t.offer.orderId)
          .map((o) => [o.orderId, o.state]);
      };
      expect(await ours()).to.deep.equal([
        [t.bid.orderId, "open"],
        [t.offer.orderId, "open"],
      ]);
      await t.commitSchedule();
      expect(await ours()).to.deep.equal([
        [t.bid.orderId, "scheduled"],
        [t.offer.orderId, "scheduled"],
      ]);
      expect(await readOrders(chain.publicClient, { market: chain.market, intervalIds: [] })).to.deep.equal(
        [],
      );
    } finally {
      await t.close();
    }
  });
});
