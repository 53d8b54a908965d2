/**
 * A battery CHARGE step committed by the live 3-of-5 committee and settled through
 * FlexibilityMarket, then the discharge of that energy to a buyer in the next interval. Every
 * figure is checked against the chain's events and the contract's integer rules computed here, not
 * against the oracle's numbers.
 *
 * How the scenario makes the plan charge (read before changing it). At the gate closure of i the
 * rolling horizon sees the real orders of i only; intervals i + 1 … are the committee's forecast
 * from the chain's history up to i (jobs/schedule.ts `collectInterval`, domain/forecast/):
 * - bid volume `yesterday`, absent on a chain started today → persistence: interval i's bids;
 * - bid price `recentMean` of the last 4 known intervals that had bids;
 * - offer volume `solarShape` in a zone with a solar meter: 0 while the sun is down, else i's offer
 *   shaped by the sun (without a solar meter, persistence: i's offer in every interval);
 * - the grid's standing supply at retail − 1 and offtake at feed-in + 1, leftovers worth feed-in + 1.
 * Orders already placed for i + 1 are NOT in the plan: with only a cheap seller in i and buyers in
 * i + 1 (no solar meter) the forecast has no bid anywhere, and charging at 40,000 is worth less than
 * the grid's offtake (20,001 × ηc·ηd): the step was 0 Wh. Here interval i also has a small buyer, so
 * the forecast carries its demand into the horizon, and the seller has a solar meter, so the
 * forecast's surplus ends with the sun: every night interval of the horizon is short, and energy
 * bought at 40,000 now is worth more there. The buyer placed for i + 1 then takes the battery's
 * energy when i + 1 is cleared with its real orders.
 */
import { expect } from "chai";
import type { Hex } from "viem";
import { energyMarketAbi, flexibilityMarketAbi, testTokenAbi } from "../../oracle/src/chain/abis.js";
import { verifyInterval } from "../../oracle/src/cli/verify.js";
import { collectInterval } from "../../oracle/src/jobs/schedule.js";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { FILL_LEAF_ENCODING, scheduleCommitment } from "../../oracle/src/domain/schedule.js";
import type { FillProofJson } from "../../oracle/src/infra/proofs.js";
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
  newMeter,
  nodeConfigs,
  placeOrders,
  startWorld,
  waitFor,
} from "./harness.js";

const INITIAL_SOC = 2_000n;
const MAX_CHARGE_PRICE = 100_000n;
const MIN_DISCHARGE_PRICE = 150_000n;
const BUDGET = 1_000_000n;
/** registerBatteryOwner's battery: 8,000 W either way, 15 minutes. */
const POWER_WH = (8_000n * INTERVAL) / 3_600n;
const INTERVALS_PER_DAY = 86_400n / INTERVAL;
/**
 * The horizon ends with the UTC day (`committeeHorizon`): an interval this close to midnight sees
 * too few night intervals ahead for the charge to pay, so the scenario starts after midnight.
 */
const LAST_USEFUL_OF_DAY = INTERVALS_PER_DAY - 8n;

const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `${x}` : x));

