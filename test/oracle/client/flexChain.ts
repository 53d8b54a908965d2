/**
 * Flexibility fixtures on the client tests' chain (chain.ts): a battery registered to a fresh
 * prosumer, the flexibility market's address and token reads, and the committee played by hand for
 * one interval's steps — a schedule whose tree holds the steps' leaves
 * `(flexStepKey(orderId, direction), energyWh)`, committed with two members' signatures, then
 * `settleFlexSteps` with the multiproof (after the bids' fills that pay for a discharge) — and a
 * Proof API server serving such schedules (`scheduleServer`) for the client's own settlement.
 *
 * The flexibility market settles intervals in order, so a test that settles first closes, as
 * missed, every earlier interval that another test left with an active order (`catchUp`).
 */
import { expect } from "chai";
import { type Address, type Hex, createWalletClient, http, parseEventLogs } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import {
  energyMarketAbi,
  flexibilityMarketAbi,
  gridRegistryAbi,
  oracleCommitteeAbi,
  testTokenAbi,
} from "../../../oracle/src/chain/abis.js";
import type { FlexOrder, WriteClients } from "../../../oracle/src/client/index.js";
import { DEV_MNEMONIC } from "../../../oracle/src/devnet/local-services.js";
import {
  type Order,
  gridBrainDomain,
  hashOrder,
  hashScheduleReport,
} from "../../../oracle/src/domain/eip712.js";
import { buildFillTree, fillMultiProof, fillProof } from "../../../oracle/src/domain/schedule.js";
import { startHttpServer } from "../../../oracle/src/infra/http.js";
import { ProofError, type ProofSource, type ScheduleLeavesJson } from "../../../oracle/src/infra/proofs.js";
import { CHAIN_ID, type ClientChain, quorum } from "./chain.js";

/** The registered battery of the flexibility tests: 10 kWh, 10 kW both ways, 95 % each way, SoC 1–9 kWh. */
export const BATTERY = {
  zoneId: 0,
  capacityWh: 10_000n,
  maxChargeW: 10_000n,
  maxDischargeW: 10_000n,
  chargeEfficiencyBps: 9_500,
  dischargeEfficiencyBps: 9_500,
  minSocWh: 1_000n,
  maxSocWh: 9_000n,
} as const;

export interface BatteryOwner {
  readonly clients: WriteClients;
  readonly address: Address;
  readonly batteryId: number;
}

export async function flexMarketOf(chain: ClientChain): Promise<Address> {
  return chain.publicClient.readContract({
    address: chain.market,
    abi: energyMarketAbi,
    functionName: "flexibilityMarket",
  });
}

/** A fresh prosumer with `tokens` in its wallet and BATTERY registered to it. */
export async function batteryOwner(chain: ClientChain, tokens = 100_000_000n): Promise<BatteryOwner> {
  const clients = await chain.newProsumer(tokens);
  const address = clients.walletClient.account.address;
  const batteryId = await chain.publicClient.readContract({
    address: chain.addresses.registry,
    abi: gridRegistryAbi,
    functionName: "batteryCount",
  });
  await chain.operatorSend(chain.addresses.registry, gridRegistryAbi, "registerBattery", [
    { owner: address, ...BATTERY },
  ]);
  return { clients, address, batteryId };
}

export const tokenBalance = (chain: ClientChain, who: Address) =>
  chain.publicClient.readContract({
    address: chain.addresses.token,
    abi: testTokenAbi,
    functionName: "balanceOf",
    args: [who],
  });

export const flexBalance = async (chain: ClientChain, who: Address) =>
  chain.publicClient.readContract({
    address: await flexMarketOf(chain),
    abi: flexibilityMarketAbi,
    functionName: "balanceOf",
    args: [who],
  });

/** The first interval whose gate is open, as the flexibility market says. */
export const firstOpen = async (chain: ClientChain) =>
  chain.publicClient.readContract({
    address: await flexMarketOf(chain),
    abi: flexibilityMarketAbi,
    functionName: "firstOpenInterval",
  });

const operator = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 0 });

/**
 * Closes as missed every interval from the cursor on that has active orders, up to the last
 * interval any placed order reaches, moving chain time past each one's meter deadline.
 */
export async function catchUp(chain: ClientChain): Promise<void> {
  const flex = await flexMarketOf(chain);
  const at = { address: flex, abi: flexibilityMarketAbi } as const;
  const placed = await chain.publicClient.getContractEvents({
    ...at,
    eventName: "FlexOrderPlaced",
    fromBlock: 0n,
  });
  const last = placed.reduce((m, e) => (e.args.order!.lastInterval > m ? e.args.order!.lastInterval : m), 0n);
  for (
    let i = await chain.publicClient.readContract({ ...at, functionName: "nextInterval" });
    i <= last;
    i++
  ) {
    if ((await chain.publicClient.readContract({ ...at, functionName: "activeOrderCount", args: [i] })) === 0)
      continue;
    const deadline = await chain.publicClient.readContract({
      address: chain.market,
      abi: energyMarketAbi,
      functionName: "meterDeadline",
      args: [i],
    });
    if ((await chain.now()) < deadline) await chain.mineAt(deadline);
    await chain.operatorSend(flex, flexibilityMarketAbi, "closeMissedInterval", [i]);
  }
}

