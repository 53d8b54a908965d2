/**
 * cli/main.ts loads only the command group a command needs (a faster cold start); this checks the table
 * it does that with against what each group really registers, so a new command cannot be
 * missing from it (it would then load every group, still correct but slow) or point at the wrong
 * group (it would then be unknown).
 */
import { expect } from "chai";
import { Command } from "commander";
import { COMMAND_GROUPS, GROUPS, groupsFor } from "../../../oracle/src/cli/commands.js";

describe("gridbrain command groups (cli/commands.ts)", function () {
  this.timeout(60_000);

  it("maps every top-level command to the group that registers it, and nothing else", async () => {
    const registered: Record<string, string> = {};
    for (const [group, load] of Object.entries(GROUPS)) {
      const program = new Command();
      (await load())(program);
      for (const command of program.commands) registered[command.name()] = group;
    }
    expect(COMMAND_GROUPS).to.deep.equal(registered);
  });

  it("loads one group for a known command and all of them for help or an unknown one", () => {
    expect(groupsFor(["node", "gridbrain", "dispatch", "solve", "x.json"])).to.deep.equal(["dispatch"]);
    expect(groupsFor(["node", "gridbrain", "claim"])).to.deep.equal(["prosumer"]);
    expect(groupsFor(["node", "gridbrain", "--help"])).to.deep.equal(Object.keys(GROUPS));
    expect(groupsFor(["node", "gridbrain"])).to.deep.equal(Object.keys(GROUPS));
  });
});