describe("a flexibility CHARGE step through the live committee (e2e, 3-of-5)", function () {
  this.timeout(420_000);
  let env: World;
  const parties = flexParties();
  // Interval i: cheap solar surplus well below the order's charge limit, and a small local demand.
  const seller: Party = { ...parties.seller, quantityWh: 4_000n, limit: 40_000n, meter: newMeter() };
  const buyer: Party = { ...parties.buyer, quantityWh: 1_000n, limit: 250_000n };
  // Interval i + 1: the same household's evening demand, placed before i's gate closes; no seller.
  const buyerNext: Party = { ...parties.buyer, name: "B+1", quantityWh: 2_000n, limit: 250_000n };
  const owner = devAccount(8);

  before(async () => {
    env = await startWorld({ market: { parties: [seller, buyer], zones: 1 } });
  });
  after(async () => {
    await env?.stop();
  });

  const settledInterval = (intervalId: bigint) =>
    waitFor(
      `interval ${intervalId}'s fills and flexibility steps settled`,
      async () => {
        const s = await env.client.readContract({
          address: env.addresses.market,
          abi: energyMarketAbi,
          functionName: "intervalState",
          args: [intervalId],
        });
        return s.scheduled && s.settledCount === s.fillCount ? s : undefined;
      },
      120_000,
    );

  const committedPrice = (intervalId: bigint) => committedZonePrice(env, intervalId);

  const stepOf = async (flex: Hex, intervalId: bigint) => {
    const steps = await env.client.getContractEvents({
      address: flex,
      abi: flexibilityMarketAbi,
      eventName: "FlexStepSettled",
      args: { intervalId },
      fromBlock: 0n,
      strict: true,
    });
    expect(steps, `one step in ${intervalId} for the one active order`).to.have.length(1);
    return steps[0]!.args;
  };

  const filledOf = async (intervalId: bigint) => {
    const fills = await env.client.getContractEvents({
      address: env.addresses.market,
      abi: energyMarketAbi,
      eventName: "FillSettled",
      args: { intervalId },
      fromBlock: 0n,
      strict: true,
    });
    return (p: Party) => {
      const fill = fills.find((f) => f.args.orderId === p.orderId);
      expect(fill, `${p.name}'s fill settled in ${intervalId}`).to.not.equal(undefined);
      return fill!.args;
    };
  };

  /** What the committee's plan saw at i's gate, for a failure message: its orders and forecast. */
  const planView = async (intervalId: bigint) => {
    const collected = await collectInterval(
      env.client,
      { market: env.addresses.market, registry: env.addresses.registry },
      intervalId,
      0n,
    );
    const rolling = collected.flexibility?.rolling;
    if (rolling === undefined) return "no rolling input (no active flexibility order)";
    return json({
      horizon: rolling.horizon,
      grid: rolling.grid,
      endValuePerKwh: rolling.endValuePerKwh,
      orders: rolling.orders.map((o) => ({ side: o.side, wh: o.quantityWh, price: o.limitPricePerKwh })),
      forecast: rolling.forecast?.slice(0, 8),
      batteries: rolling.batteries,
    });
  };

  it("commits the battery's charge from cheap surplus, settles it within the order's limit and budget, and discharges it to the next interval's buyer", async () => {
    const { registry, market, token } = env.addresses;
    const flex = await flexibilityMarketOf(env);
    await registerBatteryOwner(env, owner, BUDGET);

    let intervalId = (await env.now()) / INTERVAL + 2n;
    if (intervalId % INTERVALS_PER_DAY > LAST_USEFUL_OF_DAY)
      intervalId += INTERVALS_PER_DAY - (intervalId % INTERVALS_PER_DAY) + 2n;
    const next = intervalId + 1n;
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
    await placeOrders(env, [buyerNext], next);
    const flexTokens = () =>
      env.client.readContract({ address: token, abi: testTokenAbi, functionName: "balanceOf", args: [flex] });
    const orderState = () =>
      env.client.readContract({
        address: flex,
        abi: flexibilityMarketAbi,
        functionName: "orderState",
        args: [orderId],
      });
    const ownerEarnings = () =>
      env.client.readContract({
        address: flex,
        abi: flexibilityMarketAbi,
        functionName: "balanceOf",
        args: [owner.address],
      });
    expect(await flexTokens(), "the budget is pulled at placement").to.equal(BUDGET);

    await env.setTime(intervalId * INTERVAL - GATE + 1n);
    const { configs } = await nodeConfigs(env);
    const nodes = await env.startNodes(configs);

    // ---- interval i: the charge ----
    const state = await settledInterval(intervalId);
    expect(state.fillCount, "two orders and one flexibility step").to.equal(3);
    const price = await committedPrice(intervalId);
    const charge = await stepOf(flex, intervalId);
    expect(charge.orderId).to.equal(orderId);
    if (charge.direction !== 0 || charge.energyWh === 0n)
      expect.fail(
        `expected a charge in ${intervalId}, got ${json(charge)} at ${price}; the plan saw ${await planView(intervalId)}`,
      );
    expect(charge.energyWh <= POWER_WH, `charge ${charge.energyWh} Wh <= ${POWER_WH} Wh of power`).to.equal(
      true,
    );
    expect(price <= MAX_CHARGE_PRICE, `zone price ${price} <= the order's maximum`).to.equal(true);
    expect(charge.amount, "paid ceil(price × energy / 1000)").to.equal(costUp(price, charge.energyWh));
    // The contract's integer rule (socAfterStep): charging c Wh stores floor(c × ηc / 10⁴).
    expect(charge.socWh).to.equal(INITIAL_SOC + (charge.energyWh * FLEX_ETA_BPS) / 10_000n);

    const [totals] = await env.client.getContractEvents({
      address: flex,
      abi: flexibilityMarketAbi,
      eventName: "FlexIntervalSettled",
      args: { intervalId },
      fromBlock: 0n,
      strict: true,
    });
    expect(totals!.args.charged, "the interval's charges are the step's amount").to.equal(charge.amount);
    expect(totals!.args.paid).to.equal(0n);
    const afterCharge = await orderState();
    expect(afterCharge.spent, "the order's spent is the charge").to.equal(charge.amount);
    // The budget is debited: the charge left the flexibility market for the energy market, and
    // what a refund would return (chargeBudget − spent) is what is left.
    expect(await flexTokens()).to.equal(BUDGET - charge.amount);
    expect(await ownerEarnings(), "a charge earns nothing").to.equal(0n);

    // Zone balance from the settled fills alone: sold = charged + bought.
    const filled = await filledOf(intervalId);
    expect(filled(seller).filledWh, "the seller's energy went to the battery and the buyer").to.equal(
      charge.energyWh + filled(buyer).filledWh,
    );
    expect(filled(seller).amount, "seller gets floor(price × energy / 1000)").to.equal(
      costDown(price, filled(seller).filledWh),
    );
    expect(filled(buyer).amount, "buyer pays ceil(price × energy / 1000)").to.equal(
      costUp(price, filled(buyer).filledWh),
    );

    const verified = await verifyInterval({ client: env.client, market, registry, intervalId });
    expect(verified.status, json(verified)).to.equal("ok");

    // A prosumer claiming by pull gets its fill proof from a node's Proof API: it must prove the
    // fill in the committed tree, whose leaves include the battery's step (a proof taken in a tree
    // of the fills alone failed here against the committed root).
    const proofRes = await fetch(`${nodes[0]!.url}/proofs/${intervalId}/fills/${seller.orderId}`);
    expect(proofRes.status).to.equal(200);
    const proof = (await proofRes.json()) as FillProofJson;
    expect(
      scheduleCommitment(proof.scheduleRoot, proof.zonePrices.map(BigInt)),
      "the served root and prices are the committed ones",
    ).to.equal(state.commitment);
    expect(proof.leaf.filledWh).to.equal(filled(seller).filledWh.toString());
    expect(
      StandardMerkleTree.verify(
        proof.scheduleRoot,
        [...FILL_LEAF_ENCODING],
        [proof.leaf.orderId, proof.leaf.filledWh],
        [...proof.proof],
      ),
      "the fill proof verifies against the committed root",
    ).to.equal(true);

    // ---- interval i + 1: the stored energy goes to the buyer ----
    await env.setTime(next * INTERVAL - GATE + 1n);
    const nextState = await settledInterval(next);
    expect(nextState.fillCount, "the buyer's order and the step").to.equal(2);
    const nextPrice = await committedPrice(next);
    const discharge = await stepOf(flex, next);
    if (discharge.direction !== 1 || discharge.energyWh === 0n)
      expect.fail(
        `expected a discharge in ${next}, got ${json(discharge)} at ${nextPrice}; the plan saw ${await planView(next)}`,
      );
    expect(discharge.energyWh <= POWER_WH).to.equal(true);
    expect(nextPrice >= MIN_DISCHARGE_PRICE, `zone price ${nextPrice} >= the order's minimum`).to.equal(true);
    expect(discharge.amount, "paid floor(price × energy / 1000)").to.equal(
      costDown(nextPrice, discharge.energyWh),
    );
    // Discharging g Wh takes ceil(g × 10⁴ / ηd) from the SoC the charge left.
    expect(discharge.socWh).to.equal(
      charge.socWh - (discharge.energyWh * 10_000n + FLEX_ETA_BPS - 1n) / FLEX_ETA_BPS,
    );
    const nextFilled = await filledOf(next);
    expect(nextFilled(buyerNext).filledWh, "no seller in i + 1: the battery alone serves the buyer").to.equal(
      discharge.energyWh,
    );
    expect(await ownerEarnings(), "the owner's earnings").to.equal(discharge.amount);
    const afterDischarge = await orderState();
    expect(afterDischarge.spent, "a discharge spends nothing").to.equal(charge.amount);
    expect(await flexTokens(), "the budget left plus the earnings").to.equal(
      BUDGET - charge.amount + discharge.amount,
    );

    const verifiedNext = await verifyInterval({ client: env.client, market, registry, intervalId: next });
    expect(verifiedNext.status, json(verifiedNext)).to.equal("ok");
  });
});
