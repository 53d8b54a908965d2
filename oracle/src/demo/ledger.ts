/**
 * Reads every term of the market's conservation identity (domain/ledger.ts) from the chain: the
 * market's event history tells which orders are still open and which sell fills still hold
 * collateral; the contract's views give free balances, each interval's receipts and payouts, the
 * operator funds and the token balance. Used by the demo's closing check and the e2e tests.
 */
import { type Address, type PublicClient, erc20Abi, parseEventLogs } from "viem";
import { energyMarketAbi } from "../chain/abis.js";
import { type Ledger, type LedgerOrder, marketLedger } from "../domain/ledger.js";

/** How many view calls are in flight at once (the local node answers a few hundred at a time well). */
const READS_IN_FLIGHT = 64;

async function inChunks<T, R>(items: readonly T[], read: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += READS_IN_FLIGHT)
    out.push(...(await Promise.all(items.slice(i, i + READS_IN_FLIGHT).map(read))));
  return out;
}

export async function readMarketLedger(
  client: PublicClient,
  market: Address,
  token: Address,
  fromBlock = 0n,
): Promise<Ledger> {
  const logs = parseEventLogs({
    abi: energyMarketAbi,
    logs: await client.getLogs({ address: market, fromBlock, toBlock: "latest" }),
  });
  const orders = new Map<string, LedgerOrder & { owner: string; intervalId: bigint }>();
  const closed = new Set<string>();
  const holders = new Set<Address>();
  const intervals = new Set<bigint>();
  // Settled sell fills by (owner, interval), and the (owner, interval) pairs whose imbalance or
  // collateral is settled: the difference still holds collateral.
  const sellFills = new Map<string, bigint>();
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
        if (log.args.side === 1 && log.args.filledWh > 0n)
          sellFills.set(key(log.args.owner, log.args.intervalId), log.args.filledWh);
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
    pendingSellFillsWh: [...sellFills.entries()].filter(([k]) => !imbalanceDone.has(k)).map(([, wh]) => wh),
    intervalSurpluses: states.map((s) => s.receipts - s.payouts),
    operatorFunds,
    offerCollateralPerKwh,
  });
}
