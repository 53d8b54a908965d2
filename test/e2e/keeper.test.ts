/**
 * The keeper on a real Hardhat node and Redis (3-of-5 committee): every lock the contract lets
 * anyone release after a deadline is released by the oracle nodes themselves, with no manual
 * call from the test.
 *
 *   quorum loss: only 2 of 5 nodes run, so the interval is never scheduled; after its schedule
 *   deadline the remaining nodes release every order, and every participant's free balance is
 *   back to its value before the order, to the token unit.
 *
 *   missing meter report: the committee commits and settles the interval, then stops before the
 *   meter report; restarted after the meter deadline, the nodes release each seller's collateral
 *   of its settled fill.
 */
import { expect } from "chai";
import type { Address, Hex } from "viem";
import { energyMarketAbi } from "../../oracle/src/chain/abis.js";
import { readMarketLedger } from "../../oracle/src/demo/ledger.js";
import { buildFillTree } from "../../oracle/src/domain/schedule.js";
import { loadOwn } from "../../oracle/src/jobs/committee.js";
import { type ScheduleExtra, ordersFromJson } from "../../oracle/src/jobs/schedule.js";
import {
  COLLATERAL_PER_KWH,
  type World,
  GATE,
  INTERVAL,
  type Party,
  costUp,
  nodeConfigs,
  placeOrders,
  startWorld,
  waitFor,
} from "./harness.js";
import { EXPECTED_FILLS, scenarioParties } from "./scenario.js";

const SCHEDULE_WINDOW = 600n;
const METER_WINDOW = 3600n;

