/**
 * devnet/local-services.ts deployBuildEnv: the Hardhat processes of a local deploy build production
 * bytecode, in the test run's own ./artifacts when the test run built production too, else in
 * their own folder (hardhat.config.ts, GRIDBRAIN_BUILD_DIR), so neither build evicts the other.
 */
import { expect } from "chai";
import { join } from "node:path";
import { DEPLOY_BUILD_DIR, PROJECT_ROOT, deployBuildEnv } from "../../../oracle/src/devnet/local-services.js";

describe("deployBuildEnv", () => {
  describe("when the caller built the production profile (hardhat test --build-profile production)", () => {
    it("builds production in ./artifacts, where the test run's build already is", () => {
      const env = deployBuildEnv({ PATH: "/bin", HARDHAT_BUILD_PROFILE: "production" });
      expect(env).to.deep.equal({ PATH: "/bin", HARDHAT_BUILD_PROFILE: "production" });
    });
  });

  describe("when the caller built another profile, or none (hardhat test mocha, devnet up, the demo)", () => {
    for (const profile of [undefined, "default"])
      it(`builds production in its own folder (HARDHAT_BUILD_PROFILE ${profile ?? "unset"})`, () => {
        const env = deployBuildEnv({
          PATH: "/bin",
          ...(profile === undefined ? {} : { HARDHAT_BUILD_PROFILE: profile }),
        });
        expect(env).to.deep.equal({
          PATH: "/bin",
          HARDHAT_BUILD_PROFILE: "production",
          GRIDBRAIN_BUILD_DIR: DEPLOY_BUILD_DIR,
        });
      });

    it("keeps that folder inside the ignored ./cache", () => {
      expect(DEPLOY_BUILD_DIR.startsWith(join(PROJECT_ROOT, "cache") + "/")).to.equal(true);
    });
  });

  it("leaves the caller's environment as it was", () => {
    const caller = { HARDHAT_BUILD_PROFILE: "default" };
    deployBuildEnv(caller);
    expect(caller).to.deep.equal({ HARDHAT_BUILD_PROFILE: "default" });
  });
});
