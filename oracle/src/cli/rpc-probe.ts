/**
 * What every CLI command that connects to a node shares: the `--rpc-timeout-ms` flag and the first
 * request, which chain the node is and whether it is there.
 */
import { z } from "zod";
import { BaseError, TimeoutError, createPublicClient, http } from "viem";
import { RPC_TIMEOUT_MS } from "../infra/config.js";
import { CliError } from "./output.js";

/** `--rpc-timeout-ms`: the bounds and default of the config field `rpcTimeoutMs` (infra/config.ts). */
export const rpcTimeoutMsFlag = z
  .string()
  .regex(/^\d+$/, "must be a whole number of milliseconds")
  .transform(Number)
  .refine((n) => n >= RPC_TIMEOUT_MS.min, `must be >= ${RPC_TIMEOUT_MS.min}`)
  .refine((n) => n <= RPC_TIMEOUT_MS.max, `must be <= ${RPC_TIMEOUT_MS.max}`)
  .default(String(RPC_TIMEOUT_MS.default));

/** The flag's help text, the same for every command that takes it. */
export const RPC_TIMEOUT_MS_HELP = `wait for each JSON-RPC attempt, ${RPC_TIMEOUT_MS.min}..${RPC_TIMEOUT_MS.max} (GRIDBRAIN_RPC_TIMEOUT_MS; default ${RPC_TIMEOUT_MS.default})`;

/**
 * The chain id the node at `rpcUrl` reports, asked twice at most, each attempt waiting `timeoutMs`.
 * A node that cannot be reached, or that takes the request and never answers (stuck, overloaded),
 * is the command's `--rpc-url` input (exit 2); the second case says how long it waited and which
 * flag sets that.
 */
export async function probeChainId(rpcUrl: string, timeoutMs: number): Promise<number> {
  const probe = createPublicClient({ transport: http(rpcUrl, { retryCount: 1, timeout: timeoutMs }) });
  try {
    return await probe.getChainId();
  } catch (error) {
    const waited = error instanceof BaseError && error.walk((e) => e instanceof TimeoutError) !== null;
    throw CliError.input(
      "--rpc-url",
      waited
        ? `no JSON-RPC node answered at ${rpcUrl} within ${timeoutMs} ms (--rpc-timeout-ms)`
        : `no JSON-RPC node answers at ${rpcUrl}`,
    );
  }
}