export interface Step {
  readonly order: FlexOrder;
  readonly direction: "charge" | "discharge";
  readonly energyWh: bigint;
}

/** A bid on EnergyMarket filled in the same schedule (what pays for a discharge). */
export interface BidFill {
  readonly order: Order & { readonly orderId: Hex };
  readonly filledWh: bigint;
}

/** A zone-0 bid of `who` (already funded on the market) for `intervalId`, placed directly on the market. */
export async function placeBid(
  chain: ClientChain,
  who: WriteClients,
  intervalId: bigint,
  quantityWh: bigint,
  limitPricePerKwh: bigint,
): Promise<Order & { readonly orderId: Hex }> {
  const order: Order = {
    owner: who.walletClient.account.address,
    intervalId,
    side: 0,
    zoneId: 0,
    quantityWh,
    limitPricePerKwh,
    nonce: 1n,
  };
  const hash = await who.walletClient.writeContract({
    address: chain.market,
    abi: energyMarketAbi,
    functionName: "placeBid",
    args: [intervalId, 0, quantityWh, limitPricePerKwh, 1n],
    chain: who.walletClient.chain,
  });
  expect((await chain.publicClient.waitForTransactionReceipt({ hash })).status, "placeBid").to.equal(
    "success",
  );
  return { ...order, orderId: hashOrder(gridBrainDomain(CHAIN_ID, chain.market), order) };
}

/** A committed schedule of flexibility steps (and bids), as the committee played by hand built it. */
export interface CommittedFlexSchedule {
  readonly intervalId: bigint;
  readonly scheduleRoot: Hex;
  readonly zonePrices: readonly bigint[];
  readonly tree: ReturnType<typeof buildFillTree>;
  readonly steps: readonly (Omit<Step, "direction"> & {
    readonly orderId: Hex;
    readonly direction: 0 | 1;
    readonly key: Hex;
  })[];
  readonly bids: readonly BidFill[];
  /** What a node's `GET /proofs/:i/schedule` answers for it. */
  readonly served: ScheduleLeavesJson;
}

/**
 * Plays the committee for `intervalId` up to the commit: moves chain time to its gate closure and
 * commits a schedule whose tree holds exactly `bids` (fills first) and `steps`, at zone 0 price
 * `zonePrice`. Nothing is settled.
 */
export async function commitFlexSchedule(
  chain: ClientChain,
  intervalId: bigint,
  zonePrice: bigint,
  steps: readonly Step[],
  bids: readonly BidFill[] = [],
): Promise<CommittedFlexSchedule> {
  const { publicClient, market } = chain;
  const flex = await flexMarketOf(chain);
  const at = { address: flex, abi: flexibilityMarketAbi } as const;
  const keyed = await Promise.all(
    steps.map(async (s) => {
      const orderId = await publicClient.readContract({
        ...at,
        functionName: "hashFlexOrder",
        args: [s.order],
      });
      const direction = s.direction === "charge" ? 0 : 1;
      const key = await publicClient.readContract({
        ...at,
        functionName: "flexStepKey",
        args: [orderId, direction],
      });
      return { ...s, orderId, direction: direction as 0 | 1, key };
    }),
  );
  const gate = await publicClient.readContract({
    address: market,
    abi: energyMarketAbi,
    functionName: "gateClosure",
    args: [intervalId],
  });
  if ((await chain.now()) <= gate) await chain.mineAt(gate + 1n);
  const tree = buildFillTree([
    ...bids.map((b) => ({ orderId: b.order.orderId, filledWh: b.filledWh })),
    ...keyed.map((s) => ({ orderId: s.key, filledWh: s.energyWh })),
  ]);
  const zonePrices = [zonePrice];
  const configEpoch = await publicClient.readContract({
    address: chain.addresses.committee,
    abi: oracleCommitteeAbi,
    functionName: "epoch",
  });
  const report = {
    market,
    intervalId,
    configEpoch: BigInt(configEpoch),
    ordersDigest: await publicClient.readContract({
      address: market,
      abi: energyMarketAbi,
      functionName: "ordersDigest",
      args: [intervalId],
    }),
    scheduleRoot: tree.root as Hex,
    fillCount: steps.length + bids.length,
    zonePrices,
  };
  const signatures = await quorum(hashScheduleReport(gridBrainDomain(CHAIN_ID, market), report));
  await chain.operatorSend(market, energyMarketAbi, "commitSchedule", [report, signatures]);
  const str = (v: bigint) => v.toString();
  const served: ScheduleLeavesJson = {
    intervalId: str(intervalId),
    scheduleRoot: tree.root as Hex,
    zonePrices: zonePrices.map(str),
    leaves: bids.map(({ order, filledWh }) => ({
      orderId: order.orderId,
      filledWh: str(filledWh),
      order: {
        owner: order.owner,
        intervalId: str(order.intervalId),
        side: order.side,
        zoneId: order.zoneId,
        quantityWh: str(order.quantityWh),
        limitPricePerKwh: str(order.limitPricePerKwh),
        nonce: str(order.nonce),
      },
    })),
    steps: keyed.map((s) => ({
      orderId: s.orderId,
      batteryId: s.order.batteryId,
      direction: s.direction,
      energyWh: str(s.energyWh),
      key: s.key,
      order: {
        owner: s.order.owner,
        batteryId: s.order.batteryId,
        firstInterval: str(s.order.firstInterval),
        lastInterval: str(s.order.lastInterval),
        maxChargePricePerKwh: str(s.order.maxChargePricePerKwh),
        minDischargePricePerKwh: str(s.order.minDischargePricePerKwh),
        chargeBudget: str(s.order.chargeBudget),
        initialSocWh: str(s.order.initialSocWh),
        nonce: str(s.order.nonce),
      },
    })),
  };
  return { intervalId, scheduleRoot: tree.root as Hex, zonePrices, tree, steps: keyed, bids, served };
}

