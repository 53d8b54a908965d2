/** client/withdraw.ts against a real chain, and decodeError on the chain's own revert. */
import { expect } from "chai";
import { privateKeyToAccount, generatePrivateKey } from "viem/accounts";
import { energyMarketAbi, testTokenAbi } from "../../../oracle/src/chain/abis.js";
import { decodeError, explainError, withdraw } from "../../../oracle/src/client/index.js";
import { type ClientChain, clientChain } from "./chain.js";

describe("withdraw", function () {
  this.timeout(180_000);
  let chain: ClientChain;
  before(async () => {
    chain = await clientChain();
  });

  it("sends free balance to another address and lowers the free balance by as much", async () => {
    const me = await chain.newProsumer();
    await chain.fund(me, 5_000_000n);
    const to = privateKeyToAccount(generatePrivateKey()).address;
    const out = await withdraw(me, { market: chain.market, amount: 1_250_000n, to });
    expect(out.to).to.equal(to);
    const [free, received] = await Promise.all([
      chain.publicClient.readContract({
        address: chain.market,
        abi: energyMarketAbi,
        functionName: "balanceOf",
        args: [me.walletClient.account.address],
      }),
      chain.publicClient.readContract({
        address: chain.addresses.token,
        abi: testTokenAbi,
        functionName: "balanceOf",
        args: [to],
      }),
    ]);
    expect(free).to.equal(3_750_000n);
    expect(received).to.equal(1_250_000n);
  });

  describe("when the free balance is too small", () => {
    it("fails with the contract's InsufficientBalance, decoded with its arguments", async () => {
      const me = await chain.newProsumer();
      await chain.fund(me, 1_000_000n);
      const error = await withdraw(me, { market: chain.market, amount: 2_000_000n }).catch((e: unknown) => e);
      const decoded = decodeError(error);
      expect(decoded).to.deep.equal({
        name: "InsufficientBalance",
        args: [me.walletClient.account.address, 1_000_000n, 2_000_000n],
      });
      expect(explainError(decoded!, { decimals: 6, symbol: "gUSD" })).to.equal(
        "InsufficientBalance: free balance 1 gUSD, needed 2 gUSD (deposit more first)",
      );
    });
  });
});
