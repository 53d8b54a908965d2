/**
 * Prosumer commands of the `gridbrain` CLI, for a keystore-held account trading on the market:
 * `deposit`, `withdraw`, `bid`, `offer`, `cancel`, `orders`, `balance`, `certificates`, `retire`,
 * `claim` (pull settlement of the account's own fill and imbalance with proofs from a node).
 * Amounts are decimal strings in token units ("12.5"), converted with the token's decimals
 * exactly (more fraction digits than the token has is an error, never rounded). Energy is given
 * in kWh (at most 3 decimals: the chain counts Wh). Every flag is validated with zod; a contract
 * revert is decoded to its custom error's name and arguments. `--json` prints one JSON document.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { z } from "zod";
import {
  type Abi,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
  BaseError as ViemBaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  formatUnits,
  getAddress,
  http,
  parseAbi,
} from "viem";
import { energyMarketAbi, testTokenAbi } from "../chain/abis.js";
import { createChainClients } from "../chain/market.js";
import { Side, orderSide, sideCode } from "../domain/eip712.js";
import { sourceLabel } from "../domain/energy-source.js";
import { formatIssues } from "../domain/errors.js";
import { keystoreAddress, unlockKeystore } from "../infra/keystore.js";
import { FillProofResponseSchema, MeterProofResponseSchema } from "../infra/proofs.js";
import { meterProofMessage } from "../domain/proof-request.js";

/** The parts of EnergyCertificate (ERC-1155) the CLI uses. */
const certificateAbi = parseAbi([
  "function balanceOf(address account, uint256 id) view returns (uint256)",
  "function retire(uint256 id, uint256 amountWh, address beneficiary, string claimData)",
  "event TransferSingle(address indexed operator, address indexed from, address indexed to, uint256 id, uint256 value)",
  "event TransferBatch(address indexed operator, address indexed from, address indexed to, uint256[] ids, uint256[] values)",
  "error ERC1155InsufficientBalance(address sender, uint256 balance, uint256 needed, uint256 tokenId)",
  "error ZeroRetirement()",
  "error ZeroBeneficiary()",
]);

/** Every error the CLI can meet, for decoding reverts that bubbled up from another contract. */
const errorAbi = [...energyMarketAbi, ...testTokenAbi, ...certificateAbi].filter(
  (item) => item.type === "error",
) as Abi;

/** A CLI failure: `code` 2 for bad input, 1 for everything else. */
class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly code: 1 | 2 = 1,
    readonly errorName?: string,
  ) {
    super(message);
  }
}

/* ---------- input parsing ---------- */

const address = z
  .string({ required_error: "is required" })
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 20-byte hex address")
  .transform((v) => getAddress(v));
const decimal = z
  .string({ required_error: "is required" })
  .regex(/^\d+(\.\d+)?$/, 'must be a non-negative decimal number like "12.5"');
const uint = z
  .string({ required_error: "is required" })
  .regex(/^\d+$/, "must be a non-negative integer")
  .transform((v) => BigInt(v));

/** Exact decimal → base units with `decimals` fraction digits; never rounds. */
export function toBaseUnits(value: string, decimals: number, field: string): bigint {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(value);
  if (match === null)
    throw new CliError(`${field}: must be a non-negative decimal number, got "${value}"`, 2);
  const whole = match[1]!;
  const fraction = (match[2] ?? "").replace(/0+$/, "");
  if (fraction.length > decimals)
    throw new CliError(
      `${field}: "${value}" has more than ${decimals} decimal places (the smallest unit is 10^-${decimals})`,
      2,
    );
  return BigInt(whole + fraction.padEnd(decimals, "0"));
}

const connectionSchema = z.object({
  "--rpc-url": z.string({ required_error: "is required" }).url("must be a URL"),
  "--market": address,
  "--keystore": z.string({ required_error: "is required" }).min(1, "is required"),
  "--password-file": z.string().min(1).optional(),
  "--from-block": uint.default("0"),
});

function parse<S extends z.ZodTypeAny>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new CliError(`Invalid arguments: ${formatIssues(parsed.error.issues)}`, 2);
  return parsed.data as z.output<S>;
}

/* ---------- chain context ---------- */

interface Context {
  readonly client: PublicClient;
  readonly market: Address;
  readonly me: Address;
  readonly fromBlock: bigint;
  readonly token: Address;
  readonly decimals: number;
  readonly symbol: string;
  readonly json: boolean;
  /** Unlocks the keystore (needs --password-file). */
  signer(): Promise<{ account: LocalAccount; send: (call: WriteCall) => Promise<Hex> }>;
}

