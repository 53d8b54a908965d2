/**
 * client/placeFlexOrder.ts and validateFlexOrder.ts against a real chain: the budget is approved
 * and locked to the token unit, the id is the contract's and the log's, every rejection the
 * client can see names its field before anything is sent, and what it cannot see is the
 * contract's error, decoded.
 */
import { expect } from "chai";
import { flexibilityMarketAbi, testTokenAbi } from "../../../oracle/src/chain/abis.js";
import {
  InvalidParameterError,
  cancelFlexOrder,
  decodeError,
  placeFlexOrder,
} from "../../../oracle/src/client/index.js";
import { type ClientChain, clientChain } from "./chain.js";
import { type BatteryOwner, batteryOwner, firstOpen, flexMarketOf, tokenBalance } from "./flexChain.js";

describe("placeFlexOrder", function () {
  this.timeout(180_000);
  let chain: ClientChain;
  before(async () => {
    chain = await clientChain();
  });

  const fields = async (owner: BatteryOwner) => {
    const first = (await firstOpen(chain)) + 2n;
    return {
      market: chain.market,
      batteryId: owner.batteryId,
      firstInterval: first,
      lastInterval: first + 3n,
      maxChargePricePerKwh: 120_000n,
      minDischargePricePerKwh: 250_000n,
      chargeBudget: 1_234_567n,
      initialSocWh: 5_000n,
    };
  };

  it("approves the budget, locks exactly it and returns the id of the FlexOrderPlaced log", async () => {
    const owner = await batteryOwner(chain);
    const flex = await flexMarketOf(chain);
    const [walletBefore, heldBefore] = await Promise.all([
      tokenBalance(chain, owner.address),
      tokenBalance(chain, flex),
    ]);
    const out = await placeFlexOrder(owner.clients, await fields(owner));
    expect(out.transactions, "approve + place").to.have.length(2);
    expect(out.flexMarket).to.equal(flex);
    const [event] = await chain.publicClient.getContractEvents({
      address: flex,
      abi: flexibilityMarketAbi,
      eventName: "FlexOrderPlaced",
      args: { orderId: out.orderId },
      fromBlock: 0n,
    });
    expect(event?.args.owner).to.equal(owner.address);
    expect(event?.args.order?.chargeBudget).to.equal(1_234_567n);
    expect(
      await chain.publicClient.readContract({
        address: flex,
        abi: flexibilityMarketAbi,
        functionName: "hashFlexOrder",
        args: [out.order],
      }),
    ).to.equal(out.orderId);
    expect(await tokenBalance(chain, owner.address)).to.equal(walletBefore - 1_234_567n);
    expect(await tokenBalance(chain, flex)).to.equal(heldBefore + 1_234_567n);
    await cancelFlexOrder(owner.clients, { market: chain.market, order: out.order });
  });

  it("sends no approval when the allowance already covers the budget", async () => {
    const owner = await batteryOwner(chain);
    const flex = await flexMarketOf(chain);
    const hash = await owner.clients.walletClient.writeContract({
      address: chain.addresses.token,
      abi: testTokenAbi,
      functionName: "approve",
      args: [flex, 10_000_000n],
      chain: owner.clients.walletClient.chain,
    });
    await chain.publicClient.waitForTransactionReceipt({ hash });
    const out = await placeFlexOrder(owner.clients, await fields(owner));
    expect(out.transactions).to.have.length(1);
    await cancelFlexOrder(owner.clients, { market: chain.market, order: out.order });
  });

  it("places limits with the charge limit above the discharge limit (the plan decides between them)", async () => {
    // The demo's owners place such orders (standingOrderPriceLimits): charge at most 270,750,
    // discharge at least 185,000. The contract does not order the two limits, nor does the client.
    const owner = await batteryOwner(chain);
    const out = await placeFlexOrder(owner.clients, {
      ...(await fields(owner)),
      maxChargePricePerKwh: 270_750n,
      minDischargePricePerKwh: 185_000n,
    });
    const [event] = await chain.publicClient.getContractEvents({
      address: await flexMarketOf(chain),
      abi: flexibilityMarketAbi,
      eventName: "FlexOrderPlaced",
      args: { orderId: out.orderId },
      fromBlock: 0n,
    });
    expect(event?.args.order?.maxChargePricePerKwh).to.equal(270_750n);
    expect(event?.args.order?.minDischargePricePerKwh).to.equal(185_000n);
    await cancelFlexOrder(owner.clients, { market: chain.market, order: out.order });
  });

  describe("when the battery already has an order in the window", () => {
    it("fails with the contract's FlexOrderExists, decoded with the current order's id", async () => {
      const owner = await batteryOwner(chain);
      const first = await placeFlexOrder(owner.clients, await fields(owner));
      const error = await placeFlexOrder(owner.clients, await fields(owner)).catch((e: unknown) => e);
      expect(decodeError(error)).to.deep.equal({
        name: "FlexOrderExists",
        args: [owner.batteryId, first.orderId],
      });
      await cancelFlexOrder(owner.clients, { market: chain.market, order: first.order });
    });
  });

  describe("validateFlexOrder: bad input is refused before anything is sent, naming the field", () => {
    const refused = async (owner: BatteryOwner, change: Record<string, bigint | number>) => {
      const nonceBefore = await chain.publicClient.getTransactionCount({ address: owner.address });
      const error = await placeFlexOrder(owner.clients, { ...(await fields(owner)), ...change }).catch(
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(InvalidParameterError);
      expect(
        await chain.publicClient.getTransactionCount({ address: owner.address }),
        "no transaction",
      ).to.equal(nonceBefore);
      return error as InvalidParameterError;
    };
    let owner: BatteryOwner;
    before(async () => {
      owner = await batteryOwner(chain, 2_000_000n);
    });

    it("firstInterval: a window whose gate has closed, with the first open interval", async () => {
      const open = await firstOpen(chain);
      const error = await refused(owner, { firstInterval: open - 1n, lastInterval: open + 1n });
      expect(error.field).to.equal("firstInterval");
      expect(error.message).to.match(new RegExp(`in the past .*first open interval is ${open}`));
    });

    it("lastInterval: a window longer than MAX_WINDOW_INTERVALS", async () => {
      const max = await chain.publicClient.readContract({
        address: await flexMarketOf(chain),
        abi: flexibilityMarketAbi,
        functionName: "MAX_WINDOW_INTERVALS",
      });
      const { firstInterval } = await fields(owner);
      const error = await refused(owner, { lastInterval: firstInterval + max });
      expect(error.field).to.equal("lastInterval");
      expect(error.message).to.contain(`${max + 1n} intervals long, more than MAX_WINDOW_INTERVALS (${max})`);
    });

    it("lastInterval: before firstInterval", async () => {
      const { firstInterval } = await fields(owner);
      expect((await refused(owner, { lastInterval: firstInterval - 1n })).field).to.equal("lastInterval");
    });

    it("initialSocWh: above the battery's registered maxSocWh, and below its minSocWh", async () => {
      const above = await refused(owner, { initialSocWh: 9_001n });
      expect(above.field).to.equal("initialSocWh");
      expect(above.message).to.contain("[1000, 9000] Wh");
      expect((await refused(owner, { initialSocWh: 999n })).field).to.equal("initialSocWh");
    });

    it("batteryId: a battery the account does not own, and one that is not registered", async () => {
      const other = await batteryOwner(chain);
      const error = await refused(owner, { batteryId: other.batteryId });
      expect(error.field).to.equal("batteryId");
      expect(error.message).to.contain(`belongs to ${other.address}`);
      expect((await refused(owner, { batteryId: 4_000_000 })).message).to.contain("no battery 4000000");
    });

    it("chargeBudget: more than the wallet holds", async () => {
      const error = await refused(owner, { chargeBudget: 2_000_001n });
      expect(error.field).to.equal("chargeBudget");
      expect(error.message).to.contain("holds 2000000 token base units, the order locks 2000001");
    });
  });
});
