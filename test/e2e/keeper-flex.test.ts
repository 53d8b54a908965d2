/**
 * The keeper's flexibility paths on a real Hardhat node and Redis (3-of-5 committee, issue 14):
 *
 *   missed interval: a battery's order is active in j, j + 1 and j + 2; j passes with no
 *   committee running (never committed); the committee starts and commits j + 1 and then j + 2,
 *   both before j's meter deadline, although neither one's flexibility step can settle while
 *   FlexibilityMarket's cursor is at j: j + 2 is collected from the battery's state after j + 1's
 *   step as the nodes committed it (issue 14, liveness after a missed interval). After j's meter
 *   deadline the nodes' keeper closes j (FlexIntervalMissed), pushes j + 1's and j + 2's
 *   settlement again (their settle-fills jobs gave up long before, as they do in production, where
 *   j's meter deadline is an hour after the commits), both intervals' steps and fills settle, and
 *   `verify` recomputes both committed schedules from the chain alone.
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
import { verifyInterval } from "../../oracle/src/cli/verify.js";
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

  it("commits the intervals after a never-committed one before its meter deadline, closes it there so they settle, and refunds ended orders", async () => {
    const { market, registry } = env.addresses;
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
      lastInterval: j + 2n,
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
    // Intervals j + 1 and j + 2 have a market; j has only the battery's order.
    await placeOrders(env, [seller, buyer], j + 1n);
    await placeOrders(env, [seller, buyer], j + 2n);

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

    /** True once every node's `step` job of `intervalId` failed for good (retries spent). */
    const failedEverywhere = async (step: "collect" | "settle-fills", intervalId: bigint) => {
      const id = jobIdFor(31337, market, intervalId, step);
      for (const n of env.nodes) {
        const job = await n.context.queues.queue(step).getJob(id);
        if (job === undefined || !(await job.isFailed())) return false;
      }
      return true;
    };

    // j + 2's gate closes while j + 1's step is still held back by the cursor. The committee
    // collects j + 2 from the battery's state after j + 1's committed step and commits it; it does
    // not wait for j's close (an hour away in production, far past j + 2's schedule deadline).
    await env.setTime((j + 2n) * INTERVAL - GATE + 1n);
    const third = await waitFor(
      `interval ${j + 2n} committed, or every node's collect of it given up`,
      async () => {
        const s = await intervalState(j + 2n);
        if (s.scheduled) return s;
        return (await failedEverywhere("collect", j + 2n)) ? s : undefined;
      },
      180_000,
    );
    expect(third.scheduled, `interval ${j + 2n} committed while ${j + 1n}'s step is unsettled`).to.equal(
      true,
    );
    expect(third.fillCount, "two orders and one flexibility step").to.equal(3);

    const meterDeadline = (j + 1n) * INTERVAL + METER_WINDOW;
    const commits = await env.client.getContractEvents({
      address: market,
      abi: energyMarketAbi,
      eventName: "ScheduleCommitted",
      fromBlock: 0n,
      strict: true,
    });
    for (const id of [j + 1n, j + 2n]) {
      const commit = commits.find((l) => l.args.intervalId === id);
      expect(commit, `interval ${id}'s ScheduleCommitted event`).to.not.equal(undefined);
      const block = await env.client.getBlock({ blockNumber: commit!.blockNumber });
      expect(
        block.timestamp < meterDeadline,
        `interval ${id} committed at ${block.timestamp}, before ${j}'s meter deadline ${meterDeadline}`,
      ).to.equal(true);
    }
    expect((await readFlex<bigint>("nextInterval")) <= j, "the cursor still at or before j").to.equal(true);

    // As in production, where j's meter deadline is an hour away: every node's settle-fills jobs of
    // j + 1 and j + 2 give up (their retries last about a minute) while the cursor holds the steps back.
    await waitFor(
      `every node's settle-fills jobs of ${j + 1n} and ${j + 2n} failed for good`,
      async () =>
        (await failedEverywhere("settle-fills", j + 1n)) && (await failedEverywhere("settle-fills", j + 2n))
          ? true
          : undefined,
      180_000,
    );
    for (const id of [j + 1n, j + 2n])
      expect((await intervalState(id)).settledCount, `interval ${id}'s step not settled`).to.be.lessThan(
        committed.fillCount,
      );

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

    for (const id of [j + 1n, j + 2n]) {
      const settled = await waitFor(
        `interval ${id}'s fills and flexibility step settled`,
        async () => {
          const s = await intervalState(id);
          return s.settledCount === s.fillCount ? s : undefined;
        },
        120_000,
      );
      expect(settled.settledCount, `interval ${id}: every fill and step settled`).to.equal(settled.fillCount);
    }
    const steps = await flexEvents<{
      intervalId: bigint;
      direction: number;
      energyWh: bigint;
      socWh: bigint;
      amount: bigint;
    }>("FlexStepSettled");
    expect(
      steps.map((l) => l.args.intervalId),
      "one step each of j + 1 and j + 2 (none of the missed j)",
    ).to.deep.equal([j + 1n, j + 2n]);

    // The steps settled as committed, so anyone recomputes both schedules from the chain alone:
    // j + 2's from the state j + 1's settled step left, the state the committee derived before.
    for (const id of [j + 1n, j + 2n]) {
      const verified = await verifyInterval({ client: env.client, market, registry, intervalId: id });
      expect(
        verified.status,
        JSON.stringify(verified, (_k, v: unknown) => (typeof v === "bigint" ? `${v}` : v)),
      ).to.equal("ok");
    }

    // The order ended with j + 2, now behind the cursor: the keeper refunds its unspent budget.
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
    const charged = steps.reduce((sum, l) => sum + (l.args.direction === 0 ? l.args.amount : 0n), 0n);
    const earned = steps.reduce((sum, l) => sum + (l.args.direction === 1 ? l.args.amount : 0n), 0n);
    expect(kept.spent, "spent = the charges paid").to.equal(charged);
    expect(refund.args.amount, "refund = budget − spent").to.equal(BUDGET - kept.spent);
    expect(await readFlex<bigint>("balanceOf", [owner.address]), "earnings + budget − spent").to.equal(
      earned + BUDGET - kept.spent,
    );
    // Figures for docs/OPERATIONS.md ("Keeper"): how soon after the meter deadline the keeper closed
    // j, and how soon after j + 2's step settled it refunded the order; the steps moved.
    const settledBlock = await env.client.getBlock({ blockNumber: steps[1]!.blockNumber });
    const refundBlock = await env.client.getBlock({ blockNumber: refund.blockNumber });
    console.log(
      `      keeper closed interval j ${closeBlock.timestamp - meterDeadline} chain s after its meter deadline; ` +
        `refunded ${refund.args.amount} base units ${refundBlock.timestamp - settledBlock.timestamp} chain s after j + 2's step settled; ` +
        `steps ${steps.map((l) => `${l.args.direction === 0 ? "charge" : "discharge"} ${l.args.energyWh} Wh → SoC ${l.args.socWh}`).join(", ")}`,
    );
  });
});
