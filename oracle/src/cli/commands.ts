/**
 * Which module registers each top-level command of the `gridbrain` CLI, so that main.ts loads only
 * the group a command needs (test/oracle/cli/commands.test.ts checks this table against the registrations).
 */
import type { Command } from "commander";

type Register = (program: Command) => void;

export const GROUPS: Readonly<Record<string, () => Promise<Register>>> = {
  keystore: async () => (await import("./keystore.js")).registerKeystoreCommands,
  oracle: async () => (await import("./oracle.js")).registerOracleCommands,
  dispatch: async () => (await import("./dispatch.js")).registerDispatchCommands,
  prosumer: async () => (await import("./prosumer/commands.js")).registerProsumerCommands,
  meter: async () => (await import("./meter.js")).registerMeterCommands,
  devnet: async () => (await import("./devnet.js")).registerDevnetCommands,
  registry: async () => (await import("./registry.js")).registerRegistryCommands,
};

/** The top-level commands each group registers. */
export const COMMAND_GROUPS: Readonly<Record<string, keyof typeof GROUPS>> = {
  keystore: "keystore",
  oracle: "oracle",
  verify: "oracle",
  market: "oracle",
  dispatch: "dispatch",
  deposit: "prosumer",
  withdraw: "prosumer",
  bid: "prosumer",
  offer: "prosumer",
  cancel: "prosumer",
  orders: "prosumer",
  balance: "prosumer",
  certificates: "prosumer",
  retire: "prosumer",
  claim: "prosumer",
  flex: "prosumer",
  meter: "meter",
  devnet: "devnet",
  registry: "registry",
};

/** The groups `argv` needs: all of them unless its command (argv[2]) is known. */
export function groupsFor(argv: readonly string[]): string[] {
  const group = COMMAND_GROUPS[argv[2] ?? ""];
  return group === undefined ? Object.keys(GROUPS) : [group];
}
