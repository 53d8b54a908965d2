/**
 * What the chaos checks read: the market's events and state from the chain, and the committee's
 * dead-letter queues, failed jobs and meter stores from Redis. Nothing here comes from the demo's
 * own records, so a demo that misreports cannot make a check pass.
 */
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { type Address, type Hex, type PublicClient } from "viem";
import { energyMarketAbi, gridRegistryAbi, testTokenAbi } from "../../oracle/src/chain/abis.js";
import type { SuiteAddresses } from "../../oracle/src/devnet/deploy.js";
import { DEAD_LETTER_QUEUE, redisOptionsFromUrl } from "../../oracle/src/infra/queue.js";
import { PIPELINE_QUEUES } from "../../oracle/src/jobs/steps.js";

export interface OrderFact {
  readonly orderId: Hex;
  readonly owner: Address;
  readonly intervalId: bigint;
  readonly side: number;
  readonly zoneId: number;
  readonly quantityWh: bigint;
  readonly limitPricePerKwh: bigint;
}

export interface FillFact {
  readonly orderId: Hex;
  readonly owner: Address;
  readonly intervalId: bigint;
  readonly side: number;
  readonly filledWh: bigint;
  readonly amount: bigint;
}

export interface ImbalanceFact {
  readonly participant: Address;
  readonly intervalId: bigint;
  readonly deviationWh: bigint;
  readonly charged: bigint;
  readonly paid: bigint;
}

export interface IntervalFact {
  readonly intervalId: bigint;
  readonly scheduled: boolean;
  readonly fillCount: number;
  readonly settledCount: number;
  readonly receipts: bigint;
  readonly payouts: bigint;
  readonly meterRoot: Hex;
  /** From the ScheduleCommitted events (one expected). */
  readonly scheduleRoots: readonly Hex[];
  readonly zonePrices: readonly bigint[];
  readonly meterRoots: readonly Hex[];
}

export interface ChainFacts {
  readonly orders: readonly OrderFact[];
  readonly cancelled: readonly Hex[];
  readonly released: readonly Hex[];
  readonly fills: readonly FillFact[];
  readonly imbalances: readonly ImbalanceFact[];
  readonly collateralReleased: readonly { participant: Address; intervalId: bigint; amount: bigint }[];
  readonly intervals: ReadonlyMap<bigint, IntervalFact>;
  /** meter (lower case) → participant (lower case). */
  readonly meterOwner: ReadonlyMap<string, string>;
  /** Free balance (market-internal) of every account that ever deposited or traded, lower case. */
  readonly balances: ReadonlyMap<string, bigint>;
  readonly operatorFunds: bigint;
  readonly marketTokenBalance: bigint;
  readonly offerCollateralPerKwh: bigint;
  /** The grid's zone accounts (lower case): the balancing parties, never settled for imbalance. */
  readonly gridAccounts: ReadonlySet<string>;
  readonly chainTime: bigint;
  readonly meterDeadlines: ReadonlyMap<bigint, bigint>;
  readonly scheduleDeadlines: ReadonlyMap<bigint, bigint>;
}

const lower = (a: string) => a.toLowerCase();

