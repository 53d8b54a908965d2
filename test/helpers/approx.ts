import { expect } from "chai";

/**
 * Asserts |actual − expected| ≤ delta for plain numbers. We do not use chai's `closeTo` on floats:
 * under `hardhat test` the ethers chai-matchers plugin replaces it with an integer-only version.
 */
export function expectClose(actual: number, expected: number, delta: number, message?: string): void {
  expect(
    Math.abs(actual - expected) <= delta,
    message ?? `expected ${actual} to be within ${delta} of ${expected}`,
  ).to.equal(true);
}
