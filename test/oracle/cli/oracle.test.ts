/**
 * `gridbrain verify`, `market status` and `oracle serve` flag handling: errors that name the flag
 * (verify, market status: with its env variable) or the config field with where its value came
 * from (oracle serve). No chain is needed: each case stops at configuration.
 */
import { expect } from "chai";
import { readOnlyFlags, runCli } from "../../helpers/cli.js";

// No GRIDBRAIN_* from the caller's environment: only the flags under test.
const FLAGS_ONLY = { withoutGridbrainEnv: true } as const;

describe("oracle CLI flags", function () {
  this.timeout(60_000);

  describe("verify without any flag", () => {
    it("names every missing field with its flag and env variable, not a NaN", async () => {
      const r = await runCli(["verify", "1"], FLAGS_ONLY);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.not.match(/nan/i);
      expect(r.stderr).to.equal(
        "error: --rpc-url: is required (or set GRIDBRAIN_RPC_URL); " +
          "--chain-id: is required (or set GRIDBRAIN_CHAIN_ID); " +
          "--market-address: is required (or set GRIDBRAIN_MARKET_ADDRESS); " +
          "--registry-address: is required (or set GRIDBRAIN_REGISTRY_ADDRESS)\n",
      );
    });
  });

  describe("verify with a site latitude off the globe", () => {
    it("names the field and the bound before reading the chain", async () => {
      const r = await runCli(["verify", "1", ...readOnlyFlags(), "--site-latitude-deg", "95"], FLAGS_ONLY);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.equal("error: --site-latitude-deg: must be <= 90\n");
    });
  });

  describe("market status with a malformed chain id", () => {
    it("says what a chain id must be", async () => {
      const r = await runCli(["market", "status", ...readOnlyFlags(), "--chain-id", "abc"], FLAGS_ONLY);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.equal("error: --chain-id: must be a positive integer\n");
      expect(r.stderr).to.not.match(/nan/i);
    });
  });

  describe("oracle serve", () => {
    it("takes every config field as a flag, e.g. --confirmations, and validates it", async () => {
      const r = await runCli(["oracle", "serve", "--confirmations", "65"], FLAGS_ONLY);
      expect(r.stderr, "not an unknown option").to.not.include("unknown option");
      expect(r.code).to.equal(2);
      expect(r.stderr).to.include("confirmations (--confirmations): must be <= 64");
    });

    it("does not take secrets as flags (they would show in the process list)", async () => {
      const r = await runCli(["oracle", "serve", "--keystore-password", "hunter2"], FLAGS_ONLY);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.equal("error: --keystore-password: unknown option\n");
    });
  });
});
