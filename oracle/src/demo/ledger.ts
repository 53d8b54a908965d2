/**
 * Reads every term of the market's conservation identity (domain/ledger.ts) from the chain: the
 * market's event history tells which orders are still open and which sell fills still hold
 * collateral; the contract's views give free balances, each interval's receipts and payouts, the
 * operator funds and the token balance. Used by the demo's closing check and the e2e tests.
 * FlexibilityMarket's books likewise: its events list the orders placed and refunded; its views
 * give what each spent, the owners' balances and its token balance.
 */
import { type Address, type Hex, type Log, type PublicClient, erc20Abi, parseEventLogs } from "viem";
import { energyMarketAbi, flexibilityMarketAbi, gridRegistryAbi } from "../chain/abis.js";
import {
  type FlexLedger,
  type Ledger,
  type LedgerOrder,
  flexLedger,
  marketLedger,
} from "../domain/ledger.js";

/** Blocks per log read: a small share of a full demo day, so each response stays well below the body limit. */
const LOG_BLOCKS_PER_READ = 1_000n;

/** How many view calls are in flight at once (the local node answers a few hundred at a time well). */
const READS_IN_FLIGHT = 64;

async function inChunks<T, R>(items: readonly T[], read: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += READS_IN_FLIGHT)
    out.push(...(await Promise.all(items.slice(i, i + READS_IN_FLIGHT).map(read))));
  return out;
}

/**
 * Every log of `address` from `fromBlock` to the latest block, read in ranges of `blocksPerRead`
 * blocks: a full demo day's history in one response (15.7 MB) exceeds the HTTP client's 10 MB body
 * limit, and the demo then failed after its last interval.
 */
export async function getLogsInRanges(
  client: Pick<PublicClient, "getBlockNumber" | "getLogs">,
  address: Address,
  fromBlock: bigint,
  blocksPerRead: bigint = LOG_BLOCKS_PER_READ,
): Promise<Log[]> {
  if (blocksPerRead < 1n) throw new RangeError(`blocksPerRead must be at least 1, got ${blocksPerRead}`);
  const latest = await client.getBlockNumber({ cacheTime: 0 });
  const logs: Log[] = [];
  for (let from = fromBlock; from <= latest; from += blocksPerRead) {
    const to = from + blocksPerRead - 1n < latest ? from + blocksPerRead - 1n : latest;
    logs.push(...(await client.getLogs({ address, fromBlock: from, toBlock: to })));
  }
  return logs;
}

