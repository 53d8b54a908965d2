/** client/cancelOrder.ts against a real chain: by id (fields from the event) or by fields; unknown ids refused. */
import { expect } from "chai";
import { energyMarketAbi } from "../../../oracle/src/chain/abis.js";
import {
  ClientError,
  InvalidParameterError,
  cancelOrder,
  placeOffer,
  readPlacedOrder,
} from "../../../oracle/src/client/index.js";
import { type ClientChain, clientChain } from "./chain.js";

describe("cancelOrder", function () {
  this.timeout(180_000);
  let chain: ClientChain;
  before(async () => {
    chain = await clientChain();
  });
  const balances = async (who: `0x${string}`) =>
    Promise.all(
      (["balanceOf", "lockedBalanceOf"] as const).map((functionName) =>
        chain.publicClient.readContract({
          address: chain.market,
          abi: energyMarketAbi,
          functionName,
          args: [who],
        }),
      ),
    );

  it("cancels by order id: the lock returns to the free balance and OrderCancelled names the order", async () => {
    const me = await chain.newProsumer();
    await chain.fund(me, 2_000_000n);
    const { orderId } = await placeOffer(me, {
      market: chain.market,
      intervalId: await chain.futureInterval(),
      zoneId: 0,
      quantityWh: 2_000n,
      limitPricePerKwh: 50_000n,
    });
    expect((await balances(me.walletClient.account.address))[1]).to.be.greaterThan(0n);
    const out = await cancelOrder(me, { market: chain.market, orderId });
    expect(out.order.quantityWh).to.equal(2_000n);
    expect(await balances(me.walletClient.account.address)).to.deep.equal([2_000_000n, 0n]);
    const cancelled = await chain.publicClient.getContractEvents({
      address: chain.market,
      abi: energyMarketAbi,
      eventName: "OrderCancelled",
      args: { orderId },
      fromBlock: 0n,
    });
    expect(cancelled).to.have.length(1);
  });

  it("cancels by the order's fields", async () => {
    const me = await chain.newProsumer();
    await chain.fund(me, 2_000_000n);
    const { orderId } = await placeOffer(me, {
      market: chain.market,
      intervalId: await chain.futureInterval(),
      zoneId: 0,
      quantityWh: 500n,
      limitPricePerKwh: 1n,
    });
    const order = await readPlacedOrder(chain.publicClient, chain.market, orderId);
    await cancelOrder(me, { market: chain.market, order });
    expect((await balances(me.walletClient.account.address))[1]).to.equal(0n);
  });

  describe("when no order has the id", () => {
    it("throws OrderNotFound, and InvalidParameterError for a malformed id", async () => {
      const me = await chain.newProsumer(0n);
      const missing = await cancelOrder(me, { market: chain.market, orderId: `0x${"ab".repeat(32)}` }).catch(
        (e: unknown) => e,
      );
      expect((missing as ClientError).errorName).to.equal("OrderNotFound");
      const malformed = await cancelOrder(me, { market: chain.market, orderId: "0x12" }).catch(
        (e: unknown) => e,
      );
      expect(malformed).to.be.instanceOf(InvalidParameterError);
      expect((malformed as InvalidParameterError).field).to.equal("orderId");
    });
  });
});
