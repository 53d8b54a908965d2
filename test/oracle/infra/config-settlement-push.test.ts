import { expect } from "chai";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfig } from "../../../oracle/src/infra/config.js";

const file = fileURLToPath(new URL("../../fixtures/config/valid.json", import.meta.url));

describe("loadConfig: settlementPush", () => {
  it("defaults to true and reads false from env, flags or a JSON boolean", () => {
    expect(loadConfig({ flags: { config: file }, env: {} }).settlementPush).to.equal(true);
    expect(
      loadConfig({ flags: { config: file }, env: { GRIDBRAIN_SETTLEMENT_PUSH: "false" } }).settlementPush,
    ).to.equal(false);
    expect(loadConfig({ flags: { config: file, settlementPush: false }, env: {} }).settlementPush).to.equal(
      false,
    );
  });

  it("rejects anything but true or false, naming the field and its origin", () => {
    let error: unknown;
    try {
      loadConfig({ flags: { config: file }, env: { GRIDBRAIN_SETTLEMENT_PUSH: "no" } });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).issues).to.deep.equal([
      {
        field: "settlementPush",
        source: "env",
        origin: "GRIDBRAIN_SETTLEMENT_PUSH",
        reason: "must be true or false",
      },
    ]);
  });
});
