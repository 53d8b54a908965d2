/**
 * `gridbrain devnet up|down` (devnet/devnet.ts). The bring-up imports the demo's modules, which
 * need the devDependencies (Hardhat, ethers): they are loaded only when a devnet command runs,
 * so `gridbrain --help` still works in a production install.
 *
 * Failures are thrown and printed by main.ts through ./output.ts, as for every command: bad input
 * (a flag, the participants file) names its flag and exits 2 before anything starts; a failed
 * bring-up exits 1.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { flagName } from "../infra/config.js";
import { CliError } from "./cli-error.js";

/** A DevnetInputError's message starts with the flag at fault (`--rpc-port: …`) when it knows it. */
function devnetInput(message: string, fallbackFlag: string): CliError {
  const flag = /^(--[a-z][\w-]*): /.exec(message)?.[1];
  return flag === undefined
    ? CliError.input(fallbackFlag, message)
    : new CliError(message, 2, undefined, flag);
}

export function registerDevnetCommands(program: Command): void {
  const devnet = program
    .command("devnet")
    .description(
      "a local GridBrain network: Hardhat node, Redis, the suite deployed and seeded, a committee",
    );

  devnet
    .command("up")
    .description(
      "start a Hardhat node and a redis-server, deploy the suite, seed the registry (zones, lines, tariffs, " +
        "participants and meters), fund the participants, start a k-of-n committee of oracle nodes, print " +
        "addresses, node URLs and next steps, and write <dir>/state.json. Runs in the foreground until " +
        "Ctrl-C or `gridbrain devnet down`",
    )
    .option("--committee-size <n>", "oracle nodes in the committee", "3")
    .option("--threshold <k>", "signatures a report needs (default: the smallest strict majority)")
    .option("--zones <n>", "grid zones (a chain of zones 0-1-2-…)", "2")
    .option(
      "--participants <file>",
      'JSON file { "participants": [{ "address", "zone", "meter"?, "source"?, "tokens"? }] } ' +
        "(default: 4 dev accounts with meters, keys printed)",
    )
    .option("--dir <dir>", "state file, node configs, keystores and logs", "out/devnet")
    .option("--rpc-port <port>", "the Hardhat node's port", "8545")
    .option("--deployment-id <id>", "Ignition deployment id (deploy/deployments/<id>)", "devnet")
    .action(async (opts: Record<string, unknown>) => {
      const d = await import("../devnet/devnet.js");
      const parsed = d.DevnetFlagsSchema.safeParse(opts);
      if (!parsed.success) throw CliError.issues(parsed.error.issues, flagName);
      const flags = parsed.data;
      let participants;
      if (flags.participants === undefined) participants = d.defaultParticipants(flags.zones);
      else {
        let text: string;
        try {
          text = readFileSync(flags.participants, "utf8");
        } catch (error) {
          throw CliError.input(
            "--participants",
            `cannot read "${flags.participants}": ${(error as Error).message}`,
          );
        }
        try {
          participants = d.parseParticipantsFile(text, flags.zones, flags.participants);
        } catch (error) {
          // `<file>: participants.0.zone: …`
          if (error instanceof d.DevnetInputError) throw CliError.input("--participants", error.message);
          throw error;
        }
      }
      // Listening from the start: a Ctrl-C during the bring-up then stops what was started once
      // the bring-up returns, instead of killing this process and orphaning the chain and Redis.
      const stopRequested = new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      let devnetRun: Awaited<ReturnType<typeof d.startDevnet>>;
      try {
        devnetRun = await d.startDevnet(
          {
            committeeSize: flags.committeeSize,
            threshold: flags.threshold,
            zones: flags.zones,
            participants,
            dir: flags.dir,
            rpcPort: flags.rpcPort,
            deploymentId: flags.deploymentId,
          },
          (line) => console.log(line),
        );
      } catch (error) {
        throw error instanceof d.DevnetInputError ? devnetInput(error.message, "--dir") : error;
      }
      const stateFile = d.statePath(devnetRun.state.dir);
      console.log(d.describeDevnet(devnetRun.state, stateFile));
      console.log("devnet ready");
      // Stay up until told to stop; then stop everything, whichever signal came.
      await stopRequested;
      console.log("stopping the devnet");
      await devnetRun.close();
      console.log("devnet stopped");
      // The oracle nodes' log pipes and the RPC clients would keep the event loop alive.
      process.exit(0);
    });

  devnet
    .command("down")
    .description(
      "stop the devnet whose state file is in <dir>, and wait until every process it recorded is gone",
    )
    .option("--dir <dir>", "the directory given to `devnet up`", "out/devnet")
    .action(async (opts: { dir: string }) => {
      const d = await import("../devnet/devnet.js");
      const stopped = await d.stopDevnet(opts.dir);
      if (stopped === undefined) {
        console.log(`no devnet state in ${opts.dir}: nothing to stop`);
        return;
      }
      for (const p of stopped) console.log(`stopped ${p.name} (pid ${p.pid})`);
    });
}
