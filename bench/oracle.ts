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
 *   settleFills, reverted ones included), gasUsed from their receipts;
 * - stagesMs: where the commit time goes, from the nodes' own pino records (see `stages`).
 *
 * Setup is not timed and does not use the pipeline: participants are registered, funded and
 * deposited, and the orders placed, with automine off — raw transactions signed here with explicit
 * nonces, gas limits (one eth_estimateGas per kind of call) and fee caps, sent in JSON-RPC batches
 * and mined with evm_mine, many per block. The base fee those full blocks drove up is put back to
 * its value before setup, and automine is switched on again before chain time is moved to gate
 * closure: from there on the committee runs exactly as in production (automine, one block per
 * transaction).
 *
 * Writes bench/results/oracle.json. A size that does not settle within `ORACLE_BENCH_LIMIT_MS`
 * (default 15 minutes) gets a row with null figures and the stage it reached.
 * `ORACLE_BENCH_SIZES=100,1000` runs a subset.
 */
import { writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import {
  type Abi,
  type Address,
  type Hex,
  type LocalAccount,
  decodeFunctionData,
  encodeFunctionData,
  keccak256,
  parseEventLogs,
  toHex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { energyMarketAbi, gridRegistryAbi, testTokenAbi } from "../oracle/src/chain/abis.js";
import { createLogger } from "../oracle/src/infra/logging.js";
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

/** Durations (ms) along the submitting node's path, and when each node reached each stage. */
interface Stages {
  /** gate-closure block → "interval collected" (scheduler tick, order book from logs, digest check). */
  gateToCollected: number | null;
  /** → "interval solved" (queue hop, dispatch on the solver thread, fill tree, committee read). */
  collectedToSolved: number | null;
  /** → "report signed" (EIP-712 signature, own record, POST to the four peers). */
  solvedToSigned: number | null;
  /** → "quorum reached" (aggregate job: waits until 3 of 5 signatures are held). */
  signedToQuorum: number | null;
  /** → "transaction sent" of the commit (submit stagger by rank, on-chain checks, fees, send). */
  quorumToTxSent: number | null;
  /** → "report committed" (receipt observed). */
  txSentToCommitted: number | null;
  /** → `scheduled` observed by the bench's poll. */
  committedToScheduled: number | null;
  /** `scheduled` → every fill settled. */
  scheduledToSettled: number | null;
  /** Per stage, ms after the gate-closure block at which the first and the last of the 5 nodes logged it. */
  nodes: Record<string, { first: number; last: number; count: number }>;
  /** Rank of the node that committed (its submit waited rank × 1.5 s after its quorum). */
  submitterRank: number | null;
}

interface Row {
  orders: number;
  commitMs: number | null;
  settleMs: number | null;
  txs: number | null;
  gas: number | null;
  stagesMs?: Stages;
  placeMs?: number;
  setupMs?: number;
  load?: string;
  reason?: string;
}

const SIZES = (process.env["ORACLE_BENCH_SIZES"] ?? "100,1000,10000").split(",").map(Number);
const LIMIT_MS = Number(process.env["ORACLE_BENCH_LIMIT_MS"] ?? 15 * 60_000);
const QUANTITY_WH = 10n;
const CHAIN_ID = 31_337;

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

const loadAverage = () =>
  execFileSync("uptime", { encoding: "utf8" })
    .trim()
    .replace(/^.*load/, "load");

/** JSON-RPC batch request (one HTTP round trip); throws on the first error answer. */
async function rpcBatch(
  env: Env,
  calls: readonly { method: string; params: unknown[] }[],
): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let start = 0; start < calls.length; start += 500) {
    const chunk = calls.slice(start, start + 500);
    const res = await fetch(env.chain.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(chunk.map((c, i) => ({ jsonrpc: "2.0", id: i, ...c }))),
    });
    const answers = (await res.json()) as { id: number; result?: unknown; error?: { message: string } }[];
    if (!Array.isArray(answers)) throw new Error(`batch answered ${JSON.stringify(answers).slice(0, 300)}`);
    answers.sort((a, b) => a.id - b.id);
    for (const [i, a] of answers.entries()) {
      if (a.error !== undefined) throw new Error(`${chunk[i]!.method}: ${a.error.message}`);
      out.push(a.result);
    }
  }
  return out;
}

interface RawCall {
  readonly from: LocalAccount;
  readonly to: Address;
  readonly data: Hex;
}

const nonces = new Map<string, number>();
const FEE_CAP = 10n ** 12n; // 1,000 gwei: full blocks raise the base fee by 12.5 % each

