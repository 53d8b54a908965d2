/**
 * `flex place|change|cancel|show|refund|withdraw`: a battery owner's standing flexibility orders
 * (client actions placeFlexOrder … readFlexSteps). Prices and budgets are decimal token units,
 * the state of charge is kWh (3 decimals), intervals and battery ids are integers; every bad value
 * is an error naming its flag (exit code 2), including the client's checks against the chain
 * (window in the past, too long, prices not ordered, SoC outside the battery's bounds, not the
 * battery's owner, too few tokens), whose field names are translated to the flags here.
 *
 * The flexibility market is `--flex-market` (GRIDBRAIN_FLEX_MARKET_ADDRESS), else the one the
 * EnergyMarket (`--market`) names.
 */
import { type Address, type Hex, formatUnits } from "viem";
import { z } from "zod";
import { flexibilityMarketAbi } from "../../chain/abis.js";
import {
  type FlexOrder,
  type FlexOrderFields,
  type FlexOrderRecord,
  InvalidParameterError,
  cancelFlexOrder,
  changeFlexOrder,
  checkFlexOrderId,
  parseAmount,
  parseKwh,
  parsePositiveAmount,
  placeFlexOrder,
  randomOrderNonce,
  readFlexOrders,
  readFlexBalance,
  readFlexSteps,
  readPlacedFlexOrder,
  refundFlexFunds,
  resolveFlexMarket,
  withdrawFlex,
} from "../../client/index.js";
import type { Context, Flags } from "./context.js";
import { CliError } from "../output.js";
import { fmt } from "./format.js";
import { address, decimal, parse, uint } from "./parse.js";

/** The order's fields as the CLI's flags. */
const FLAG_OF: Readonly<Record<string, string>> = {
  batteryId: "--battery",
  firstInterval: "--first-interval",
  lastInterval: "--last-interval",
  maxChargePricePerKwh: "--max-charge-price",
  minDischargePricePerKwh: "--min-discharge-price",
  chargeBudget: "--budget",
  initialSocWh: "--soc-kwh",
  nonce: "--nonce",
};

/** Runs `body`, naming the flag instead of the client's field in a parameter error. */
async function withFlagNames<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof InvalidParameterError && FLAG_OF[error.field] !== undefined)
      throw CliError.input(FLAG_OF[error.field]!, error.message.slice(error.field.length + 2));
    throw error;
  }
}

const orderFlagsSchema = z.object({
  "--battery": uint.refine((v) => v < 2n ** 32n, "must fit in uint32"),
  "--first-interval": uint,
  "--last-interval": uint,
  "--max-charge-price": decimal,
  "--min-discharge-price": decimal,
  "--budget": decimal,
  "--soc-kwh": decimal,
  "--nonce": uint.refine((v) => v < 2n ** 64n, "must fit in uint64").optional(),
});

const orderFlags = (flags: Flags) => ({
  "--battery": flags["battery"],
  "--first-interval": flags["firstInterval"],
  "--last-interval": flags["lastInterval"],
  "--max-charge-price": flags["maxChargePrice"],
  "--min-discharge-price": flags["minDischargePrice"],
  "--budget": flags["budget"],
  "--soc-kwh": flags["socKwh"],
  "--nonce": flags["nonce"],
});

/** The fields of an order given by flags (all required). */
function fieldsOf(ctx: Context, flags: Flags): FlexOrderFields {
  const f = parse(orderFlagsSchema, orderFlags(flags));
  return {
    batteryId: Number(f["--battery"]),
    firstInterval: f["--first-interval"],
    lastInterval: f["--last-interval"],
    maxChargePricePerKwh: parseAmount(f["--max-charge-price"], ctx.decimals, "--max-charge-price"),
    minDischargePricePerKwh: parseAmount(f["--min-discharge-price"], ctx.decimals, "--min-discharge-price"),
    chargeBudget: parseAmount(f["--budget"], ctx.decimals, "--budget"),
    initialSocWh: parseKwh(f["--soc-kwh"], "--soc-kwh"),
    nonce: f["--nonce"] ?? randomOrderNonce(),
  };
}

/** The target of every flex command: the market, and the flexibility market when named. */
function target(ctx: Context, flags: Flags): { market: Address; flexMarket?: Address } {
  const named = flags["flexMarket"] ?? process.env["GRIDBRAIN_FLEX_MARKET_ADDRESS"];
  if (named === undefined) return { market: ctx.market };
  return {
    market: ctx.market,
    flexMarket: parse(z.object({ "--flex-market": address }), { "--flex-market": named })["--flex-market"],
  };
}

