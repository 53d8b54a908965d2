/** client/readMarket.ts against a real chain: the deployment's token and parameters. */
import { expect } from "chai";
import { readMarket } from "../../../oracle/src/client/index.js";
import { type ClientChain, clientChain } from "./chain.js";

describe("readMarket", function () {
  this.timeout(180_000);
  let chain: ClientChain;
  before(async () => {
    chain = await clientChain();
  });

  it("reads the token, its decimals and symbol, timing, collateral and the certificate contract", async () => {
    const m = await readMarket(chain.publicClient, { market: chain.market });
    expect(m).to.deep.equal({
      token: chain.addresses.token,
      decimals: 6,
      symbol: m.symbol,
      collateralPerKwh: 100_000n, // the Ignition module's default
      intervalSeconds: 900n,
      gateClosureSeconds: 300n,
      certificates: chain.addresses.certificates,
    });
    expect(m.symbol).to.match(/^\w+$/);
  });
});