/**
 * Sends `calls` as raw transactions with automine off and mines them with evm_mine until the pool
 * is empty; every receipt must be a success. One eth_estimateGas (the first call, ×1.3) sets the
 * gas limit of all of them, so they must be calls of one kind.
 */
async function sendMined(env: Env, what: string, calls: readonly RawCall[]): Promise<void> {
  if (calls.length === 0) return;
  const first = calls[0]!;
  const estimate = BigInt(
    (await env.rpc("eth_estimateGas", [
      { from: first.from.address, to: first.to, data: first.data },
    ])) as string,
  );
  const gas = (estimate * 13n) / 10n;
  for (const c of calls)
    if (!nonces.has(c.from.address))
      nonces.set(
        c.from.address,
        Number(await env.client.getTransactionCount({ address: c.from.address, blockTag: "pending" })),
      );
  const raw: Hex[] = [];
  for (const c of calls) {
    const nonce = nonces.get(c.from.address)!;
    nonces.set(c.from.address, nonce + 1);
    raw.push(
      await c.from.signTransaction!({
        chainId: CHAIN_ID,
        type: "eip1559",
        to: c.to,
        data: c.data,
        nonce,
        gas,
        maxFeePerGas: FEE_CAP,
        maxPriorityFeePerGas: 1n,
      }),
    );
  }
  await env.rpc("evm_setAutomine", [false]);
  let hashes: Hex[];
  try {
    hashes = (await rpcBatch(
      env,
      raw.map((r) => ({ method: "eth_sendRawTransaction", params: [r] })),
    )) as Hex[];
    for (;;) {
      await env.rpc("evm_mine", []);
      const block = (await env.rpc("eth_getBlockByNumber", ["latest", false])) as { transactions: Hex[] };
      if (block.transactions.length === 0) break;
    }
  } finally {
    await env.rpc("evm_setAutomine", [true]);
  }
  const receipts = (await rpcBatch(
    env,
    hashes.map((h) => ({ method: "eth_getTransactionReceipt", params: [h] })),
  )) as ({ status: Hex } | null)[];
  const failed = receipts.filter((r) => r === null || r.status !== "0x1").length;
  if (failed > 0)
    throw new Error(`${what}: ${failed} of ${calls.length} transactions failed or were not mined`);
}

const call = (abi: Abi, functionName: string, args: unknown[]) =>
  encodeFunctionData({ abi, functionName, args } as never) as Hex;

/** Registers, funds and deposits for every account (raw transactions, many per block). */
async function setupTraders(env: Env, accounts: readonly LocalAccount[]): Promise<void> {
  const operator = devAccount(0);
  const { registry, token, market: m } = env.addresses;
  await env.write(operator, registry, gridRegistryAbi, "addZone", ["zone-0"]);
  await rpcBatch(
    env,
    accounts.map((a) => ({ method: "hardhat_setBalance", params: [a.address, "0x56bc75e2d63100000"] })),
  );
  await sendMined(
    env,
    "registerParticipant",
    accounts.map((a) => ({
      from: operator,
      to: registry,
      data: call(gridRegistryAbi as Abi, "registerParticipant", [a.address, 0]),
    })),
  );
  await sendMined(
    env,
    "mint",
    accounts.map((a) => ({
      from: operator,
      to: token,
      data: call(testTokenAbi as Abi, "mint", [a.address, DEPOSIT]),
    })),
  );
  await sendMined(
    env,
    "approve",
    accounts.map((a) => ({ from: a, to: token, data: call(testTokenAbi as Abi, "approve", [m, DEPOSIT]) })),
  );
  await sendMined(
    env,
    "deposit",
    accounts.map((a) => ({ from: a, to: m, data: call(energyMarketAbi as Abi, "deposit", [DEPOSIT]) })),
  );
}