const describeOrder = (ctx: Context, o: Omit<FlexOrder, "owner">) =>
  `battery ${o.batteryId}, intervals ${o.firstInterval}–${o.lastInterval}: charge at <= ${fmt(ctx, o.maxChargePricePerKwh)}, discharge at >= ${fmt(ctx, o.minDischargePricePerKwh)} ${ctx.symbol}/kWh, budget ${fmt(ctx, o.chargeBudget)} ${ctx.symbol}, SoC ${formatUnits(o.initialSocWh, 3)} kWh`;

export async function flexPlace(ctx: Context, flags: Flags) {
  const fields = fieldsOf(ctx, flags);
  const clients = await ctx.signer();
  const placed = await withFlagNames(() => placeFlexOrder(clients, { ...target(ctx, flags), ...fields }));
  return {
    result: {
      orderId: placed.orderId,
      flexMarket: placed.flexMarket,
      ...placed.order,
      transactions: placed.transactions,
    },
    text: `placed ${placed.orderId}: ${describeOrder(ctx, placed.order)} (budget locked)`,
  };
}

/**
 * Unset flags keep the current order's values, except: the window starts at the first open
 * interval when the current one started earlier, and the SoC is the battery's scheduled SoC when
 * steps of the current order were settled.
 */
export async function flexChange(ctx: Context, orderIdText: string, flags: Flags) {
  const orderId = parseOrderId(orderIdText);
  const t = target(ctx, flags);
  const flexMarket = await resolveFlexMarket(ctx.client, t);
  const current = await readPlacedFlexOrder(ctx.client, flexMarket, orderId, ctx.fromBlock);
  const [record] = (
    await readFlexOrders(ctx.client, {
      ...t,
      flexMarket,
      owner: current.owner,
      batteryId: current.batteryId,
      fromBlock: ctx.fromBlock,
    })
  ).filter((r) => r.orderId === orderId);
  const firstOpen = await ctx.client.readContract({
    address: flexMarket,
    abi: flexibilityMarketAbi,
    functionName: "firstOpenInterval",
  });
  const given = orderFlags(flags);
  const keep = <K extends keyof typeof given>(k: K, v: string) => (given[k] === undefined ? v : given[k]);
  const fields = fieldsOf(ctx, {
    battery: keep("--battery", String(current.batteryId)),
    firstInterval: keep(
      "--first-interval",
      String(current.firstInterval > firstOpen ? current.firstInterval : firstOpen),
    ),
    lastInterval: keep("--last-interval", String(current.lastInterval)),
    maxChargePrice: keep("--max-charge-price", formatUnits(current.maxChargePricePerKwh, ctx.decimals)),
    minDischargePrice: keep(
      "--min-discharge-price",
      formatUnits(current.minDischargePricePerKwh, ctx.decimals),
    ),
    budget: keep("--budget", formatUnits(current.chargeBudget, ctx.decimals)),
    socKwh: keep("--soc-kwh", formatUnits(record?.scheduledSocWh ?? current.initialSocWh, 3)),
    nonce: given["--nonce"],
  });
  const clients = await ctx.signer();
  const changed = await withFlagNames(() =>
    changeFlexOrder(clients, { ...t, flexMarket, current, replacement: fields }),
  );
  return {
    result: {
      previous: orderId,
      orderId: changed.orderId,
      ...changed.order,
      transactions: changed.transactions,
    },
    text: `changed ${orderId} → ${changed.orderId}: ${describeOrder(ctx, changed.order)}`,
  };
}

export async function flexCancel(ctx: Context, orderIdText: string, flags: Flags) {
  const orderId = parseOrderId(orderIdText);
  const clients = await ctx.signer();
  const { endInterval, order, transaction } = await cancelFlexOrder(clients, {
    ...target(ctx, flags),
    orderId,
    fromBlock: ctx.fromBlock,
  });
  const never = endInterval < order.firstInterval;
  return {
    result: { orderId, cancelled: true, endInterval, transactions: [transaction] },
    text: never
      ? `cancelled ${orderId} before its window: it was never active; flex refund returns its whole budget now`
      : `cancelled ${orderId}: active through interval ${endInterval}; flex refund returns the unspent budget once that interval is settled`,
  };
}

