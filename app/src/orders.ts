/**
 * The order book of the zone for the next open intervals, the account's orders with their state
 * and imbalance, and the interval chooser; orders are read with the client's `readOrders`.
 */
import { type Address, formatUnits } from "viem";
import { energyMarketAbi, gridRegistryAbi } from "../../oracle/src/chain/abis.ts";
import {
  type OrderRecord,
  cancelOrder,
  placeOrder,
  readOrders,
  sideCode,
} from "../../oracle/src/client/index.ts";
import { $, buttonCell, fmt, market, reader, row, settings, state } from "./state.ts";
import { writeClients } from "./wallet.ts";

const OPEN_INTERVALS = 4n;

/** The next intervals whose gate is still open, as chain time says. */
export function openIntervals(now: bigint): bigint[] {
  const open: bigint[] = [];
  for (let i = now / state.intervalSeconds; open.length < OPEN_INTERVALS; i++)
    if (i * state.intervalSeconds - state.gateClosureSeconds > now) open.push(i);
  return open;
}

/** Refills the interval chooser, keeping the chosen interval. */
export function showIntervals(open: readonly bigint[]): void {
  const select = $("interval-select") as HTMLSelectElement;
  const chosen = select.value;
  select.replaceChildren(
    ...open.map(
      (i) =>
        new Option(
          `${i} (gate ${new Date(Number(i * state.intervalSeconds - state.gateClosureSeconds) * 1000).toLocaleTimeString()})`,
          String(i),
        ),
    ),
  );
  // A chosen interval whose gate has closed stays chosen (labelled): placing an order for it then
  // fails readably with "Gate closed" instead of silently going to another interval.
  if (chosen !== "" && !open.some((i) => String(i) === chosen))
    select.prepend(new Option(`${chosen} (gate closed)`, chosen));
  if (chosen !== "") select.value = chosen;
}

/** The zone the account is registered in, or undefined. */
export async function readZone(account: Address): Promise<number | undefined> {
  if (settings.registry === "") return undefined;
  return reader
    .readContract({
      address: settings.registry as Address,
      abi: gridRegistryAbi,
      functionName: "participantZone",
      args: [account],
    })
    .then(([registered, zoneId]) => (registered ? Number(zoneId) : undefined))
    .catch(() => undefined);
}

/** The open intervals' live orders (not cancelled or released) in the account's zone. */
export async function showBook(open: readonly bigint[], zone: number | undefined): Promise<void> {
  const book = (await readOrders(reader, { market, intervalIds: open })).filter(
    (o) => o.state !== "cancelled" && o.state !== "released" && (zone === undefined || o.zoneId === zone),
  );
  $("book-rows").replaceChildren(
    ...book.map((o) =>
      row([
        String(o.intervalId),
        o.side,
        formatUnits(o.quantityWh, 3),
        fmt(o.limitPricePerKwh),
        `${o.owner.slice(0, 8)}…`,
      ]),
    ),
  );
}

function stateText(o: OrderRecord): string {
  if (o.state === "cancelled" || o.state === "released") return "cancelled";
  if (o.filledWh !== null) {
    const kwh = formatUnits(o.filledWh, 3);
    const amount = fmt(o.settledAmount ?? 0n);
    if (o.side === "bid") return `bought ${kwh} kWh for ${amount}`;
    return o.pendingPayout > 0n
      ? `sold ${kwh} kWh for ${amount}: paid once delivery is settled`
      : `sold ${kwh} kWh: paid ${amount} at delivery`;
  }
  return o.state === "closed" ? "gate closed" : o.state;
}

/** The account's orders, newest first, with a Cancel button on open ones. */
export async function showMyOrders(
  account: Address,
  act: (done: string, work: () => Promise<void>) => Promise<void>,
) {
  const [mine, imbalance] = await Promise.all([
    readOrders(reader, { market, owner: account }),
    imbalanceColumn(account),
  ]);
  $("order-rows").replaceChildren(
    ...mine.reverse().map((o) => {
      const text = stateText(o);
      const tr = row([
        String(o.intervalId),
        o.side,
        formatUnits(o.quantityWh, 3),
        fmt(o.limitPricePerKwh),
        fmt(o.lock),
        text,
        imbalance(o.intervalId),
      ]);
      const order = {
        owner: o.owner,
        intervalId: o.intervalId,
        side: sideCode(o.side),
        zoneId: o.zoneId,
        quantityWh: o.quantityWh,
        limitPricePerKwh: o.limitPricePerKwh,
        nonce: o.nonce,
      };
      tr.append(
        buttonCell(
          "Cancel",
          text === "open"
            ? () =>
                void act(
                  "Cancelled",
                  async () => void (await cancelOrder(await writeClients(), { market, order })),
                )
            : undefined,
        ),
      );
      return tr;
    }),
  );
}

/** Places a bid or an offer in the account's zone. */
export async function placeInZone(
  side: "bid" | "offer",
  intervalId: bigint,
  quantityWh: bigint,
  limitPricePerKwh: bigint,
): Promise<void> {
  if (state.zone === undefined) throw new Error("This account is not registered in a zone");
  await placeOrder(await writeClients(), {
    market,
    side,
    intervalId,
    zoneId: state.zone,
    quantityWh,
    limitPricePerKwh,
  });
}

/**
 * The account's imbalance per interval: deviation (metered net − scheduled net) with the charge or
 * payment once settled, "pending" between the meter report and its settlement, the released
 * collateral of an unmetered interval, "–" before metering.
 */
async function imbalanceColumn(account: Address): Promise<(intervalId: bigint) => string> {
  const range = { address: market, abi: energyMarketAbi, fromBlock: 0n, toBlock: "latest" as const };
  const [metered, settled, releases] = await Promise.all([
    reader.getContractEvents({ ...range, eventName: "MeterReportCommitted" }),
    reader.getContractEvents({ ...range, eventName: "ImbalanceSettled", args: { participant: account } }),
    reader.getContractEvents({ ...range, eventName: "CollateralReleased", args: { participant: account } }),
  ]);
  const meteredIds = new Set(metered.map((e) => e.args.intervalId));
  const byInterval = new Map<bigint, string>();
  for (const { args } of settled) {
    const d = args.deviationWh!;
    const rest = args.uncovered! > 0n ? fmt(args.uncovered!) : undefined;
    byInterval.set(
      args.intervalId!,
      d < 0n
        ? `short ${formatUnits(-d, 3)} kWh, charged ${fmt(args.charged!)}${rest === undefined ? "" : `, ${rest} billed by the grid`}`
        : d > 0n
          ? `long ${formatUnits(d, 3)} kWh, paid ${fmt(args.paid!)}${rest === undefined ? "" : `, ${rest} still owed (claimable)`}`
          : "none (metered as scheduled)",
    );
  }
  for (const { args } of releases)
    byInterval.set(args.intervalId!, `not metered: collateral and payout ${fmt(args.amount!)} released`);
  return (intervalId) =>
    byInterval.get(intervalId) ?? (meteredIds.has(intervalId) ? "metered, settlement pending" : "–");
}
