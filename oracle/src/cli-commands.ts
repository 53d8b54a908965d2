/**
 * Which module registers each top-level command of the `gridbrain` CLI, so that cli.ts loads only
 * the group a command needs (test/oracle/cli.test.ts checks this table against the registrations).
 */
import type { Command } from "commander";

type Register = (program: Command) => void;

export const GROUPS: Readonly<Record<string, () => Promise<Register>>> = {
  keystore: async () => (await import("./infra/keystore-cli.js")).registerKeystoreCommands,
  oracle: async () => (await import("./oracle-cli.js")).registerOracleCommands,
  dispatch: async () => (await import("./dispatch-cli.js")).registerDispatchCommands,
  prosumer: async () => (await import("./prosumer-cli.js")).registerProsumerCommands,
  meter: async () => (await import("./meter-cli.js")).registerMeterCommands,
  devnet: async () => (await import("./devnet-cli.js")).registerDevnetCommands,
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
  meter: "meter",
  devnet: "devnet",
};

/** The groups `argv` needs: all of them unless its command (argv[2]) is known. */
export function groupsFor(argv: readonly string[]): string[] {
  const group = COMMAND_GROUPS[argv[2] ?? ""];
  return group === undefined ? Object.keys(GROUPS) : [group];
}
