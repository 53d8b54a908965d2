/**
 * The simulated neighbourhood put on a chain: accounts, zones, lines (one that congests), grid
 * fees, participants, smart meters, home batteries, funded wallets and market deposits.
 *
 * Accounts come from Hardhat's development mnemonic: index 0 deploys and is admin, operator and
 * guardian; 1..n are oracle nodes; 200+z is the grid's balancing account in zone z; 300+i is
 * household i; 600+i is household i's smart meter key.
 */
import {
  createPublicClient,
  createWalletClient,
  http,
  nonceManager,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { mnemonicToAccount, type HDAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { type WriteClients, deposit } from "../client/index.js";
import { sourceCode } from "../domain/energy-source.js";
import type { Neighbourhood } from "../domain/simulation/index.js";
import { demoAbis } from "./contracts.js";
import type { SuiteAddresses } from "../devnet/deploy.js";
import { DEV_MNEMONIC } from "../devnet/local-services.js";
import { createDemoSender } from "./sender.js";

// One definition of the dev mnemonic, shared with the chain launchers.
export { DEV_MNEMONIC };

/** Token amounts (6 decimals). */
const HOUSEHOLD_DEPOSIT = 2_000_000_000n; // 2,000 gUSD
const GRID_DEPOSIT = 1_000_000_000_000n; // 1,000,000 gUSD: the grid backs every interval
const OPERATOR_FUNDS = 100_000_000_000n; // pays long imbalances

export interface DemoAccounts {
  readonly operator: HDAccount;
  readonly oracleNodes: readonly HDAccount[];
  readonly grid: readonly HDAccount[];
  readonly households: readonly HDAccount[];
  readonly meters: readonly HDAccount[];
}

export function demoAccounts(zones: number, households: number, oracleNodes: number): DemoAccounts {
  const at = (addressIndex: number) => mnemonicToAccount(DEV_MNEMONIC, { addressIndex, nonceManager });
  return {
    operator: at(0),
    oracleNodes: Array.from({ length: oracleNodes }, (_, i) => at(1 + i)),
    grid: Array.from({ length: zones }, (_, z) => at(200 + z)),
    households: Array.from({ length: households }, (_, i) => at(300 + i)),
    meters: Array.from({ length: households }, (_, i) => at(600 + i)),
  };
}

export interface DemoChain {
  readonly rpcUrl: string;
  readonly publicClient: PublicClient;
  readonly addresses: SuiteAddresses;
  readonly abis: { market: Abi; registry: Abi; token: Abi; certificates: Abi; committee: Abi };
  /** Sends a contract call from `account` and waits for its receipt; throws on revert. */
  send(
    account: HDAccount,
    to: Address,
    abi: Abi,
    functionName: string,
    args: readonly unknown[],
  ): Promise<Hex>;
  /**
   * The typed client's clients for `account` (client/clients.ts), writing through the demo's
   * sender: the client's actions (orders, deposits, claims) then share the sender's per-account
   * queue and nonce stream with `send`, and ride chain stalls the same way.
   */
  clientsOf(account: HDAccount): WriteClients;
}

const DEMO_MAX_FEE_PER_GAS = 50_000_000_000n; // 50 gwei
const DEMO_PRIORITY_FEE_PER_GAS = 1_000_000_000n; // 1 gwei

/**
 * RPC timing suited to a local chain that may stall: the chaos runs stopped the Hardhat node for
 * 23–38 s, and viem's default 10 s timeout ended the demo. Every call, broadcasts included, waits
 * up to 60 s per attempt and is retried 5 times by the transport, the demo's one RPC retry layer;
 * a re-sent broadcast is the same signed bytes, which the sender recognises (sender.ts).
 */
export const DEMO_RPC_TIMEOUT_MS = 60_000;
const DEMO_RPC_RETRIES = 5;

export interface ConnectDemoChainOptions {
  /** Per-request timeout (ms); default DEMO_RPC_TIMEOUT_MS. Tests shorten it to provoke re-sends. */
  readonly rpcTimeoutMs?: number;
}

export function connectDemoChain(
  rpcUrl: string,
  addresses: SuiteAddresses,
  options: ConnectDemoChainOptions = {},
): DemoChain {
  const timeout = options.rpcTimeoutMs ?? DEMO_RPC_TIMEOUT_MS;
  const transport = http(rpcUrl, { retryCount: DEMO_RPC_RETRIES, timeout });
  const publicClient = createPublicClient({ chain: hardhat, transport, pollingInterval: 100 });
  const abis = {
    market: demoAbis.market,
    registry: demoAbis.registry,
    token: demoAbis.token,
    certificates: demoAbis.certificates,
    committee: demoAbis.committee,
  };
  const sender = createDemoSender({
    transport,
    chain: hardhat,
    // Fixed fee caps: saves two fee-estimation calls per transaction (a latest block and
    // eth_maxPriorityFeePerGas). The local node's base fee stays far below the cap: its blocks
    // carry one transaction each, so the base fee only falls.
    fees: { maxFeePerGas: DEMO_MAX_FEE_PER_GAS, maxPriorityFeePerGas: DEMO_PRIORITY_FEE_PER_GAS },
  });
  return {
    rpcUrl,
    publicClient: publicClient as PublicClient,
    addresses,
    abis,
    send: (account, to, abi, functionName, args) => sender.send(account, { to, abi, functionName, args }),
    clientsOf: (account) => ({
      publicClient: publicClient as PublicClient,
      walletClient: createWalletClient({ account, chain: hardhat, transport }),
      send: (call) =>
        sender.send(account, {
          to: call.address,
          abi: call.abi,
          functionName: call.functionName,
          args: call.args,
        }),
    }),
  };
}

export interface GridLayout {
  /** Lines between consecutive zones: capacity per interval and losses. */
  readonly lines: readonly { from: number; to: number; capacityWh: bigint; lossBps: number }[];
  /** Wheeling fee per kWh on every line, token base units. */
  readonly gridFeePerKwh: bigint;
  /** The grid's retail and feed-in tariffs in every zone (token base units per kWh). */
  readonly tariffs: { readonly retailPerKwh: bigint; readonly feedInPerKwh: bigint };
}

/** A chain of zones 0–1–2–…; the first line is deliberately small so it congests at midday. */
export function defaultGridLayout(zones: number, tariffs: GridLayout["tariffs"]): GridLayout {
  return {
    tariffs,
    lines: Array.from({ length: Math.max(0, zones - 1) }, (_, z) => ({
      from: z,
      to: z + 1,
      capacityWh: z === 0 ? 1_500n : 25_000n,
      lossBps: 200,
    })),
    gridFeePerKwh: 5_000n,
  };
}

/** Gives each address 100 ETH for gas (Hardhat's `hardhat_setBalance`). */
export async function fundEth(chain: DemoChain, addresses: readonly Address[]): Promise<void> {
  for (const address of addresses)
    await chain.publicClient.request({
      method: "hardhat_setBalance" as never,
      params: [address, "0x56BC75E2D63100000"] as never, // 100 ETH for gas
    });
}

/** Registers the neighbourhood and funds everyone. Returns the layout used. */
export async function setUpNeighbourhood(
  chain: DemoChain,
  accounts: DemoAccounts,
  neighbourhood: Neighbourhood,
  layout: GridLayout,
): Promise<void> {
  const { addresses, abis } = chain;
  const op = accounts.operator;
  const registryCall = (fn: string, args: readonly unknown[]) =>
    chain.send(op, addresses.registry, abis.registry, fn, args);

  await fundEth(chain, [
    ...accounts.oracleNodes.map((a) => a.address),
    ...accounts.grid.map((a) => a.address),
    ...accounts.households.map((a) => a.address),
  ]);

  for (let z = 0; z < neighbourhood.zones; z++)
    await registryCall("addZone", [`Zone ${String.fromCharCode(65 + z)}`]);
  for (const line of layout.lines) {
    await registryCall("setLine", [line.from, line.to, line.capacityWh, line.lossBps]);
    await registryCall("setGridFee", [line.from, line.to, layout.gridFeePerKwh]);
    await registryCall("setGridFee", [line.to, line.from, layout.gridFeePerKwh]);
  }
  for (let z = 0; z < neighbourhood.zones; z++) {
    const grid = accounts.grid[z]!;
    await registryCall("registerParticipant", [grid.address, z]);
    // The grid is the zone's balancing party: never metered, never settled for imbalance (MARKET_RULES.md).
    await registryCall("setZoneGrid", [
      z,
      grid.address,
      layout.tariffs.retailPerKwh,
      layout.tariffs.feedInPerKwh,
    ]);
  }
  for (const house of neighbourhood.households) {
    const owner = accounts.households[house.index]!;
    const meter = accounts.meters[house.index]!;
    await registryCall("registerParticipant", [owner.address, house.zone]);
    await registryCall("registerMeter", [
      meter.address,
      owner.address,
      sourceCode(house.pv === null ? "other" : "solar"),
    ]);
    if (house.battery !== null) {
      const b = house.battery;
      const powerW = BigInt(Math.round(b.maxPowerW));
      await registryCall("registerBattery", [
        {
          owner: owner.address,
          zoneId: house.zone,
          capacityWh: BigInt(Math.round(b.capacityWh)),
          maxChargeW: powerW,
          maxDischargeW: powerW,
          chargeEfficiencyBps: Math.round(b.chargeEfficiency * 10_000),
          dischargeEfficiencyBps: Math.round(b.dischargeEfficiency * 10_000),
          minSocWh: BigInt(Math.round(b.minSocWh)),
          maxSocWh: BigInt(Math.round(b.maxSocWh)),
        },
      ]);
    }
  }

  // Tokens: mint, then the client's deposit (approve + deposit, the transactions the demo always
  // sent: its gas figures stay comparable) — households and the grid in parallel (one nonce
  // stream each).
  const fund = async (account: HDAccount, amount: bigint) => {
    await chain.send(account, addresses.token, abis.token, "mint", [account.address, amount]);
    await deposit(chain.clientsOf(account), { market: addresses.market, amount, method: "approve" });
  };
  await Promise.all([
    ...accounts.households.map((a) => fund(a, HOUSEHOLD_DEPOSIT)),
    ...accounts.grid.map((a) => fund(a, GRID_DEPOSIT)),
  ]);
  await chain.send(op, addresses.token, abis.token, "mint", [op.address, OPERATOR_FUNDS]);
  await chain.send(op, addresses.token, abis.token, "approve", [addresses.market, OPERATOR_FUNDS]);
  await chain.send(op, addresses.market, abis.market, "depositOperatorFunds", [OPERATOR_FUNDS]);
}

/** Total tokens the set-up minted: the conservation check's reference. */
export function mintedTotal(accounts: DemoAccounts): bigint {
  return (
    BigInt(accounts.households.length) * HOUSEHOLD_DEPOSIT +
    BigInt(accounts.grid.length) * GRID_DEPOSIT +
    OPERATOR_FUNDS
  );
}
