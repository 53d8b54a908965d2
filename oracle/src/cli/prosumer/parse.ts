/** Validation of the prosumer commands' flags and arguments; every failure names the field (exit code 2). */
import { z } from "zod";
import { getAddress } from "viem";
import { formatIssues } from "../../domain/errors.js";
import { CliError } from "../output.js";

export const address = z
  .string({ required_error: "is required" })
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 20-byte hex address")
  .transform((v) => getAddress(v));
export const decimal = z
  .string({ required_error: "is required" })
  .regex(/^\d+(\.\d+)?$/, 'must be a non-negative decimal number like "12.5"');
export const uint = z
  .string({ required_error: "is required" })
  .regex(/^\d+$/, "must be a non-negative integer")
  .transform((v) => BigInt(v));

/**
 * `input` checked against `schema`; else a CliError (exit code 2) whose message is every bad flag
 * with its reason (`--to: must be …; --interval: …`) and whose field is the first of them.
 */
export function parse<S extends z.ZodTypeAny>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const { issues } = parsed.error;
    throw new CliError(formatIssues(issues), 2, undefined, issues[0]?.path.join("."));
  }
  return parsed.data as z.output<S>;
}
