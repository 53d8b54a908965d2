/** Redrawing everything the account sees, and running a user action followed by a redraw. */
import { energyMarketAbi } from "../../oracle/src/chain/abis.ts";
import { drawPriceChart } from "./chart.ts";
import { showCertificates } from "./certificates.ts";
import { describeError } from "./errors.ts";
import { showFlex } from "./flex.ts";
import { showBalances } from "./funds.ts";
import { openIntervals, readZone, showBook, showIntervals, showMyOrders } from "./orders.ts";
import { $, fmt, market, reader, state, status } from "./state.ts";

/** Committed intervals drawn in the price chart. */
const CHART_INTERVALS = 24;

export async function refresh(): Promise<void> {
  const account = state.account;
  if (account === undefined || state.token === undefined) return;
  const now = (await reader.getBlock({ blockTag: "latest" })).timestamp;
  const open = openIntervals(now);
  showIntervals(open);
  const zone = await readZone(account);
  state.zone = zone;
  $("zone").textContent = zone === undefined ? "not registered" : String(zone);
  const schedules = await reader.getContractEvents({
    address: market,
    abi: energyMarketAbi,
    eventName: "ScheduleCommitted",
    fromBlock: 0n,
    toBlock: "latest",
  });
  await Promise.all([
    showBook(open, zone),
    showMyOrders(account, act),
    showBalances(),
    showFlex(account, act),
  ]);
  drawPriceChart(
    $("price-chart") as unknown as SVGSVGElement,
    schedules
      .slice(-CHART_INTERVALS)
      .map((e) => ({ intervalId: e.args.intervalId!, zonePrices: e.args.zonePrices! })),
    fmt,
    zone,
  );
  await showCertificates(account, act);
}

/** Runs `work`, shows `done` or the failure, then redraws. */
export async function act(done: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
    status(done, "ok");
  } catch (error) {
    status(describeError(error), "error");
  }
  await refresh().catch((error: unknown) => status(describeError(error), "error"));
}
