/**
 * The prosumer CLI against a real local network (prosumer-cli-world.ts): a Hardhat node, the suite
 * deployed with Ignition, one prosumer registered in zone 0 whose key lives in an encrypted
 * keystore, and the `gridbrain` bin run as a child process exactly as a user would run it.
 */
import { expect } from "chai";
import type { Address } from "viem";
import { energyMarketAbi } from "../../../oracle/src/chain/abis.js";
import type { SuiteAddresses } from "../../../oracle/src/devnet/deploy.js";
import { runCli } from "../../helpers/cli.js";
import { type ProsumerCliWorld, operator, startProsumerCliWorld } from "./prosumer-cli-world.js";

describe("prosumer CLI", function () {
  this.timeout(180_000);

  let world: ProsumerCliWorld;
  let addresses: SuiteAddresses;
  let prosumer: Address;
  let common: string[];
  let client: ProsumerCliWorld["client"];
  let intervalId: bigint;

  const json = (args: readonly string[]) => world.json(args);
  const marketBalance = () =>
    client.readContract({
      address: addresses.market,
      abi: energyMarketAbi,
      functionName: "balanceOf",
      args: [prosumer],
    });

  before(async function () {
    world = await startProsumerCliWorld("prosumer-cli");
    ({ addresses, prosumer, client } = world);
    common = [...world.common];
    const now = (await client.getBlock({ blockTag: "latest" })).timestamp;
    intervalId = now / 900n + 4n; // its gate closes 300 s before its start: at least 40 minutes away
  });

  after(async function () {
    await world?.stop();
  });

  describe("when a prosumer deposits, bids, lists, cancels and checks the balance", function () {
    let orderId: string;

    it("deposits 12.5 tokens as exactly 12 500 000 base units", async function () {
      const out = await json(["deposit", "12.5"]);
      expect(out["amount"]).to.equal("12500000");
      expect(out["method"]).to.equal("permit"); // TestToken implements EIP-2612
      expect(await marketBalance()).to.equal(12_500_000n);
    });

    it("places a bid and reports the lock it takes", async function () {
      // 1.5 kWh at 0.2 tokens/kWh: 1500 Wh × 200 000 / 1000 = 300 000 base units, plus the imbalance
      // collateral every order locks (the deployment default 100 000 per kWh): 150 000.
      const out = await json([
        "bid",
        "--interval",
        String(intervalId),
        "--zone",
        "0",
        "--kwh",
        "1.5",
        "--price",
        "0.2",
      ]);
      expect(out["lock"]).to.equal("450000");
      expect(out["quantityWh"]).to.equal("1500");
      expect(out["pricePerKwh"]).to.equal("200000");
      orderId = out["orderId"] as string;
      expect(orderId).to.match(/^0x[0-9a-f]{64}$/);
      expect(await marketBalance()).to.equal(12_050_000n);
    });

    it("lists the bid as open with its lock", async function () {
      const out = await json(["orders"]);
      const list = out["orders"] as Record<string, unknown>[];
      expect(list).to.have.length(1);
      expect(list[0]).to.include({
        orderId,
        state: "open",
        side: "bid",
        lock: "450000",
        intervalId: String(intervalId),
        zoneId: 0,
      });
    });

    it("reports the lock as locked in the balance", async function () {
      const out = await json(["balance"]);
      // Read from the contract (lockedBalanceOf): nothing sold yet, nothing owed.
      expect(out).to.include({
        free: "12050000",
        locked: "450000",
        pendingPayouts: "0",
        imbalanceOwed: "0",
        wallet: "87500000",
      });
    });

    it("prints free, locked, pending payouts and owed, each with its meaning", async function () {
      const result = await runCli(["balance", ...common]);
      expect(result.code, result.stderr).to.equal(0);
      const lines = result.stdout.trim().split("\n");
      expect(lines[1]).to.match(/^free +12\.05 \S+ \(withdrawable, or to lock in new orders\)$/);
      expect(lines[2]).to.match(/^locked +0\.45 \S+ \(held by the market: open orders' locks, /);
      expect(lines[3]).to.match(
        /^ +of which pending payouts 0 \S+ \(energy sold: credited to free once its delivery/,
      );
      expect(lines[4]).to.match(/^owed +0 \S+ \(long imbalance payments /);
      expect(lines[5]).to.match(/^wallet +87\.5 \S+$/);
    });

    it("cancels the bid and returns its lock", async function () {
      const out = await json(["cancel", orderId]);
      expect(out["cancelled"]).to.equal(true);
      const balance = await json(["balance"]);
      expect(balance).to.include({ free: "12500000", locked: "0" });
      const list = (await json(["orders"]))["orders"] as Record<string, unknown>[];
      expect(list[0]).to.include({ orderId, state: "cancelled" });
    });

    it("withdraws 2.5 tokens back to the wallet", async function () {
      await json(["withdraw", "2.5"]);
      const balance = await json(["balance"]);
      expect(balance).to.include({ free: "10000000", wallet: "90000000" });
    });
  });

  describe("when a prosumer offers energy", function () {
    it("locks the market's offer collateral per kWh", async function () {
      const collateralPerKwh = await client.readContract({
        address: addresses.market,
        abi: energyMarketAbi,
        functionName: "offerCollateralPerKwh",
      });
      // 2.25 kWh = 2250 Wh; lock = ceil(collateral × 2250 / 1000).
      const expected = (collateralPerKwh * 2250n + 999n) / 1000n;
      const before = await marketBalance();
      const out = await json([
        "offer",
        "--interval",
        String(intervalId),
        "--zone",
        "0",
        "--kwh",
        "2.25",
        "--price",
        "0.05",
      ]);
      expect(out["lock"]).to.equal(expected.toString());
      expect(await marketBalance()).to.equal(before - expected);
      await json(["cancel", out["orderId"] as string]);
      expect(await marketBalance()).to.equal(before);
    });
  });

  describe("when the interval's gate has closed", function () {
    it("fails with the decoded GateClosed error", async function () {
      const now = (await client.getBlock({ blockTag: "latest" })).timestamp;
      const current = now / 900n; // started already, so its gate closed 300 s before its start
      const result = await runCli([
        "bid",
        "--interval",
        String(current),
        "--zone",
        "0",
        "--kwh",
        "1",
        "--price",
        "0.1",
        ...common,
        "--json",
      ]);
      expect(result.code).to.equal(1);
      const error = (JSON.parse(result.stderr) as { error: { name: string; message: string } }).error;
      expect(error.name).to.equal("GateClosed");
      expect(error.message).to.contain(`interval ${current}`);
    });
  });

  describe("when a bid needs more than the free balance", function () {
    it("fails with the decoded InsufficientBalance error", async function () {
      // 1000 kWh at 100 tokens/kWh locks 100 000 tokens; the free balance is 10.
      const result = await runCli([
        "bid",
        "--interval",
        String(intervalId),
        "--zone",
        "0",
        "--kwh",
        "1000",
        "--price",
        "100",
        ...common,
      ]);
      expect(result.code).to.equal(1);
      expect(result.stderr).to.contain("InsufficientBalance");
      expect(result.stderr).to.contain("free balance 10 ");
      expect(result.stdout).not.to.contain("placed");
    });
  });

  describe("when the account holds no certificates", function () {
    it("lists none", async function () {
      const out = await json(["certificates"]);
      expect(out["certificates"]).to.deep.equal([]);
    });

    it("fails to retire with the decoded ERC1155InsufficientBalance error", async function () {
      // Certificate id of (interval 1, Solar) = (1 << 8) | 1 = 257; the account holds none of it.
      const result = await runCli([
        "retire",
        "257",
        "0.5",
        "--beneficiary",
        operator.address,
        ...common,
        "--json",
      ]);
      expect(result.code).to.equal(1);
      const error = (JSON.parse(result.stderr) as { error: { name: string; message: string } }).error;
      expect(error.name).to.equal("ERC1155InsufficientBalance");
      expect(error.message).to.contain("needed 500 Wh");
    });
  });

  describe("when a flag is invalid", function () {
    it("names the flag and exits 2", async function () {
      const result = await runCli([
        "bid",
        "--interval",
        String(intervalId),
        "--zone",
        "0",
        "--kwh",
        "1",
        "--price",
        "0.1234567", // 7 decimals; the token has 6
        ...common,
      ]);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.contain("--price");
      expect(result.stderr).to.contain("more than 6 decimal places");
    });

    it("rejects a malformed market address naming --market", async function () {
      const args = [...common];
      args[args.indexOf("--market") + 1] = "0x1234";
      const result = await runCli(["balance", ...args]);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.contain("--market");
    });
  });
});
