/**
 * Conventions a test file can break without failing on its own: checked over every test file.
 */
import { expect } from "chai";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { PROJECT_ROOT } from "../../oracle/src/devnet/local-services.js";

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

describe("test conventions", () => {
  it("no test uses chai's closeTo (under the full run the ethers chai-matchers make it integer-only: use expectClose)", () => {
    // Twice a test passed alone and failed in CI with '… is not an integer' (sessions 4 and 5).
    const offenders = testFiles(join(PROJECT_ROOT, "test"))
      .filter((file) => !file.endsWith(join("helpers", "approx.ts")))
      .filter((file) => /\.closeTo\(|\.approximately\(/.test(readFileSync(file, "utf8")))
      .map((file) => relative(PROJECT_ROOT, file));
    expect(offenders).to.deep.equal([]);
  });
});
