/**
 * getLogs per collect for the flexibility orders, before and after the incremental reader
 * (`npx tsx bench/flex-reads.ts [batteries] [intervals] [blocksPerInterval]`, default 20 24 450):
 * on a Hardhat node, `batteries` batteries each hold one standing order; for each of `intervals`
 * intervals the committee (played by hand, test/oracle/client/flexChain.ts) settles one charge step
 * per battery, then `blocksPerInterval` empty blocks are mined (450 = a 2-second-block L2 over 15
 * minutes), and one collect's flexibility read runs both ways, counted at the transport:
 *
 *   before: the full read (test/oracle/chain/flex-full-read.ts, the replaced code): three getLogs
 *           from the start block to latest;
 *   after:  chain/flexibility.ts `flexStatesAt` on one long-lived reader (depth 2, the config's
 *           `confirmations` default).
 *
 * Both answers are compared (a mismatch aborts). Writes bench/results/flex-reads.json. A bench, not a
 * test.
 */
import { writeFileSync } from "node:fs";
import { type PublicClient, createPublicClient, custom, http } from "viem";

// The client tests' chain registers a mocha root hook; this script runs it itself at the end.
const hooks: (() => Promise<void>)[] = [];
(globalThis as { after?: unknown }).after = (fn: (this: { timeout(ms: number): void }) => Promise<void>) =>
  hooks.push(() => fn.call({ timeout() {} }));

const { clientChain } = await import("../test/oracle/client/chain.js");
const { batteryOwner, flexMarketOf, firstOpen, settleSteps } =
  await import("../test/oracle/client/flexChain.js");
const { placeFlexOrder } = await import("../oracle/src/client/index.js");
const { FlexLogReader } = await import("../oracle/src/chain/flex-log-reader.js");
const { flexStatesAt } = await import("../oracle/src/chain/flexibility.js");
const { fullRead } = await import("../test/oracle/chain/flex-full-read.js");

const BATTERIES = Number(process.argv[2] ?? 20);
const INTERVALS = Number(process.argv[3] ?? 24);
const BLOCKS_PER_INTERVAL = Number(process.argv[4] ?? 450);
const DEPTH = 2n;

interface Counted {
  calls: number;
  blocks: bigint;
  logs: number;
}
function countingClient(url: string) {
  const inner = http(url)({ chain: undefined, retryCount: 0 });
  const count: Counted = { calls: 0, blocks: 0n, logs: 0 };
  const transport = custom({
    async request({ method, params }) {
      const result = await inner.request({ method, params } as never);
      if (method === "eth_getLogs") {
        const [filter] = params as [{ fromBlock: string; toBlock: string }];
        count.calls++;
        count.logs += (result as unknown[]).length;
        // "latest" is resolved by the node: count it as the head at the time.
        const to =
          filter.toBlock === "latest"
            ? BigInt((await inner.request({ method: "eth_blockNumber" } as never)) as string)
            : BigInt(filter.toBlock);
        count.blocks += to - BigInt(filter.fromBlock) + 1n;
      }
      return result;
    },
  });
  const take = () => {
    const out = { ...count };
    Object.assign(count, { calls: 0, blocks: 0n, logs: 0 });
    return out;
  };
  return { client: createPublicClient({ transport }) as PublicClient, take };
}

try {
  const chain = await clientChain();
  const flex = await flexMarketOf(chain);
  const first = (await firstOpen(chain)) + 1n;
  const orders = [];
  for (let b = 0; b < BATTERIES; b++) {
    const owner = await batteryOwner(chain);
    orders.push(
      await placeFlexOrder(owner.clients, {
        market: chain.market,
        batteryId: owner.batteryId,
        firstInterval: first,
        lastInterval: first + BigInt(INTERVALS),
        maxChargePricePerKwh: 200_000n,
        minDischargePricePerKwh: 250_000n,
        chargeBudget: 1_000_000n,
        initialSocWh: 2_000n,
      }),
    );
  }
  const before = countingClient(chain.url);
  const after = countingClient(chain.url);
  const reader = new FlexLogReader(after.client, flex, 0n);
  type Reads = { getLogs: number; blocks: number; logs: number };
  const rows: { collect: number; head: number; before: Reads; after: Reads & { ms: number } }[] = [];
  for (let k = 0; k < INTERVALS; k++) {
    const interval = first + BigInt(k);
    await settleSteps(
      chain,
      interval,
      100_000n,
      // 200 Wh until the battery is nearly full (SoC 2,000 + 30 × 190), then idle steps: each is
      // a FlexStepSettled log either way.
      orders.map((o) => ({ order: o.order, direction: "charge" as const, energyWh: k < 30 ? 200n : 0n })),
    );
    await chain.publicClient.request({
      method: "hardhat_mine" as never,
      params: [`0x${BLOCKS_PER_INTERVAL.toString(16)}`] as never,
    });
    // The next interval's collect: its orders' state from the steps settled so far.
    const next = interval + 1n;
    const full = (await fullRead(before.client, flex, 0n)).activeAt(next, next);
    const old = before.take();
    const t0 = performance.now();
    const incremental = await flexStatesAt(reader, next, next, DEPTH);
    const ms = performance.now() - t0;
    const now = after.take();
    if (
      JSON.stringify(full, (_, v) => (typeof v === "bigint" ? `${v}` : v)) !==
      JSON.stringify(incremental, (_, v) => (typeof v === "bigint" ? `${v}` : v))
    )
      throw new Error(`interval ${next}: the incremental answer differs from the full read`);
    const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const row = {
      collect: k + 1,
      head: Number(head),
      before: { getLogs: old.calls, blocks: Number(old.blocks), logs: old.logs },
      after: { getLogs: now.calls, blocks: Number(now.blocks), logs: now.logs, ms: Math.round(ms) },
    };
    rows.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }
  const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((s, r) => s + f(r), 0);
  const summary = {
    batteries: BATTERIES,
    intervals: INTERVALS,
    blocksPerInterval: BLOCKS_PER_INTERVAL,
    depth: Number(DEPTH),
    total: {
      before: {
        getLogs: sum((r) => r.before.getLogs),
        blocks: sum((r) => r.before.blocks),
        logs: sum((r) => r.before.logs),
      },
      after: {
        getLogs: sum((r) => r.after.getLogs),
        blocks: sum((r) => r.after.blocks),
        logs: sum((r) => r.after.logs),
      },
    },
    rows,
  };
  process.stdout.write(`${JSON.stringify(summary.total)}\n`);
  writeFileSync(
    new URL("./results/flex-reads.json", import.meta.url),
    `${JSON.stringify(summary, null, 2)}\n`,
  );
} finally {
  for (const h of hooks) await h();
}
