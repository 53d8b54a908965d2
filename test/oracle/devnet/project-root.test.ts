import { expect } from "chai";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT, findProjectRoot } from "../../../oracle/src/devnet/local-services.js";

describe("findProjectRoot", () => {
  it("is the repository from the source module's folder and from the compiled one's", () => {
    expect(existsSync(join(PROJECT_ROOT, "hardhat.config.ts"))).to.equal(true);
    // oracle/src/devnet/ when run from source, dist/devnet/ when compiled (one level less deep):
    // a fixed "../../.." from dist/devnet/ named the folder above the repository.
    expect(findProjectRoot(join(PROJECT_ROOT, "oracle", "src", "devnet"))).to.equal(PROJECT_ROOT);
    expect(findProjectRoot(join(PROJECT_ROOT, "dist", "devnet"))).to.equal(PROJECT_ROOT);
  });

  it("names the folder when no hardhat.config.ts is above it", () => {
    const outside = mkdtempSync(join(tmpdir(), "gridbrain-no-project-"));
    try {
      expect(() => findProjectRoot(outside)).to.throw(Error, `no hardhat.config.ts at or above ${outside}`);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
