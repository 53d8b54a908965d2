/**
 * Flexibility fixtures on the client tests' chain (chain.ts): a battery registered to a fresh
 * prosumer, the flexibility market's address and token reads, and the committee played by hand for
 * one interval's steps — a schedule whose tree holds the steps' leaves
 * `(flexStepKey(orderId, direction), energyWh)`, committed with two members' signatures, then
 * `settleFlexSteps` with the multiproof (after the bids' fills that pay for a discharge).
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

/**
 * Plays the committee for `intervalId`: moves chain time to its gate closure, commits a schedule
 * whose tree holds exactly `steps` and `bids` at zone 0 price `zonePrice`, settles the bids'
 * fills first (their payments are the receipts a discharge is paid from), then the steps with
 * `settleFlexSteps`. Returns the FlexStepSettled logs' amounts.
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
      return { ...s, orderId, direction, key };
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
    ...keyed.map((s) => ({ orderId: s.key, filledWh: s.energyWh })),
    ...bids.map((b) => ({ orderId: b.order.orderId, filledWh: b.filledWh })),
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
  for (const { order, filledWh } of bids) {
    const { orderId, ...fields } = order;
    await chain.operatorSend(market, energyMarketAbi, "claimFill", [
      report.scheduleRoot,
      zonePrices,
      { order: fields, filledWh },
      fillProof(tree, orderId),
    ]);
  }
  const multi = fillMultiProof(
    tree,
    keyed.map((s) => s.key),
  );
  const byKey = new Map(keyed.map((s) => [s.key.toLowerCase(), s] as const));
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
      report.scheduleRoot,
      zonePrices,
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
