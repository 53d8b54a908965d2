/** `deposit`, `withdraw` and `balance`: moving tokens in and out of the market and reading balances (client actions). */
import { z } from "zod";
import {
  deposit as depositAction,
  parsePositiveAmount,
  readBalances,
  withdraw as withdrawAction,
} from "../../client/index.js";
import type { Context } from "./context.js";
import { fmt } from "./format.js";
import { address, parse } from "./parse.js";

export const freeBalance = async (ctx: Context) =>
  (await readBalances(ctx.client, { market: ctx.market, account: ctx.me, fromBlock: ctx.fromBlock })).free;

export async function deposit(ctx: Context, amountText: string, usePermit: boolean) {
  const amount = parsePositiveAmount(amountText, ctx.decimals, "amount");
  const clients = await ctx.signer();
  const { method, transactions } = await depositAction(clients, {
    market: ctx.market,
    amount,
    method: usePermit ? "auto" : "approve",
  });
  const free = await freeBalance(ctx);
  return {
    result: { account: ctx.me, amount, method, freeBalance: free, transactions },
    text: `deposited ${fmt(ctx, amount)} ${ctx.symbol} (${method}); free balance ${fmt(ctx, free)} ${ctx.symbol}`,
  };
}

export async function withdraw(ctx: Context, amountText: string, toFlag: unknown) {
  const amount = parsePositiveAmount(amountText, ctx.decimals, "amount");
  const to = toFlag === undefined ? ctx.me : parse(z.object({ "--to": address }), { "--to": toFlag })["--to"];
  const { transaction } = await withdrawAction(await ctx.signer(), { market: ctx.market, amount, to });
  const free = await freeBalance(ctx);
  return {
    result: { account: ctx.me, to, amount, freeBalance: free, transactions: [transaction] },
    text: `withdrew ${fmt(ctx, amount)} ${ctx.symbol} to ${to}; free balance ${fmt(ctx, free)} ${ctx.symbol}`,
  };
}

export async function balance(ctx: Context) {
  const b = await readBalances(ctx.client, { market: ctx.market, account: ctx.me, fromBlock: ctx.fromBlock });
  return {
    result: {
      account: ctx.me,
      token: ctx.token,
      symbol: ctx.symbol,
      decimals: ctx.decimals,
      free: b.free,
      locked: b.locked,
      pendingPayouts: b.pendingPayouts,
      imbalanceOwed: b.owed,
      wallet: b.wallet,
    },
    text: [
      `account ${ctx.me}`,
      `free    ${fmt(ctx, b.free)} ${ctx.symbol} (withdrawable, or to lock in new orders)`,
      `locked  ${fmt(ctx, b.locked)} ${ctx.symbol} (held by the market: open orders' locks, the imbalance collateral of settled fills and payouts withheld, until delivery is settled)`,
      `  of which pending payouts ${fmt(ctx, b.pendingPayouts)} ${ctx.symbol} (energy sold: credited to free once its delivery is settled, net of any short charge)`,
      `owed    ${fmt(ctx, b.owed)} ${ctx.symbol} (long imbalance payments the operator funds could not pay yet: anyone's claimImbalancePayment credits them to free once the funds allow)`,
      `wallet  ${fmt(ctx, b.wallet)} ${ctx.symbol}`,
    ].join("\n"),
  };
}
