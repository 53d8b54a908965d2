/**
 * The real chain the client's action tests run against: one Hardhat node per mocha process with
 * the suite deployed by Ignition (a 2-of-3 committee of dev accounts 1–3), started by the first
 * test file that asks and stopped after the run. Tests isolate themselves with fresh prosumer
 * accounts (`newProsumer`) and their own intervals, never by resetting the chain.
 *
 * For pull settlement it also plays the committee by hand — schedule and meter reports built with
 * the domain's Merkle trees and EIP-712 digests, signed by two members, committed — and serves the
 * proofs over the real Proof API server (infra/http.ts) from those trees.
 */
import { expect } from "chai";
import { rmSync } from "node:fs";
import { join } from "node:path";
import {
  type Address,
  type Hex,
  type PublicClient,
  concat,
  createPublicClient,
  createWalletClient,
  http,
} from "viem";
import { generatePrivateKey, mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import {
  energyMarketAbi,
  gridRegistryAbi,
  oracleCommitteeAbi,
  testTokenAbi,
} from "../../../oracle/src/chain/abis.js";
import { createChainClients } from "../../../oracle/src/chain/market.js";
import type { WriteClients } from "../../../oracle/src/client/index.js";
import { deployLocalSuite, type SuiteAddresses } from "../../../oracle/src/devnet/deploy.js";
import {
  DEV_MNEMONIC,
  PROJECT_ROOT,
  type LocalService,
  startHardhatNode,
} from "../../../oracle/src/devnet/local-services.js";
import {
  type Order,
  gridBrainDomain,
  hashMeterReport,
  hashOrder,
  hashScheduleReport,
} from "../../../oracle/src/domain/eip712.js";
import { sourceCode } from "../../../oracle/src/domain/energy-source.js";
import { buildFillTree, buildMeterTree, fillProof, meterProof } from "../../../oracle/src/domain/schedule.js";
import { type HttpServer, startHttpServer } from "../../../oracle/src/infra/http.js";
import { ProofError, type ProofSource } from "../../../oracle/src/infra/proofs.js";

export const CHAIN_ID = 31337;
/** Zone 0's grid tariffs (token base units per kWh): they bound the imbalance prices. */
export const RETAIL = 250_000n;
export const FEED_IN = 50_000n;

const operator = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 0 });
const members = [1, 2, 3].map((i) => mnemonicToAccount(DEV_MNEMONIC, { addressIndex: i }));
const gridAccount = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 200 });

export interface ClientChain {
  readonly url: string;
  readonly addresses: SuiteAddresses;
  readonly market: Address;
  readonly publicClient: PublicClient;
  /** An operator (admin) call, waited for; fails the test when it reverts. */
  operatorSend(address: Address, abi: unknown, functionName: string, args: readonly unknown[]): Promise<void>;
  /** A fresh account registered in zone 0 with gas and `tokens` base units minted to its wallet. */
  newProsumer(tokens?: bigint): Promise<WriteClients>;
  /** Deposits with approve + deposit, without the client (tests set state with it). */
  fund(clients: WriteClients, amount: bigint): Promise<void>;
  /** The latest block's timestamp. */
  now(): Promise<bigint>;
  /** Mines a block at unix time `at` (chain time only moves forward). */
  mineAt(at: bigint): Promise<void>;
  /** An interval whose gate closes at least `leadIntervals - 1` intervals from now. */
  futureInterval(leadIntervals?: bigint): Promise<bigint>;
}

let started: Promise<ClientChain> | undefined;
let node: LocalService | undefined;
let deploymentId: string | undefined;

/** The process's chain, started on first use. */
export function clientChain(): Promise<ClientChain> {
  started ??= start();
  return started;
}

// A root hook: runs once after every test file of the process.
after(async function () {
  this.timeout(60_000);
  await node?.stop();
  if (deploymentId !== undefined)
    rmSync(join(PROJECT_ROOT, "deploy", "deployments", deploymentId), { recursive: true, force: true });
});