export async function readChainFacts(
  client: PublicClient,
  addresses: SuiteAddresses,
  intervalIds: readonly bigint[],
): Promise<ChainFacts> {
  const market = addresses.market;
  const events = async (eventName: string) =>
    (await client.getContractEvents({
      address: market,
      abi: energyMarketAbi,
      eventName: eventName as "OrderPlaced",
      fromBlock: 0n,
    })) as unknown as { args: Record<string, unknown> }[];
  const read = (functionName: string, args: unknown[] = []) =>
    client.readContract({
      address: market,
      abi: energyMarketAbi,
      functionName: functionName as "operatorFunds",
      args: args as [],
    }) as Promise<unknown>;

  const orders = (await events("OrderPlaced")).map(({ args: a }) => ({
    orderId: a["orderId"] as Hex,
    owner: a["owner"] as Address,
    intervalId: a["intervalId"] as bigint,
    side: Number(a["side"]),
    zoneId: Number(a["zoneId"]),
    quantityWh: a["quantityWh"] as bigint,
    limitPricePerKwh: a["limitPricePerKwh"] as bigint,
  }));
  const cancelled = (await events("OrderCancelled")).map(({ args }) => args["orderId"] as Hex);
  const released = (await events("OrderReleased")).map(({ args }) => args["orderId"] as Hex);
  const fills = (await events("FillSettled")).map(({ args: a }) => ({
    orderId: a["orderId"] as Hex,
    owner: a["owner"] as Address,
    intervalId: a["intervalId"] as bigint,
    side: Number(a["side"]),
    filledWh: a["filledWh"] as bigint,
    amount: a["amount"] as bigint,
  }));
  const imbalances = (await events("ImbalanceSettled")).map(({ args: a }) => ({
    participant: a["participant"] as Address,
    intervalId: a["intervalId"] as bigint,
    deviationWh: a["deviationWh"] as bigint,
    charged: a["charged"] as bigint,
    paid: a["paid"] as bigint,
  }));
  const collateralReleased = (await events("CollateralReleased")).map(({ args: a }) => ({
    participant: a["participant"] as Address,
    intervalId: a["intervalId"] as bigint,
    amount: a["amount"] as bigint,
  }));
  const schedules = await events("ScheduleCommitted");
  const meterReports = await events("MeterReportCommitted");

  // Every interval any event names, plus those the run meant to trade in.
  const ids = new Set<bigint>(intervalIds);
  for (const o of orders) ids.add(o.intervalId);
  const intervals = new Map<bigint, IntervalFact>();
  const meterDeadlines = new Map<bigint, bigint>();
  const scheduleDeadlines = new Map<bigint, bigint>();
  for (const intervalId of [...ids].sort((a, b) => (a < b ? -1 : 1))) {
    const s = (await read("intervalState", [intervalId])) as {
      scheduled: boolean;
      fillCount: number;
      settledCount: number;
      receipts: bigint;
      payouts: bigint;
      meterRoot: Hex;
    };
    const ofInterval = (l: { args: Record<string, unknown> }) => l.args["intervalId"] === intervalId;
    const committed = schedules.filter(ofInterval);
    intervals.set(intervalId, {
      intervalId,
      scheduled: s.scheduled,
      fillCount: Number(s.fillCount),
      settledCount: Number(s.settledCount),
      receipts: s.receipts,
      payouts: s.payouts,
      meterRoot: s.meterRoot,
      scheduleRoots: committed.map((l) => l.args["scheduleRoot"] as Hex),
      zonePrices: (committed[0]?.args["zonePrices"] as readonly bigint[] | undefined) ?? [],
      meterRoots: meterReports.filter(ofInterval).map((l) => l.args["meterRoot"] as Hex),
    });
    meterDeadlines.set(intervalId, (await read("meterDeadline", [intervalId])) as bigint);
    scheduleDeadlines.set(intervalId, (await read("scheduleDeadline", [intervalId])) as bigint);
  }

  const meterOwner = new Map<string, string>();
  for (const l of (await client.getContractEvents({
    address: addresses.registry,
    abi: gridRegistryAbi,
    eventName: "MeterRegistered",
    fromBlock: 0n,
  })) as unknown as { args: { meter: Address; participant: Address } }[])
    meterOwner.set(lower(l.args.meter), lower(l.args.participant));

  const accounts = new Set<string>();
  for (const l of await events("Deposited")) accounts.add(lower(l.args["account"] as string));
  for (const o of orders) accounts.add(lower(o.owner));
  const balances = new Map<string, bigint>();
  for (const account of accounts) balances.set(account, (await read("balanceOf", [account])) as bigint);
  const gridAccounts = new Set<string>();
  for (const account of accounts) {
    const [isGrid] = (await client.readContract({
      address: addresses.registry,
      abi: gridRegistryAbi,
      functionName: "gridZoneOf",
      args: [account as Address],
    })) as readonly [boolean, number];
    if (isGrid) gridAccounts.add(account);
  }

  return {
    orders,
    cancelled,
    released,
    fills,
    imbalances,
    collateralReleased,
    intervals,
    meterOwner,
    balances,
    operatorFunds: (await read("operatorFunds")) as bigint,
    marketTokenBalance: (await client.readContract({
      address: addresses.token,
      abi: testTokenAbi,
      functionName: "balanceOf",
      args: [market],
    })) as bigint,
    offerCollateralPerKwh: (await read("offerCollateralPerKwh")) as bigint,
    gridAccounts,
    chainTime: (await client.getBlock({ blockTag: "latest" })).timestamp,
    meterDeadlines,
    scheduleDeadlines,
  };
}

