/**
 * The schedule tree's leaves and their index (domain/schedule.ts): the one rule that clearing, a
 * node's own record, settlement and the Proof API all rebuild the committed root by.
 */
import { expect } from "chai";
import type { Hex } from "viem";
import { UnrecoverableInputError } from "../../../oracle/src/domain/errors.js";
import {
  type FillLeaf,
  indexedFillTree,
  scheduleLeaves,
  scheduleRootOf,
} from "../../../oracle/src/domain/schedule.js";

const id = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const orders = [{ orderId: id(1) }, { orderId: id(2) }];
const step: FillLeaf = { orderId: id(0xf1), filledWh: 500n };

describe("scheduleLeaves", () => {
  it("lists the fills in order, then the flexibility steps", () => {
    expect(scheduleLeaves(orders, [1_500n, 0n], [step])).to.deep.equal([
      { orderId: id(1), filledWh: 1_500n },
      { orderId: id(2), filledWh: 0n },
      step,
    ]);
  });

  describe("when the interval has a step", () => {
    it("has another root than the fills alone (a proof from those fails on chain)", () => {
      expect(scheduleRootOf(scheduleLeaves(orders, [1_500n, 0n], [step]))).to.not.equal(
        scheduleRootOf(scheduleLeaves(orders, [1_500n, 0n])),
      );
    });
  });

  describe("when the filled energies do not match the orders", () => {
    it("refuses, naming the field", () => {
      expect(() => scheduleLeaves(orders, [1n]))
        .to.throw(UnrecoverableInputError)
        .with.property("field", "filledWh");
    });
  });
});

describe("indexedFillTree", () => {
  it("indexes every leaf, steps included, by its lower-case id, at its place in the tree", () => {
    const leaves = scheduleLeaves(
      orders,
      [1_500n, 0n],
      [{ ...step, orderId: `0x${"F1".padStart(64, "0")}` as Hex }],
    );
    const { tree, indexOf } = indexedFillTree(leaves);
    expect(tree.root).to.equal(scheduleRootOf(leaves));
    expect(indexOf.size).to.equal(3);
    for (const [key, i] of indexOf) expect(tree.at(i)![0].toLowerCase()).to.equal(key);
    expect(indexOf.has(id(0xf1))).to.equal(true);
  });
});
