/**
 * `gridbrain` — the command line. Each command group registers itself here; the commands'
 * own output is the only place console output is allowed (STYLE.md).
 *
 * A command group is loaded only when its command runs: loading every group pulled the oracle
 * node's dependencies (bullmq, express, bull-board) into `gridbrain dispatch solve`, a good part of
 * its cold start (docs/BENCHMARKS.md). `--help`, no command or an unknown one loads them all, so
 * the help text lists every command.
 */
import { Command } from "commander";
import { GROUPS, groupsFor } from "./commands.js";

const program = new Command();
program
  .name("gridbrain")
  .description("GridBrain: peer-to-peer renewable energy market — oracle node, verification and tools")
  .version("0.1.0");
for (const name of groupsFor(process.argv)) (await GROUPS[name]!())(program);

await program.parseAsync(process.argv);
