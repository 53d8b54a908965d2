/**
 * client/settleFlexSteps.ts against a real chain and a real Proof API server: a prosumer who is
 * not the battery's owner settles a flexibility order's steps from the node's `/schedule` answer
 * alone (the committee played by hand, flexChain.ts). The order is active in four intervals; the
 * first is never committed, so it blocks the others until its meter deadline, when the action
 * closes it as missed and settles the rest in order. A node answer that is not the chain's
 * commitment is refused before anything is sent.
 */
import { expect } from "chai";
import type { Address } from "viem";
import { energyMarketAbi, flexibilityMarketAbi } from "../../../oracle/src/chain/abis.js";
import {
  type PlaceFlexOrderReturnType,
  type WriteClients,
  ClientError,
  placeFlexOrder,
  settleFlexSteps,
} from "../../../oracle/src/client/index.js";
import { type ClientChain, clientChain } from "./chain.js";
import {
  type CommittedFlexSchedule,
  batteryOwner,
  catchUp,
  commitFlexSchedule,
  firstOpen,
  flexMarketOf,
  scheduleServer,
} from "./flexChain.js";

/** The ClientError `p` rejects with (fails the test when it resolves). */
async function clientError(p: Promise<unknown>): Promise<ClientError> {
  const error = await p.then(
    (r) =>
      expect.fail(
        `expected a ClientError, got ${JSON.stringify(r, (_k, v: unknown) => (typeof v === "bigint" ? `${v}` : v))}`,
      ),
    (e: unknown) => e,
  );
  expect(error).to.be.instanceOf(ClientError);
  return error as ClientError;
}

