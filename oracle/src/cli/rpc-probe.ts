/** The first request of a CLI command that connects to a node: which chain is it, and is it there. */
import { BaseError, TimeoutError, createPublicClient, http } from "viem";
import { CliError } from "./output.js";

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
