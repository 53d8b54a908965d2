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
