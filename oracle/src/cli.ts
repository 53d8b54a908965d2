/**
 * `gridbrain` — the command line. Each command group registers itself here; the commands'
 * own output is the only place console output is allowed (STYLE.md).
 */
import { Command } from "commander";
import { registerKeystoreCommands } from "./infra/keystore-cli.js";
import { registerOracleCommands } from "./oracle-cli.js";
import { registerDispatchCommands } from "./dispatch-cli.js";
import { registerProsumerCommands } from "./prosumer-cli.js";
import { registerMeterCommands } from "./meter-cli.js";

const program = new Command();
program
  .name("gridbrain")
  .description("GridBrain: peer-to-peer renewable energy market — oracle node, verification and tools")
  .version("0.1.0");

registerKeystoreCommands(program);
registerOracleCommands(program);
registerDispatchCommands(program);
registerProsumerCommands(program);
registerMeterCommands(program);

await program.parseAsync(process.argv);
