/**
 * The TypeScript twins of the contracts' enums agree with the Solidity source, member by member
 * and in order (an enum travels as its index). The ABI carries only `uint8`, not the member
 * names, so the interface files are read.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { ORDER_SIDES, orderSide, sideCode } from "../../../oracle/src/domain/eip712.js";
import { ENERGY_SOURCES, sourceCode, sourceLabel } from "../../../oracle/src/domain/energy-source.js";

/** Members of `enum <name> { … }` in a Solidity file, in declaration order. */
function solidityEnum(file: string, name: string): string[] {
  const source = readFileSync(new URL(`../../../contracts/interfaces/${file}`, import.meta.url), "utf8");
  const match = new RegExp(`enum\\s+${name}\\s*\\{([^}]*)\\}`).exec(source);
  if (match === null) throw new Error(`enum ${name} not found in contracts/interfaces/${file}`);
  return match[1]!
    .replace(/\/\/[^\n]*/g, "")
    .split(",")
    .map((m) => m.trim())
    .filter((m) => m !== "");
}

describe("ENERGY_SOURCES", () => {
  it("lists IGridRegistry.Source's members in the contract's order", () => {
    const members = solidityEnum("IGridRegistry.sol", "Source");
    expect(
      ENERGY_SOURCES.map((s) => s.toLowerCase()),
      "TypeScript list vs Solidity enum",
    ).to.deep.equal(members.map((m) => m.toLowerCase()));
  });
});

describe("sourceCode", () => {
  it("is the index of the source in IGridRegistry.Source", () => {
    const members = solidityEnum("IGridRegistry.sol", "Source");
    for (const s of ENERGY_SOURCES)
      expect(sourceCode(s), s).to.equal(members.indexOf(s[0]!.toUpperCase() + s.slice(1)));
  });
});

describe("sourceLabel", () => {
  it("names each of the contract's members with a capital, as the CLI and the web app show them", () => {
    expect([0, 1, 2, 3, 4].map(sourceLabel)).to.deep.equal(["Other", "Solar", "Wind", "Hydro", "Battery"]);
  });
  it("says which value it is when the registry defines no such source", () => {
    expect(sourceLabel(7)).to.equal("source 7");
  });
});

describe("ORDER_SIDES", () => {
  it("has one side per member of IEnergyMarket.Side, bid at Buy and offer at Sell", () => {
    const members = solidityEnum("IEnergyMarket.sol", "Side");
    expect(ORDER_SIDES.length, "number of sides").to.equal(members.length);
    expect(sideCode("bid"), "bid").to.equal(members.indexOf("Buy"));
    expect(sideCode("offer"), "offer").to.equal(members.indexOf("Sell"));
    ORDER_SIDES.forEach((s, i) => expect(sideCode(s), `index of ${s}`).to.equal(i));
  });

  it("round-trips through the contract's encoding", () => {
    for (const s of ORDER_SIDES) expect(orderSide(sideCode(s))).to.equal(s);
  });
});