export async function readMarketLedger(
  client: PublicClient,
  market: Address,
  token: Address,
  fromBlock = 0n,
): Promise<Ledger> {
  const logs = parseEventLogs({
    abi: energyMarketAbi,
    logs: await getLogsInRanges(client, market, fromBlock),
  });
  const orders = new Map<string, LedgerOrder & { owner: string; intervalId: bigint }>();
  const closed = new Set<string>();
  const holders = new Set<Address>();
  const intervals = new Set<bigint>();
  // Settled fills (buy and sell) by (owner, interval, side), and the (owner, interval) pairs whose
  // imbalance or collateral is settled: the difference still holds collateral (and a seller's
  // withheld payout).
  const fills = new Map<string, { owner: Address; intervalId: bigint; side: 0 | 1; filledWh: bigint }>();
  const imbalanceDone = new Set<string>();
  const key = (owner: string, intervalId: bigint) => `${owner.toLowerCase()}/${intervalId}`;
  for (const log of logs) {
    switch (log.eventName) {
      case "Deposited":
        holders.add(log.args.account);
        break;
      case "OrderPlaced":
        holders.add(log.args.owner);
        intervals.add(log.args.intervalId);
        orders.set(log.args.orderId, {
          owner: log.args.owner,
          intervalId: log.args.intervalId,
          side: log.args.side === 0 ? 0 : 1,
          quantityWh: log.args.quantityWh,
          limitPricePerKwh: log.args.limitPricePerKwh,
        });
        break;
      case "OrderCancelled":
      case "OrderReleased":
        closed.add(log.args.orderId);
        break;
      case "FillSettled":
        closed.add(log.args.orderId);
        if (log.args.filledWh > 0n)
          fills.set(`${key(log.args.owner, log.args.intervalId)}/${log.args.side}`, {
            owner: log.args.owner,
            intervalId: log.args.intervalId,
            side: log.args.side === 0 ? 0 : 1,
            filledWh: log.args.filledWh,
          });
        break;
      case "ImbalanceSettled":
        imbalanceDone.add(key(log.args.participant, log.args.intervalId));
        break;
      case "CollateralReleased":
        imbalanceDone.add(key(log.args.participant, log.args.intervalId));
        break;
      default:
        break;
    }
  }
  const pending = [...fills.values()].filter((f) => !imbalanceDone.has(key(f.owner, f.intervalId)));
  // The grid's accounts keep nothing locked after fill settlement (never settled for imbalance).
  const registry = await client.readContract({
    address: market,
    abi: energyMarketAbi,
    functionName: "registry",
  });
  const pendingOwners = [...new Set(pending.map((f) => f.owner))];
  const gridFlags = await inChunks(pendingOwners, (o) =>
    client.readContract({ address: registry, abi: gridRegistryAbi, functionName: "gridZoneOf", args: [o] }),
  );
  const isGrid = new Map(pendingOwners.map((o, i) => [o, gridFlags[i]![0]]));
  const pendingHousehold = pending.filter((f) => isGrid.get(f.owner) !== true);
  const pendingSells = pendingHousehold.filter((f) => f.side === 1);
  const withheldPayouts = await inChunks(pendingSells, (f) =>
    client.readContract({
      address: market,
      abi: energyMarketAbi,
      functionName: "pendingPayout",
      args: [f.owner, f.intervalId],
    }),
  );
  const holderList = [...holders];
  const intervalList = [...intervals];
  const [marketTokenBalance, operatorFunds, offerCollateralPerKwh, freeBalances, states] = await Promise.all([
    client.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [market] }),
    client.readContract({ address: market, abi: energyMarketAbi, functionName: "operatorFunds" }),
    client.readContract({ address: market, abi: energyMarketAbi, functionName: "offerCollateralPerKwh" }),
    inChunks(holderList, (h) =>
      client.readContract({ address: market, abi: energyMarketAbi, functionName: "balanceOf", args: [h] }),
    ),
    inChunks(intervalList, (id) =>
      client.readContract({
        address: market,
        abi: energyMarketAbi,
        functionName: "intervalState",
        args: [id],
      }),
    ),
  ]);
  return marketLedger({
    marketTokenBalance,
    freeBalances,
    openOrders: [...orders.entries()].filter(([id]) => !closed.has(id)).map(([, o]) => o),
    pendingFillsWh: pendingHousehold.map((f) => f.filledWh),
    withheldPayouts,
    intervalSurpluses: states.map((s) => s.receipts - s.payouts),
    operatorFunds,
    offerCollateralPerKwh,
  });
}

/**
 * Every term of FlexibilityMarket's identity (domain/ledger.ts `flexLedger`) read from the chain:
 * `FlexOrderPlaced` gives each order's budget and owner, `FlexFundsRefunded` the orders whose
 * unspent budget went back to their owner; `orderState` what each order's charges spent.
 */
export async function readFlexLedger(
  client: Pick<PublicClient, "getBlockNumber" | "getLogs" | "readContract">,
  flexibilityMarket: Address,
  token: Address,
  fromBlock = 0n,
): Promise<FlexLedger> {
  const logs = parseEventLogs({
    abi: flexibilityMarketAbi,
    logs: await getLogsInRanges(client, flexibilityMarket, fromBlock),
  });
  const budgets = new Map<Hex, bigint>();
  const refunded = new Set<Hex>();
  const owners = new Set<Address>();
  for (const log of logs) {
    if (log.eventName === "FlexOrderPlaced") {
      budgets.set(log.args.orderId, log.args.order.chargeBudget);
      owners.add(log.args.owner);
    } else if (log.eventName === "FlexFundsRefunded") refunded.add(log.args.orderId);
  }
  const open = [...budgets.entries()].filter(([id]) => !refunded.has(id));
  const [tokenBalance, balances, states] = await Promise.all([
    client.readContract({
      address: token,
      abi: erc20Abi,
      functionName: "balanceOf",
      args: [flexibilityMarket],
    }),
    inChunks([...owners], (o) =>
      client.readContract({
        address: flexibilityMarket,
        abi: flexibilityMarketAbi,
        functionName: "balanceOf",
        args: [o],
      }),
    ),
    inChunks(open, ([id]) =>
      client.readContract({
        address: flexibilityMarket,
        abi: flexibilityMarketAbi,
        functionName: "orderState",
        args: [id],
      }),
    ),
  ]);
  return flexLedger({
    tokenBalance,
    balances,
    openBudgets: open.map(([, chargeBudget], i) => ({ chargeBudget, spent: states[i]!.spent })),
  });
}
