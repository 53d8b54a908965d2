/**
 * Shared e2e harness: a local chain (Hardhat's node by default, or Anvil) and Redis of their own, the suite deployed with a 3-of-5
 * committee (dev accounts 1–5), a small two-zone market with participants, meters and funds,
 * and oracle nodes configured to talk to each other. Chain time is moved with
 * evm_setNextBlockTimestamp; nothing reads the wall clock for market logic.
 */
import {
  type Address,
  type Hex,
  type PublicClient,
  createWalletClient,
  http,
  parseEventLogs,
  type WalletClient,
  zeroAddress,
} from "viem";
import { type LocalAccount, generatePrivateKey, mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { deployLocalSuite, type SuiteAddresses } from "../../oracle/src/devnet/deploy.js";
import { rmSync } from "node:fs";
import { join } from "node:path";
import {
  type ChainKind,
  DEV_MNEMONIC,
  PROJECT_ROOT,
  type LocalChain,
  type PortSource,
  type RedisServer,
  freePort,
  isPortInUse,
  onFreePorts,
  startChain,
  startRedis,
  startTogether,
} from "../../oracle/src/devnet/local-services.js";
import { createChainClients } from "../../oracle/src/chain/market.js";
import { type AccountWalletClient, type WriteClients } from "../../oracle/src/client/clients.js";
import { deposit, placeOrder } from "../../oracle/src/client/index.js";
import { energyMarketAbi, gridRegistryAbi, testTokenAbi } from "../../oracle/src/chain/abis.js";
import { type Config, loadConfig } from "../../oracle/src/infra/config.js";
import { createLogger } from "../../oracle/src/infra/logging.js";
import { OracleNode, type OracleNodeOptions } from "../../oracle/src/node/node.js";

export const MNEMONIC = DEV_MNEMONIC;
export const devAccount = (i: number) => mnemonicToAccount(MNEMONIC, { addressIndex: i });
export const devKey = (i: number): Hex => {
  const hd = mnemonicToAccount(MNEMONIC, { addressIndex: i }).getHdKey();
  return `0x${Buffer.from(hd.privateKey!).toString("hex")}`;
};

export const INTERVAL = 900n;
export const GATE = 300n;
export const DEPOSIT = 10_000_000n;
export const OPERATOR_FUNDS = 1_000_000n;
export const COLLATERAL_PER_KWH = 100_000n;
/** The grid's retail and feed-in tariffs in every zone: the imbalance prices while zone prices lie between. */
export const SHORT_PRICE = 200_000n;
export const LONG_PRICE = 20_000n;
export const METER_GRACE = 60n;
/** The nodes' default `meterDeadlineSeconds`: a silent meter is missing this long after the interval end. */
export const READING_DEADLINE = 2700n;

export const costUp = (p: bigint, e: bigint) => (p * e + 999n) / 1000n;
export const costDown = (p: bigint, e: bigint) => (p * e) / 1000n;

export interface Env {
  readonly chain: LocalChain;
  readonly redis: RedisServer;
  readonly addresses: SuiteAddresses;
  readonly client: PublicClient;
  readonly members: readonly LocalAccount[];
  rpc(method: string, params: unknown[]): Promise<unknown>;
  wallet(account: LocalAccount): WalletClient;
  write(
    account: LocalAccount,
    address: Address,
    abi: unknown,
    functionName: string,
    args: unknown[],
  ): Promise<Hex>;
  now(): Promise<bigint>;
  setTime(t: bigint): Promise<void>;
  stop(): Promise<void>;
}

export interface StartEnvOptions {
  /** The chain client (default Hardhat's node). */
  readonly chain?: ChainKind;
  /** Deploys the suite (default `deployLocalSuite`); the harness's own test makes it fail. */
  readonly deploy?: typeof deployLocalSuite;
}

export async function startEnv(options: StartEnvOptions = {}): Promise<Env> {
  // When one start fails, the other is stopped (else mocha never exits after the failed hook).
  const [chain, redis] = await startTogether([startChain(options.chain ?? "hardhat"), startRedis()]);
  const deploymentId = `e2e-${chain.port}`;
  const stopServices = async () => {
    await Promise.allSettled([chain.stop(), redis.stop()]);
    // Ignition's journal of this throwaway deployment.
    rmSync(join(PROJECT_ROOT, "deploy", "deployments", deploymentId), { recursive: true, force: true });
  };
  const members = [1, 2, 3, 4, 5].map(devAccount);
  let addresses: SuiteAddresses;
  try {
    addresses = await (options.deploy ?? deployLocalSuite)({
      rpcUrl: chain.url,
      committeeMembers: members.map((m) => m.address),
      committeeThreshold: 3,
      deploymentId,
    });
  } catch (error) {
    await stopServices();
    throw error;
  }
  const { publicClient } = createChainClients(chain.url, 31337);
  const rpc = async (method: string, params: unknown[]) => {
    const res = await fetch(chain.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const json = (await res.json()) as { result?: unknown; error?: { message: string } };
    if (json.error !== undefined) throw new Error(`${method}: ${json.error.message}`);
    return json.result;
  };
  const wallets = new Map<string, WalletClient>();
  const wallet = (account: LocalAccount) => {
    let w = wallets.get(account.address);
    if (w === undefined) {
      w = createWalletClient({ account, chain: publicClient.chain!, transport: http(chain.url) });
      wallets.set(account.address, w);
    }
    return w;
  };
  const write = async (
    account: LocalAccount,
    address: Address,
    abi: unknown,
    functionName: string,
    args: unknown[],
  ) => {
    const hash = await wallet(account).writeContract({
      address,
      abi: abi as typeof energyMarketAbi,
      functionName: functionName as "deposit",
      args: args as [bigint],
      account,
      chain: publicClient.chain!,
    });
    const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    if (receipt.status !== "success") throw new Error(`${functionName} reverted`);
    return hash;
  };
  return {
    chain,
    redis,
    addresses,
    client: publicClient,
    members,
    rpc,
    wallet,
    write,
    now: async () => (await publicClient.getBlock({ blockTag: "latest" })).timestamp,
    setTime: async (t: bigint) => {
      await rpc("evm_setNextBlockTimestamp", [Number(t)]);
      await rpc("evm_mine", []);
    },
    stop: stopServices,
  };
}

/**
 * The started world of an e2e test, one call: the Env (chain, Redis, suite deployed), the market
 * set up when `market` is given, and the oracle nodes started through it. `stop()` closes the
 * nodes first (they talk to the chain and Redis), then the Env; `stopNodes()` closes only the nodes,
 * for a test whose committee must not outlive it.
 */
export interface World extends Env {
  /** The nodes started through `startNodes` and not yet stopped through `stopNodes`. */
  readonly nodes: readonly OracleNode[];
  startNodes(
    configs: readonly Config[],
    extra?: (i: number) => Partial<OracleNodeOptions>,
  ): Promise<OracleNode[]>;
  stopNodes(): Promise<void>;
}

export interface StartWorldOptions extends StartEnvOptions {
  /** Registers these parties in `zones` zones and funds them and the operator (`setupMarket`). */
  readonly market?: { readonly parties: readonly Party[]; readonly zones: number };
}

export async function startWorld(options: StartWorldOptions = {}): Promise<World> {
  const env = await startEnv(options);
  try {
    if (options.market !== undefined) await setupMarket(env, options.market.parties, options.market.zones);
  } catch (error) {
    await env.stop();
    throw error;
  }
  let nodes: OracleNode[] = [];
  const stopNodes = async () => {
    const closing = nodes;
    nodes = [];
    await Promise.allSettled(closing.map((n) => n.close()));
  };
  return {
    ...env,
    get nodes() {
      return nodes;
    },
    startNodes: async (configs, extra) => {
      const started = await startNodes(configs, extra);
      nodes.push(...started);
      return started;
    },
    stopNodes,
    stop: async () => {
      await stopNodes();
      await env.stop();
    },
  };
}

/** A participant of the scenario: its key, zone, order and meter. */
export interface Party {
  readonly name: string;
  readonly account: LocalAccount;
  readonly zone: number;
  readonly side: "bid" | "offer";
  readonly quantityWh: bigint;
  readonly limit: bigint;
  readonly meter: LocalAccount | undefined;
  orderId?: Hex;
}

export const market = (env: Env) => env.addresses.market;

/** Registers zones, participants and meters, funds everyone and the operator. */
export async function setupMarket(env: Env, parties: readonly Party[], zones: number): Promise<void> {
  const operator = devAccount(0);
  const { registry, token, market: m } = env.addresses;
  for (let z = 0; z < zones; z++)
    await env.write(operator, registry, gridRegistryAbi, "addZone", [`zone-${z}`]);
  for (let z = 0; z < zones; z++)
    await env.write(operator, registry, gridRegistryAbi, "setZoneGrid", [
      z,
      zeroAddress,
      SHORT_PRICE,
      LONG_PRICE,
    ]);
  for (const p of parties) {
    await env.write(operator, registry, gridRegistryAbi, "registerParticipant", [p.account.address, p.zone]);
    if (p.meter !== undefined)
      await env.write(operator, registry, gridRegistryAbi, "registerMeter", [
        p.meter.address,
        p.account.address,
        p.side === "offer" ? 1 : 0,
      ]);
    await env.write(operator, token, testTokenAbi, "mint", [p.account.address, DEPOSIT]);
    await deposit(clientsOf(env, p.account), { market: m, amount: DEPOSIT, method: "approve" });
  }
  await env.write(operator, token, testTokenAbi, "mint", [operator.address, OPERATOR_FUNDS]);
  await env.write(operator, token, testTokenAbi, "approve", [m, OPERATOR_FUNDS]);
  await env.write(operator, m, energyMarketAbi, "depositOperatorFunds", [OPERATOR_FUNDS]);
}

/** Places each party's order for `intervalId` through the typed client; its order id is checked against the OrderPlaced log. */
export async function placeOrders(env: Env, parties: Party[], intervalId: bigint): Promise<void> {
  for (const [i, p] of parties.entries()) {
    const placed = await placeOrder(clientsOf(env, p.account), {
      market: env.addresses.market,
      side: p.side,
      intervalId,
      zoneId: p.zone,
      quantityWh: p.quantityWh,
      limitPricePerKwh: p.limit,
      nonce: BigInt(i),
    });
    // The client computes the id off chain; the contract's event is the check.
    const receipt = await env.client.getTransactionReceipt({ hash: placed.transaction });
    const [log] = parseEventLogs({ abi: energyMarketAbi, eventName: "OrderPlaced", logs: receipt.logs });
    if (log?.args.orderId !== placed.orderId)
      throw new Error(`order id of ${p.name}: client ${placed.orderId}, OrderPlaced ${log?.args.orderId}`);
    p.orderId = placed.orderId;
  }
}

/** The typed client's write clients for `account` on the test chain (oracle/src/client/). */
export function clientsOf(env: Env, account: LocalAccount): WriteClients {
  return { publicClient: env.client, walletClient: env.wallet(account) as AccountWalletClient };
}

export function newMeter(): LocalAccount {
  return privateKeyToAccount(generatePrivateKey());
}

export interface NodeSetup {
  readonly configs: Config[];
  readonly ports: number[];
}

/**
 * Configs of `n` nodes (dev keys 1..n), each with its own queue prefix (its "own Redis") and the
 * others as peers, on ports from `portSource` (free ones; `startNodes` moves a taken one).
 */
export async function nodeConfigs(
  env: Env,
  overrides: Record<string, unknown> = {},
  n = 5,
  portSource: PortSource = freePort,
): Promise<NodeSetup> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) ports.push(await portSource());
  const configs = ports.map((port, i) =>
    loadConfig({
      flags: {
        rpcUrl: env.chain.url,
        chainId: "31337",
        redisUrl: env.redis.url,
        queuePrefix: `node${i + 1}-${env.chain.port}`,
        marketAddress: env.addresses.market,
        registryAddress: env.addresses.registry,
        committeeAddress: env.addresses.committee,
        devInsecurePrivateKey: devKey(i + 1),
        httpPort: String(port),
        logLevel: "silent",
        pollIntervalMs: "300",
        peerUrls: ports
          .filter((_, j) => j !== i)
          .map((p) => `http://127.0.0.1:${p}`)
          .join(","),
        submitStaggerMs: "1500",
        settleStaggerMs: "2500",
        aggregateRetryMs: "300",
        // Backoff cap of retries towards peers: short, so a test that moves chain time past the
        // reading deadline does not wait for the production cap (30 s) before the next look.
        peerRetryMaxMs: "2000",
        meterGraceSeconds: String(METER_GRACE),
        ...overrides,
      },
    }),
  );
  return { configs, ports };
}

