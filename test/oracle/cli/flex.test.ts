/**
 * `gridbrain flex …` against a real local network (prosumer-cli-world.ts: a Hardhat node with the
 * suite deployed by Ignition, a prosumer whose key is in an encrypted keystore) where the prosumer
 * owns a registered battery, and the `gridbrain` bin run as a child process as a user would run
 * it. Place, show and cancel end to end; one bad input per command, each naming its flag and
 * exiting 2.
 */
import { expect } from "chai";
import type { Address } from "viem";
import {
  energyMarketAbi,
  flexibilityMarketAbi,
  gridRegistryAbi,
  testTokenAbi,
} from "../../../oracle/src/chain/abis.js";
import type { SuiteAddresses } from "../../../oracle/src/devnet/deploy.js";
import { runCli } from "../../helpers/cli.js";
import { type ProsumerCliWorld, startProsumerCliWorld } from "./prosumer-cli-world.js";

const ORDER_ID = /^0x[0-9a-f]{64}$/;

describe("gridbrain flex (prosumer CLI)", function () {
  this.timeout(180_000);

  let world: ProsumerCliWorld;
  let addresses: SuiteAddresses;
  let prosumer: Address;
  let common: readonly string[];
  let client: ProsumerCliWorld["client"];
  let first: bigint;
  let orderId: string;

  const json = (args: readonly string[]) => world.json(args);
  const refused = async (args: readonly string[], flag: string) => {
    const result = await runCli([...args, ...common]);
    expect(result.code, result.stderr).to.equal(2);
    expect(result.stderr).to.contain(flag);
    return result.stderr;
  };
  const walletBalance = () =>
    client.readContract({
      address: addresses.token,
      abi: testTokenAbi,
      functionName: "balanceOf",
      args: [prosumer],
    });
  const placeArgs = (overrides: Record<string, string> = {}) =>
    Object.entries({
      "--battery": "0",
      "--first-interval": String(first),
      "--last-interval": String(first + 7n),
      "--max-charge-price": "0.12",
      "--min-discharge-price": "0.25",
      "--budget": "1.5",
      "--soc-kwh": "4.5",
      ...overrides,
    }).flat();

  before(async function () {
    world = await startProsumerCliWorld("flex-cli");
    ({ addresses, prosumer, client, common } = world);
    await world.send(addresses.registry, gridRegistryAbi, "registerBattery", [
      {
        owner: prosumer,
        zoneId: 0,
        capacityWh: 10_000n,
        maxChargeW: 5_000n,
        maxDischargeW: 5_000n,
        chargeEfficiencyBps: 9_500,
        dischargeEfficiencyBps: 9_500,
        minSocWh: 1_000n,
        maxSocWh: 9_000n,
      },
    ]);
    const flex = await client.readContract({
      address: addresses.market,
      abi: energyMarketAbi,
      functionName: "flexibilityMarket",
    });
    first =
      (await client.readContract({
        address: flex,
        abi: flexibilityMarketAbi,
        functionName: "firstOpenInterval",
      })) + 2n;
  });

  after(async function () {
    await world?.stop();
  });

  describe("when a battery owner places, shows and cancels an order", function () {
    it("place: locks the 1.5-token budget as exactly 1 500 000 base units from the wallet", async function () {
      const before = await walletBalance();
      const out = await json(["flex", "place", ...placeArgs()]);
      orderId = out["orderId"] as string;
      expect(orderId).to.match(ORDER_ID);
      expect(out).to.include({
        chargeBudget: "1500000",
        maxChargePricePerKwh: "120000",
        minDischargePricePerKwh: "250000",
        initialSocWh: "4500",
        firstInterval: String(first),
        batteryId: 0,
      });
      expect(await walletBalance()).to.equal(before - 1_500_000n);
    });

    it("show: lists it as active with its budget unspent and nothing earned", async function () {
      const out = await json(["flex", "show"]);
      expect(out["balance"]).to.equal("0");
      const orders = out["orders"] as { orderId: string; status: string; unspent: string; earned: string }[];
      expect(orders).to.have.length(1);
      expect(orders[0]).to.include({ orderId, status: "active", unspent: "1500000", earned: "0" });
      const text = await runCli(["flex", "show", ...common]);
      expect(text.code, text.stderr).to.equal(0);
      expect(text.stdout).to.match(
        new RegExp(`^${orderId} active: battery 0, intervals ${first}–${first + 7n}`, "m"),
      );
    });

    it("cancel: ends it before its window (at firstInterval - 1)", async function () {
      const out = await json(["flex", "cancel", orderId]);
      expect(out).to.include({ orderId, cancelled: true, endInterval: String(first - 1n) });
      const orders = (await json(["flex", "show"]))["orders"] as { orderId: string; status: string }[];
      expect(orders[0]?.status).to.not.equal("active");
    });
  });

  describe("when the owner refunds the cancelled order, changes a new one and withdraws", function () {
    it("refund: returns the whole 1.5-token budget of the order cancelled before its window", async function () {
      const out = await json(["flex", "refund", orderId]);
      expect(out).to.include({ orderId, refunded: "1500000" });
    });

    it("change: flags left out keep the current order's values", async function () {
      const placed = await json(["flex", "place", ...placeArgs({ "--budget": "0.5" })]);
      const out = await json(["flex", "change", placed["orderId"] as string, "--max-charge-price", "0.1"]);
      expect(out["orderId"]).to.match(ORDER_ID);
      expect(out).to.include({
        previous: placed["orderId"],
        maxChargePricePerKwh: "100000",
        minDischargePricePerKwh: "250000",
        chargeBudget: "500000",
        initialSocWh: "4500",
        firstInterval: String(first),
        lastInterval: String(first + 7n),
      });
    });

    it("withdraw: sends the refunded 1.5 tokens to the wallet", async function () {
      const before = await walletBalance();
      const out = await json(["flex", "withdraw", "1.5"]);
      expect(out["balance"]).to.equal("0");
      expect(await walletBalance()).to.equal(before + 1_500_000n);
    });
  });

  describe("when `claim --only steps` settles an interval's flexibility steps", function () {
    // No request reaches this node: each case is decided from the chain before the Proof API is asked.
    const claimSteps = (intervalId: bigint, only = "steps") =>
      runCli([
        ...["claim", "--interval", String(intervalId), "--only", only, "--node-url", "http://127.0.0.1:1"],
        ...common,
        "--json",
      ]);

    it("fails with FlexIntervalPending naming the interval and until when while it is not committed (exit 1)", async function () {
      const scheduleDeadline = await client.readContract({
        address: addresses.market,
        abi: energyMarketAbi,
        functionName: "scheduleDeadline",
        args: [first],
      });
      const result = await claimSteps(first);
      expect(result.code, result.stderr).to.equal(1);
      const { error } = JSON.parse(result.stderr) as { error: { name: string; message: string } };
      expect(error.name).to.equal("FlexIntervalPending");
      expect(error.message).to.contain(
        `the flexibility steps of interval ${first} cannot settle yet: interval ${first} (1 active flexibility order) has no committed schedule yet: the committee may commit it until unix time ${scheduleDeadline}`,
      );
    });

    it("reports none for an interval without an active order, sending nothing", async function () {
      const out = await json([
        ...[
          "claim",
          "--interval",
          String(first + 20n),
          "--only",
          "steps",
          "--node-url",
          "http://127.0.0.1:1",
        ],
      ]);
      expect(out).to.deep.include({ flexSteps: "none", fills: [], imbalance: "skipped", transactions: [] });
    });

    it("names --only and its values for another value (exit 2)", async function () {
      const result = await claimSteps(first, "battery");
      expect(result.code, result.stderr).to.equal(2);
      const { error } = JSON.parse(result.stderr) as { error: { field: string; message: string } };
      expect(error).to.include({
        field: "--only",
        message: '--only: must be "fill", "imbalance" or "steps"',
      });
    });
  });

  describe("when an input is bad, the command names it and exits 2", function () {
    it("place: a budget with more decimals than the token names --budget", async function () {
      const stderr = await refused(["flex", "place", ...placeArgs({ "--budget": "1.1234567" })], "--budget");
      expect(stderr).to.contain("more than 6 decimal places");
    });

    it("place: a window in the past names --first-interval and the first open interval", async function () {
      const stderr = await refused(
        ["flex", "place", ...placeArgs({ "--first-interval": "1" })],
        "--first-interval",
      );
      expect(stderr).to.contain("first open interval is");
    });

    it("place: a SoC outside the battery's bounds names --soc-kwh", async function () {
      const stderr = await refused(["flex", "place", ...placeArgs({ "--soc-kwh": "9.5" })], "--soc-kwh");
      expect(stderr).to.contain("[1000, 9000] Wh");
    });

    it("change: a malformed order id names orderId", async function () {
      await refused(["flex", "change", "0x1234"], "orderId");
    });

    it("cancel: a malformed order id names orderId", async function () {
      await refused(["flex", "cancel", "not-an-id"], "orderId");
    });

    it("show: a battery id that is not an integer names --battery", async function () {
      await refused(["flex", "show", "--battery", "one"], "--battery");
    });

    it("refund: a malformed order id names orderId", async function () {
      await refused(["flex", "refund", "0x"], "orderId");
    });

    it("withdraw: a zero amount names amount", async function () {
      const stderr = await refused(["flex", "withdraw", "0"], "amount");
      expect(stderr).to.contain("must be greater than zero");
    });
  });
});
