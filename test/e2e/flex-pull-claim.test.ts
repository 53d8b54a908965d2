/**
 * Pull settlement in an interval with a flexibility step: the live committee (3 nodes of the 3-of-5
 * committee) commits an interval where a battery charges from a seller's surplus, with push
 * settlement off (`settlementPush: false`, as test/e2e/pull-settlement.test.ts: with push on, the
 * committee settles every fill itself and a prosumer's claim finds nothing open). The prosumers
 * then settle everything themselves, nobody in the oracle settling anything:
 * - the buyer claims its fill (the client's `claimFill`, buy side only);
 * - the seller's fill cannot settle yet (BudgetExceeded: the seller is paid out of the buyer's
 *   payment and the battery's charge, and the charge is not settled);
 * - the seller runs `gridbrain claim` once (a child process with its keystore, proofs from one
 *   node's Proof API): it settles the battery's step from `GET /proofs/:i/schedule` (the root it
 *   rebuilds must be the chain's commitment), then its own fill, and says so in its `--json`;
 * - a second `claim` finds nothing open, and a second `claimFill` reverts OrderNotOpen.
 * Every amount is checked against the chain's committed price and the contract's integer rule
 * computed here, not against the oracle's numbers. The scenario that makes the plan charge is
 * flex-charge.test.ts's (read its header before changing it).
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Hex,
  BaseError,
  ContractFunctionRevertedError,
  encodeAbiParameters,
  createWalletClient,
  getAddress,
  http,
  keccak256,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { energyMarketAbi, flexibilityMarketAbi } from "../../oracle/src/chain/abis.js";
import { claimFill, decodeError } from "../../oracle/src/client/index.js";
import { scheduleCommitment } from "../../oracle/src/domain/schedule.js";
import { writeKeystore } from "../../oracle/src/infra/keystore.js";
import type { FillProofJson, ScheduleLeavesJson } from "../../oracle/src/infra/proofs.js";
import { runCli } from "../helpers/cli.js";
import {
  committedZonePrice,
  flexParties,
  flexibilityMarketOf,
  placeFlexOrderOf,
  registerBatteryOwner,
} from "./flex-scenario.js";
import {
  type Party,
  type World,
  GATE,
  INTERVAL,
  devAccount,
  devKey,
  newMeter,
  nodeConfigs,
  placeOrders,
  startWorld,
  waitFor,
} from "./harness.js";

const BUDGET = 1_000_000n;
const INTERVALS_PER_DAY = 86_400n / INTERVAL;
/** As flex-charge.test.ts: near midnight the horizon is too short for a charge to pay. */
const LAST_USEFUL_OF_DAY = INTERVALS_PER_DAY - 8n;
/** Dev account index of each party (flexParties: seller 6, buyer 7; the battery owner 8). */
const SELLER_KEY = 6;
const BUYER_KEY = 7;

const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `${x}` : x));