interface WriteCall {
  readonly address: Address;
  readonly abi: Abi;
  readonly functionName: string;
  readonly args: readonly unknown[];
}

type Flags = Record<string, unknown>;

async function connect(flags: Flags): Promise<Context> {
  const c = parse(connectionSchema, {
    "--rpc-url": flags["rpcUrl"] ?? process.env["GRIDBRAIN_RPC_URL"],
    "--market": flags["market"] ?? process.env["GRIDBRAIN_MARKET_ADDRESS"],
    "--keystore": flags["keystore"] ?? process.env["GRIDBRAIN_KEYSTORE_PATH"],
    "--password-file": flags["passwordFile"] ?? process.env["GRIDBRAIN_KEYSTORE_PASSWORD_FILE"],
    "--from-block": flags["fromBlock"],
  });
  let keystoreJson: string;
  try {
    keystoreJson = await readFile(c["--keystore"], "utf8");
  } catch {
    throw new CliError(`--keystore: cannot read ${c["--keystore"]}`, 2);
  }
  const me = keystoreAddress(keystoreJson);
  const probe = createPublicClient({ transport: http(c["--rpc-url"], { retryCount: 1 }) });
  let chainId: number;
  try {
    chainId = await probe.getChainId();
  } catch {
    throw new CliError(`--rpc-url: no JSON-RPC node answers at ${c["--rpc-url"]}`, 2);
  }
  const { chain, transport, publicClient: client } = createChainClients(c["--rpc-url"], chainId);
  const market = c["--market"];
  if ((await client.getCode({ address: market })) === undefined)
    throw new CliError(`--market: no contract at ${market} on chain ${chainId}`, 2);
  const [token, decimals] = await Promise.all([
    client.readContract({ address: market, abi: energyMarketAbi, functionName: "token" }),
    client.readContract({ address: market, abi: energyMarketAbi, functionName: "tokenDecimals" }),
  ]);
  const symbol = await client
    .readContract({ address: token, abi: testTokenAbi, functionName: "symbol" })
    .catch(() => "tokens");
  let unlocked: Awaited<ReturnType<Context["signer"]>> | undefined;
  return {
    client,
    market,
    me,
    fromBlock: c["--from-block"],
    token,
    decimals: Number(decimals),
    symbol,
    json: flags["json"] === true,
    async signer() {
      if (unlocked !== undefined) return unlocked;
      if (c["--password-file"] === undefined)
        throw new CliError("--password-file: is required for commands that send transactions", 2);
      const account = await unlockKeystore({
        keystorePath: c["--keystore"],
        passwordFile: c["--password-file"],
      });
      const wallet = createWalletClient({ account, chain, transport });
      const send = async (call: WriteCall): Promise<Hex> => {
        const { request } = await client.simulateContract({
          account,
          address: call.address,
          abi: call.abi,
          functionName: call.functionName,
          args: call.args as unknown[],
        });
        const hash = await wallet.writeContract(request as Parameters<typeof wallet.writeContract>[0]);
        const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 100 });
        if (receipt.status !== "success")
          throw new CliError(`${call.functionName} reverted on chain (transaction ${hash})`);
        return hash;
      };
      unlocked = { account, send };
      return unlocked;
    },
  };
}

/* ---------- errors ---------- */

/** The contract's custom error, by name with its arguments, when `error` is a revert. */
export function decodeRevert(error: unknown): { name: string; args: readonly unknown[] } | undefined {
  if (!(error instanceof ViemBaseError)) return undefined;
  const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(revert instanceof ContractFunctionRevertedError)) return undefined;
  if (revert.data?.errorName !== undefined)
    return { name: revert.data.errorName, args: revert.data.args ?? [] };
  if (revert.raw !== undefined) {
    try {
      const decoded = decodeErrorResult({ abi: errorAbi, data: revert.raw });
      return { name: decoded.errorName, args: decoded.args ?? [] };
    } catch {
      return { name: `unknown error ${revert.raw.slice(0, 10)}`, args: [] };
    }
  }
  if (revert.reason !== undefined) return { name: "Error", args: [revert.reason] };
  return undefined;
}

