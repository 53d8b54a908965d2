/**
 * Pull settlement: the committee commits but does not push (`settlementPush: false`), and every
 * prosumer settles its own fill and imbalance with `gridbrain claim`, run as a child process with
 * its keystore, from the proofs one node serves (GET /proofs/…). The balances after must be those
 * the pushed pipeline produces (test/e2e/pipeline.test.ts, the same scenario and formulas), and
 * every FillSettled must come from the order's owner's own transaction.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Hex, getAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { energyMarketAbi } from "../../oracle/src/chain/abis.js";
import { signMeterReading } from "../../oracle/src/domain/meter/reading.js";
import { meterProofMessage } from "../../oracle/src/domain/proof-request.js";
import { writeKeystore } from "../../oracle/src/infra/keystore.js";
import {
  type World,
  GATE,
  INTERVAL,
  OPERATOR_FUNDS,
  READING_DEADLINE,
  devKey,
  nodeConfigs,
  placeOrders,
  setupMarket,
  startWorld,
  waitFor,
} from "./harness.js";
import {
  EXPECTED_FILLS,
  EXPECTED_PRICES,
  READINGS,
  byName,
  expectedAfterDelivery,
  expectedFreeAfterFills,
  expectedLockedAfterFills,
  expectedPendingPayout,
  scenarioParties,
} from "./scenario.js";
import { runCli } from "../helpers/cli.js";

/** Dev account index of each scenario party (scenario.ts). */
const ACCOUNT_INDEX: Readonly<Record<string, number>> = { S1: 6, S2: 7, B1: 8, B2: 9, S3: 10, B3: 11 };