describe("keeper (e2e, 3-of-5 committee)", function () {
  this.timeout(300_000);
  let env: World;
  let parties: Party[];

  before(async () => {
    parties = scenarioParties().filter((p) => p.name !== "B4");
    env = await startWorld({ market: { parties, zones: 2 } });
  });
  after(async () => {
    await env?.stop();
  });
  afterEach(async () => {
    await env?.stopNodes();
  });

  const read = <T>(functionName: string, args: unknown[]) =>
    env.client.readContract({
      address: env.addresses.market,
      abi: energyMarketAbi,
      functionName: functionName as "balanceOf",
      args: args as [Address],
    }) as Promise<T>;
  const freeBalances = () => Promise.all(parties.map((p) => read<bigint>("balanceOf", [p.account.address])));
  const events = (eventName: string, intervalId: bigint) =>
    env.client.getContractEvents({
      address: env.addresses.market,
      abi: energyMarketAbi,
      eventName: eventName as "OrderReleased",
      fromBlock: 0n,
      args: { intervalId },
    });
  /** Chain seconds from `deadline` to the block of the last of `logs`. */
  const secondsAfter = async (logs: readonly { blockNumber: bigint }[], deadline: bigint) => {
    const last = logs.reduce((m, l) => (l.blockNumber > m ? l.blockNumber : m), 0n);
    const block = await env.client.getBlock({ blockNumber: last });
    return block.timestamp - deadline;
  };
  const ledger = () => readMarketLedger(env.client, env.addresses.market, env.addresses.token);
  const lockOf = (p: Party) =>
    (p.side === "bid" ? costUp(p.limit, p.quantityWh) : 0n) + costUp(COLLATERAL_PER_KWH, p.quantityWh);

  describe("when the committee loses its quorum before an interval is scheduled", () => {
    it("releases every order after the schedule deadline and restores each free balance exactly", async () => {
      const before = await freeBalances();
      const intervalId = (await env.now()) / INTERVAL + 2n;
      await placeOrders(env, parties, intervalId);
      const locked = await freeBalances();
      parties.forEach((p, i) => expect(before[i]! - locked[i]!, `${p.name} lock`).to.equal(lockOf(p)));
      // The market's books count the open orders' locks: bids and offer collateral.
      const open = await ledger();
      expect(open.exact, `ledger with open orders: ${JSON.stringify(open, (_, v) => String(v))}`).to.equal(
        true,
      );
      expect(open.bids + open.offerCollateral, "open locks").to.equal(
        parties.reduce((s, p) => s + lockOf(p), 0n),
      );

      // Two of five nodes: below the threshold of three, nothing can be committed.
      const { configs } = await nodeConfigs(env);
      await env.startNodes(configs.slice(0, 2));
      const gateClosure = intervalId * INTERVAL - GATE;
      const deadline = gateClosure + SCHEDULE_WINDOW;
      await env.setTime(gateClosure + 1n);
      await env.setTime(deadline);

      const released = await waitFor(
        `every order of interval ${intervalId} released`,
        async () => {
          const logs = await events("OrderReleased", intervalId);
          return logs.length === parties.length ? logs : undefined;
        },
        120_000,
      );
      const state = await read<{ scheduled: boolean }>("intervalState", [intervalId]);
      expect(state.scheduled, "never scheduled").to.equal(false);
      const after = await freeBalances();
      parties.forEach((p, i) => expect(after[i], `${p.name}'s free balance`).to.equal(before[i]));
      const amount = released.reduce((s, l) => s + (l.args as { amount: bigint }).amount, 0n);
      expect(amount, "released = locked").to.equal(parties.reduce((s, p) => s + lockOf(p), 0n));
      for (const p of parties)
        expect(
          await read<Hex>("position", [p.account.address, intervalId, p.side === "bid" ? 0 : 1]),
          `${p.name}'s slot emptied`,
        ).to.match(/^0x0{64}$/);
      const releasedOrders = new Set(released.map((l) => (l.args as { orderId: Hex }).orderId));
      expect(releasedOrders.size, "each order released once").to.equal(parties.length);
      // The nodes' metrics count each release once, across the committee.
      const metric = async (name: "keeperReleases" | "keeperReleasedAmount") => {
        let total = 0;
        for (const n of env.nodes)
          for (const v of (await n.context.metrics[name].get()).values)
            if (v.labels["kind"] === "order") total += v.value;
        return total;
      };
      await waitFor("keeper metrics of the releases", async () =>
        (await metric("keeperReleases")) === parties.length ? true : undefined,
      );
      expect(await metric("keeperReleasedAmount"), "released base units metric").to.equal(Number(amount));
      console.log(
        `      keeper released ${amount} base units in ${released.length} orders, ` +
          `${await secondsAfter(released, deadline)} chain s after the schedule deadline`,
      );
    });
  });

  describe("when a scheduled interval misses its meter report", () => {
    it("releases each participant's collateral (and sellers' withheld payouts) after the meter deadline", async () => {
      const intervalId = (await env.now()) / INTERVAL + 2n;
      const before = await freeBalances();
      await placeOrders(env, parties, intervalId);
      const { configs } = await nodeConfigs(env);
      await env.startNodes(configs);
      await env.setTime(intervalId * INTERVAL - GATE + 1n);
      await waitFor(
        `interval ${intervalId} scheduled and settled`,
        async () => {
          const s = await read<{ scheduled: boolean; settledCount: number; fillCount: number }>(
            "intervalState",
            [intervalId],
          );
          return s.scheduled && s.settledCount === s.fillCount ? s : undefined;
        },
        120_000,
      );
      // The committee stops before the interval ends: no meter report can be built.
      await env.stopNodes();
      const held = await ledger();
      expect(
        held.exact,
        `ledger with fill collateral: ${JSON.stringify(held, (_, v) => String(v))}`,
      ).to.equal(true);
      // Both sides keep the imbalance collateral of their filled part; sellers also their payout.
      const withFills = parties.filter((p) => EXPECTED_FILLS[p.name]! > 0n);
      expect(held.fillCollateral, "collateral of the settled fills").to.equal(
        withFills.reduce((sum, p) => sum + costUp(COLLATERAL_PER_KWH, EXPECTED_FILLS[p.name]!), 0n),
      );
      const deadline = (intervalId + 1n) * INTERVAL + METER_WINDOW;
      await env.setTime(deadline);
      await env.startNodes(configs.slice(0, 3));

      const released = await waitFor(
        `collateral of interval ${intervalId} released`,
        async () => {
          const logs = await events("CollateralReleased", intervalId);
          return logs.length === withFills.length ? logs : undefined;
        },
        120_000,
      );
      const state = await read<{ meterRoot: Hex }>("intervalState", [intervalId]);
      expect(state.meterRoot, "never metered").to.match(/^0x0{64}$/);
      const fillsSettled = await events("FillSettled", intervalId);
      for (const p of withFills) {
        const log = released.find(
          (l) => (l.args as { participant: Address }).participant === p.account.address,
        );
        const fill = fillsSettled.find((l) => (l.args as { owner: Address }).owner === p.account.address);
        const payout =
          p.side === "offer" ? ((fill?.args as { amount: bigint } | undefined)?.amount ?? 0n) : 0n;
        expect(
          (log?.args as { amount: bigint } | undefined)?.amount,
          `${p.name}'s collateral (and a seller's withheld payout)`,
        ).to.equal(costUp(COLLATERAL_PER_KWH, EXPECTED_FILLS[p.name]!) + payout);
      }
      // Every lock is gone: each free balance is the balance before the order plus what the fill
      // paid (sellers) or minus what it charged (buyers).
      const fills = await events("FillSettled", intervalId);
      const after = await freeBalances();
      parties.forEach((p, i) => {
        const fill = fills.find((l) => (l.args as { owner: Address }).owner === p.account.address);
        const amount = (fill?.args as { amount: bigint } | undefined)?.amount ?? 0n;
        expect(after[i], `${p.name}'s free balance`).to.equal(
          p.side === "bid" ? before[i]! - amount : before[i]! + amount,
        );
      });
      const end = await ledger();
      expect(end.exact, "ledger exact after the releases").to.equal(true);
      expect(
        end.bids + end.offerCollateral + end.fillCollateral + end.withheldPayouts + end.unsettledPayouts,
        "no lock left",
      ).to.equal(0n);
      console.log(
        `      keeper released ${released.reduce((s, l) => s + (l.args as { amount: bigint }).amount, 0n)} ` +
          `base units of collateral, ${await secondsAfter(released, deadline)} chain s after the meter deadline`,
      );
    });
  });
  describe("when the committee's settlement stalls after the commit and only buyers settle", () => {
    it("after the meter deadline releases the sellers' orders and collects the grid revenue", async () => {
      const intervalId = (await env.now()) / INTERVAL + 2n;
      const before = await freeBalances();
      const fundsBefore = await read<bigint>("operatorFunds", []);
      await placeOrders(env, parties, intervalId);
      const { configs } = await nodeConfigs(env);
      await env.startNodes(configs);
      // Fault: no node processes settle-fills (the queue is paused in each node's Redis).
      for (const n of env.nodes) await n.context.queues.queue("settle-fills").pause();
      await env.setTime(intervalId * INTERVAL - GATE + 1n);
      await waitFor(
        `interval ${intervalId} scheduled`,
        async () =>
          (await read<{ scheduled: boolean }>("intervalState", [intervalId])).scheduled ? true : undefined,
        120_000,
      );
      // Buyers claim their own fills (anyone may); the sellers' fills stay open.
      const own = await waitFor("a node's own schedule record", async () => {
        for (const n of env.nodes) {
          const o = await loadOwn<ScheduleExtra>(n.context, "schedule", intervalId);
          if (o !== undefined) return o;
        }
        return undefined;
      });
      const orders = ordersFromJson(own.extra.orders);
      const filledWh = own.extra.filledWh.map((f) => BigInt(f));
      const zonePrices = own.extra.zonePrices.map((p) => BigInt(p));
      const tree = buildFillTree(orders.map((o, i) => ({ orderId: o.orderId, filledWh: filledWh[i]! })));
      for (const [index, [orderId, filled]] of tree.entries()) {
        const order = orders.find((o) => o.orderId.toLowerCase() === orderId.toLowerCase())!;
        if (order.side !== 0) continue;
        const { orderId: _id, ...struct } = order;
        const buyer = parties.find((p) => p.account.address === order.owner)!;
        await env.write(buyer.account, env.addresses.market, energyMarketAbi, "claimFill", [
          tree.root,
          zonePrices,
          { order: struct, filledWh: BigInt(filled) },
          tree.getProof(index),
        ]);
      }
      await env.stopNodes();
      const stalled = await read<{
        receipts: bigint;
        payouts: bigint;
        settledCount: number;
        fillCount: number;
      }>("intervalState", [intervalId]);
      expect(stalled.settledCount, "buyers settled").to.equal(parties.filter((p) => p.side === "bid").length);
      expect(stalled.receipts > stalled.payouts, "buyers' payments held as receipts").to.equal(true);
      const held = await ledger();
      expect(held.exact, "ledger with receipts held and seller orders open").to.equal(true);
      expect(held.unsettledPayouts, "receipts − payouts").to.equal(stalled.receipts - stalled.payouts);

      const deadline = (intervalId + 1n) * INTERVAL + METER_WINDOW;
      await env.setTime(deadline);
      await env.startNodes(configs.slice(2, 5));
      const credited = await waitFor(
        `grid revenue of interval ${intervalId} collected`,
        async () => {
          const logs = await events("GridRevenueCredited", intervalId);
          return logs.length === 1 ? logs : undefined;
        },
        120_000,
      );
      const sellers = parties.filter((p) => p.side === "offer");
      const released = await events("OrderReleased", intervalId);
      expect(released, "every seller's order released").to.have.length(sellers.length);
      expect((credited[0]!.args as { amount: bigint }).amount, "revenue = buyers' payments").to.equal(
        stalled.receipts - stalled.payouts,
      );
      expect(await read<bigint>("operatorFunds", []), "operator funds").to.equal(
        fundsBefore + stalled.receipts - stalled.payouts,
      );
      // Sellers are back where they started (not paid: their fills never settled); buyers paid.
      const fills = await events("FillSettled", intervalId);
      const after = await freeBalances();
      parties.forEach((p, i) => {
        const fill = fills.find((l) => (l.args as { owner: Address }).owner === p.account.address);
        const amount = (fill?.args as { amount: bigint } | undefined)?.amount ?? 0n;
        expect(after[i], `${p.name}'s free balance`).to.equal(
          p.side === "bid" ? before[i]! - amount : before[i]!,
        );
      });
      const end = await ledger();
      expect(end.exact, "ledger exact after the keeper").to.equal(true);
      expect(
        end.bids + end.offerCollateral + end.fillCollateral + end.withheldPayouts + end.unsettledPayouts,
        "no lock left",
      ).to.equal(0n);
      console.log(
        `      keeper released ${released.reduce((s, l) => s + (l.args as { amount: bigint }).amount, 0n)} base units ` +
          `in ${released.length} seller orders and collected ${(credited[0]!.args as { amount: bigint }).amount} ` +
          `of grid revenue, ${await secondsAfter([...released, ...credited], deadline)} chain s after the meter deadline`,
      );
    });
  });
});