/**
 * A Proof API server (the real one, infra/http.ts) that answers `/schedule` with what `serve`
 * was given per interval — honest or not — and 404 for anything else.
 */
export async function scheduleServer(): Promise<{
  readonly url: string;
  serve(intervalId: bigint, answer: ScheduleLeavesJson): void;
  close(): Promise<void>;
}> {
  const answers = new Map<bigint, ScheduleLeavesJson>();
  const none = (what: string): never => {
    throw new ProofError(404, `${what}: not served by this test server`);
  };
  const source: ProofSource = {
    market: `0x${"00".repeat(20)}`,
    chainId: CHAIN_ID,
    async schedule(id) {
      return answers.get(id) ?? none(`intervalId: interval ${id}`);
    },
    async fill() {
      return none("orderId");
    },
    async meter() {
      return none("participant");
    },
  };
  const server = await startHttpServer({ host: "127.0.0.1", port: 0, proofs: source });
  return {
    url: server.url,
    serve: (intervalId, answer) => void answers.set(intervalId, answer),
    close: () => server.close(),
  };
}

/**
 * Plays the committee for `intervalId`: commits the schedule (`commitFlexSchedule`), settles the
 * bids' fills first (their payments are the receipts a discharge is paid from), then the steps
 * with `settleFlexSteps`. Returns the FlexStepSettled logs' amounts.
 */
export async function settleSteps(
  chain: ClientChain,
  intervalId: bigint,
  zonePrice: bigint,
  steps: readonly Step[],
  bids: readonly BidFill[] = [],
): Promise<bigint[]> {
  const { publicClient, market } = chain;
  const flex = await flexMarketOf(chain);
  const at = { address: flex, abi: flexibilityMarketAbi } as const;
  const c = await commitFlexSchedule(chain, intervalId, zonePrice, steps, bids);
  for (const { order, filledWh } of bids) {
    const { orderId, ...fields } = order;
    await chain.operatorSend(market, energyMarketAbi, "claimFill", [
      c.scheduleRoot,
      c.zonePrices,
      { order: fields, filledWh },
      fillProof(c.tree, orderId),
    ]);
  }
  const multi = fillMultiProof(
    c.tree,
    c.steps.map((s) => s.key),
  );
  const byKey = new Map(c.steps.map((s) => [s.key.toLowerCase(), s] as const));
  const ordered = multi.leaves.map((l) => byKey.get(l.orderId.toLowerCase())!);
  const wallet = createWalletClient({
    account: operator,
    chain: publicClient.chain!,
    transport: http(chain.url),
  });
  const hash = await wallet.writeContract({
    ...at,
    functionName: "settleFlexSteps",
    args: [
      intervalId,
      c.scheduleRoot,
      [...c.zonePrices],
      ordered.map((s) => ({ order: s.order, direction: s.direction, energyWh: s.energyWh })),
      multi.proof,
      multi.proofFlags,
    ],
  });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  expect(receipt.status, "settleFlexSteps").to.equal("success");
  return parseEventLogs({ abi: flexibilityMarketAbi, eventName: "FlexStepSettled", logs: receipt.logs }).map(
    (e) => e.args.amount,
  );
}
