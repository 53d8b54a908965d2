/**
 * chain/flex-log-reader.ts and chain/flexibility.ts against a real Hardhat chain (the client tests'
 * chain.ts and flexChain.ts): the incremental reader gives the full read's answer (flex-full-read.ts,
 * the code it replaced) after every transaction of a scenario where orders are placed, stepped,
 * cancelled and changed; and, counted at the transport, a second read with no new blocks reads
 * only the last `reorgDepth` blocks again.
 */
import { expect } from "chai";
import { type Address, type PublicClient, createPublicClient, custom, http } from "viem";
import { FlexLogReader } from "../../../oracle/src/chain/flex-log-reader.js";
import { flexStatesAt, readActiveFlexOrders, readFlexOrders } from "../../../oracle/src/chain/flexibility.js";
import {
  cancelFlexOrder,
  changeFlexOrder,
  placeFlexOrder,
  type PlaceFlexOrderReturnType,
} from "../../../oracle/src/client/index.js";
import type { FlexOrder } from "../../../oracle/src/domain/eip712.js";
import { type ClientChain, clientChain } from "../client/chain.js";
import {
  type BatteryOwner,
  batteryOwner,
  catchUp,
  firstOpen,
  flexMarketOf,
  settleSteps,
} from "../client/flexChain.js";
import { fullRead } from "./flex-full-read.js";

/** A transport around http that counts eth_getLogs and the blocks each one spans. */
function countingClient(url: string) {
  const inner = http(url);
  const calls: { from: bigint; to: bigint }[] = [];
  const transport = custom({
    async request({ method, params }) {
      if (method === "eth_getLogs") {
        const [filter] = params as [{ fromBlock: string; toBlock: string }];
        calls.push({ from: BigInt(filter.fromBlock), to: BigInt(filter.toBlock) });
      }
      return inner({ chain: undefined, retryCount: 0 }).request({ method, params } as never);
    },
  });
  const client = createPublicClient({ transport }) as PublicClient;
  return { client, calls };
}

