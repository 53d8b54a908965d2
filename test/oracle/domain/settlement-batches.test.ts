import { expect } from "chai";
import type { Hex } from "viem";
import {
  GAS_PER_BATCH,
  GAS_PER_FILL,
  GAS_PER_IMBALANCE,
  batchSize,
  fillBatches,
  fillOpen,
  imbalanceBatches,
  inBatches,
} from "../../../oracle/src/domain/settlement-batches.js";

const id = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;

describe("fillOpen", () => {
  it("is true while the position slot holds the order id, whatever the hex case", () => {
    expect(fillOpen(id(0xab).toUpperCase().replace("0X", "0x") as Hex, id(0xab))).to.equal(true);
  });
  it("is false once the slot holds anything else (settled or released: zero)", () => {
    expect(fillOpen(id(0), id(0xab))).to.equal(false);
    expect(fillOpen(id(0xac), id(0xab))).to.equal(false);
  });
});

describe("batchSize", () => {
  describe("when the budget covers many items", () => {
    it("fits ⌊(budget − GAS_PER_BATCH) / per item⌋ items: 132 fills or 110 imbalances in 10,000,000 gas", () => {
      expect(batchSize(10_000_000n, GAS_PER_FILL)).to.equal(132);
      expect(batchSize(10_000_000n, GAS_PER_IMBALANCE)).to.equal(110);
    });
    it("never lets the batch's estimated gas exceed the budget", () => {
      for (const budget of [200_000n, 1_000_000n, 3_333_333n, 30_000_000n]) {
        const n = BigInt(batchSize(budget, GAS_PER_FILL));
        expect(GAS_PER_BATCH + n * GAS_PER_FILL, `budget ${budget}`).to.be.at.most(budget);
        expect(GAS_PER_BATCH + (n + 1n) * GAS_PER_FILL, `budget ${budget}: one more fits`).to.be.above(
          budget,
        );
      }
    });
  });
  describe("when the budget is below one item (or even the fixed part)", () => {
    it("still sends one item per transaction", () => {
      expect(batchSize(GAS_PER_BATCH + GAS_PER_FILL - 1n, GAS_PER_FILL)).to.equal(1);
      expect(batchSize(1n, GAS_PER_FILL)).to.equal(1);
    });
  });
  it("rejects a gas per item that is not positive, naming it", () => {
    expect(() => batchSize(10_000_000n, 0n)).to.throw(RangeError, /gasPerItem/);
  });
});

describe("inBatches", () => {
  it("cuts in consecutive batches of at most size, order kept", () => {
    expect(inBatches([1, 2, 3, 4, 5], 2)).to.deep.equal([[1, 2], [3, 4], [5]]);
    expect(inBatches([], 2)).to.deep.equal([]);
  });
  it("rejects a size below 1, naming it", () => {
    expect(() => inBatches([1], 0)).to.throw(RangeError, /size/);
  });
});

describe("fillBatches", () => {
  const fill = (n: number, side: 0 | 1) => ({ n, side });

  describe("when buys and sells are interleaved", () => {
    it("settles every buy before any sell, keeping placement order within a side", () => {
      const open = [fill(1, 1), fill(2, 0), fill(3, 1), fill(4, 0), fill(5, 0)];
      const flat = fillBatches(open, 10_000_000n).flat();
      expect(flat.map((f) => f.n)).to.deep.equal([2, 4, 5, 1, 3]);
    });
  });
  describe("when the open fills exceed one transaction", () => {
    it("cuts them at the gas budget's batch size and drops none", () => {
      const open = Array.from({ length: 300 }, (_, i) => fill(i, (i % 3 === 0 ? 1 : 0) as 0 | 1));
      const batches = fillBatches(open, 10_000_000n);
      expect(batches.map((b) => b.length)).to.deep.equal([132, 132, 36]);
      expect(new Set(batches.flat().map((f) => f.n)).size).to.equal(300);
      // the last buy comes before the first sell across batch boundaries
      const sides = batches.flat().map((f) => f.side);
      expect(sides.lastIndexOf(0)).to.be.below(sides.indexOf(1));
    });
  });
  it("leaves its input in place", () => {
    const open = [fill(1, 1), fill(2, 0)];
    fillBatches(open, 10_000_000n);
    expect(open.map((f) => f.n)).to.deep.equal([1, 2]);
  });
});

describe("imbalanceBatches", () => {
  it("cuts participants at GAS_PER_IMBALANCE each, order kept", () => {
    const open = Array.from({ length: 250 }, (_, i) => i);
    const batches = imbalanceBatches(open, 10_000_000n);
    expect(batches.map((b) => b.length)).to.deep.equal([110, 110, 30]);
    expect(batches.flat()).to.deep.equal(open);
  });
});