function explainRevert(ctx: Context | undefined, name: string, args: readonly unknown[]): string {
  const amount = (v: unknown) =>
    ctx === undefined ? String(v) : `${formatUnits(v as bigint, ctx.decimals)} ${ctx.symbol}`;
  switch (name) {
    case "InsufficientBalance":
      return `InsufficientBalance: free balance ${amount(args[1])}, needed ${amount(args[2])} (deposit more first)`;
    case "GateClosed":
      return `GateClosed: orders for interval ${String(args[0])} closed at unix time ${String(args[1])}`;
    case "EnforcedPause":
      return "EnforcedPause: the market is paused (withdrawals still work)";
    case "OrderSlotTaken":
      return `OrderSlotTaken: you already have open order ${String(args[3])} on this side of interval ${String(args[1])}; cancel it first`;
    case "OrderNotOpen":
      return `OrderNotOpen: order ${String(args[0])} is not open (cancelled, released or settled)`;
    case "ERC20InsufficientBalance":
      return `ERC20InsufficientBalance: token balance ${amount(args[1])}, needed ${amount(args[2])}`;
    case "ERC20InsufficientAllowance":
      return `ERC20InsufficientAllowance: allowance ${amount(args[1])}, needed ${amount(args[2])}`;
    case "ERC1155InsufficientBalance":
      return `ERC1155InsufficientBalance: you hold ${String(args[1])} Wh of certificate ${String(args[3])}, needed ${String(args[2])} Wh`;
    case "ZeroAmount":
      return "ZeroAmount: the amount or quantity must not be zero";
    default:
      return `${name}(${args.map(String).join(", ")})`;
  }
}

/* ---------- output ---------- */

const jsonText = (value: unknown) =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);

function fmt(ctx: Context, v: bigint): string {
  return formatUnits(v, ctx.decimals);
}

/* ---------- orders from events ---------- */

export type OrderState = "open" | "closed" | "cancelled" | "released" | "scheduled" | "settled";

export interface OrderRecord {
  readonly orderId: Hex;
  readonly intervalId: bigint;
  readonly side: "bid" | "offer";
  readonly zoneId: number;
  readonly quantityWh: bigint;
  readonly limitPricePerKwh: bigint;
  readonly nonce: bigint;
  readonly lock: bigint;
  readonly state: OrderState;
  readonly filledWh: bigint | null;
  readonly settledAmount: bigint | null;
  /** A settled offer's payout: withheld until the seller's delivery is settled, then paid (null for bids). */
  readonly payout: "withheld until delivery" | "paid" | null;
  /** The part of the payout still withheld (`pendingPayout` of the interval); 0 once paid. */
  readonly pendingPayout: bigint;
  readonly placedInBlock: bigint;
}

const ceilDiv1000 = (v: bigint) => (v + 999n) / 1000n;

