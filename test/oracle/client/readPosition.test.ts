/** client/readPosition.ts against a real chain: none, then an open order's id. */
import { expect } from "chai";
import { placeBid, readPosition } from "../../../oracle/src/client/index.js";
import { type ClientChain, clientChain } from "./chain.js";

describe("readPosition", function () {
  this.timeout(180_000);
  let chain: ClientChain;
  before(async () => {
    chain = await clientChain();
  });

  it("is none without an order and open with the order's id after placing one", async () => {
    const me = await chain.newProsumer();
    await chain.fund(me, 5_000_000n);
    const intervalId = await chain.futureInterval();
    const at = {
      market: chain.market,
      owner: me.walletClient.account.address,
      intervalId,
      side: "bid" as const,
    };
    expect((await readPosition(chain.publicClient, at)).status).to.equal("none");
    const { orderId } = await placeBid(me, {
      market: chain.market,
      intervalId,
      zoneId: 0,
      quantityWh: 1_000n,
      limitPricePerKwh: 1n,
    });
    const position = await readPosition(chain.publicClient, at);
    expect(position.status).to.equal("open");
    expect(position.orderId).to.equal(orderId);
    expect((await readPosition(chain.publicClient, { ...at, side: "offer" })).status).to.equal("none");
  });
});
