/** `deposit`, `withdraw` and `balance`: moving tokens in and out of the market and reading balances. */
import { type Address, type Hex } from "viem";
import { energyMarketAbi, testTokenAbi } from "../../chain/abis.js";
import type { Context } from "./context.js";
import { CliError } from "./errors.js";
import { fmt } from "./format.js";
import { address, parse, toBaseUnits } from "./parse.js";
import { readOrders } from "./state.js";
import { z } from "zod";

export async function deposit(ctx: Context, amountText: string, usePermit: boolean) {
  const amount = toBaseUnits(amountText, ctx.decimals, "amount");
  if (amount === 0n) throw new CliError("amount: must be greater than zero", 2);
  const { account, send } = await ctx.signer();
  const tokenBalance = await ctx.client.readContract({
    address: ctx.token,
    abi: testTokenAbi,
    functionName: "balanceOf",
    args: [account.address],
  });
  if (tokenBalance < amount)
    throw new CliError(
      `InsufficientTokenBalance: wallet holds ${fmt(ctx, tokenBalance)} ${ctx.symbol}, deposit needs ${fmt(ctx, amount)}`,
      1,
      "InsufficientTokenBalance",
    );
  let domain: readonly [Hex, string, string, bigint, Address, Hex, readonly bigint[]] | undefined;
  let nonce: bigint | undefined;
  if (usePermit) {
    try {
      [domain, nonce] = await Promise.all([
        ctx.client.readContract({ address: ctx.token, abi: testTokenAbi, functionName: "eip712Domain" }),
        ctx.client.readContract({
          address: ctx.token,
          abi: testTokenAbi,
          functionName: "nonces",
          args: [account.address],
        }),
      ]);
    } catch {
      domain = undefined; // no EIP-2612 on this token: approve + deposit
    }
  }
  const hashes: Hex[] = [];
  let method: "permit" | "approve";
  if (domain !== undefined && nonce !== undefined) {
    method = "permit";
    const now = (await ctx.client.getBlock({ blockTag: "latest" })).timestamp;
    const deadline = now + 3600n;
    const signature = await account.signTypedData({
      domain: { name: domain[1], version: domain[2], chainId: domain[3], verifyingContract: domain[4] },
      types: {
        Permit: [
          { name: "owner", type: "address" },
          { name: "spender", type: "address" },
          { name: "value", type: "uint256" },
          { name: "nonce", type: "uint256" },
          { name: "deadline", type: "uint256" },
        ],
      },
      primaryType: "Permit",
      message: { owner: account.address, spender: ctx.market, value: amount, nonce, deadline },
    });
    const r = `0x${signature.slice(2, 66)}` as Hex;
    const s = `0x${signature.slice(66, 130)}` as Hex;
    const v = Number.parseInt(signature.slice(130, 132), 16);
    hashes.push(
      await send({
        address: ctx.market,
        abi: energyMarketAbi,
        functionName: "depositWithPermit",
        args: [amount, deadline, v, r, s],
      }),
    );
  } else {
    method = "approve";
    hashes.push(
      await send({
        address: ctx.token,
        abi: testTokenAbi,
        functionName: "approve",
        args: [ctx.market, amount],
      }),
    );
    hashes.push(
      await send({ address: ctx.market, abi: energyMarketAbi, functionName: "deposit", args: [amount] }),
    );
  }
  const free = await freeBalance(ctx);
  return {
    result: { account: ctx.me, amount, method, freeBalance: free, transactions: hashes },
    text: `deposited ${fmt(ctx, amount)} ${ctx.symbol} (${method}); free balance ${fmt(ctx, free)} ${ctx.symbol}`,
  };
}

export const freeBalance = (ctx: Context) =>
  ctx.client.readContract({
    address: ctx.market,
    abi: energyMarketAbi,
    functionName: "balanceOf",
    args: [ctx.me],
  });

export async function withdraw(ctx: Context, amountText: string, toFlag: unknown) {
  const amount = toBaseUnits(amountText, ctx.decimals, "amount");
  if (amount === 0n) throw new CliError("amount: must be greater than zero", 2);
  const to = toFlag === undefined ? ctx.me : parse(z.object({ "--to": address }), { "--to": toFlag })["--to"];
  const { send } = await ctx.signer();
  const hash = await send({
    address: ctx.market,
    abi: energyMarketAbi,
    functionName: "withdraw",
    args: [amount, to],
  });
  const free = await freeBalance(ctx);
  return {
    result: { account: ctx.me, to, amount, freeBalance: free, transactions: [hash] },
    text: `withdrew ${fmt(ctx, amount)} ${ctx.symbol} to ${to}; free balance ${fmt(ctx, free)} ${ctx.symbol}`,
  };
}

export async function balance(ctx: Context) {
  const read = (functionName: "lockedBalanceOf" | "imbalanceOwed") =>
    ctx.client.readContract({ address: ctx.market, abi: energyMarketAbi, functionName, args: [ctx.me] });
  const [free, locked, owed, token, list] = await Promise.all([
    freeBalance(ctx),
    read("lockedBalanceOf"),
    read("imbalanceOwed"),
    ctx.client.readContract({
      address: ctx.token,
      abi: testTokenAbi,
      functionName: "balanceOf",
      args: [ctx.me],
    }),
    readOrders(ctx),
  ]);
  // Part of `locked` (the contract counts the withheld payouts among the account's locks).
  const pendingPayouts = list.reduce((sum, o) => sum + o.pendingPayout, 0n);
  return {
    result: {
      account: ctx.me,
      token: ctx.token,
      symbol: ctx.symbol,
      decimals: ctx.decimals,
      free,
      locked,
      pendingPayouts,
      imbalanceOwed: owed,
      wallet: token,
    },
    text: [
      `account ${ctx.me}`,
      `free    ${fmt(ctx, free)} ${ctx.symbol} (withdrawable, or to lock in new orders)`,
      `locked  ${fmt(ctx, locked)} ${ctx.symbol} (held by the market: open orders' locks, the imbalance collateral of settled fills and payouts withheld, until delivery is settled)`,
      `  of which pending payouts ${fmt(ctx, pendingPayouts)} ${ctx.symbol} (energy sold: credited to free once its delivery is settled, net of any short charge)`,
      `owed    ${fmt(ctx, owed)} ${ctx.symbol} (long imbalance payments the operator funds could not pay yet: anyone's claimImbalancePayment credits them to free once the funds allow)`,
      `wallet  ${fmt(ctx, token)} ${ctx.symbol}`,
    ].join("\n"),
  };
}
