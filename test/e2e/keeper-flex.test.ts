/**
 * The keeper's flexibility paths on a real Hardhat node and Redis (3-of-5 committee, issue 14):
 *
 *   missed interval: a battery's order is active in j and j + 1; j passes with no committee
 *   running (never committed); the committee starts and commits j + 1, whose flexibility step
 *   cannot settle while FlexibilityMarket's cursor is at j. After j's meter deadline the nodes'
 *   keeper closes j (FlexIntervalMissed), pushes j + 1's settlement again (its settle-fills jobs
 *   gave up long before, as they do in production, where j's meter deadline is an hour after
 *   j + 1's commit), and j + 1's steps and fills settle.
 *
 *   refunds: the same order, ended with its window, and a second battery's order cancelled before
 *   its window are refunded by the keeper, so each owner's balance in FlexibilityMarket holds its
 *   unspent budget (plus its discharge earnings), to the token unit, without the owner acting.
 *
 * Every figure is read from the chain's events and views, not from the oracle.
 */
import { expect } from "chai";
import type { Hex } from "viem";
import { energyMarketAbi, flexibilityMarketAbi } from "../../oracle/src/chain/abis.js";
import { jobIdFor } from "../../oracle/src/infra/queue.js";
import { flexParties, flexibilityMarketOf, placeFlexOrderOf, registerBatteryOwner } from "./flex-scenario.js";
import {
  type World,
  GATE,
  INTERVAL,
  devAccount,
  nodeConfigs,
  placeOrders,
  startWorld,
  waitFor,
} from "./harness.js";

const SCHEDULE_WINDOW = 600n;
const METER_WINDOW = 3600n;
const BUDGET = 1_000_000n;
const CANCELLED_BUDGET = 123_457n;