/** Each of the first count/2 accounts places an offer and a bid of 10 Wh for `intervalId`. */
async function placeMany(env: Env, accounts: readonly LocalAccount[], intervalId: bigint, count: number) {
  const used = accounts.slice(0, count / 2);
  for (const side of ["placeOffer", "placeBid"] as const)
    await sendMined(
      env,
      side,
      used.map((a, k) => ({
        from: a,
        to: env.addresses.market,
        data: call(energyMarketAbi as Abi, side, [
          intervalId,
          0,
          QUANTITY_WH,
          side === "placeBid" ? priceAt(2 * k + 1, 80_000) : priceAt(2 * k, 50_000),
          intervalId,
        ]),
      })),
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

/** A pino record of one of the in-process nodes. */
interface LogRecord {
  readonly node: number;
  readonly time: number;
  readonly msg: string;
  readonly intervalId?: string;
  readonly kind?: string;
  readonly rank?: number;
  readonly queue?: string;
  readonly err?: { message?: string };
}

const records: LogRecord[] = [];
/** A logger per node whose records (info and up) are kept in `records` with their epoch-ms time. */
function captureLogger(node: number) {
  return createLogger({
    level: "info", // "job attempt failed" is a warning: kept too
    base: { node },
    destination: {
      write(line: string) {
        const r = JSON.parse(line) as Omit<LogRecord, "time"> & { time: string };
        records.push({ ...r, node, time: Date.parse(r.time) });
      },
    },
  });
}

const STAGE_MESSAGES = [
  "interval collected",
  "interval solved",
  "report signed",
  "quorum reached",
  "transaction sent",
  "report committed",
  "fills settled",
] as const;

function stages(
  intervalId: bigint,
  t0: number,
  commitAt: number | undefined,
  settledAt: number | undefined,
): Stages {
  const id = intervalId.toString();
  const mine = records.filter(
    (r) =>
      r.time >= t0 &&
      STAGE_MESSAGES.includes(r.msg as (typeof STAGE_MESSAGES)[number]) &&
      // The sender's "transaction sent" carries no interval: in this window only this interval commits.
      (r.intervalId === id || (r.msg === "transaction sent" && r.kind === "commit-schedule")),
  );
  const nodes: Stages["nodes"] = {};
  for (const msg of STAGE_MESSAGES) {
    const times = mine.filter((r) => r.msg === msg).map((r) => r.time - t0);
    if (times.length > 0)
      nodes[msg] = { first: Math.min(...times), last: Math.max(...times), count: times.length };
  }
  const committed = mine.find((r) => r.msg === "report committed");
  const at = (msg: string) =>
    committed === undefined ? undefined : mine.find((r) => r.node === committed.node && r.msg === msg)?.time;
  const marks = [
    t0,
    at("interval collected"),
    at("interval solved"),
    at("report signed"),
    at("quorum reached"),
    at("transaction sent"),
    committed?.time,
    commitAt,
    settledAt,
  ];
  const d = (i: number) =>
    marks[i] === undefined || marks[i + 1] === undefined ? null : Math.round(marks[i + 1]! - marks[i]!);
  const quorum =
    committed === undefined
      ? undefined
      : mine.find((r) => r.node === committed.node && r.msg === "quorum reached");
  return {
    gateToCollected: d(0),
    collectedToSolved: d(1),
    solvedToSigned: d(2),
    signedToQuorum: d(3),
    quorumToTxSent: d(4),
    txSentToCommitted: d(5),
    committedToScheduled: d(6),
    scheduledToSettled: d(7),
    nodes,
    submitterRank: quorum?.rank ?? null,
  };
}

/** Failed job attempts logged by the nodes since `t0`, by queue, with the first error message. */
function failures(t0: number): string {
  const failed = records.filter((r) => r.time >= t0 && r.msg === "job attempt failed");
  if (failed.length === 0) return "no failed job attempts";
  const byQueue = new Map<string, number>();
  for (const r of failed) byQueue.set(r.queue ?? "?", (byQueue.get(r.queue ?? "?") ?? 0) + 1);
  const first = failed[0]!.err?.message?.split("\n")[0] ?? "?";
  return `failed job attempts: ${[...byQueue].map(([q, n]) => `${q} ${n}`).join(", ")} (first: ${first})`;
}

/** The last stage any node reached (for a size that did not finish). */
function reached(intervalId: bigint, t0: number): string {
  const s = stages(intervalId, t0, undefined, undefined);
  const last = [...STAGE_MESSAGES].reverse().find((m) => s.nodes[m] !== undefined);
  return last === undefined
    ? "no node logged 'interval collected'"
    : `last stage logged: '${last}' (${JSON.stringify(s.nodes[last])})`;
}

async function measure(env: Env, accounts: readonly LocalAccount[], orders: number): Promise<Row> {
  // Leave a few blocks (≥ 1 s of chain time each) of room before gate closure.
  const intervalId = (await env.now()) / INTERVAL + 2n;
  const baseFee = (await env.client.getBlock()).baseFeePerGas!;
  const placeStart = performance.now();
  await placeMany(env, accounts, intervalId, orders);
  const placeMs = Math.round(performance.now() - placeStart);
  // Full blocks of orders raised the base fee; the committee sends at the fee of a quiet chain.
  await env.rpc("hardhat_setNextBlockBaseFeePerGas", [toHex(baseFee)]);
  const read = () =>
    env.client.readContract({
      address: env.addresses.market,
      abi: energyMarketAbi,
      functionName: "intervalState",
      args: [intervalId],
    });
  const load = loadAverage();
  await env.setTime(intervalId * INTERVAL - GATE + 1n);
  const t0 = Date.now();
  // viem caches the block number for 4 s by default: a short run would read a stale head.
  const gateBlock = await env.client.getBlockNumber({ cacheTime: 0 });
  let commitAt: number | undefined;
  const deadline = t0 + LIMIT_MS;
  let readErrors = 0;
  for (;;) {
    let s: Awaited<ReturnType<typeof read>>;
    try {
      s = await read();
    } catch {
      // A saturated node answers late; keep polling until the limit.
      readErrors++;
      if (Date.now() > deadline)
        s = { scheduled: commitAt !== undefined, settledCount: -1, fillCount: -1 } as never;
      else continue;
    }
    if (s.scheduled && commitAt === undefined) commitAt = Date.now();
    if (s.scheduled && s.settledCount >= 0 && s.settledCount === s.fillCount) break;
    if (Date.now() > deadline) {
      const state =
        s.settledCount < 0
          ? `${commitAt === undefined ? "not scheduled" : "scheduled"}, the node did not answer the state read`
          : s.scheduled
            ? `scheduled, ${s.settledCount} of ${s.fillCount} fills settled`
            : "not scheduled";
      return {
        orders,
        commitMs: commitAt === undefined ? null : commitAt - t0,
        settleMs: null,
        txs: null,
        gas: null,
        stagesMs: stages(intervalId, t0, commitAt, undefined),
        placeMs,
        load,
        reason:
          `did not settle within ${LIMIT_MS / 1000} s of gate closure: ${state}; ${reached(intervalId, t0)}; ` +
          `${readErrors} of the bench's state reads failed; ${failures(t0)}`,
      };
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const settledAt = Date.now();
  const { txs, gas } = await oracleTxs(
    env,
    gateBlock,
    await env.client.getBlockNumber({ cacheTime: 0 }),
    intervalId,
  );
  return {
    orders,
    commitMs: commitAt! - t0,
    settleMs: settledAt - t0,
    txs,
    gas: Number(gas),
    stagesMs: stages(intervalId, t0, commitAt, settledAt),
    placeMs,
    load,
  };
}

async function main() {
  const env = await startEnv();
  let nodes: OracleNode[] = [];
  const rows: Row[] = [];
  try {
    const accounts = traders(Math.max(...SIZES) / 2);
    const setupStart = performance.now();
    const baseFee = (await env.client.getBlock()).baseFeePerGas!;
    await setupTraders(env, accounts);
    await env.rpc("hardhat_setNextBlockBaseFeePerGas", [toHex(baseFee)]);
    const setupMs = Math.round(performance.now() - setupStart);
    process.stdout.write(`set up ${accounts.length} participants in ${setupMs} ms (${loadAverage()})\n`);
    // No meter readings in the bench: keep earlier intervals' meter reports out of the timed window.
    const { configs } = await nodeConfigs(env, { meterGraceSeconds: "86400" });
    nodes = await startNodes(configs, (i) => ({ logger: captureLogger(i + 1) }));
    for (const orders of SIZES) {
      const row = {
        ...(await measure(env, accounts, orders)),
        ...(orders / 2 === accounts.length ? { setupMs } : {}),
      };
      rows.push(row);
      process.stdout.write(
        `${orders} orders: commit ${row.commitMs} ms, settle ${row.settleMs} ms, ${row.txs} txs, ${row.gas} gas ` +
          `(placing took ${row.placeMs} ms; ${row.load})${row.reason === undefined ? "" : ` — ${row.reason}`}\n` +
          `  stages: ${JSON.stringify(row.stagesMs)}\n`,
      );
      if (row.settleMs === null) break;
    }
    writeFileSync(new URL("./results/oracle.json", import.meta.url), `${JSON.stringify(rows, null, 2)}\n`);
    process.stdout.write("| orders | commitMs | settleMs | txs | gas |\n|---|---|---|---|---|\n");
    for (const r of rows)
      process.stdout.write(`| ${r.orders} | ${r.commitMs} | ${r.settleMs} | ${r.txs} | ${r.gas} |\n`);
  } finally {
    // A node whose job is stuck on a saturated RPC would hold close() until the job gives up.
    await Promise.race([
      Promise.allSettled(nodes.map((n) => n.close())),
      new Promise((r) => setTimeout(r, 30_000).unref()),
    ]);
    await env.stop();
  }
}

await main();
// Nodes that did not close within 30 s keep handles open; the results are written.
process.exit(0);