export interface FailedJobFact {
  readonly prefix: string;
  readonly queue: string;
  readonly jobId: string;
  readonly failedReason: string;
}

export interface DeadLetterFact {
  readonly prefix: string;
  readonly id: string;
  readonly queue: string;
  readonly jobId: string;
  readonly reason: string;
}

export interface RedisFacts {
  readonly failed: readonly FailedJobFact[];
  readonly deadLetters: readonly DeadLetterFact[];
  /** prefix → intervalId → meter (lower case) → reading; conflict markers are left out. */
  readonly meterStores: ReadonlyMap<
    string,
    ReadonlyMap<bigint, ReadonlyMap<string, { injectedWh: bigint; consumedWh: bigint }>>
  >;
}

export async function readRedisFacts(redisUrl: string, prefixes: readonly string[]): Promise<RedisFacts> {
  const connection = redisOptionsFromUrl(redisUrl);
  const failed: FailedJobFact[] = [];
  const deadLetters: DeadLetterFact[] = [];
  for (const prefix of prefixes) {
    for (const name of PIPELINE_QUEUES) {
      const queue = new Queue(name, { connection, prefix });
      try {
        for (const job of await queue.getFailed(0, -1))
          failed.push({ prefix, queue: name, jobId: job.id ?? "", failedReason: job.failedReason ?? "" });
      } finally {
        await queue.close();
      }
    }
    const dlq = new Queue(DEAD_LETTER_QUEUE, { connection, prefix });
    try {
      for (const job of await dlq.getJobs([
        "waiting",
        "delayed",
        "active",
        "completed",
        "failed",
        "prioritized",
      ])) {
        const data = job.data as { queue?: string; jobId?: string; reason?: string };
        deadLetters.push({
          prefix,
          id: job.id ?? "",
          queue: data.queue ?? "",
          jobId: data.jobId ?? "",
          reason: data.reason ?? "",
        });
      }
    } finally {
      await dlq.close();
    }
  }

  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const meterStores = new Map<string, Map<bigint, Map<string, { injectedWh: bigint; consumedWh: bigint }>>>();
  try {
    for (const prefix of prefixes) {
      const perInterval = new Map<bigint, Map<string, { injectedWh: bigint; consumedWh: bigint }>>();
      meterStores.set(prefix, perInterval);
      for (const key of await redis.keys(`${prefix}:meter:*`)) {
        const intervalPart = key.split(":").at(-1) ?? "";
        if (!/^\d+$/.test(intervalPart) || (await redis.type(key)) !== "hash") continue;
        const readings = new Map<string, { injectedWh: bigint; consumedWh: bigint }>();
        for (const [meter, raw] of Object.entries(await redis.hgetall(key))) {
          const value = JSON.parse(raw) as { conflict?: true; injectedWh?: string; consumedWh?: string };
          if (value.conflict === true) continue;
          readings.set(lower(meter), {
            injectedWh: BigInt(value.injectedWh!),
            consumedWh: BigInt(value.consumedWh!),
          });
        }
        perInterval.set(BigInt(intervalPart), readings);
      }
    }
  } finally {
    redis.disconnect();
  }
  return { failed, deadLetters, meterStores };
}