describe("keeper: flexibility intervals and refunds (e2e, 3-of-5)", function () {
  this.timeout(300_000);
  let env: World;
  const { seller, buyer } = flexParties();
  const owner = devAccount(8);
  const otherOwner = devAccount(9);

  before(async () => {
    env = await startWorld({ market: { parties: [seller, buyer], zones: 1 } });
  });
  after(async () => {
    await env?.stop();
  });

  it("closes the never-committed interval after its meter deadline so the next settles, and refunds ended orders", async () => {
    const { market } = env.addresses;
    const flex = await flexibilityMarketOf(env);
    const readFlex = <T>(functionName: string, args: unknown[] = []) =>
      env.client.readContract({
        address: flex,
        abi: flexibilityMarketAbi,
        functionName: functionName as "nextInterval",
        args: args as [],
      }) as Promise<T>;
    const flexEvents = async <Args>(
      eventName: "FlexIntervalMissed" | "FlexFundsRefunded" | "FlexStepSettled",
    ) =>
      (
        await env.client.getContractEvents({
          address: flex,
          abi: flexibilityMarketAbi,
          eventName,
          fromBlock: 0n,
        })
      ).map((l) => ({ blockNumber: l.blockNumber, args: l.args as unknown as Args }));
    const intervalState = (id: bigint) =>
      env.client.readContract({
        address: market,
        abi: energyMarketAbi,
        functionName: "intervalState",
        args: [id],
      });

    await registerBatteryOwner(env, owner, BUDGET);
    await registerBatteryOwner(env, otherOwner, CANCELLED_BUDGET);

    const j = (await env.now()) / INTERVAL + 2n;
    const order = {
      owner: owner.address,
      batteryId: 0,
      firstInterval: j,
      lastInterval: j + 1n,
      maxChargePricePerKwh: 100_000n,
      minDischargePricePerKwh: 150_000n,
      chargeBudget: BUDGET,
      initialSocWh: 5_000n,
      nonce: 1n,
    };
    const orderId = await placeFlexOrderOf(env, owner, order);
    // The second battery's order is cancelled before its window: never active, refundable at once.
    const cancelled = {
      ...order,
      owner: otherOwner.address,
      batteryId: 1,
      firstInterval: j + 4n,
      lastInterval: j + 5n,
      chargeBudget: CANCELLED_BUDGET,
    };
    const cancelledId = await placeFlexOrderOf(env, otherOwner, cancelled);
    await env.write(otherOwner, flex, flexibilityMarketAbi, "cancelFlexOrder", [cancelled]);
    // Interval j + 1 has a market; j has only the battery's order.
    await placeOrders(env, [seller, buyer], j + 1n);

    // j's schedule window passes with no committee: it is never committed.
    await env.setTime(j * INTERVAL - GATE + SCHEDULE_WINDOW + 1n);
    const { configs } = await nodeConfigs(env);
    await env.startNodes(configs);
    await env.setTime((j + 1n) * INTERVAL - GATE + 1n);

    const committed = await waitFor(
      `interval ${j + 1n} committed`,
      async () => {
        const s = await intervalState(j + 1n);
        return s.scheduled ? s : undefined;
      },
      120_000,
    );
    expect((await intervalState(j)).scheduled, `interval ${j} never committed`).to.equal(false);
    expect(committed.fillCount, "two orders and one flexibility step").to.equal(3);
    // The cursor stays at or before j (it passes idle intervals only when it moves) until j's
    // meter deadline: nobody may close j before, so j + 1's flexibility step cannot settle yet.
    const cursor = await readFlex<bigint>("nextInterval");
    expect(cursor <= j, `cursor ${cursor} at or before the missed interval ${j}`).to.equal(true);
    expect(await readFlex<number>("activeOrderCount", [j])).to.equal(1);

    // The cancelled order was refunded without its owner acting.
    await waitFor(
      "the cancelled order refunded",
      async () => {
        const logs = await flexEvents<{ orderId: Hex; amount: bigint }>("FlexFundsRefunded");
        return logs.find((l) => l.args.orderId === cancelledId);
      },
      60_000,
    );
    expect(await readFlex<bigint>("balanceOf", [otherOwner.address]), "the whole budget back").to.equal(
      CANCELLED_BUDGET,
    );

    // As in production, where j's meter deadline is an hour away: every node's settle-fills job of
    // j + 1 gives up (its retries last about a minute) while the cursor holds its step back.
    const settleJob = jobIdFor(31337, market, j + 1n, "settle-fills");
    await waitFor(
      `every node's settle-fills job of ${j + 1n} failed for good`,
      async () => {
        for (const n of env.nodes) {
          const job = await n.context.queues.queue("settle-fills").getJob(settleJob);
          if (job === undefined || !(await job.isFailed())) return undefined;
        }
        return true;
      },
      180_000,
    );
    expect((await intervalState(j + 1n)).settledCount, "the step not settled").to.be.lessThan(
      committed.fillCount,
    );

    const meterDeadline = (j + 1n) * INTERVAL + METER_WINDOW;
    expect(
      await env.client.readContract({
        address: market,
        abi: energyMarketAbi,
        functionName: "meterDeadline",
        args: [j],
      }),
      "the market's meter deadline of j",
    ).to.equal(meterDeadline);
    await env.setTime(meterDeadline);

    const [missed] = await waitFor(
      `interval ${j} closed as missed`,
      async () => {
        const logs = await flexEvents<{ intervalId: bigint; activeOrders: number }>("FlexIntervalMissed");
        return logs.length > 0 ? logs : undefined;
      },
      60_000,
    );
    expect(missed!.args).to.deep.equal({ intervalId: j, activeOrders: 1 });
    const closeBlock = await env.client.getBlock({ blockNumber: missed!.blockNumber });
    expect(closeBlock.timestamp >= meterDeadline, "closed at or after the meter deadline").to.equal(true);

    const settled = await waitFor(
      `interval ${j + 1n}'s fills and flexibility step settled`,
      async () => {
        const s = await intervalState(j + 1n);
        return s.settledCount === s.fillCount ? s : undefined;
      },
      120_000,
    );
    expect(settled.settledCount).to.equal(settled.fillCount);
    const steps = await flexEvents<{ intervalId: bigint; direction: number; amount: bigint }>(
      "FlexStepSettled",
    );
    expect(
      steps.map((l) => l.args.intervalId),
      "one step, of j + 1 (none of the missed j)",
    ).to.deep.equal([j + 1n]);

    // The order ended with j + 1, now behind the cursor: the keeper refunds its unspent budget.
    const refund = await waitFor(
      "the ended order refunded",
      async () => {
        const logs = await flexEvents<{ orderId: Hex; amount: bigint }>("FlexFundsRefunded");
        return logs.find((l) => l.args.orderId === orderId);
      },
      60_000,
    );
    const kept = await readFlex<{ spent: bigint; refunded: boolean }>("orderState", [orderId]);
    expect(kept.refunded).to.equal(true);
    const step = steps[0]!.args;
    const charged = step.direction === 0 ? step.amount : 0n;
    const earned = step.direction === 1 ? step.amount : 0n;
    expect(kept.spent, "spent = the charge paid").to.equal(charged);
    expect(refund.args.amount, "refund = budget − spent").to.equal(BUDGET - kept.spent);
    expect(await readFlex<bigint>("balanceOf", [owner.address]), "earnings + budget − spent").to.equal(
      earned + BUDGET - kept.spent,
    );
    // Figures for docs/OPERATIONS.md ("Keeper"): how soon after the meter deadline the keeper closed
    // j, and how soon after j + 1's steps settled it refunded the order.
    const settledBlock = await env.client.getBlock({ blockNumber: steps[0]!.blockNumber });
    const refundBlock = await env.client.getBlock({ blockNumber: refund.blockNumber });
    console.log(
      `      keeper closed interval j ${closeBlock.timestamp - meterDeadline} chain s after its meter deadline; ` +
        `refunded ${refund.args.amount} base units ${refundBlock.timestamp - settledBlock.timestamp} chain s after j + 1's steps settled`,
    );
  });
});