export async function flexShow(ctx: Context, orderIdText: string | undefined, flags: Flags) {
  const t = target(ctx, flags);
  const flexMarket = await resolveFlexMarket(ctx.client, t);
  const battery =
    flags["battery"] === undefined
      ? undefined
      : Number(
          parse(z.object({ "--battery": uint.refine((v) => v < 2n ** 32n, "must fit in uint32") }), {
            "--battery": flags["battery"],
          })["--battery"],
        );
  const [orders, balance] = await Promise.all([
    readFlexOrders(ctx.client, {
      ...t,
      flexMarket,
      owner: ctx.me,
      fromBlock: ctx.fromBlock,
      ...(battery === undefined ? {} : { batteryId: battery }),
    }),
    readFlexBalance(ctx.client, { ...t, flexMarket, account: ctx.me }),
  ]);
  if (orderIdText !== undefined) {
    const orderId = parseOrderId(orderIdText);
    const order = orders.find((o) => o.orderId === orderId);
    if (order === undefined)
      throw CliError.input("orderId", `${orderId} is not one of ${ctx.me}'s flexibility orders`);
    const steps = await readFlexSteps(ctx.client, { ...t, flexMarket, orderId, fromBlock: ctx.fromBlock });
    return {
      result: { account: ctx.me, balance, order, steps: steps.steps },
      text: [
        orderLine(ctx, order),
        ...steps.steps.map(
          (s) =>
            `  interval ${s.intervalId}: ${s.direction} ${formatUnits(s.energyWh, 3)} kWh, SoC ${formatUnits(s.socWh, 3)} kWh, ${s.direction === "charge" ? "paid" : "credited"} ${fmt(ctx, s.amount)} ${ctx.symbol}`,
        ),
      ].join("\n"),
    };
  }
  return {
    result: { account: ctx.me, flexMarket, balance, orders },
    text: [
      `flexibility balance ${fmt(ctx, balance)} ${ctx.symbol} (earnings and refunds: flex withdraw)`,
      ...(orders.length === 0 ? ["no flexibility orders"] : orders.map((o) => orderLine(ctx, o))),
    ].join("\n"),
  };
}

function orderLine(ctx: Context, o: FlexOrderRecord): string {
  const soc =
    o.scheduledSocWh === null
      ? ""
      : `, scheduled SoC ${formatUnits(o.scheduledSocWh, 3)} kWh after interval ${o.socInterval}`;
  return `${o.orderId} ${o.status}: ${describeOrder(ctx, o.order)}; active through ${o.endInterval}; spent ${fmt(ctx, o.spent)}, unspent ${fmt(ctx, o.unspent)}, earned ${fmt(ctx, o.earned)} ${ctx.symbol} over ${o.steps} steps${soc}`;
}

export async function flexRefund(ctx: Context, orderIdText: string, flags: Flags) {
  const orderId = parseOrderId(orderIdText);
  const { amount, transaction } = await refundFlexFunds(await ctx.signer(), {
    ...target(ctx, flags),
    orderId,
    fromBlock: ctx.fromBlock,
  });
  return {
    result: { orderId, refunded: amount, transactions: [transaction] },
    text: `refunded ${fmt(ctx, amount)} ${ctx.symbol} of ${orderId} to the flexibility balance (flex withdraw sends it to the wallet)`,
  };
}

export async function flexWithdraw(ctx: Context, amountText: string, flags: Flags) {
  const amount = parsePositiveAmount(amountText, ctx.decimals, "amount");
  const to =
    flags["to"] === undefined
      ? ctx.me
      : parse(z.object({ "--to": address }), { "--to": flags["to"] })["--to"];
  const { balance, transaction } = await withdrawFlex(await ctx.signer(), {
    ...target(ctx, flags),
    amount,
    to,
  });
  return {
    result: { account: ctx.me, to, amount, balance, transactions: [transaction] },
    text: `withdrew ${fmt(ctx, amount)} ${ctx.symbol} to ${to}; flexibility balance ${fmt(ctx, balance)} ${ctx.symbol}`,
  };
}

function parseOrderId(text: string): Hex {
  try {
    return checkFlexOrderId(text);
  } catch (error) {
    if (error instanceof InvalidParameterError) throw new CliError(error.message, 2, undefined, error.field);
    throw error;
  }
}
