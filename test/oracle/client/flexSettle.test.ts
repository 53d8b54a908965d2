/**
 * A flexibility order through settlement, read and paid out with the client: it charges 2 kWh at
 * 0.15 in one interval and discharges 1.5 kWh at 0.3 in the next (the committee played by hand,
 * flexChain.ts). readFlexSteps and readFlexOrders report each step, the scheduled SoC and what it
 * earned; refundFlexFunds returns the unspent budget and withdrawFlex pays the balance out — all
 * to the token unit.
 */
import { expect } from "chai";
import {
  type PlaceFlexOrderReturnType,
  InvalidParameterError,
  decodeError,
  placeFlexOrder,
  readFlexBalance,
  readFlexOrders,
  readFlexSteps,
  refundFlexFunds,
  withdrawFlex,
} from "../../../oracle/src/client/index.js";
import { type ClientChain, clientChain } from "./chain.js";
import {
  type BatteryOwner,
  batteryOwner,
  catchUp,
  firstOpen,
  flexBalance,
  placeBid,
  settleSteps,
  tokenBalance,
} from "./flexChain.js";

describe("a settled flexibility order (readFlexSteps, readFlexOrders, refundFlexFunds, withdrawFlex, readFlexBalance)", function () {
  this.timeout(300_000);
  let chain: ClientChain;
  let owner: BatteryOwner;
  let placed: PlaceFlexOrderReturnType;
  let buyerBid: Awaited<ReturnType<typeof placeBid>>;
  const BUDGET = 1_000_000n;

  before(async () => {
    chain = await clientChain();
    await catchUp(chain);
    owner = await batteryOwner(chain);
    const first = (await firstOpen(chain)) + 1n;
    placed = await placeFlexOrder(owner.clients, {
      market: chain.market,
      batteryId: owner.batteryId,
      firstInterval: first,
      lastInterval: first + 1n,
      maxChargePricePerKwh: 200_000n,
      minDischargePricePerKwh: 250_000n,
      chargeBudget: BUDGET,
      initialSocWh: 2_000n,
    });
    const buyer = await chain.newProsumer();
    await chain.fund(buyer, 5_000_000n);
    buyerBid = await placeBid(chain, buyer, first + 1n, 1_500n, 300_000n);
    // Charge: ceil(150 000 × 2 000 / 1000) = 300 000 paid; SoC 2 000 + floor(2 000 × 0.95) = 3 900.
    await settleSteps(chain, first, 150_000n, [
      { order: placed.order, direction: "charge", energyWh: 2_000n },
    ]);
  });

  it("refundFlexFunds: refuses while an interval of the order is unsettled (RefundNotYet, decoded)", async () => {
    const error = await refundFlexFunds(owner.clients, { market: chain.market, order: placed.order }).catch(
      (e: unknown) => e,
    );
    expect(decodeError(error)?.name).to.equal("RefundNotYet");
  });

  it("readFlexOrders: active, 300 000 spent, scheduled SoC 3 900 Wh after the first interval", async () => {
    const [record] = await readFlexOrders(chain.publicClient, { market: chain.market, owner: owner.address });
    expect(record).to.deep.include({
      orderId: placed.orderId,
      status: "active",
      spent: 300_000n,
      unspent: 700_000n,
      scheduledSocWh: 3_900n,
      socInterval: placed.order.firstInterval,
      steps: 1,
      earned: -300_000n,
    });
  });

  it("readFlexSteps: both steps with energy, SoC and amount; earned = credits − costs", async () => {
    // Discharge: floor(300 000 × 1 500 / 1000) = 450 000 credited; SoC 3 900 − ceil(1 500 / 0.95) = 2 321.
    // A neighbour buys the 1.5 kWh at the same price: its payment is what the market pays the battery from.
    const amounts = await settleSteps(
      chain,
      placed.order.lastInterval,
      300_000n,
      [{ order: placed.order, direction: "discharge", energyWh: 1_500n }],
      [{ order: buyerBid, filledWh: 1_500n }],
    );
    expect(amounts).to.deep.equal([450_000n]);
    const out = await readFlexSteps(chain.publicClient, { market: chain.market, orderId: placed.orderId });
    expect(out.steps.map((s) => [s.intervalId, s.direction, s.energyWh, s.socWh, s.amount])).to.deep.equal([
      [placed.order.firstInterval, "charge", 2_000n, 3_900n, 300_000n],
      [placed.order.lastInterval, "discharge", 1_500n, 2_321n, 450_000n],
    ]);
    expect(out).to.deep.include({
      chargedWh: 2_000n,
      dischargedWh: 1_500n,
      cost: 300_000n,
      credit: 450_000n,
      earned: 150_000n,
    });
    expect(await flexBalance(chain, owner.address), "the discharge credit").to.equal(450_000n);
  });

  it("readFlexOrders: refundable once its last interval is settled, with what it earned", async () => {
    const [record] = await readFlexOrders(chain.publicClient, { market: chain.market, owner: owner.address });
    expect(record).to.deep.include({
      status: "refundable",
      spent: 300_000n,
      unspent: 700_000n,
      scheduledSocWh: 2_321n,
      earned: 150_000n,
      steps: 2,
    });
  });

  it("refundFlexFunds: credits exactly the unspent budget to the flexibility balance, once", async () => {
    const out = await refundFlexFunds(owner.clients, { market: chain.market, orderId: placed.orderId });
    expect(out.amount).to.equal(BUDGET - 300_000n);
    expect(await flexBalance(chain, owner.address)).to.equal(450_000n + 700_000n);
    const [record] = await readFlexOrders(chain.publicClient, { market: chain.market, owner: owner.address });
    expect(record).to.deep.include({ status: "refunded", unspent: 0n });
    const again = await refundFlexFunds(owner.clients, { market: chain.market, order: placed.order }).catch(
      (e: unknown) => e,
    );
    expect(decodeError(again)).to.deep.equal({ name: "AlreadyRefunded", args: [placed.orderId] });
  });

  it("withdrawFlex: pays the balance to the wallet; more than the balance is refused naming amount", async () => {
    const tooMuch = await withdrawFlex(owner.clients, { market: chain.market, amount: 1_150_001n }).catch(
      (e: unknown) => e,
    );
    expect(tooMuch).to.be.instanceOf(InvalidParameterError);
    expect((tooMuch as InvalidParameterError).field).to.equal("amount");
    const walletBefore = await tokenBalance(chain, owner.address);
    const balance = () =>
      readFlexBalance(chain.publicClient, { market: chain.market, account: owner.address });
    expect(await balance(), "credit + refund").to.equal(1_150_000n);
    const out = await withdrawFlex(owner.clients, { market: chain.market, amount: 1_150_000n });
    expect(out.balance).to.equal(0n);
    expect(await balance()).to.equal(0n);
    expect(await tokenBalance(chain, owner.address)).to.equal(walletBefore + 1_150_000n);
  });
});
