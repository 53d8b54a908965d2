/** The prosumer CLI's failures: its own error type, and contract reverts decoded and explained. */
import {
  type Abi,
  BaseError as ViemBaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  formatUnits,
} from "viem";
import { energyMarketAbi, testTokenAbi } from "../../chain/abis.js";
import { certificateAbi } from "./abi.js";
import type { TokenUnits } from "./format.js";

/** Every error the CLI can meet, for decoding reverts that bubbled up from another contract. */
export const errorAbi = [...energyMarketAbi, ...testTokenAbi, ...certificateAbi].filter(
  (item) => item.type === "error",
) as Abi;

/** A CLI failure: `code` 2 for bad input, 1 for everything else. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly code: 1 | 2 = 1,
    readonly errorName?: string,
  ) {
    super(message);
  }
}

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

export function explainRevert(ctx: TokenUnits | undefined, name: string, args: readonly unknown[]): string {
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
