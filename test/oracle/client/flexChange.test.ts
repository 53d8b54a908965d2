/**
 * client/changeFlexOrder.ts and cancelFlexOrder.ts against a real chain: a change ends the current
 * order and locks the replacement's budget; a cancel before the window leaves an order that was
 * never active; both read the order from its id; another account's order is refused by name.
 */
import { expect } from "chai";
import {
  InvalidParameterError,
  cancelFlexOrder,
  changeFlexOrder,
  placeFlexOrder,
  readFlexOrders,
  refundFlexFunds,
} from "../../../oracle/src/client/index.js";
import { type ClientChain, clientChain } from "./chain.js";
import {
  type BatteryOwner,
  batteryOwner,
  firstOpen,
  flexBalance,
  flexMarketOf,
  tokenBalance,
} from "./flexChain.js";

describe("changeFlexOrder and cancelFlexOrder", function () {
  this.timeout(180_000);
  let chain: ClientChain;
  before(async () => {
    chain = await clientChain();
  });

  const place = async (owner: BatteryOwner, budget = 800_000n) => {
    const first = (await firstOpen(chain)) + 2n;
    return placeFlexOrder(owner.clients, {
      market: chain.market,
      batteryId: owner.batteryId,
      firstInterval: first,
      lastInterval: first + 7n,
      maxChargePricePerKwh: 100_000n,
      minDischargePricePerKwh: 200_000n,
      chargeBudget: budget,
      initialSocWh: 4_000n,
    });
  };

  it("changeFlexOrder: ends the current order before its window and locks the replacement's budget", async () => {
    const owner = await batteryOwner(chain);
    const placed = await place(owner);
    const flex = await flexMarketOf(chain);
    const [walletBefore, heldBefore] = await Promise.all([
      tokenBalance(chain, owner.address),
      tokenBalance(chain, flex),
    ]);
    const changed = await changeFlexOrder(owner.clients, {
      market: chain.market,
      currentId: placed.orderId,
      replacement: {
        ...placed.order,
        maxChargePricePerKwh: 90_000n,
        chargeBudget: 500_001n,
        nonce: placed.order.nonce + 1n,
      },
    });
    expect(changed.previous).to.deep.equal(placed.order);
    expect(changed.orderId).to.not.equal(placed.orderId);
    expect(await tokenBalance(chain, owner.address)).to.equal(walletBefore - 500_001n);
    expect(await tokenBalance(chain, flex)).to.equal(heldBefore + 500_001n);
    const orders = await readFlexOrders(chain.publicClient, { market: chain.market, owner: owner.address });
    const previous = orders.find((o) => o.orderId === placed.orderId)!;
    const next = orders.find((o) => o.orderId === changed.orderId)!;
    expect(previous.endedEarly).to.equal(true);
    expect(previous.endInterval, "never active").to.equal(placed.order.firstInterval - 1n);
    expect(previous.status, "never active: refundable at once").to.equal("refundable");
    expect(previous.unspent).to.equal(800_000n);
    expect(next).to.deep.include({ status: "active", spent: 0n, unspent: 500_001n, endedEarly: false });
    expect(next.order.maxChargePricePerKwh).to.equal(90_000n);
    await cancelFlexOrder(owner.clients, { market: chain.market, order: changed.order });
  });

  it("changeFlexOrder: a replacement for another battery is refused naming batteryId", async () => {
    const owner = await batteryOwner(chain);
    const placed = await place(owner);
    const error = await changeFlexOrder(owner.clients, {
      market: chain.market,
      current: placed.order,
      replacement: { ...placed.order, batteryId: placed.order.batteryId + 1 },
    }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(InvalidParameterError);
    expect((error as InvalidParameterError).field).to.equal("batteryId");
    await cancelFlexOrder(owner.clients, { market: chain.market, order: placed.order });
  });

  it("cancelFlexOrder: by id, before the window: ends it at firstInterval - 1 and it is no longer active", async () => {
    const owner = await batteryOwner(chain);
    const placed = await place(owner);
    const out = await cancelFlexOrder(owner.clients, { market: chain.market, orderId: placed.orderId });
    expect(out.order).to.deep.equal(placed.order);
    expect(out.endInterval).to.equal(placed.order.firstInterval - 1n);
    const [record] = await readFlexOrders(chain.publicClient, { market: chain.market, owner: owner.address });
    expect(record?.endedEarly).to.equal(true);
    expect(record?.status).to.equal("refundable");
  });

  it("refundFlexFunds: returns the whole budget of an order cancelled before its window, to the token unit", async () => {
    const owner = await batteryOwner(chain);
    const placed = await place(owner, 777_777n);
    await cancelFlexOrder(owner.clients, { market: chain.market, order: placed.order });
    const out = await refundFlexFunds(owner.clients, { market: chain.market, orderId: placed.orderId });
    expect(out.amount).to.equal(777_777n);
    expect(await flexBalance(chain, owner.address)).to.equal(777_777n);
    const [record] = await readFlexOrders(chain.publicClient, { market: chain.market, owner: owner.address });
    expect(record).to.deep.include({ status: "refunded", unspent: 0n });
  });

  it("cancelFlexOrder: another account's order is refused naming orderId, before anything is sent", async () => {
    const owner = await batteryOwner(chain);
    const stranger = await batteryOwner(chain);
    const placed = await place(owner);
    const error = await cancelFlexOrder(stranger.clients, {
      market: chain.market,
      orderId: placed.orderId,
    }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(InvalidParameterError);
    expect((error as InvalidParameterError).field).to.equal("orderId");
    expect((error as Error).message).to.contain(`belongs to ${owner.address}`);
    await cancelFlexOrder(owner.clients, { market: chain.market, order: placed.order });
  });
});
