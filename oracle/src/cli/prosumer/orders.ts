/** `bid`, `offer`, `cancel` and `orders`: placing, cancelling and listing the account's orders. */
import { randomBytes } from "node:crypto";
import { type Hex, formatUnits } from "viem";
import { z } from "zod";
import { energyMarketAbi } from "../../chain/abis.js";
import { sideCode } from "../../domain/eip712.js";
import type { Context, Flags } from "./context.js";
import { CliError } from "./errors.js";
import { fmt } from "./format.js";
import { freeBalance } from "./funds.js";
import { decimal, parse, toBaseUnits, uint } from "./parse.js";
import { orderLock, readOrders } from "./state.js";

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
  const quantityWh = toBaseUnits(f["--kwh"], 3, "--kwh");
  if (quantityWh === 0n) throw new CliError("--kwh: must be greater than zero", 2);
  const price = toBaseUnits(f["--price"], ctx.decimals, "--price");
  const collateralPerKwh = await ctx.client.readContract({
    address: ctx.market,
    abi: energyMarketAbi,
    functionName: "offerCollateralPerKwh",
  });
  const lock = orderLock(side, quantityWh, price, collateralPerKwh);
  const nonce = f["--nonce"] ?? randomBytes(8).readBigUInt64BE() >> 1n;
  const args = [f["--interval"], Number(f["--zone"]), quantityWh, price, nonce] as const;
  const lockText = `lock ${fmt(ctx, lock)} ${ctx.symbol} (${side === "bid" ? "price × energy + imbalance collateral" : "imbalance collateral; paid after delivery"})`;
  if (flags["dryRun"] === true)
    return {
      result: {
        side,
        intervalId: args[0],
        zoneId: args[1],
        quantityWh,
        pricePerKwh: price,
        nonce,
        lock,
        sent: false,
      },
      text: `${side}: ${f["--kwh"]} kWh at ${fmt(ctx, price)} ${ctx.symbol}/kWh in zone ${args[1]}, interval ${args[0]}; would ${lockText}`,
    };
  if (!ctx.json)
    console.log(
      `${side}: ${f["--kwh"]} kWh at ${fmt(ctx, price)} ${ctx.symbol}/kWh in zone ${args[1]}, interval ${args[0]}; ${lockText}`,
    );
  const { account, send } = await ctx.signer();
  const orderId = await ctx.client.readContract({
    address: ctx.market,
    abi: energyMarketAbi,
    functionName: "hashOrder",
    args: [
      {
        owner: account.address,
        intervalId: args[0],
        side: sideCode(side),
        zoneId: args[1],
        quantityWh,
        limitPricePerKwh: price,
        nonce,
      },
    ],
  });
  const hash = await send({
    address: ctx.market,
    abi: energyMarketAbi,
    functionName: side === "bid" ? "placeBid" : "placeOffer",
    args,
  });
  const free = await freeBalance(ctx);
  return {
    result: {
      orderId,
      side,
      intervalId: args[0],
      zoneId: args[1],
      quantityWh,
      pricePerKwh: price,
      nonce,
      lock,
      freeBalance: free,
      transactions: [hash],
    },
    text: `placed ${orderId}; free balance ${fmt(ctx, free)} ${ctx.symbol}`,
  };
}

export async function cancel(ctx: Context, orderIdText: string) {
  const orderId = parse(
    z.object({ orderId: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a 32-byte hex order id") }),
    { orderId: orderIdText },
  ).orderId as Hex;
  const events = await ctx.client.getContractEvents({
    address: ctx.market,
    abi: energyMarketAbi,
    eventName: "OrderPlaced",
    args: { orderId },
    fromBlock: ctx.fromBlock,
    toBlock: "latest",
  });
  const placed = events[0]?.args;
  if (placed === undefined)
    throw new CliError(
      `orderId: no OrderPlaced event for ${orderId} on this market (since block ${ctx.fromBlock})`,
    );
  const order = {
    owner: placed.owner!,
    intervalId: placed.intervalId!,
    side: placed.side!,
    zoneId: placed.zoneId!,
    quantityWh: placed.quantityWh!,
    limitPricePerKwh: placed.limitPricePerKwh!,
    nonce: placed.nonce!,
  };
  const { send } = await ctx.signer();
  const hash = await send({
    address: ctx.market,
    abi: energyMarketAbi,
    functionName: "cancelOrder",
    args: [order],
  });
  const free = await freeBalance(ctx);
  return {
    result: { orderId, cancelled: true, freeBalance: free, transactions: [hash] },
    text: `cancelled ${orderId}; free balance ${fmt(ctx, free)} ${ctx.symbol}`,
  };
}

export async function orders(ctx: Context) {
  const list = await readOrders(ctx);
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
