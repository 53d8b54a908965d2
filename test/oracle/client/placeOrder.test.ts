/** client/placeOrder.ts against a real chain: the order id is the contract's, the lock is orderLock's, a closed gate decodes. */
import { expect } from "chai";
import { energyMarketAbi } from "../../../oracle/src/chain/abis.js";
import {
  decodeError,
  orderLock,
  placeBid,
  placeOffer,
  readMarket,
} from "../../../oracle/src/client/index.js";
import { type ClientChain, clientChain } from "./chain.js";

describe("placeOrder", function () {
  this.timeout(180_000);
  let chain: ClientChain;
  before(async () => {
    chain = await clientChain();
  });
  const locked = (who: `0x${string}`) =>
    chain.publicClient.readContract({
      address: chain.market,
      abi: energyMarketAbi,
      functionName: "lockedBalanceOf",
      args: [who],
    });

  it("places a bid whose returned id is the OrderPlaced event's and locks orderLock of it", async () => {
    const me = await chain.newProsumer();
    await chain.fund(me, 5_000_000n);
    const intervalId = await chain.futureInterval();
    const { collateralPerKwh } = await readMarket(chain.publicClient, { market: chain.market });
    const out = await placeBid(me, {
      market: chain.market,
      intervalId,
      zoneId: 0,
      quantityWh: 1_500n,
      limitPricePerKwh: 200_000n,
    });
    const [event] = await chain.publicClient.getContractEvents({
      address: chain.market,
      abi: energyMarketAbi,
      eventName: "OrderPlaced",
      args: { orderId: out.orderId },
      fromBlock: 0n,
    });
    expect(event?.args.nonce).to.equal(out.nonce);
    expect(event?.args.owner).to.equal(me.walletClient.account.address);
    // 1.5 kWh × 0.2 = 300 000 plus the collateral of 1.5 kWh.
    const lock = orderLock("bid", 1_500n, 200_000n, collateralPerKwh);
    expect(lock).to.equal(300_000n + (collateralPerKwh * 1_500n + 999n) / 1000n);
    expect(await locked(me.walletClient.account.address)).to.equal(lock);
  });

  it("places an offer locking only the collateral", async () => {
    const me = await chain.newProsumer();
    await chain.fund(me, 5_000_000n);
    const { collateralPerKwh } = await readMarket(chain.publicClient, { market: chain.market });
    await placeOffer(me, {
      market: chain.market,
      intervalId: await chain.futureInterval(),
      zoneId: 0,
      quantityWh: 1_001n,
      limitPricePerKwh: 1n,
      nonce: 7n,
    });
    expect(await locked(me.walletClient.account.address)).to.equal(
      orderLock("offer", 1_001n, 1n, collateralPerKwh),
    );
  });

  describe("when the interval's gate has closed", () => {
    it("fails with GateClosed naming the interval", async () => {
      const me = await chain.newProsumer();
      await chain.fund(me, 5_000_000n);
      const current = (await chain.now()) / 900n;
      const error = await placeBid(me, {
        market: chain.market,
        intervalId: current,
        zoneId: 0,
        quantityWh: 1_000n,
        limitPricePerKwh: 1n,
      }).catch((e: unknown) => e);
      const decoded = decodeError(error);
      expect(decoded?.name).to.equal("GateClosed");
      expect(decoded?.args[0]).to.equal(current);
    });
  });
});
