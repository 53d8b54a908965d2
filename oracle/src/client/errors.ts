/**
 * The client's errors: one `ClientError` (the oracle's `BaseError`: short message, details,
 * cause), `InvalidParameterError` for input that can never succeed (it names the field), and
 * `decodeError`, which turns a contract revert anywhere in a cause chain into its custom error's
 * name and arguments, from the ABIs of all six contracts.
 */
import {
  type Abi,
  BaseError as ViemBaseError,
  ContractFunctionRevertedError,
  UserRejectedRequestError,
  decodeErrorResult,
  formatUnits,
} from "viem";
import {
  energyCertificateAbi,
  energyMarketAbi,
  flexibilityMarketAbi,
  gridRegistryAbi,
  oracleCommitteeAbi,
  testTokenAbi,
} from "../chain/abis.js";
import { BaseError, type BaseErrorOptions } from "../domain/errors.js";

/** A failure of a client action that is not a contract revert (a node's answer, a precondition). */
export class ClientError extends BaseError {
  override name = "ClientError";
  /** A stable name for the failure (`InsufficientTokenBalance`, `ProofUnavailable`, …). */
  readonly errorName: string;
  constructor(errorName: string, shortMessage: string, options: BaseErrorOptions = {}) {
    super(shortMessage, options);
    this.errorName = errorName;
  }
}

/** A parameter that can never be accepted; the message starts with the field's name. */
export class InvalidParameterError extends ClientError {
  override name = "InvalidParameterError";
  readonly field: string;
  constructor(field: string, reason: string) {
    super("InvalidParameter", `${field}: ${reason}`);
    this.field = field;
  }
}

/** Every custom error a GridBrain call can revert with, including those bubbling up from the token. */
export const errorAbi = [
  ...energyMarketAbi,
  ...flexibilityMarketAbi,
  ...gridRegistryAbi,
  ...oracleCommitteeAbi,
  ...energyCertificateAbi,
  ...testTokenAbi,
].filter((item) => item.type === "error") as Abi;

export interface DecodedError {
  readonly name: string;
  readonly args: readonly unknown[];
}

export type DecodeErrorReturnType = DecodedError | undefined;

/**
 * The contract's custom error, by name with its arguments, when `error` is (or wraps) a revert;
 * `undefined` otherwise. A revert whose selector no GridBrain ABI knows is named
 * `unknown error 0x…` with its selector.
 */
export function decodeError(error: unknown): DecodeErrorReturnType {
  if (!(error instanceof ViemBaseError) && !(error instanceof BaseError)) return undefined;
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

/** Whether the user declined the request in the wallet (anywhere in the cause chain). */
export function isUserRejection(error: unknown): boolean {
  return (
    (error instanceof ViemBaseError || error instanceof BaseError) &&
    error.walk((e) => e instanceof UserRejectedRequestError) instanceof UserRejectedRequestError
  );
}

/** How token amounts are shown in an explanation. */
export interface TokenUnits {
  readonly decimals: number;
  readonly symbol: string;
}

/** A sentence for a decoded revert, with token amounts in token units when `units` is given. */
export function explainError(decoded: DecodedError, units?: TokenUnits): string {
  const { name, args } = decoded;
  const amount = (v: unknown) =>
    units === undefined ? String(v) : `${formatUnits(v as bigint, units.decimals)} ${units.symbol}`;
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
    case "WindowInPast":
      return `WindowInPast: interval ${String(args[0])} has closed; the first open interval is ${String(args[1])}`;
    case "NotBatteryOwner":
      return `NotBatteryOwner: battery ${String(args[0])} belongs to ${String(args[2])}, not to ${String(args[1])}`;
    case "FlexOrderExists":
      return `FlexOrderExists: battery ${String(args[0])} already has order ${String(args[1])} in or after this window; change it instead`;
    case "InvalidFlexOrder":
      return `InvalidFlexOrder: ${String(args[0])} ${String(args[1])}`;
    case "RefundNotYet":
      return `RefundNotYet: order ${String(args[0])} is refundable once interval ${String(args[1])} is settled or missed`;
    case "ZeroAmount":
      return "ZeroAmount: the amount or quantity must not be zero";
    default:
      return `${name}(${args.map(String).join(", ")})`;
  }
}