describe("pull claims in an interval with a flexibility step (e2e, push off)", function () {
  this.timeout(600_000);
  let env: World;
  let dir: string;
  const parties = flexParties();
  const seller: Party = { ...parties.seller, quantityWh: 4_000n, limit: 40_000n, meter: newMeter() };
  const buyer: Party = { ...parties.buyer, quantityWh: 1_000n, limit: 250_000n };
  const owner = devAccount(8);

  before(async () => {
    env = await startWorld({ market: { parties: [seller, buyer], zones: 1 } });
    dir = mkdtempSync(join(tmpdir(), "gridbrain-flex-claim-"));
  });
  after(async () => {
    await env?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("pays the seller in a charge interval by one `gridbrain claim`, which settles the battery's step first, once each", async () => {
    const { market } = env.addresses;
    const flex = await flexibilityMarketOf(env);
    await registerBatteryOwner(env, owner, BUDGET);

    let intervalId = (await env.now()) / INTERVAL + 2n;
    if (intervalId % INTERVALS_PER_DAY > LAST_USEFUL_OF_DAY)
      intervalId += INTERVALS_PER_DAY - (intervalId % INTERVALS_PER_DAY) + 2n;
    const orderId = await placeFlexOrderOf(env, owner, {
      owner: owner.address,
      batteryId: 0,
      firstInterval: intervalId,
      lastInterval: intervalId + 3n,
      maxChargePricePerKwh: 100_000n,
      minDischargePricePerKwh: 150_000n,
      chargeBudget: BUDGET,
      initialSocWh: 2_000n,
      nonce: 1n,
    });
    await placeOrders(env, [seller, buyer], intervalId);

    const passwordFile = join(dir, "password");
    writeFileSync(passwordFile, "pw\n");
    const keystore = async (name: string, index: number) => {
      const path = join(dir, `${name}.json`);
      await writeKeystore({ path, password: "pw", privateKey: devKey(index), options: { scryptN: 1 << 12 } });
      return path;
    };
    const keystores = { S: await keystore("S", SELLER_KEY), B: await keystore("B", BUYER_KEY) };

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
    const committed = await waitFor(
      "the schedule committed",
      async () => {
        const s = await state();
        return s.scheduled ? s : undefined;
      },
      120_000,
    );
    expect(committed.fillCount, "two orders and one flexibility step").to.equal(3);
    expect(committed.settledCount, "nothing pushed").to.equal(0);
    const price = await committedZonePrice(env, intervalId);

    // ---- the served schedule: every leaf of the committed tree, rebuilt here from the answer ----
    const res = await fetch(`${nodeUrl}/proofs/${intervalId}/schedule`);
    expect(res.status).to.equal(200);
    const served = (await res.json()) as ScheduleLeavesJson;
    expect(served.steps, `the battery's step: ${json(served)}`).to.have.length(1);
    const step = served.steps[0]!;
    expect(step.orderId).to.equal(orderId.toLowerCase());
    if (step.direction !== 0 || BigInt(step.energyWh) === 0n)
      expect.fail(`expected a charge in ${intervalId} at ${price}, got ${json(step)}`);
    const stepKey = keccak256(
      encodeAbiParameters([{ type: "bytes32" }, { type: "uint8" }], [step.orderId, step.direction]),
    );
    const tree = StandardMerkleTree.of<[Hex, bigint]>(
      [
        ...served.leaves.map((l): [Hex, bigint] => [l.orderId, BigInt(l.filledWh)]),
        [stepKey, BigInt(step.energyWh)],
      ],
      ["bytes32", "uint64"],
    );
    expect(tree.root, "the served root is the tree of the served leaves").to.equal(served.scheduleRoot);
    expect(
      scheduleCommitment(tree.root as Hex, served.zonePrices.map(BigInt)),
      "the rebuilt root and the served prices are the chain's commitment",
    ).to.equal(committed.commitment);

    /** `gridbrain claim --only fill` by `name`'s keystore, with the node's proofs. */
    const claim = (name: keyof typeof keystores) =>
      runCli([
        ...["claim", "--interval", intervalId.toString(), "--only", "fill", "--node-url", nodeUrl],
        ...["--keystore", keystores[name], "--password-file", passwordFile],
        ...["--rpc-url", env.chain.url, "--market", market, "--json"],
      ]);
    interface ClaimJson {
      fills: { orderId: Hex; filledWh: string }[];
      flexSteps:
        | string
        | {
            intervals: {
              intervalId: string;
              outcome: string;
              steps: number;
              charged: string;
              paid: string;
              transaction: Hex;
            }[];
          };
      transactions: Hex[];
    }
    const claimed = async (name: keyof typeof keystores) => {
      const r = await claim(name);
      expect(r.code, `claim of ${name}: ${r.stderr}`).to.equal(0);
      return JSON.parse(r.stdout) as ClaimJson;
    };

    // ---- the buyer first, its buy side only: its payment is what a seller is paid from ----
    const buyerLeaf = served.leaves.find((l) => l.orderId === buyer.orderId!.toLowerCase())!;
    const buyerClients = {
      publicClient: env.client,
      walletClient: createWalletClient({
        account: privateKeyToAccount(devKey(BUYER_KEY)),
        chain: env.client.chain,
        transport: http(env.chain.url),
      }),
    };
    const bought = await claimFill(buyerClients, { market, nodeUrl, intervalId, side: "bid" });
    expect(bought.status === "claimed" && bought.filledWh).to.equal(BigInt(buyerLeaf.filledWh));

    // The seller's payout exceeds the buyer's payment while the battery's charge is not settled.
    const sellerClients = {
      publicClient: env.client,
      walletClient: createWalletClient({
        account: privateKeyToAccount(devKey(SELLER_KEY)),
        chain: env.client.chain,
        transport: http(env.chain.url),
      }),
    };
    const early = await claimFill(sellerClients, { market, nodeUrl, intervalId, side: "offer" }).catch(
      (e: unknown) => e,
    );
    expect(decodeError(early)?.name, `the seller's fill before the step: ${String(early)}`).to.equal(
      "BudgetExceeded",
    );

    // ---- the seller's claim by pull ----
    const sellerLeaf = served.leaves.find((l) => l.orderId === seller.orderId!.toLowerCase())!;
    const sellerWh = BigInt(sellerLeaf.filledWh);
    expect(sellerWh, "the seller's energy went to the battery and the buyer").to.equal(
      BigInt(step.energyWh) + BigInt(buyerLeaf.filledWh),
    );
    const holdings = async () => {
      const read = (functionName: "balanceOf" | "lockedBalanceOf") =>
        env.client.readContract({
          address: market,
          abi: energyMarketAbi,
          functionName,
          args: [seller.account.address],
        });
      return (await read("balanceOf")) + (await read("lockedBalanceOf"));
    };
    const before = await holdings();
    const out = await claimed("S");
    expect(out.fills.map((f) => [f.orderId.toLowerCase(), f.filledWh])).to.deep.equal([
      [seller.orderId!.toLowerCase(), sellerLeaf.filledWh],
    ]);

    // ---- the step, settled by that same `claim` before the sell side ----
    const [settledStep] = await env.client.getContractEvents({
      address: flex,
      abi: flexibilityMarketAbi,
      eventName: "FlexStepSettled",
      args: { intervalId },
      fromBlock: 0n,
      strict: true,
    });
    const charge = (price * BigInt(step.energyWh) + 999n) / 1000n;
    expect(settledStep!.args.energyWh).to.equal(BigInt(step.energyWh));
    expect(settledStep!.args.amount, "the charge pays ceil(price × energy / 1000)").to.equal(charge);
    expect(out.flexSteps, "claim reports the step it settled").to.deep.equal({
      intervals: [
        {
          intervalId: intervalId.toString(),
          outcome: "settled",
          steps: 1,
          charged: charge.toString(),
          paid: "0",
          transaction: settledStep!.transactionHash,
        },
      ],
    });
    const stepTx = await env.client.getTransaction({ hash: settledStep!.transactionHash });
    expect(getAddress(stepTx.from), "the step settled by the seller's own transaction").to.equal(
      getAddress(seller.account.address),
    );

    const [fill] = await env.client.getContractEvents({
      address: market,
      abi: energyMarketAbi,
      eventName: "FillSettled",
      args: { orderId: seller.orderId! },
      fromBlock: 0n,
      strict: true,
    });
    // The contract's payout rule: floor(price × Wh / 1000), at the committed zone price.
    const payout = (price * sellerWh) / 1000n;
    expect(fill!.args.filledWh).to.equal(sellerWh);
    expect(fill!.args.amount, `seller paid floor(${price} × ${sellerWh} / 1000)`).to.equal(payout);
    expect(out.transactions, "one claim: the step, then the sell side").to.deep.equal([
      settledStep!.transactionHash,
      fill!.transactionHash,
    ]);
    const tx = await env.client.getTransaction({ hash: fill!.transactionHash });
    expect(getAddress(tx.from), "settled by the seller's own transaction").to.equal(
      getAddress(seller.account.address),
    );
    // Free plus locked grows by the payout: the collateral of the unfilled part is freed, the
    // filled part's stays locked with the payout until delivery; none of it leaves the seller.
    expect((await holdings()) - before, "the seller's holdings grew by the payout").to.equal(payout);
    expect(
      await env.client.readContract({
        address: market,
        abi: energyMarketAbi,
        functionName: "pendingPayout",
        args: [seller.account.address, intervalId],
      }),
      "the payout is withheld until delivery",
    ).to.equal(payout);
    const after = await state();
    expect(after.settledCount, "both fills and the step").to.equal(after.fillCount);

    // ---- once only ----
    const second = await claimed("S");
    expect(second.fills, "a second `claim` finds no open fill").to.deep.equal([]);
    expect(second.flexSteps, "nor a step to settle").to.equal("settled");
    expect(second.transactions, "and sends nothing").to.deep.equal([]);
    expect((await claimed("B")).fills, "the buyer's `claim` neither").to.deep.equal([]);
    const proof = (await (
      await fetch(`${nodeUrl}/proofs/${intervalId}/fills/${seller.orderId}`)
    ).json()) as FillProofJson;
    const l = proof.leaf.order;
    const again = await env.client
      .simulateContract({
        account: seller.account,
        address: market,
        abi: energyMarketAbi,
        functionName: "claimFill",
        args: [
          proof.scheduleRoot,
          proof.zonePrices.map(BigInt),
          {
            order: {
              owner: l.owner,
              intervalId: BigInt(l.intervalId),
              side: l.side,
              zoneId: l.zoneId,
              quantityWh: BigInt(l.quantityWh),
              limitPricePerKwh: BigInt(l.limitPricePerKwh),
              nonce: BigInt(l.nonce),
            },
            filledWh: BigInt(proof.leaf.filledWh),
          },
          [...proof.proof],
        ],
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(again, "a second claimFill reverts").to.be.instanceOf(BaseError);
    const revert = (again as BaseError).walk(
      (e) => e instanceof ContractFunctionRevertedError,
    ) as ContractFunctionRevertedError | null;
    expect(revert?.data?.errorName, String(again)).to.equal("OrderNotOpen");
    expect(revert?.data?.args).to.deep.equal([seller.orderId]);
  });
});