async function start(): Promise<ClientChain> {
  node = await startHardhatNode();
  deploymentId = `client-${node.port}`;
  const addresses = await deployLocalSuite({
    rpcUrl: node.url,
    committeeMembers: members.map((m) => m.address),
    committeeThreshold: 2,
    deploymentId,
  });
  const { chain, transport } = createChainClients(node.url, CHAIN_ID);
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 }) as PublicClient;
  const wallet = createWalletClient({ account: operator, chain, transport: http(node.url) });
  const operatorSend = async (
    address: Address,
    abi: unknown,
    functionName: string,
    args: readonly unknown[],
  ) => {
    const hash = await wallet.writeContract({
      address,
      abi: abi as typeof testTokenAbi,
      functionName: functionName as "mint",
      args: args as [Address, bigint],
    });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status, functionName).to.equal("success");
  };
  await operatorSend(addresses.registry, gridRegistryAbi, "addZone", ["Zone A"]);
  await operatorSend(addresses.registry, gridRegistryAbi, "registerParticipant", [gridAccount.address, 0]);
  await operatorSend(addresses.registry, gridRegistryAbi, "setZoneGrid", [
    0,
    gridAccount.address,
    RETAIL,
    FEED_IN,
  ]);

  const rpc = (method: string, params: unknown[]) =>
    publicClient.request({ method: method as never, params: params as never });
  const now = async () => (await publicClient.getBlock({ blockTag: "latest" })).timestamp;
  return {
    url: node.url,
    addresses,
    market: addresses.market,
    publicClient,
    operatorSend,
    async newProsumer(tokens = 100_000_000n) {
      const account = privateKeyToAccount(generatePrivateKey());
      await rpc("hardhat_setBalance", [account.address, "0x56BC75E2D63100000"]);
      await operatorSend(addresses.registry, gridRegistryAbi, "registerParticipant", [account.address, 0]);
      if (tokens > 0n) await operatorSend(addresses.token, testTokenAbi, "mint", [account.address, tokens]);
      return { publicClient, walletClient: createWalletClient({ account, chain, transport }) };
    },
    async fund({ walletClient }, amount) {
      for (const [address, abi, functionName, args] of [
        [addresses.token, testTokenAbi, "approve", [addresses.market, amount]],
        [addresses.market, energyMarketAbi, "deposit", [amount]],
      ] as const) {
        const hash = await walletClient.writeContract({
          address,
          abi: abi as typeof testTokenAbi,
          functionName: functionName as "approve",
          args: args as unknown as [Address, bigint],
          chain,
        });
        expect((await publicClient.waitForTransactionReceipt({ hash })).status, functionName).to.equal(
          "success",
        );
      }
    },
    now,
    async mineAt(at) {
      await rpc("evm_setNextBlockTimestamp", [Number(at)]);
      await rpc("evm_mine", []);
    },
    async futureInterval(leadIntervals = 3n) {
      return (await now()) / 900n + leadIntervals;
    },
  };
}

/** Signatures of two committee members over `digest`, concatenated in ascending signer order. */
export async function quorum(digest: Hex): Promise<Hex> {
  const signers = [...members.slice(0, 2)].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
  return concat(await Promise.all(signers.map((m) => m.sign({ hash: digest }))));
}

export interface TradedInterval {
  readonly intervalId: bigint;
  readonly buyer: WriteClients;
  readonly seller: WriteClients;
  readonly bid: Order & { orderId: Hex };
  readonly offer: Order & { orderId: Hex };
  readonly filledWh: bigint;
  readonly zonePrice: bigint;
  /** The Proof API of a node that knows this interval's trees. */
  readonly nodeUrl: string;
  /** Commits the schedule (2 kWh traded at `zonePrice`); moves chain time to the gate closure. */
  commitSchedule(): Promise<void>;
  /**
   * Commits the meter report (the meter leaves of `tradedInterval`'s `metered`, by default each as
   * scheduled) with the given imbalance prices, by default the grid's tariffs (nothing netted);
   * moves chain time past the interval (to `at`, when given) and reports `zoneSurplusWh` (default 0).
   */
  commitMeter(
    prices?: { readonly shortPrice: bigint; readonly longPrice: bigint },
    options?: { readonly at?: bigint; readonly zoneSurplusWh?: bigint },
  ): Promise<void>;
  close(): Promise<void>;
}

/**
 * A buyer and a solar seller (its meter registered as solar), each with 10 tokens deposited, who
 * trade 2 kWh in a future interval: the bid at 0.2, the offer at 0.1, cleared at 0.15 per kWh.
 */
