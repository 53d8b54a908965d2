import { CHAIN_KINDS } from "../../oracle/src/devnet/local-services.js";
import { type World, nodeConfigs, startWorld } from "./harness.js";
import { runFullInterval } from "./interval.js";

// The same interval, the same assertions, on each local chain client (Hardhat's EDR node and
// Foundry's Anvil differ in block building, gas estimation and timestamp handling).
for (const chain of CHAIN_KINDS)
  describe(`oracle pipeline (e2e, 3-of-5 committee, ${chain})`, function () {
    this.timeout(240_000);
    let env: World;

    before(async () => {
      env = await startWorld({ chain });
    });
    after(async () => {
      await env?.stop();
    });

    describe("when a full interval runs through five nodes", () => {
      it("commits once, settles every fill and every imbalance with the hand-computed balances", async () => {
        await runFullInterval(env, async () => {
          const { configs } = await nodeConfigs(env);
          return env.startNodes(configs);
        });
      });
    });
  });