/**
 * Starts one node per config. Their HTTP ports come from `freePort`, so another process may take
 * one before its node listens (`listen EADDRINUSE`): then every node of the attempt is closed
 * and all start again with new ports, each config's `httpPort` and its peers' `peerUrls` moved
 * together (the nodes call each other there), at most PORT_ATTEMPTS times. A failed attempt
 * closes every node it created, the failed ones too: a half-started node already holds BullMQ
 * workers and Redis connections, which would keep mocha from exiting.
 */
export function startNodes(
  configs: readonly Config[],
  extra: (i: number) => Partial<OracleNodeOptions> = () => ({}),
  ports: PortSource = freePort,
): Promise<OracleNode[]> {
  return onFreePorts(
    "oracle nodes",
    configs.length,
    async (httpPorts) => {
      const nodes = withPorts(configs, httpPorts).map(
        (config, i) => new OracleNode({ config, tickMs: 300, txBumpAfterMs: 5_000, ...extra(i) }),
      );
      const outcomes = await Promise.allSettled(nodes.map((n) => n.start()));
      const failures = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as unknown] : []));
      if (failures.length === 0) return nodes;
      await Promise.allSettled(nodes.map((n) => n.close()));
      // A port taken is retried only when every failure is one (onFreePorts); else the other cause.
      throw failures.find((f) => !isPortInUse(f)) ?? failures[0];
    },
    {
      ports,
      first: configs.map((c) => c.httpPort),
      exhausted: (tried, attempts) =>
        `oracle nodes: an HTTP port was taken before its node listened in each of ${attempts} attempts (ports ${tried.map((t) => t.join(", ")).join(" / ")})`,
    },
  );
}

/** `configs` with the i-th node's `httpPort` set to `ports[i]`, and every peer URL moved alike. */
function withPorts(configs: readonly Config[], ports: readonly number[]): Config[] {
  const url = (port: number) => `http://127.0.0.1:${port}`;
  const moved = new Map(configs.map((c, i) => [url(c.httpPort), url(ports[i]!)]));
  return configs.map((c, i) =>
    Object.freeze({
      ...c,
      httpPort: ports[i]!,
      peerUrls: c.peerUrls.map((u) => moved.get(u.replace(/\/$/, "")) ?? u),
    }),
  );
}

export function quietLogger() {
  return createLogger({ level: "silent" });
}

/** Polls `probe` until it returns a value (not undefined) — waiting on chain state, bounded. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 40_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${lastError === undefined ? "" : `: ${String(lastError)}`}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
