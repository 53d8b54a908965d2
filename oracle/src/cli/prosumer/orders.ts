/** `bid`, `offer`, `cancel` and `orders`: placing, cancelling and listing the account's orders (client actions). */
import { formatUnits } from "viem";
import { z } from "zod";
import {
  cancelOrder,
  orderLock,
  parseAmount,
  parseKwh,
  placeOrder as placeOrderAction,
  randomOrderNonce,
  readOrders,
} from "../../client/index.js";
import type { Context, Flags } from "./context.js";
import { CliError } from "../output.js";
import { fmt } from "./format.js";
import { freeBalance } from "./funds.js";
import { decimal, parse, uint } from "./parse.js";

const orderFlagsSchema = z.object({
  "--interval": uint,
  "--zone": uint.refine((v) => v < 2n ** 32n, "must fit in uint32"),
  "--kwh": decimal,
  "--price": decimal,
  "--nonce": uint.refine((v) => v < 2n ** 64n, "must fit in uint64").optional(),
});

export async function placeOrder(ctx: Context, side: "bid" | "offer", flags: Flags) {
  const f = parse(orderFlagsSchema, {
    "--interval": flags["interval"],
    "--zone": flags["zone"],
    "--kwh": flags["kwh"],
    "--price": flags["price"],
    "--nonce": flags["nonce"],
  });
  const quantityWh = parseKwh(f["--kwh"], "--kwh");
  if (quantityWh === 0n) throw CliError.input("--kwh", "must be greater than zero");
  const price = parseAmount(f["--price"], ctx.decimals, "--price");
  const lock = orderLock(side, quantityWh, price, ctx.collateralPerKwh);
  const nonce = f["--nonce"] ?? randomOrderNonce();
  const intervalId = f["--interval"];
  const zoneId = Number(f["--zone"]);
  const what = `${side}: ${f["--kwh"]} kWh at ${fmt(ctx, price)} ${ctx.symbol}/kWh in zone ${zoneId}, interval ${intervalId}`;
  const lockText = `lock ${fmt(ctx, lock)} ${ctx.symbol} (${side === "bid" ? "price × energy + imbalance collateral" : "imbalance collateral; paid after delivery"})`;
  const order = { side, intervalId, zoneId, quantityWh, pricePerKwh: price, nonce, lock };
  if (flags["dryRun"] === true)
    return { result: { ...order, sent: false }, text: `${what}; would ${lockText}` };
  if (!ctx.json) console.log(`${what}; ${lockText}`);
  const { orderId, transaction } = await placeOrderAction(await ctx.signer(), {
    market: ctx.market,
    side,
    intervalId,
    zoneId,
    quantityWh,
    limitPricePerKwh: price,
    nonce,
  });
  const free = await freeBalance(ctx);
  return {
    result: { orderId, ...order, freeBalance: free, transactions: [transaction] },
    text: `placed ${orderId}; free balance ${fmt(ctx, free)} ${ctx.symbol}`,
  };
}

export async function cancel(ctx: Context, orderIdText: string) {
  const orderId = parse(
    z.object({ orderId: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a 32-byte hex order id") }),
    { orderId: orderIdText },
  ).orderId as `0x${string}`;
  const { transaction } = await cancelOrder(await ctx.signer(), {
    market: ctx.market,
    orderId,
    fromBlock: ctx.fromBlock,
  });
  const free = await freeBalance(ctx);
  return {
    result: { orderId, cancelled: true, freeBalance: free, transactions: [transaction] },
    text: `cancelled ${orderId}; free balance ${fmt(ctx, free)} ${ctx.symbol}`,
  };
}

export async function orders(ctx: Context) {
  const list = await readOrders(ctx.client, { market: ctx.market, owner: ctx.me, fromBlock: ctx.fromBlock });
  const lines = list.map(
    (o) =>
      `${o.orderId} interval ${o.intervalId} ${o.side} zone ${o.zoneId} ${formatUnits(o.quantityWh, 3)} kWh @ ${fmt(ctx, o.limitPricePerKwh)} ${ctx.symbol}/kWh  lock ${fmt(ctx, o.lock)}  ${o.state}${
        o.filledWh === null
          ? ""
          : ` (filled ${formatUnits(o.filledWh, 3)} kWh, ${fmt(ctx, o.settledAmount ?? 0n)} ${ctx.symbol}${o.payout === null ? "" : `, ${o.payout}`})`
      }`,
  );
  return {
    result: { account: ctx.me, orders: list },
    text: lines.length === 0 ? "no orders" : lines.join("\n"),
  };
}