async function readOrders(ctx: Context): Promise<OrderRecord[]> {
  const { client, market, me, fromBlock } = ctx;
  const range = { address: market, abi: energyMarketAbi, fromBlock, toBlock: "latest" as const };
  const [placed, cancelled, released, fills, schedules, collateral, latest] = await Promise.all([
    client.getContractEvents({ ...range, eventName: "OrderPlaced", args: { owner: me } }),
    client.getContractEvents({ ...range, eventName: "OrderCancelled", args: { owner: me } }),
    client.getContractEvents({ ...range, eventName: "OrderReleased", args: { owner: me } }),
    client.getContractEvents({ ...range, eventName: "FillSettled", args: { owner: me } }),
    client.getContractEvents({ ...range, eventName: "ScheduleCommitted" }),
    client.readContract({ address: market, abi: energyMarketAbi, functionName: "offerCollateralPerKwh" }),
    client.getBlock({ blockTag: "latest" }),
  ]);
  const cancelledIds = new Set(cancelled.map((e) => e.args.orderId));
  const releasedIds = new Set(released.map((e) => e.args.orderId));
  const fillById = new Map(fills.map((e) => [e.args.orderId, e.args] as const));
  const scheduledIntervals = new Set(schedules.map((e) => e.args.intervalId));
  const gateClosures = new Map<bigint, bigint>();
  const records: OrderRecord[] = [];
  for (const e of placed) {
    const a = e.args;
    const intervalId = a.intervalId!;
    const side = orderSide(a.side as Side);
    const quantityWh = a.quantityWh!;
    const limit = a.limitPricePerKwh!;
    // Every order locks the imbalance collateral; a bid also its highest payment.
    const lock =
      ceilDiv1000(collateral * quantityWh) + (side === "bid" ? ceilDiv1000(limit * quantityWh) : 0n);
    let gate = gateClosures.get(intervalId);
    if (gate === undefined) {
      gate = await client.readContract({
        address: market,
        abi: energyMarketAbi,
        functionName: "gateClosure",
        args: [intervalId],
      });
      gateClosures.set(intervalId, gate);
    }
    const fill = fillById.get(a.orderId);
    const state: OrderState = cancelledIds.has(a.orderId)
      ? "cancelled"
      : releasedIds.has(a.orderId)
        ? "released"
        : fill !== undefined
          ? "settled"
          : scheduledIntervals.has(intervalId)
            ? "scheduled"
            : latest.timestamp < gate
              ? "open"
              : "closed";
    // One settled offer per (owner, interval) at most (its slot is never reused), so the interval's
    // withheld payout is this fill's.
    const pendingPayout =
      side === "offer" && fill !== undefined && fill.amount! > 0n
        ? await client.readContract({
            address: market,
            abi: energyMarketAbi,
            functionName: "pendingPayout",
            args: [me, intervalId],
          })
        : 0n;
    const payout =
      side === "offer" && fill !== undefined && fill.amount! > 0n
        ? pendingPayout > 0n
          ? ("withheld until delivery" as const)
          : ("paid" as const)
        : null;
    records.push({
      orderId: a.orderId!,
      payout,
      pendingPayout,
      intervalId,
      side,
      zoneId: a.zoneId!,
      quantityWh,
      limitPricePerKwh: limit,
      nonce: a.nonce!,
      lock,
      state,
      filledWh: fill?.filledWh ?? null,
      settledAmount: fill?.amount ?? null,
      placedInBlock: e.blockNumber,
    });
  }
  return records;
}

/* ---------- commands ---------- */