describe("pull settlement (e2e): push disabled, each prosumer claims with `gridbrain claim`", function () {
  this.timeout(600_000);
  let env: World;
  let dir: string;

  before(async () => {
    env = await startWorld();
    dir = mkdtempSync(join(tmpdir(), "gridbrain-claim-"));
  });
  after(async () => {
    await env?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("settles every fill and imbalance by the prosumers alone, to the pushed pipeline's balances", async () => {
    // B4 (cancelled in the pushed scenario) is left out: the same open orders at gate closure.
    const parties = scenarioParties().filter((p) => p.name !== "B4");
    await setupMarket(env, parties, 2);
    const market = env.addresses.market;
    const intervalId = (await env.now()) / INTERVAL + 2n;
    await placeOrders(env, parties, intervalId);

    const passwordFile = join(dir, "password");
    writeFileSync(passwordFile, "pw\n");
    const keystores = new Map<string, string>();
    for (const p of parties) {
      const path = join(dir, `${p.name}.json`);
      await writeKeystore({
        path,
        password: "pw",
        privateKey: devKey(ACCOUNT_INDEX[p.name]!),
        options: { scryptN: 1 << 12 },
      });
      keystores.set(p.name, path);
    }

    await env.setTime(intervalId * INTERVAL - GATE + 1n);
    const { configs } = await nodeConfigs(env, { settlementPush: "false" }, 3);
    const nodes = await env.startNodes(configs);
    const nodeUrl = nodes[0]!.url;

    const state = () =>
      env.client.readContract({
        address: market,
        abi: energyMarketAbi,
        functionName: "intervalState",
        args: [intervalId],
      });
    await waitFor("the schedule committed", async () => ((await state()).scheduled ? true : undefined));

    // The public schedule leaves: one per open order, with the hand-computed fills.
    const leavesRes = await fetch(`${nodeUrl}/proofs/${intervalId}/schedule`);
    expect(leavesRes.status).to.equal(200);
    const leaves = (await leavesRes.json()) as {
      zonePrices: string[];
      leaves: { orderId: Hex; filledWh: string }[];
    };
    expect(leaves.zonePrices).to.deep.equal(EXPECTED_PRICES.map(String));
    expect(leaves.leaves).to.have.length(6);
    for (const [name, wh] of Object.entries(EXPECTED_FILLS)) {
      const leaf = leaves.leaves.find((l) => l.orderId === byName(parties, name).orderId!.toLowerCase());
      expect(leaf?.filledWh, `leaf of ${name}`).to.equal(wh.toString());
    }

    /** A prosumer command of `name`'s account, `--json`. */
    const cli = async (name: string, args: readonly string[]) => {
      const r = await runCli([
        ...args,
        "--keystore",
        keystores.get(name)!,
        "--password-file",
        passwordFile,
        "--rpc-url",
        env.chain.url,
        "--market",
        market,
        "--json",
      ]);
      expect(r.code, `${args[0]} of ${name}: ${r.stderr}`).to.equal(0);
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    const claim = async (name: string) => {
      const r = await runCli([
        "claim",
        "--interval",
        intervalId.toString(),
        "--node-url",
        nodeUrl,
        "--keystore",
        keystores.get(name)!,
        "--password-file",
        passwordFile,
        "--rpc-url",
        env.chain.url,
        "--market",
        market,
        "--json",
      ]);
      expect(r.code, `claim of ${name}: ${r.stderr}`).to.equal(0);
      return JSON.parse(r.stdout) as {
        fills: { filledWh: string }[];
        imbalance: unknown;
        pendingReason?: string;
      };
    };

    // Nothing was pushed: the committee committed and left settlement to the prosumers.
    expect((await state()).settledCount, "fills settled before any claim").to.equal(0);
    // Buyers first: a seller is paid only out of what the interval's buyers were charged.
    for (const name of ["B1", "B2", "B3", "S1", "S2", "S3"]) {
      const out = await claim(name);
      expect(
        out.fills.map((f) => f.filledWh),
        `fill claimed by ${name}`,
      ).to.deep.equal([EXPECTED_FILLS[name]!.toString()]);
      expect(out.imbalance, `imbalance of ${name} before metering`).to.equal("pending");
    }
    const afterClaims = await state();
    expect(afterClaims.settledCount).to.equal(afterClaims.fillCount);

    const fillEvents = await env.client.getContractEvents({
      address: market,
      abi: energyMarketAbi,
      eventName: "FillSettled",
      fromBlock: 0n,
      args: { intervalId },
    });
    expect(fillEvents).to.have.length(6);
    for (const e of fillEvents) {
      const tx = await env.client.getTransaction({ hash: e.transactionHash });
      expect(getAddress(tx.from), "each fill settled by its owner").to.equal(getAddress(e.args.owner!));
    }

    const afterFills = (name: string): bigint => expectedFreeAfterFills(parties, name);
    const balance = (name: string) =>
      env.client.readContract({
        address: market,
        abi: energyMarketAbi,
        functionName: "balanceOf",
        args: [byName(parties, name).account.address],
      });
    const participants = ["S1", "S2", "B1", "B2", "S3", "B3"];
    const lockedOf = (name: string) =>
      env.client.readContract({
        address: market,
        abi: energyMarketAbi,
        functionName: "lockedBalanceOf",
        args: [byName(parties, name).account.address],
      });
    const payoutOf = (name: string) => expectedPendingPayout(parties, name);
    for (const name of participants) {
      expect(await balance(name), `${name} after fills`).to.equal(afterFills(name));
      // Locked until delivery: the filled part's collateral, and a seller's withheld payout.
      expect(await lockedOf(name), `${name} locked after fills`).to.equal(
        expectedLockedAfterFills(parties, name),
      );
    }
    // The CLI reads the same split, and says the payout is pending delivery.
    for (const name of ["S1", "B1"]) {
      const out = await cli(name, ["balance"]);
      expect(out, `balance of ${name} after fills`).to.include({
        free: afterFills(name).toString(),
        locked: (await lockedOf(name)).toString(),
        pendingPayouts: payoutOf(name).toString(),
        imbalanceOwed: "0",
      });
    }
    const s1Orders = (await cli("S1", ["orders"]))["orders"] as Record<string, unknown>[];
    expect(s1Orders[0], "S1's sold fill").to.include({
      state: "settled",
      payout: "withheld until delivery",
      pendingPayout: payoutOf("S1").toString(),
    });

    // Metering, as in the pushed pipeline: readings to every node, S2's meter silent.
    const end = (intervalId + 1n) * INTERVAL;
    await env.setTime(end + 1n);
    const readings = await Promise.all(
      Object.entries(READINGS).map(([name, [injectedWh, consumedWh]]) =>
        signMeterReading(byName(parties, name).meter!, 31337, market, { intervalId, injectedWh, consumedWh }),
      ),
    );
    const body = JSON.stringify(readings, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
    for (const node of nodes) {
      const res = await fetch(`${node.url}/meter-readings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(res.status).to.equal(202);
    }
    await env.setTime(end + READING_DEADLINE + 1n);
    await waitFor("the meter report committed", async () =>
      /^0x0{64}$/.test((await state()).meterRoot) ? undefined : true,
    );

    // A meter leaf goes to its participant only: B1's signed request for S1's leaf is refused.
    const expiry = BigInt(Math.floor(Date.now() / 1000)) + 60n;
    const s1 = byName(parties, "S1").account.address;
    const b1Key = privateKeyToAccount(devKey(ACCOUNT_INDEX["B1"]!));
    const forged = await b1Key.signMessage({
      message: meterProofMessage({ market, chainId: 31337, intervalId, participant: s1, expiry }),
    });
    const refused = await fetch(
      `${nodeUrl}/proofs/${intervalId}/meter/${s1}?expiry=${expiry}&signature=${forged}`,
    );
    expect(refused.status).to.equal(403);

    let operatorDelta = 0n;
    for (const name of participants) {
      const out = await claim(name);
      expect(out.fills, `${name} has no fill left to claim`).to.deep.equal([]);
      const [inj, cons] = READINGS[name] ?? [0n, 0n];
      expect(out.imbalance, `imbalance leaf of ${name}`).to.deep.equal({
        injectedWh: inj.toString(),
        consumedWh: cons.toString(),
      });
      const expected = expectedAfterDelivery(parties, name);
      operatorDelta += expected.operatorDelta;
      expect(await balance(name), `${name} after imbalance`).to.equal(expected.free);
      expect(await lockedOf(name), `${name} locked after imbalance`).to.equal(0n);
    }
    const s1After = await cli("S1", ["balance"]);
    expect(s1After, "S1's balance after delivery").to.include({ locked: "0", pendingPayouts: "0" });
    const s1Paid = (await cli("S1", ["orders"]))["orders"] as Record<string, unknown>[];
    expect(s1Paid[0], "S1's sold fill after delivery").to.include({ payout: "paid", pendingPayout: "0" });
    const funds = await env.client.readContract({
      address: market,
      abi: energyMarketAbi,
      functionName: "operatorFunds",
    });
    expect(funds).to.equal(OPERATOR_FUNDS + operatorDelta);
  });
});
