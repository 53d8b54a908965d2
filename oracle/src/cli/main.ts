/**
 * `gridbrain` — the command line. Each command group registers itself here; the commands'
 * own output is the only place console output is allowed (STYLE.md).
 *
 * A command group is loaded only when its command runs: loading every group pulled the oracle
 * node's dependencies (bullmq, express, bull-board) into `gridbrain dispatch solve`, a good part of
 * its cold start (docs/BENCHMARKS.md). `--help`, no command or an unknown one loads them all, so
 * the help text lists every command.
 *
 * Failures: a command throws, and this prints what it threw through ./output.ts, as commander's
 * own refusals of the command line (an unknown option, a missing argument): one shape for every
 * command (`error: <message>` or `--json`'s `{"error":{…}}`; exit 2 for bad input, 1 otherwise).
 */
import { Command, CommanderError } from "commander";
import { GROUPS, groupsFor } from "./commands.js";

const program = new Command();
program
  .name("gridbrain")
  .description("GridBrain: peer-to-peer renewable energy market — oracle node, verification and tools")
  .version("0.1.0")
  // Set before the groups register: subcommands copy these settings when they are created.
  // Commander throws instead of exiting, and its error text is printed below, reworded.
  .exitOverride()
  .configureOutput({ outputError: () => {} });
for (const name of groupsFor(process.argv)) (await GROUPS[name]!())(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // --help and --version end here too, their text already printed.
  if (error instanceof CommanderError && (error.exitCode === 0 || error.code === "commander.help"))
    process.exitCode = error.exitCode;
  else {
    // Loaded only on a failure: it needs the client and every ABI to explain a revert, which
    // `dispatch solve`'s cold start does without.
    const { describeCommanderError, describeFailure, printFailure } = await import("./output.js");
    // A refused command line has no parsed options: --json is looked for among the arguments.
    const json = process.argv.slice(2).includes("--json");
    printFailure(
      error instanceof CommanderError ? describeCommanderError(error) : describeFailure(error),
      json,
    );
    // What a failed command started may keep the event loop alive (a half-started oracle node,
    // the devnet's child processes and log pipes): the failure is printed, the command is over.
    process.exit();
  }
}