async function deposit(ctx: Context, amountText: string, usePermit: boolean) {
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

const freeBalance = (ctx: Context) =>
  ctx.client.readContract({
    address: ctx.market,
    abi: energyMarketAbi,
    functionName: "balanceOf",
    args: [ctx.me],
  });

async function withdraw(ctx: Context, amountText: string, toFlag: unknown) {
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

const orderFlagsSchema = z.object({
  "--interval": uint,
  "--zone": uint.refine((v) => v < 2n ** 32n, "must fit in uint32"),
  "--kwh": decimal,
  "--price": decimal,
  "--nonce": uint.refine((v) => v < 2n ** 64n, "must fit in uint64").optional(),
});

async function placeOrder(ctx: Context, side: "bid" | "offer", flags: Flags) {
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
  // Every order locks the imbalance collateral; a bid also its highest payment.
  const lock =
    ceilDiv1000(collateralPerKwh * quantityWh) + (side === "bid" ? ceilDiv1000(price * quantityWh) : 0n);
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

async function cancel(ctx: Context, orderIdText: string) {
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

async function orders(ctx: Context) {
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

async function balance(ctx: Context) {
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

async function certificatesAddress(ctx: Context): Promise<Address> {
  return ctx.client.readContract({ address: ctx.market, abi: energyMarketAbi, functionName: "certificates" });
}

async function certificates(ctx: Context) {
  const cert = await certificatesAddress(ctx);
  const range = { address: cert, abi: certificateAbi, fromBlock: ctx.fromBlock, toBlock: "latest" as const };
  const [single, batch] = await Promise.all([
    ctx.client.getContractEvents({ ...range, eventName: "TransferSingle", args: { to: ctx.me } }),
    ctx.client.getContractEvents({ ...range, eventName: "TransferBatch", args: { to: ctx.me } }),
  ]);
  const ids = new Set<bigint>([...single.map((e) => e.args.id!), ...batch.flatMap((e) => [...e.args.ids!])]);
  const held = [];
  for (const id of [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const amountWh = await ctx.client.readContract({
      address: cert,
      abi: certificateAbi,
      functionName: "balanceOf",
      args: [ctx.me, id],
    });
    const source = Number(id & 0xffn);
    held.push({ id, intervalId: id >> 8n, source: sourceLabel(source), amountWh });
  }
  return {
    result: { account: ctx.me, certificates: held },
    text:
      held.length === 0
        ? "no certificates"
        : held
            .map((c) => `${c.id}: interval ${c.intervalId}, ${c.source}, ${formatUnits(c.amountWh, 3)} kWh`)
            .join("\n"),
  };
}

async function retire(ctx: Context, idText: string, kwhText: string, flags: Flags) {
  const f = parse(
    z.object({ id: uint, kWh: decimal, "--beneficiary": address, "--claim": z.string().default("") }),
    { id: idText, kWh: kwhText, "--beneficiary": flags["beneficiary"], "--claim": flags["claim"] },
  );
  const amountWh = toBaseUnits(f.kWh, 3, "kWh");
  if (amountWh === 0n) throw new CliError("kWh: must be greater than zero", 2);
  const cert = await certificatesAddress(ctx);
  const { send } = await ctx.signer();
  const hash = await send({
    address: cert,
    abi: certificateAbi,
    functionName: "retire",
    args: [f.id, amountWh, f["--beneficiary"], f["--claim"]],
  });
  return {
    result: { id: f.id, amountWh, beneficiary: f["--beneficiary"], transactions: [hash] },
    text: `retired ${f.kWh} kWh of certificate ${f.id} for ${f["--beneficiary"]}`,
  };
}

/* ---------- claim: pull settlement ---------- */

/** How long a signed meter-proof request stays valid (the node accepts at most 600 s). */
const CLAIM_REQUEST_TTL_SECONDS = 120n;

/** GETs `path` from the node and validates the answer; a 4xx/5xx becomes a CliError with the node's reason. */
async function fromNode<S extends z.ZodTypeAny>(
  nodeUrl: string,
  path: string,
  schema: S,
): Promise<z.output<S>> {
  let res: Response;
  try {
    res = await fetch(new URL(path, nodeUrl), { signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new CliError(`--node-url: no answer from ${nodeUrl} (${(error as Error).message})`);
  }
  const body = (await res.json().catch(() => undefined)) as { error?: unknown } | undefined;
  if (!res.ok)
    throw new CliError(`node ${nodeUrl} answered ${res.status}: ${String(body?.error ?? res.statusText)}`);
  const parsed = schema.safeParse(body);
  if (!parsed.success)
    throw new CliError(
      `node ${nodeUrl} answered an unexpected document: ${formatIssues(parsed.error.issues)}`,
    );
  return parsed.data as z.output<S>;
}

async function claim(ctx: Context, flags: Flags) {
  const f = parse(
    z.object({
      "--interval": uint,
      "--node-url": z
        .string({ required_error: "is required (an oracle node's HTTP URL)" })
        .url("must be a URL"),
      "--only": z.enum(["fill", "imbalance"]).optional(),
    }),
    {
      "--interval": flags["interval"],
      "--node-url": flags["nodeUrl"] ?? process.env["GRIDBRAIN_NODE_URL"],
      "--only": flags["only"],
    },
  );
  const intervalId = f["--interval"];
  const nodeUrl = f["--node-url"].endsWith("/") ? f["--node-url"] : `${f["--node-url"]}/`;
  const read = <T>(functionName: string, args: readonly unknown[]) =>
    ctx.client.readContract({
      address: ctx.market,
      abi: energyMarketAbi,
      functionName: functionName as "position",
      args: args as [Address, bigint, number],
    }) as Promise<T>;
  const transactions: Hex[] = [];
  const fills: { orderId: Hex; side: "bid" | "offer"; filledWh: bigint }[] = [];
  const lines: string[] = [];
  let imbalance: { injectedWh: bigint; consumedWh: bigint } | "settled" | "pending" | "skipped" = "skipped";
  let pendingReason = "";

  if (f["--only"] !== "imbalance") {
    // Buy side first: the contract pays a seller only out of what the interval's buyers were charged.
    for (const side of [Side.Buy, Side.Sell]) {
      // The slot holds the order id while the fill is open, a settled record (flag | filledWh) after.
      const [slot, [settled]] = await Promise.all([
        read<Hex>("position", [ctx.me, intervalId, side]),
        read<readonly [boolean, bigint]>("settledFill", [ctx.me, intervalId, side]),
      ]);
      if (settled || /^0x0{64}$/.test(slot)) continue;
      const p = await fromNode(nodeUrl, `proofs/${intervalId}/fills/${slot}`, FillProofResponseSchema);
      const o = p.leaf.order;
      const { send } = await ctx.signer();
      transactions.push(
        await send({
          address: ctx.market,
          abi: energyMarketAbi,
          functionName: "claimFill",
          args: [
            p.scheduleRoot,
            p.zonePrices.map(BigInt),
            {
              order: {
                owner: o.owner,
                intervalId: BigInt(o.intervalId),
                side: o.side,
                zoneId: o.zoneId,
                quantityWh: BigInt(o.quantityWh),
                limitPricePerKwh: BigInt(o.limitPricePerKwh),
                nonce: BigInt(o.nonce),
              },
              filledWh: BigInt(p.leaf.filledWh),
            },
            p.proof,
          ],
        }),
      );
      const sideName = orderSide(side);
      fills.push({ orderId: slot, side: sideName, filledWh: BigInt(p.leaf.filledWh) });
      lines.push(`claimed the ${sideName} fill ${slot}: ${formatUnits(BigInt(p.leaf.filledWh), 3)} kWh`);
    }
    if (fills.length === 0) lines.push(`no open fill in interval ${intervalId}`);
  }

  if (f["--only"] !== "fill") {
    const state = (await ctx.client.readContract({
      address: ctx.market,
      abi: energyMarketAbi,
      functionName: "intervalState",
      args: [intervalId],
    })) as { meterRoot: Hex; fillCount: number | bigint; settledCount: number | bigint };
    if (await read<boolean>("imbalanceSettled", [ctx.me, intervalId])) {
      imbalance = "settled";
      lines.push("the imbalance is already settled");
    } else if (/^0x0{64}$/.test(state.meterRoot)) {
      pendingReason = `interval ${intervalId} has no committed meter report yet`;
    } else if (BigInt(state.settledCount) < BigInt(state.fillCount)) {
      pendingReason = `the imbalance settles once every fill of the interval has (${state.settledCount}/${state.fillCount} settled)`;
    } else {
      const { account, send } = await ctx.signer();
      const expiry = BigInt(Math.floor(Date.now() / 1000)) + CLAIM_REQUEST_TTL_SECONDS;
      const chainId = await ctx.client.getChainId();
      const signature = await account.signMessage({
        message: meterProofMessage({ market: ctx.market, chainId, intervalId, participant: ctx.me, expiry }),
      });
      const p = await fromNode(
        nodeUrl,
        `proofs/${intervalId}/meter/${ctx.me}?expiry=${expiry}&signature=${signature}`,
        MeterProofResponseSchema,
      );
      const injectedWh = BigInt(p.leaf.injectedWh);
      const consumedWh = BigInt(p.leaf.consumedWh);
      transactions.push(
        await send({
          address: ctx.market,
          abi: energyMarketAbi,
          functionName: "settleImbalance",
          args: [ctx.me, intervalId, injectedWh, consumedWh, p.proof],
        }),
      );
      imbalance = { injectedWh, consumedWh };
      lines.push(
        `settled the imbalance: injected ${formatUnits(injectedWh, 3)} kWh, consumed ${formatUnits(consumedWh, 3)} kWh`,
      );
    }
    if (pendingReason !== "") {
      if (f["--only"] === "imbalance") throw new CliError(`imbalance: ${pendingReason}`);
      imbalance = "pending";
      lines.push(`imbalance not claimed: ${pendingReason}; run claim again later`);
    }
  }
  const free = await freeBalance(ctx);
  lines.push(`free balance ${fmt(ctx, free)} ${ctx.symbol}`);
  return {
    result: {
      intervalId,
      fills,
      imbalance,
      ...(pendingReason === "" ? {} : { pendingReason }),
      freeBalance: free,
      transactions,
    },
    text: lines.join("\n"),
  };
}

/* ---------- registration ---------- */

function withConnection(cmd: Command): Command {
  return cmd
    .option("--keystore <file>", "encrypted key of the account (GRIDBRAIN_KEYSTORE_PATH)")
    .option("--password-file <file>", "file holding the keystore password (GRIDBRAIN_KEYSTORE_PASSWORD_FILE)")
    .option("--rpc-url <url>", "JSON-RPC endpoint (GRIDBRAIN_RPC_URL)")
    .option("--market <address>", "EnergyMarket address (GRIDBRAIN_MARKET_ADDRESS)")
    .option("--from-block <n>", "first block to read events from", "0")
    .option("--json", "print the result as JSON");
}

type Outcome = { result: unknown; text: string };

function run(body: (ctx: Context, positional: readonly string[], flags: Flags) => Promise<Outcome>) {
  return async (...received: unknown[]) => {
    // commander passes the positional arguments, then the options object, then the command.
    const flags = received[received.length - 2] as Flags;
    const positional = received.slice(0, -2) as string[];
    let ctx: Context | undefined;
    try {
      ctx = await connect(flags);
      const outcome = await body(ctx, positional, flags);
      console.log(flags["json"] === true ? jsonText(outcome.result) : outcome.text);
    } catch (error) {
      const revert = decodeRevert(error);
      let name: string;
      let message: string;
      let code: 1 | 2 = 1;
      if (revert !== undefined) {
        name = revert.name;
        message = explainRevert(ctx, revert.name, revert.args);
      } else if (error instanceof CliError) {
        name = error.errorName ?? (error.code === 2 ? "InvalidArguments" : "Error");
        message = error.message;
        code = error.code;
      } else if (error instanceof ViemBaseError) {
        name = error.name;
        message = error.shortMessage;
      } else {
        name = (error as Error).name ?? "Error";
        message = (error as Error).message ?? String(error);
      }
      if (flags["json"] === true) console.error(jsonText({ error: { name, message } }));
      else console.error(`error: ${message}`);
      process.exitCode = code;
    }
  };
}

export function registerProsumerCommands(program: Command): void {
  withConnection(program.command("deposit"))
    .description("move <amount> tokens (decimal, token units) from the wallet into the market")
    .argument("<amount>", 'token units, e.g. "12.5"')
    .option("--no-permit", "use approve + deposit even when the token supports EIP-2612 permit")
    .action(run((ctx, [amount], flags) => deposit(ctx, amount!, flags["permit"] !== false)));

  withConnection(program.command("withdraw"))
    .description("send <amount> of the free market balance back to the wallet")
    .argument("<amount>", 'token units, e.g. "12.5"')
    .option("--to <address>", "recipient (default: the account)")
    .action(run((ctx, [amount], flags) => withdraw(ctx, amount!, flags["to"])));

  for (const side of ["bid", "offer"] as const)
    withConnection(program.command(side))
      .description(
        side === "bid"
          ? "buy energy: locks price × energy and the imbalance collateral until settlement"
          : "sell energy: locks the imbalance collateral per kWh; paid once delivery is settled",
      )
      .option("--interval <n>", "interval id")
      .option("--zone <z>", "zone id")
      .option("--kwh <x>", "energy in kWh (at most 3 decimals)")
      .option("--price <p>", `${side === "bid" ? "maximum" : "minimum"} price per kWh in token units`)
      .option("--nonce <n>", "order nonce (default: random)")
      .option("--dry-run", "only show the order and the lock it would take")
      .action(run((ctx, _args, flags) => placeOrder(ctx, side, flags)));

  withConnection(program.command("cancel"))
    .description("cancel an open order before gate closure (its lock is returned)")
    .argument("<orderId>", "the order id (0x…, 32 bytes)")
    .action(run((ctx, [orderId]) => cancel(ctx, orderId!)));

  withConnection(program.command("orders"))
    .description(
      "the account's orders with their state: open, closed, scheduled, settled (filled), cancelled, released",
    )
    .action(run((ctx) => orders(ctx)));

  withConnection(program.command("balance"))
    .description(
      "free, locked (with the payouts pending delivery) and owed market balances, and the wallet's token balance",
    )
    .action(run((ctx) => balance(ctx)));

  withConnection(program.command("certificates"))
    .description("energy certificates (ERC-1155, 1 unit = 1 Wh) the account holds")
    .action(run((ctx) => certificates(ctx)));

  withConnection(program.command("claim"))
    .description(
      "settle the account's own fill and imbalance of an interval with proofs from an oracle node (pull settlement)",
    )
    .option("--interval <n>", "interval id")
    .option("--node-url <url>", "an oracle node's HTTP URL, serving the Proof API (GRIDBRAIN_NODE_URL)")
    .option("--only <what>", '"fill" or "imbalance" (default: both, the imbalance once it can settle)')
    .action(run((ctx, _args, flags) => claim(ctx, flags)));

  withConnection(program.command("retire"))
    .description("retire <kWh> of certificate <id> for a beneficiary (burns them with a claim)")
    .argument("<id>", "certificate id")
    .argument("<kWh>", "energy in kWh (at most 3 decimals)")
    .option("--beneficiary <address>", "who the claim is made for")
    .option("--claim <text>", "claim data recorded in the event", "")
    .action(run((ctx, [id, kwh], flags) => retire(ctx, id!, kwh!, flags)));
}