export async function tradedInterval(
  chain: ClientChain,
  metered: { readonly buyerConsumedWh?: bigint; readonly sellerInjectedWh?: bigint } = {},
): Promise<TradedInterval> {
  const { publicClient, market, addresses } = chain;
  const buyer = await chain.newProsumer();
  const seller = await chain.newProsumer();
  await chain.fund(buyer, 10_000_000n);
  await chain.fund(seller, 10_000_000n);
  const meter = privateKeyToAccount(generatePrivateKey());
  await chain.operatorSend(addresses.registry, gridRegistryAbi, "registerMeter", [
    meter.address,
    seller.walletClient.account.address,
    sourceCode("solar"),
  ]);
  const intervalId = await chain.futureInterval();
  const domain = gridBrainDomain(CHAIN_ID, market);
  const filledWh = 2_000n;
  const zonePrice = 150_000n;
  const place = async (who: WriteClients, side: 0 | 1, price: bigint, nonce: bigint) => {
    const order: Order = {
      owner: who.walletClient.account.address,
      intervalId,
      side,
      zoneId: 0,
      quantityWh: filledWh,
      limitPricePerKwh: price,
      nonce,
    };
    const hash = await who.walletClient.writeContract({
      address: market,
      abi: energyMarketAbi,
      functionName: side === 0 ? "placeBid" : "placeOffer",
      args: [intervalId, 0, filledWh, price, nonce],
      chain: who.walletClient.chain,
    });
    expect((await publicClient.waitForTransactionReceipt({ hash })).status).to.equal("success");
    return { ...order, orderId: hashOrder(domain, order) };
  };
  const bid = await place(buyer, 0, 200_000n, 1n);
  const offer = await place(seller, 1, 100_000n, 2n);
  const fills = [
    { orderId: bid.orderId, filledWh },
    { orderId: offer.orderId, filledWh },
  ];
  const fillTree = buildFillTree(fills);
  const meterLeaves = [
    {
      participant: buyer.walletClient.account.address,
      injectedWh: 0n,
      consumedWh: metered.buyerConsumedWh ?? filledWh,
    },
    {
      participant: seller.walletClient.account.address,
      injectedWh: metered.sellerInjectedWh ?? filledWh,
      consumedWh: 0n,
    },
  ];
  const meterTree = buildMeterTree(meterLeaves);
  const scheduleRoot = fillTree.root as Hex;
  const zonePrices = [zonePrice];
  const orders = new Map([bid, offer].map((o) => [o.orderId, o] as const));
  const json = (o: Order) => ({
    owner: o.owner,
    intervalId: String(o.intervalId),
    side: o.side,
    zoneId: o.zoneId,
    quantityWh: String(o.quantityWh),
    limitPricePerKwh: String(o.limitPricePerKwh),
    nonce: String(o.nonce),
  });
  const unknownInterval = (id: bigint) => {
    if (id !== intervalId) throw new ProofError(404, `intervalId: interval ${id} has no committed schedule`);
  };
  const source: ProofSource = {
    market,
    chainId: CHAIN_ID,
    async schedule(id) {
      unknownInterval(id);
      return {
        intervalId: String(id),
        scheduleRoot,
        zonePrices: zonePrices.map(String),
        leaves: fills.map((f) => ({
          orderId: f.orderId,
          filledWh: String(f.filledWh),
          order: json(orders.get(f.orderId)!),
        })),
        // This stand-in commits fills only (no flexibility order).
        steps: [],
      };
    },
    async fill(id, orderId) {
      unknownInterval(id);
      const order = orders.get(orderId);
      if (order === undefined)
        throw new ProofError(404, `orderId: ${orderId} has no fill leaf in interval ${id}`);
      return {
        intervalId: String(id),
        scheduleRoot,
        zonePrices: zonePrices.map(String),
        leaf: { orderId, filledWh: String(filledWh), order: json(order) },
        proof: fillProof(fillTree, orderId),
      };
    },
    async meter(id, participant) {
      unknownInterval(id);
      const leaf = meterLeaves.find((l) => l.participant === participant);
      if (leaf === undefined) throw new ProofError(404, `participant: ${participant} has no meter leaf`);
      return {
        intervalId: String(id),
        meterRoot: meterTree.root as Hex,
        leaf: { participant, injectedWh: String(leaf.injectedWh), consumedWh: String(leaf.consumedWh) },
        proof: meterProof(meterTree, participant),
      };
    },
  };
  const server: HttpServer = await startHttpServer({ host: "127.0.0.1", port: 0, proofs: source });
  const configEpoch = await publicClient.readContract({
    address: addresses.committee,
    abi: oracleCommitteeAbi,
    functionName: "epoch",
  });
  const operator = createWalletClient({
    account: mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 0 }),
    chain: publicClient.chain!,
    transport: http(chain.url),
  });
  const commit = async (
    functionName: "commitSchedule" | "commitMeterReport",
    report: unknown,
    signatures: Hex,
  ) => {
    const hash = await operator.writeContract({
      address: market,
      abi: energyMarketAbi,
      functionName: functionName as "commitSchedule",
      args: [report as never, signatures],
    });
    expect((await publicClient.waitForTransactionReceipt({ hash })).status, functionName).to.equal("success");
  };
  return {
    intervalId,
    buyer,
    seller,
    bid,
    offer,
    filledWh,
    zonePrice,
    nodeUrl: server.url,
    async commitSchedule() {
      const gate = await publicClient.readContract({
        address: market,
        abi: energyMarketAbi,
        functionName: "gateClosure",
        args: [intervalId],
      });
      await chain.mineAt(gate + 1n);
      const ordersDigest = await publicClient.readContract({
        address: market,
        abi: energyMarketAbi,
        functionName: "ordersDigest",
        args: [intervalId],
      });
      const report = {
        market,
        intervalId,
        configEpoch: BigInt(configEpoch),
        ordersDigest,
        scheduleRoot,
        fillCount: 2,
        zonePrices,
      };
      await commit("commitSchedule", report, await quorum(hashScheduleReport(domain, report)));
    },
    async commitMeter(prices = { shortPrice: RETAIL, longPrice: FEED_IN }, options = {}) {
      await chain.mineAt(options.at ?? (intervalId + 1n) * 900n + 1n);
      const report = {
        market,
        intervalId,
        configEpoch: BigInt(configEpoch),
        meterRoot: meterTree.root as Hex,
        scheduleRoot,
        zonePrices,
        shortPrices: [prices.shortPrice],
        longPrices: [prices.longPrice],
        zoneSurplusWh: [options.zoneSurplusWh ?? 0n],
      };
      await commit("commitMeterReport", report, await quorum(hashMeterReport(domain, report)));
    },
    close: () => server.close(),
  };
}
