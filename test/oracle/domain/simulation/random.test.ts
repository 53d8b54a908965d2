import { expect } from "chai";
import { expectClose } from "../../../helpers/approx.js";
import { Prng, deriveSeed } from "../../../../oracle/src/domain/simulation/random.js";

describe("Prng", () => {
  describe("when two generators share a seed", () => {
    it("produces identical sequences", () => {
      const a = new Prng(42);
      const b = new Prng(42);
      const seqA = Array.from({ length: 100 }, () => a.nextUint32());
      const seqB = Array.from({ length: 100 }, () => b.nextUint32());
      expect(seqA).to.deep.equal(seqB);
    });

    it("continues the same sequence from a saved state", () => {
      const a = new Prng(7);
      a.uniform();
      const resumed = new Prng(a.state);
      expect(resumed.nextUint32()).to.equal(a.nextUint32());
    });
  });

  describe("when the seeds differ", () => {
    it("produces different sequences", () => {
      const a = new Prng(1);
      const b = new Prng(2);
      expect(Array.from({ length: 5 }, () => a.nextUint32())).to.not.deep.equal(
        Array.from({ length: 5 }, () => b.nextUint32()),
      );
    });
  });

  describe("uniform", () => {
    it("stays in [0, 1) with a mean near 1/2", () => {
      const rng = new Prng(3);
      let sum = 0;
      for (let i = 0; i < 20_000; i++) {
        const u = rng.uniform();
        expect(u).to.be.at.least(0).and.below(1);
        sum += u;
      }
      // sd of the mean is sqrt(1/12/20000) ≈ 0.002; 0.01 is five sd
      expectClose(sum / 20_000, 0.5, 0.01);
    });
  });

  describe("normal", () => {
    it("has the requested mean and standard deviation", () => {
      const rng = new Prng(11);
      const n = 20_000;
      const xs = Array.from({ length: n }, () => rng.normal(3, 2));
      const mean = xs.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
      expectClose(mean, 3, 0.07); // sd of mean ≈ 0.014
      expectClose(sd, 2, 0.06);
      expect(xs.every(Number.isFinite)).to.equal(true);
    });
  });

  describe("meanOneLognormal", () => {
    it("is positive with a mean near one", () => {
      const rng = new Prng(5);
      const xs = Array.from({ length: 20_000 }, () => rng.meanOneLognormal(0.25));
      expect(xs.every((x) => x > 0)).to.equal(true);
      expectClose(xs.reduce((a, b) => a + b, 0) / xs.length, 1, 0.01);
    });
  });

  describe("integerIn", () => {
    it("covers both bounds and nothing outside", () => {
      const rng = new Prng(9);
      const seen = new Set<number>();
      for (let i = 0; i < 1000; i++) seen.add(rng.integerIn(5, 8));
      expect([...seen].sort()).to.deep.equal([5, 6, 7, 8]);
    });
  });

  describe("when the seed is not a uint32", () => {
    it("throws", () => {
      expect(() => new Prng(-1)).to.throw(RangeError, /uint32/);
      expect(() => new Prng(1.5)).to.throw(RangeError, /uint32/);
    });
  });
});

describe("deriveSeed", () => {
  it("is stable for the same labels and differs for different ones", () => {
    expect(deriveSeed(1, "cloud", 3)).to.equal(deriveSeed(1, "cloud", 3));
    expect(deriveSeed(1, "cloud", 3)).to.not.equal(deriveSeed(1, "cloud", 4));
    expect(deriveSeed(1, "cloud", 3)).to.not.equal(deriveSeed(2, "cloud", 3));
  });
});
