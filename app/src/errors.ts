/** Readable text for any failure: wallet rejection, contract custom errors (decoded by the client), the rest. */
import { BaseError } from "viem";
import { decodeError, isUserRejection } from "../../oracle/src/client/index.ts";
import { fmt } from "./state.ts";

export function describeError(error: unknown): string {
  if (isUserRejection(error)) return "Rejected in the wallet";
  const revert = decodeError(error);
  if (revert !== undefined) {
    const { name, args } = revert;
    if (name === "InsufficientBalance")
      return `Insufficient balance: free ${fmt(args[1] as bigint)}, needed ${fmt(args[2] as bigint)}`;
    if (name === "GateClosed") return `Gate closed for interval ${String(args[0])}`;
    if (name === "EnforcedPause") return "The market is paused";
    return `${name}(${args.map(String).join(", ")})`;
  }
  if (error instanceof BaseError) return error.shortMessage;
  return error instanceof Error ? error.message : String(error);
}
