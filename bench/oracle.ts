/**
 * `npm run bench:oracle`: the oracle pipeline end to end on a local Hardhat node with a real
 * Redis and a 3-of-5 committee of in-process oracle nodes (the e2e harness's settings:
 * submitStaggerMs 1500, settleStaggerMs 2500, scheduler tick 300 ms). For each size, the orders
 * of one interval are placed on chain before gate closure (not timed); then chain time is moved
 * past gate closure and the wall clock measures:
 *
 * - commitMs: gate-closure block mined → `intervalState.scheduled` observed (polled every 25 ms);
 * - settleMs: gate-closure block mined → every fill settled;
 * - txs, gas: the committee members' transactions for that interval (commitSchedule and
 *   settleFills, reverted ones included), gasUsed from their receipts.
 *
 * Writes bench/results/oracle.json. Sizes run only while the projected time fits the budget
 * (`ORACLE_BENCH_BUDGET_MS`, default 5 minutes); a size that does not fit gets a row with null
 * figures and the reason.
 */
import { writeFileSync } from "node:fs";
import {
  type Address,
  type LocalAccount,
  type WalletClient,
  createWalletClient,
  http,
  decodeFunctionData,
  keccak256,
  parseEventLogs,
  toHex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { energyMarketAbi, gridRegistryAbi, testTokenAbi } from "../oracle/src/chain/abis.js";
import type { OracleNode } from "../oracle/src/node/node.js";
import {
  DEPOSIT,
  type Env,
  GATE,
  INTERVAL,
  devAccount,
  nodeConfigs,
  startEnv,
  startNodes,
} from "../test/e2e/harness.js";

interface Row {
  orders: number;
  commitMs: number | null;
  settleMs: number | null;
  txs: number | null;
  gas: number | null;
  placeMs?: number;
  reason?: string;
}

const SIZES = [100, 1_000, 10_000];
const BUDGET_MS = Number(process.env["ORACLE_BENCH_BUDGET_MS"] ?? 5 * 60_000);
const QUANTITY_WH = 10n;

/** Deterministic limit prices: sellers 50 000–149 999, buyers 80 000–179 999 per kWh. */
const priceAt = (i: number, base: number) => BigInt(base + ((i * 7919) % 100_000));

/**
 * The market holds one bid and one offer per participant and interval, so `n` orders need n/2
 * participants, each placing a bid and an offer. Generated keys, funded with hardhat_setBalance.
 */
function traders(count: number): LocalAccount[] {
  return Array.from({ length: count }, (_, k) =>
    privateKeyToAccount(keccak256(toHex(`gridbrain-bench-${k}`))),
  );
}

const wallets = new Map<string, WalletClient>();
/** Wallets with a long timeout and no transport retry (a retried send could double-spend a nonce). */
function wallet(env: Env, account: LocalAccount): WalletClient {
  let w = wallets.get(account.address);
  if (w === undefined) {
    w = createWalletClient({
      account,
      chain: env.client.chain!,
      transport: http(env.chain.url, { timeout: 120_000, retryCount: 0 }),
    });
    wallets.set(account.address, w);
  }
  return w;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Registers, funds and deposits for every account (automine: each send returns once mined). */
async function setupTraders(env: Env, accounts: readonly LocalAccount[]): Promise<void> {
  const operator = devAccount(0);
  const { registry, token, market: m } = env.addresses;
  await env.write(operator, registry, gridRegistryAbi, "addZone", ["zone-0"]);
  const send = async (
    account: LocalAccount,
    address: Address,
    abi: unknown,
    functionName: string,
    args: unknown[],
    nonce: number,
  ) =>
    wallet(env, account).writeContract({
      address,
      abi: abi as typeof energyMarketAbi,
      functionName: functionName as "deposit",
      args: args as [bigint],
      account,
      chain: env.client.chain!,
      gas: 300_000n,
      nonce,
    });
  let opNonce = await env.client.getTransactionCount({ address: operator.address, blockTag: "pending" });
  for (const a of accounts) {
    await env.rpc("hardhat_setBalance", [a.address, "0x56bc75e2d63100000"]);
    await send(operator, registry, gridRegistryAbi, "registerParticipant", [a.address, 0], opNonce++);
    await send(operator, token, testTokenAbi, "mint", [a.address, DEPOSIT], opNonce++);
  }
  await pool(accounts, 6, async (a) => {
    await send(a, token, testTokenAbi, "approve", [m, DEPOSIT], 0);
    await send(a, m, energyMarketAbi, "deposit", [DEPOSIT], 1);
  });
}

/** Each of the first count/2 accounts places a bid and an offer of 10 Wh for `intervalId`. */
async function placeMany(env: Env, accounts: readonly LocalAccount[], intervalId: bigint, count: number) {
  const used = accounts.slice(0, count / 2);
  await pool(
    used.map((a, k) => [a, k] as const),
    16,
    async ([a, k]) => {
      let nonce = await env.client.getTransactionCount({ address: a.address, blockTag: "pending" });
      for (const side of ["placeOffer", "placeBid"] as const) {
        const hash = await wallet(env, a).writeContract({
          address: env.addresses.market,
          abi: energyMarketAbi,
          functionName: side,
          args: [
            intervalId,
            0,
            QUANTITY_WH,
            side === "placeBid" ? priceAt(2 * k + 1, 80_000) : priceAt(2 * k, 50_000),
            intervalId,
          ],
          account: a,
          chain: env.client.chain!,
          gas: 400_000n,
          nonce: nonce++,
        });
        const r = await env.client.getTransactionReceipt({ hash });
        if (r.status !== "success") throw new Error("an order reverted");
      }
    },
  );
}

async function oracleTxs(env: Env, fromBlock: bigint, toBlock: bigint, intervalId: bigint) {
  const members = new Set(env.members.map((m) => m.address.toLowerCase()));
  let txs = 0;
  let gas = 0n;
  for (let b = fromBlock; b <= toBlock; b++) {
    const block = await env.client.getBlock({ blockNumber: b, includeTransactions: true });
    for (const tx of block.transactions) {
      if (!members.has(tx.from.toLowerCase())) continue;
      if (tx.to?.toLowerCase() !== env.addresses.market.toLowerCase()) continue;
      const call = decodeFunctionData({ abi: energyMarketAbi, data: tx.input });
      if (call.functionName !== "commitSchedule" && call.functionName !== "settleFills") continue;
      const receipt = await env.client.getTransactionReceipt({ hash: tx.hash });
      const logs = parseEventLogs({ abi: energyMarketAbi, logs: receipt.logs });
      const forInterval = logs.some(
        (l) => "intervalId" in l.args && (l.args as { intervalId: bigint }).intervalId === intervalId,
      );
      // A reverted transaction has no logs; in this window it can only belong to this interval.
      if (!forInterval && receipt.status === "success") continue;
      txs++;
      gas += receipt.gasUsed;
    }
  }
  return { txs, gas };
}

async function measure(env: Env, accounts: readonly LocalAccount[], orders: number): Promise<Row> {
  // Hardhat moves chain time ≥ 1 s per block, so leave room for one block per order before gate closure.
  const intervalId = (await env.now()) / INTERVAL + 2n + BigInt(Math.ceil(orders / 600));
  const placeStart = performance.now();
  await placeMany(env, accounts, intervalId, orders);
  const placeMs = Math.round(performance.now() - placeStart);
  const read = () =>
    env.client.readContract({
      address: env.addresses.market,
      abi: energyMarketAbi,
      functionName: "intervalState",
      args: [intervalId],
    });
  await env.setTime(intervalId * INTERVAL - GATE + 1n);
  const t0 = performance.now();
  const gateBlock = await env.client.getBlockNumber();
  let commitMs: number | undefined;
  const deadline = t0 + 600_000;
  for (;;) {
    const s = await read();
    if (s.scheduled && commitMs === undefined) commitMs = performance.now() - t0;
    if (s.scheduled && s.settledCount === s.fillCount) break;
    if (performance.now() > deadline) throw new Error(`${orders} orders: not settled after 10 minutes`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const settleMs = performance.now() - t0;
  const { txs, gas } = await oracleTxs(env, gateBlock, await env.client.getBlockNumber(), intervalId);
  return {
    orders,
    commitMs: Math.round(commitMs!),
    settleMs: Math.round(settleMs),
    txs,
    gas: Number(gas),
    placeMs,
  };
}

async function main() {
  const env = await startEnv();
  let nodes: OracleNode[] = [];
  const rows: Row[] = [];
  try {
    const accounts = traders(Math.max(...SIZES.slice(0, 2)) / 2);
    const setupStart = performance.now();
    await setupTraders(env, accounts);
    const setupMsPerParticipant = (performance.now() - setupStart) / accounts.length;
    process.stdout.write(
      `set up ${accounts.length} participants in ${Math.round(performance.now() - setupStart)} ms\n`,
    );
    // No meter readings in the bench: keep earlier intervals' meter reports out of the timed window.
    const { configs } = await nodeConfigs(env, { meterGraceSeconds: "86400" });
    nodes = await startNodes(configs);
    let last: Row | undefined;
    for (const orders of SIZES) {
      if (last !== undefined && last.settleMs !== null) {
        // Participant setup, placement and settlement all grow about linearly in the number of orders.
        const projected =
          (setupMsPerParticipant * orders) / 2 + ((last.placeMs! + last.settleMs) * orders) / last.orders;
        if (projected > BUDGET_MS || orders / 2 > accounts.length) {
          rows.push({
            orders,
            commitMs: null,
            settleMs: null,
            txs: null,
            gas: null,
            reason:
              `not run: ${orders / 2} participants to set up (one bid and one offer each per interval), projected ` +
              `${Math.round(projected / 1000)} s for setup + placing + settlement (scaled linearly from the ` +
              `${last.orders}-order run), over the ${BUDGET_MS / 1000} s budget on this machine`,
          });
          process.stdout.write(`${orders} orders: skipped (projected ${Math.round(projected / 1000)} s)\n`);
          continue;
        }
      }
      const row = await measure(env, accounts, orders);
      rows.push(row);
      last = row;
      process.stdout.write(
        `${orders} orders: commit ${row.commitMs} ms, settle ${row.settleMs} ms, ${row.txs} txs, ${row.gas} gas (placing took ${row.placeMs} ms)\n`,
      );
    }
  } finally {
    await Promise.allSettled(nodes.map((n) => n.close()));
    await env.stop();
  }
  writeFileSync(new URL("./results/oracle.json", import.meta.url), `${JSON.stringify(rows, null, 2)}\n`);
  process.stdout.write("| orders | commitMs | settleMs | txs | gas |\n|---|---|---|---|---|\n");
  for (const r of rows)
    process.stdout.write(`| ${r.orders} | ${r.commitMs} | ${r.settleMs} | ${r.txs} | ${r.gas} |\n`);
}

await main();