describe("FlexLogReader (incremental FlexibilityMarket events)", function () {
  this.timeout(600_000);
  let chain: ClientChain;
  let flex: Address;

  before(async () => {
    chain = await clientChain();
    await catchUp(chain);
    flex = await flexMarketOf(chain);
  });

  describe("when orders are placed, stepped, cancelled and changed", () => {
    it("gives the full read's orders and states after every transaction, long-lived and fresh", async () => {
      // Long-lived readers with different depths, page sizes and horizons (retain 0: every query
      // below the newest `before` asked is answered by a fresh read).
      const readers = [
        {
          name: "depth 2, 2,000-block pages",
          reader: new FlexLogReader(chain.publicClient, flex, 0n),
          depth: 2n,
        },
        {
          name: "depth 0, 3-block pages, retain 1",
          reader: new FlexLogReader(chain.publicClient, flex, 0n, { blocksPerRead: 3n, retainIntervals: 1n }),
          depth: 0n,
        },
        {
          name: "depth 5, 7-block pages, retain 0",
          reader: new FlexLogReader(chain.publicClient, flex, 0n, { blocksPerRead: 7n, retainIntervals: 0n }),
          depth: 5n,
        },
      ];
      const first = (await firstOpen(chain)) + 1n;
      const intervals = Array.from({ length: 10 }, (_, k) => first - 2n + BigInt(k));
      let checks = 0;
      let nonEmpty = 0;
      const check = async (label: string) => {
        const reference = await fullRead(chain.publicClient, flex, 0n);
        // Ascending, then a few older bounds again: the horizons move and the fallbacks run.
        const queries = [...intervals, ...intervals.slice(0, 3)].flatMap((i) =>
          [i, i - 1n, i - 3n].map((before) => ({ i, before, want: reference.activeAt(i, before) })),
        );
        nonEmpty += queries.filter((q) => q.want.length > 0).length;
        checks += queries.length;
        const fresh = new FlexLogReader(chain.publicClient, flex, 0n, { blocksPerRead: 5n });
        // Each reader reads the orders, then answers every query in the order above (its fold and
        // horizon move with them); the readers share nothing but the chain, so they run side by
        // side, and the client's batching sends their requests together: ~1,900 reads per check,
        // one at a time, were most of this file's time.
        await Promise.all(
          [
            ...readers.map((r) => ({ ...r, orders: true })),
            { name: "fresh", reader: fresh, depth: 2n, orders: false },
          ].map(async ({ name, reader, depth, orders }) => {
            if (orders)
              expect(
                await reader.read(depth, ({ index, tail }) => index.orders(tail)),
                `${label}: orders, ${name}`,
              ).to.deep.equal(reference.orders);
            for (const { i, before, want } of queries)
              expect(
                await flexStatesAt(reader, i, before, depth),
                `${label}: interval ${i} before ${before}, ${name}`,
              ).to.deep.equal(want);
          }),
        );
      };

      const owners: BatteryOwner[] = [];
      for (let k = 0; k < 3; k++) owners.push(await batteryOwner(chain));
      const order = (o: BatteryOwner, from: bigint, to: bigint, soc: bigint) =>
        placeFlexOrder(o.clients, {
          market: chain.market,
          batteryId: o.batteryId,
          firstInterval: from,
          lastInterval: to,
          maxChargePricePerKwh: 200_000n,
          minDischargePricePerKwh: 250_000n,
          chargeBudget: 2_000_000n,
          initialSocWh: soc,
        });
      await check("before any order");
      const a = await order(owners[0]!, first, first + 5n, 2_000n);
      await check("A placed");
      const b = await order(owners[1]!, first, first + 5n, 3_000n);
      await check("B placed");
      const c = await order(owners[2]!, first + 4n, first + 6n, 1_500n);
      await check("C placed");

      const live: Map<string, FlexOrder> = new Map([
        [a.orderId, a.order],
        [b.orderId, b.order],
        [c.orderId, c.order],
      ]);
      let changed: PlaceFlexOrderReturnType | undefined;
      for (let k = first; k < first + 6n; k++) {
        if (k === first + 2n) {
          await cancelFlexOrder(owners[2]!.clients, { market: chain.market, order: c.order });
          await check("C cancelled before its window");
          const replacement = {
            ...a.order,
            firstInterval: await firstOpen(chain),
            nonce: a.order.nonce + 1n,
          };
          const out = await changeFlexOrder(owners[0]!.clients, {
            market: chain.market,
            current: a.order,
            replacement,
          });
          changed = { orderId: out.orderId, order: out.order } as PlaceFlexOrderReturnType;
          live.set(out.orderId, out.order);
          await check("A changed");
        }
        // Every order active in k gets a charge step (the contract settles all of them at once).
        const reference = await fullRead(chain.publicClient, flex, 0n);
        const active = reference.activeAt(k, k).filter((s) => live.has(s.orderId));
        expect(active.length, `an order active in ${k}`).to.be.greaterThan(0);
        await settleSteps(
          chain,
          k,
          100_000n + 10_000n * (k - first),
          active.map((s) => ({
            order: live.get(s.orderId)!,
            direction: "charge" as const,
            energyWh: 400n + 100n * (k - first),
          })),
        );
        await check(`interval ${k} stepped`);
      }
      expect(changed, "the change ran").to.not.equal(undefined);
      expect(nonEmpty, "some answers hold active orders").to.be.greaterThan(50);
      expect(checks).to.be.greaterThan(100);
      // The public entry points agree too (their own cached reader, battery read from the registry).
      const reference = await fullRead(chain.publicClient, flex, 0n);
      expect(await readFlexOrders(chain.publicClient, flex, 0n)).to.deep.equal(reference.orders);
      const viaPublic = await readActiveFlexOrders(
        chain.publicClient,
        { flexibilityMarket: flex, registry: chain.addresses.registry },
        first + 3n,
        0n,
      );
      expect(viaPublic.map(({ battery: _b, ...s }) => s)).to.deep.equal(
        reference.activeAt(first + 3n, first + 3n).map(({ endInterval: _e, ...s }) => s),
      );
      expect(viaPublic.every((s) => s.battery !== null)).to.equal(true);
    });
  });

  describe("when called again with no new blocks (counted at the transport)", () => {
    it("reads only the last reorgDepth blocks again, and after new blocks only those", async () => {
      const { client, calls } = countingClient(chain.url);
      const reader = new FlexLogReader(client, flex, 0n);
      const depth = 2n;
      const head = await client.getBlockNumber({ cacheTime: 0 });
      await reader.read(depth, () => undefined);
      const firstCalls = calls.splice(0);
      const span = (cs: typeof calls) => cs.reduce((n, c) => n + (c.to - c.from + 1n), 0n);
      expect(firstCalls.length, "first read: one getLogs per 2,000 blocks").to.equal(
        Number(head / 2_000n + 1n),
      );
      expect(span(firstCalls), "first read spans every block").to.equal(head + 1n);
      expect(reader.foldedThrough).to.equal(head - depth);

      await reader.read(depth, () => undefined);
      const second = calls.splice(0);
      expect(second, "second read: one getLogs").to.have.length(1);
      expect(second[0], "only the blocks above the fold").to.deep.equal({
        from: head - depth + 1n,
        to: head,
      });

      for (let k = 0; k < 5; k++) await chain.mineAt((await chain.now()) + 1n);
      await reader.read(depth, () => undefined);
      const third = calls.splice(0);
      expect(third).to.deep.equal([{ from: head - depth + 1n, to: head + 5n }]);
      expect(reader.foldedThrough).to.equal(head + 5n - depth);
    });
  });
});
