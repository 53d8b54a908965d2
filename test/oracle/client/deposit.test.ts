/** client/deposit.ts against a real chain: permit in one transaction, approve + deposit on request, a short wallet refused. */
import { expect } from "chai";
import { energyMarketAbi, testTokenAbi } from "../../../oracle/src/chain/abis.js";
import { ClientError, InvalidParameterError, deposit } from "../../../oracle/src/client/index.js";
import { type ClientChain, clientChain } from "./chain.js";

describe("deposit", function () {
  this.timeout(180_000);
  let chain: ClientChain;
  before(async () => {
    chain = await clientChain();
  });
  const free = (who: `0x${string}`) =>
    chain.publicClient.readContract({
      address: chain.market,
      abi: energyMarketAbi,
      functionName: "balanceOf",
      args: [who],
    });

  describe("when the token supports EIP-2612 (method auto)", () => {
    it("deposits with one depositWithPermit transaction and leaves no allowance", async () => {
      const me = await chain.newProsumer(20_000_000n);
      const out = await deposit(me, { market: chain.market, amount: 12_500_000n });
      expect(out.method).to.equal("permit");
      expect(out.transactions).to.have.length(1);
      const tx = await chain.publicClient.getTransaction({ hash: out.transactions[0]! });
      expect(tx.to?.toLowerCase()).to.equal(chain.market.toLowerCase());
      expect(await free(me.walletClient.account.address)).to.equal(12_500_000n);
      const allowance = await chain.publicClient.readContract({
        address: chain.addresses.token,
        abi: testTokenAbi,
        functionName: "allowance",
        args: [me.walletClient.account.address, chain.market],
      });
      expect(allowance).to.equal(0n);
    });
  });

  describe("when approve is asked for", () => {
    it("approves, then deposits: two transactions", async () => {
      const me = await chain.newProsumer(20_000_000n);
      const out = await deposit(me, { market: chain.market, amount: 3_000_000n, method: "approve" });
      expect(out.method).to.equal("approve");
      expect(out.transactions).to.have.length(2);
      expect(await free(me.walletClient.account.address)).to.equal(3_000_000n);
    });
  });

  describe("when the wallet holds too little", () => {
    it("refuses before sending, with InsufficientTokenBalance and both amounts", async () => {
      const me = await chain.newProsumer(1_000_000n);
      const error = await deposit(me, { market: chain.market, amount: 2_000_000n }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ClientError);
      expect((error as ClientError).errorName).to.equal("InsufficientTokenBalance");
      expect((error as ClientError).message).to.contain(
        "wallet holds 1000000 base units, deposit needs 2000000",
      );
      expect(
        await chain.publicClient.getTransactionCount({ address: me.walletClient.account.address }),
      ).to.equal(0);
    });
  });

  describe("when the amount is zero", () => {
    it("throws InvalidParameterError naming amount", async () => {
      const me = await chain.newProsumer(0n);
      const error = await deposit(me, { market: chain.market, amount: 0n }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(InvalidParameterError);
      expect((error as InvalidParameterError).field).to.equal("amount");
    });
  });
});
