/** Runs the `gridbrain` command as a user would (bin/gridbrain.mjs in a child process). */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../oracle/src/devnet/local-services.js";

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunCliOptions {
  /**
   * Leave out the caller's GRIDBRAIN_* variables, so that only the flags under test configure the
   * command (a developer's shell or CI may export some).
   */
  readonly withoutGridbrainEnv?: boolean;
}

/**
 * A JSON-RPC URL no request ever reaches: fetch refuses port 1 itself ("bad port", one of the Fetch
 * standard's blocked ports), at once, without a connection.
 */
export const CLOSED_RPC_URL = "http://127.0.0.1:1";

/**
 * Every setting the read-only commands (`verify`, `market status`) require, as flags, with
 * `rpcUrl` (default: CLOSED_RPC_URL, so a test of a flag stops before any chain is needed).
 * Flags appended after these override them (commander keeps an option's last value).
 */
export function readOnlyFlags(rpcUrl: string = CLOSED_RPC_URL): string[] {
  return [
    ...["--rpc-url", rpcUrl, "--chain-id", "31337"],
    ...["--market-address", `0x${"1".repeat(40)}`, "--registry-address", `0x${"2".repeat(40)}`],
  ];
}

/** Resolves with the exit code and both streams; never rejects on a non-zero exit. */
export function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  const env =
    options.withoutGridbrainEnv === true
      ? Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GRIDBRAIN_")))
      : process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(PROJECT_ROOT, "bin", "gridbrain.mjs"), ...args],
      { cwd: PROJECT_ROOT, env: { ...env, NO_COLOR: "1" } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
