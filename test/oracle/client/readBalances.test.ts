/** client/readBalances.ts against a real chain: free, locked and wallet move as a deposit and a bid say. */
import { expect } from "chai";
import { orderLock, placeBid, readBalances, readMarket } from "../../../oracle/src/client/index.js";
import { type ClientChain, clientChain } from "./chain.js";

describe("readBalances", function () {
  this.timeout(180_000);
  let chain: ClientChain;
  before(async () => {
    chain = await clientChain();
  });

  it("reports free, locked (with no pending payouts), owed and the wallet", async () => {
    const me = await chain.newProsumer(100_000_000n);
    await chain.fund(me, 12_000_000n);
    await placeBid(me, {
      market: chain.market,
      intervalId: await chain.futureInterval(),
      zoneId: 0,
      quantityWh: 2_250n,
      limitPricePerKwh: 100_000n,
    });
    const { collateralPerKwh, token } = await readMarket(chain.publicClient, { market: chain.market });
    const lock = orderLock("bid", 2_250n, 100_000n, collateralPerKwh);
    const b = await readBalances(chain.publicClient, {
      market: chain.market,
      account: me.walletClient.account.address,
    });
    expect(b).to.deep.equal({
      token,
      free: 12_000_000n - lock,
      locked: lock,
      pendingPayouts: 0n,
      owed: 0n,
      wallet: 88_000_000n,
    });
  });
});
