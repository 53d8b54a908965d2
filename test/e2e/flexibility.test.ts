/**
 * A battery under a standing flexibility order, scheduled by the live committee (issue 14): the
 * nodes read the order from the chain, solve the rolling horizon, commit the battery's step as a
 * leaf of the schedule and settle it through FlexibilityMarket, between the buyers and the sellers.
 * Every figure is checked against the chain's own events and the contract's rules computed here,
 * not against the oracle's numbers.
 */
import { expect } from "chai";
import { energyMarketAbi, flexibilityMarketAbi } from "../../oracle/src/chain/abis.js";
import { verifyInterval } from "../../oracle/src/cli/verify.js";
import {
  FLEX_ETA_BPS,
  committedZonePrice,
  flexParties,
  flexibilityMarketOf,
  placeFlexOrderOf,
  registerBatteryOwner,
} from "./flex-scenario.js";
import {
  type Party,
  type World,
  GATE,
  INTERVAL,
  costDown,
  costUp,
  devAccount,
  nodeConfigs,
  placeOrders,
  startWorld,
  waitFor,
} from "./harness.js";

const INITIAL_SOC = 5_000n;
const MAX_CHARGE_PRICE = 100_000n;
const MIN_DISCHARGE_PRICE = 150_000n;
const BUDGET = 1_000_000n;

describe("flexibility orders through the live committee (e2e, 3-of-5)", function () {
  this.timeout(300_000);
  let env: World;
  const { seller, buyer } = flexParties();
  const owner = devAccount(8);

  before(async () => {
    env = await startWorld({ market: { parties: [seller, buyer], zones: 1 } });
  });
  after(async () => {
    await env?.stop();
  });

  it("commits the battery's discharge as a leaf, settles it at the zone price within the order's limit, and verify agrees", async () => {
    const { registry, market } = env.addresses;
    const flex = await flexibilityMarketOf(env);
    await registerBatteryOwner(env, owner, BUDGET);

    const intervalId = (await env.now()) / INTERVAL + 2n;
    const order = {
      owner: owner.address,
      batteryId: 0,
      firstInterval: intervalId,
      lastInterval: intervalId + 3n,
      maxChargePricePerKwh: MAX_CHARGE_PRICE,
      minDischargePricePerKwh: MIN_DISCHARGE_PRICE,
      chargeBudget: BUDGET,
      initialSocWh: INITIAL_SOC,
      nonce: 1n,
    };
    const orderId = await placeFlexOrderOf(env, owner, order);
    await placeOrders(env, [seller, buyer], intervalId);

    await env.setTime(intervalId * INTERVAL - GATE + 1n);
    const { configs } = await nodeConfigs(env);
    await env.startNodes(configs);

    const state = await waitFor(
      "fills and flexibility steps settled",
      async () => {
        const s = await env.client.readContract({
          address: market,
          abi: energyMarketAbi,
          functionName: "intervalState",
          args: [intervalId],
        });
        return s.scheduled && s.settledCount === s.fillCount ? s : undefined;
      },
      120_000,
    );
    expect(state.fillCount, "two orders and one flexibility step").to.equal(3);

    const price = await committedZonePrice(env, intervalId);
    const steps = await env.client.getContractEvents({
      address: flex,
      abi: flexibilityMarketAbi,
      eventName: "FlexStepSettled",
      args: { intervalId },
      fromBlock: 0n,
      strict: true,
    });
    expect(steps, "one step for the one active order").to.have.length(1);
    const step = steps[0]!.args;
    expect(step.orderId).to.equal(orderId);
    // The buyer's unmet demand is worth more than the order's minimum: the battery discharges.
    expect(step.direction, "discharge").to.equal(1);
    expect(step.energyWh > 0n, "discharges some energy").to.equal(true);
    expect(price >= MIN_DISCHARGE_PRICE, `zone price ${price} >= the order's minimum`).to.equal(true);
    expect(step.amount, "paid floor(price × energy / 1000)").to.equal(costDown(price, step.energyWh));
    // The contract's integer rule: discharging g Wh takes ceil(g × 10⁴ / η) out of storage.
    expect(step.socWh).to.equal(INITIAL_SOC - (step.energyWh * 10_000n + FLEX_ETA_BPS - 1n) / FLEX_ETA_BPS);

    // Zone balance from the settled fills alone: sold + discharged = bought.
    const fills = await env.client.getContractEvents({
      address: market,
      abi: energyMarketAbi,
      eventName: "FillSettled",
      args: { intervalId },
      fromBlock: 0n,
      strict: true,
    });
    const filled = (p: Party) => fills.find((f) => f.args.orderId === p.orderId)!.args;
    expect(filled(seller).filledWh + step.energyWh).to.equal(filled(buyer).filledWh);
    expect(filled(buyer).amount, "buyer pays ceil(price × energy / 1000)").to.equal(
      costUp(price, filled(buyer).filledWh),
    );

    // The owner's earnings wait in the flexibility market's balance; the budget is untouched.
    expect(
      await env.client.readContract({
        address: flex,
        abi: flexibilityMarketAbi,
        functionName: "balanceOf",
        args: [owner.address],
      }),
    ).to.equal(step.amount);
    const kept = await env.client.readContract({
      address: flex,
      abi: flexibilityMarketAbi,
      functionName: "orderState",
      args: [orderId],
    });
    expect(kept.spent).to.equal(0n);

    // Anyone recomputes the committed schedule, the battery's step included, from the chain alone.
    const verified = await verifyInterval({
      client: env.client,
      market,
      registry,
      intervalId,
    });
    expect(
      verified.status,
      JSON.stringify(verified, (_k, v: unknown) => (typeof v === "bigint" ? `${v}` : v)),
    ).to.equal("ok");

    // The next interval has no order at all: the battery's step is 0 Wh, and still a leaf.
    await env.setTime((intervalId + 1n) * INTERVAL - GATE + 1n);
    const next = await waitFor(
      "the next interval settled",
      async () => {
        const s = await env.client.readContract({
          address: market,
          abi: energyMarketAbi,
          functionName: "intervalState",
          args: [intervalId + 1n],
        });
        return s.scheduled && s.settledCount === s.fillCount ? s : undefined;
      },
      120_000,
    );
    expect(next.fillCount, "the order's leaf alone").to.equal(1);
    const [idle] = await env.client.getContractEvents({
      address: flex,
      abi: flexibilityMarketAbi,
      eventName: "FlexStepSettled",
      args: { intervalId: intervalId + 1n },
      fromBlock: 0n,
      strict: true,
    });
    expect(idle!.args.energyWh).to.equal(0n);
    expect(idle!.args.socWh, "the state of charge carries over").to.equal(step.socWh);
  });
});