describe("settleFlexSteps", function () {
  this.timeout(300_000);
  let chain: ClientChain;
  let server: Awaited<ReturnType<typeof scheduleServer>>;
  let placed: PlaceFlexOrderReturnType;
  let claimant: WriteClients;
  let flex: Address;
  let first: bigint;
  /** Intervals first + 1 … first + 3, committed with one charge step each (first is never committed). */
  const committed: CommittedFlexSchedule[] = [];
  /** Charges (Wh, zone price) of first + 1 … first + 3. */
  const CHARGES = [
    [1_000n, 150_000n],
    [500n, 100_000n],
    [500n, 120_000n],
  ] as const;

  const sent = () =>
    chain.publicClient.getTransactionCount({ address: claimant.walletClient.account.address });
  const cursor = () =>
    chain.publicClient.readContract({
      address: flex,
      abi: flexibilityMarketAbi,
      functionName: "nextInterval",
    });
  const settle = (intervalId: bigint) =>
    settleFlexSteps(claimant, { market: chain.market, nodeUrl: server.url, intervalId });

  before(async () => {
    chain = await clientChain();
    await catchUp(chain);
    flex = await flexMarketOf(chain);
    server = await scheduleServer();
    const owner = await batteryOwner(chain);
    claimant = await chain.newProsumer(0n);
    first = (await firstOpen(chain)) + 1n;
    placed = await placeFlexOrder(owner.clients, {
      market: chain.market,
      batteryId: owner.batteryId,
      firstInterval: first,
      lastInterval: first + 3n,
      maxChargePricePerKwh: 200_000n,
      minDischargePricePerKwh: 250_000n,
      chargeBudget: 1_000_000n,
      initialSocWh: 2_000n,
    });
    for (const [k, [energyWh, price]] of CHARGES.entries()) {
      const c = await commitFlexSchedule(chain, first + 1n + BigInt(k), price, [
        { order: placed.order, direction: "charge", energyWh },
      ]);
      committed.push(c);
      server.serve(c.intervalId, c.served);
    }
  });
  after(() => server?.close());

  describe("when an earlier interval with an active order is not committed and its meter deadline is ahead", () => {
    it("fails with FlexIntervalPending naming that interval and until when, sending nothing", async () => {
      const before = await sent();
      const cursorBefore = await cursor();
      const target = first + 3n;
      const e = await clientError(settle(target));
      expect(e.errorName).to.equal("FlexIntervalPending");
      expect(e.message).to.contain(`the flexibility steps of interval ${target} wait for interval ${first}`);
      const meterDeadline = await chain.publicClient.readContract({
        address: chain.market,
        abi: energyMarketAbi,
        functionName: "meterDeadline",
        args: [first],
      });
      expect(e.message).to.contain(
        `was never committed (its schedule deadline passed at unix time ${first * 900n + 300n}); it can be closed as missed from unix time ${meterDeadline}`,
      );
      expect(e.meta).to.deep.equal({ intervalId: target, waitsFor: first });
      expect(await sent(), "no transaction").to.equal(before);
      expect(await cursor(), "the cursor did not move").to.equal(cursorBefore);
    });
  });

  describe("when the node's answer is not the chain's commitment", () => {
    it("refuses a step whose energy differs from the committed one (NodeScheduleRejected), sending nothing", async () => {
      const c = committed[2]!;
      server.serve(c.intervalId, {
        ...c.served,
        steps: c.served.steps.map((s) => ({ ...s, energyWh: (BigInt(s.energyWh) + 1n).toString() })),
      });
      const before = await sent();
      try {
        const e = await clientError(settle(c.intervalId));
        expect(e.errorName).to.equal("NodeScheduleRejected");
        expect(e.message).to.contain(
          `the schedule of interval ${c.intervalId} from node ${server.url} does not match the chain; nothing was sent`,
        );
        expect(e.details).to.match(/^scheduleRoot: /);
        expect(await sent(), "no transaction").to.equal(before);
      } finally {
        server.serve(c.intervalId, c.served);
      }
    });
  });

  describe("once the blocking interval's meter deadline has passed", () => {
    it("closes it as missed, then settles the committed intervals in order, each charge ceil(price × Wh / 1000)", async () => {
      const deadline = await chain.publicClient.readContract({
        address: chain.market,
        abi: energyMarketAbi,
        functionName: "meterDeadline",
        args: [first],
      });
      await chain.mineAt(deadline);
      const target = first + 3n;
      const out = await settle(target);
      if (out.status !== "settled now") return expect.fail(`expected settled now, got ${out.status}`);
      const charges = CHARGES.map(([wh, price]) => (price * wh + 999n) / 1000n);
      expect(out.intervals.map((i) => [i.intervalId, i.outcome, i.steps, i.charged, i.paid])).to.deep.equal([
        [first, "missed", 1, 0n, 0n],
        [first + 1n, "settled", 1, charges[0], 0n],
        [first + 2n, "settled", 1, charges[1], 0n],
        [first + 3n, "settled", 1, charges[2], 0n],
      ]);
      expect(await cursor()).to.equal(target + 1n);
      const steps = await chain.publicClient.getContractEvents({
        address: flex,
        abi: flexibilityMarketAbi,
        eventName: "FlexStepSettled",
        args: { orderId: placed.orderId },
        fromBlock: 0n,
      });
      expect(steps.map((s) => [s.args.intervalId, s.args.energyWh, s.args.amount])).to.deep.equal(
        CHARGES.map(([wh], k) => [first + 1n + BigInt(k), wh, charges[k]]),
      );
      for (const [k, s] of steps.entries()) {
        expect(s.transactionHash).to.equal(out.intervals[k + 1]!.transaction);
        const tx = await chain.publicClient.getTransaction({ hash: s.transactionHash });
        expect(tx.from.toLowerCase(), "sent by the claimant, not the owner").to.equal(
          claimant.walletClient.account.address.toLowerCase(),
        );
      }
      const [missed] = await chain.publicClient.getContractEvents({
        address: flex,
        abi: flexibilityMarketAbi,
        eventName: "FlexIntervalMissed",
        args: { intervalId: first },
        fromBlock: 0n,
      });
      expect(missed?.transactionHash).to.equal(out.intervals[0]!.transaction);
      const state = await chain.publicClient.readContract({
        address: chain.market,
        abi: energyMarketAbi,
        functionName: "intervalState",
        args: [target],
      });
      expect(state.settledCount, "the step is a settled leaf of the interval").to.equal(state.fillCount);
    });

    it("reports an interval behind the cursor as already settled and one without an active order as having none, sending nothing", async () => {
      const before = await sent();
      expect(await settle(first + 2n)).to.deep.equal({ status: "already settled" });
      expect(await settle(first + 10n)).to.deep.equal({ status: "no steps" });
      expect(await sent()).to.equal(before);
    });
  });
});
