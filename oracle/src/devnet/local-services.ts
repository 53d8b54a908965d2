/**
 * Local services for the demo and the integration tests: a local chain (Hardhat's node or
 * Foundry's Anvil, behind one `startChain`), a throwaway redis-server and a throwaway Redis
 * Cluster, each on free loopback ports, each stopped by an idempotent `stop()`.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The nearest folder at or above `from` that holds hardhat.config.ts: the repository, whether this
 * module runs from oracle/src/devnet/ (source, three levels down) or from dist/devnet/ (compiled,
 * two). A fixed "../../.." pointed above the repository from dist/, so `devnet up` started
 * `hardhat node` in the wrong folder once the tests ran the compiled CLI.
 * @throws Error naming `from` when no folder above it has the file.
 */
export function findProjectRoot(from: string): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "hardhat.config.ts"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no hardhat.config.ts at or above ${from}`);
  }
}

export const PROJECT_ROOT = findProjectRoot(dirname(fileURLToPath(import.meta.url)));

export interface LocalService {
  readonly port: number;
  readonly url: string;
  /**
   * The process id to wait on: the server itself, or for a service started through `npx` the
   * leader of its own process group (signal `-pid` to reach every process of it). Undefined once
   * stopped. `gridbrain devnet` records it so that `devnet down` can check nothing is left.
   */
  readonly pid: number | undefined;
  /** Stops the process (SIGKILL when `hard`, to simulate a crash). Idempotent. */
  stop(options?: { hard?: boolean }): Promise<void>;
}

export interface RedisServer extends LocalService {
  /** Starts the server again on the same port (after a stop), empty. */
  restart(): Promise<void>;
}

const REDIS_INSTALL_HINT =
  "redis-server was not found on PATH. Install Redis 7 (Debian: `sudo apt-get install -y redis-server`), " +
  "or run `bash scripts/bootstrap.sh`, which installs it when missing.";

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") return reject(new Error("no port assigned"));
      server.close(() => resolvePort(address.port));
    });
  });
}

async function stopChild(child: ChildProcess | undefined, hard: boolean): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  child.kill(hard ? "SIGKILL" : "SIGTERM");
  await exited;
}

async function waitUntil(what: string, child: ChildProcess, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited early with code ${child.exitCode}`);
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`${what} did not become ready within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts redis-server on a free loopback port with RDB and AOF persistence off. */
export async function startRedis(): Promise<RedisServer> {
  const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) throw new Error(REDIS_INSTALL_HINT);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "gridbrain-redis-"));
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const started = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
      { stdio: "ignore" },
    );
    child = started;
    await waitUntil(`redis-server on port ${port}`, started, async () => {
      const ping = spawnSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8" });
      return ping.stdout?.trim() === "PONG";
    });
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    stop: async (options = {}) => {
      const running = child;
      child = undefined;
      await stopChild(running, options.hard === true);
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      const running = child;
      child = undefined;
      await stopChild(running, false);
      await launch();
    },
  };
}

export interface RedisCluster {
  /** One `redis://127.0.0.1:<port>` URL per master. */
  readonly urls: readonly string[];
  /** Stops every node and removes their directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a Redis Cluster of `masters` (at least 3, Redis's minimum) masters without replicas on
 * free loopback ports, persistence off, joined with `redis-cli --cluster create`, and waits until
 * every node reports `cluster_state:ok` (all 16384 slots served).
 */
export async function startRedisCluster(options: { masters?: number } = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  if (!Number.isInteger(masters) || masters < 3)
    throw new RangeError(`masters: Redis Cluster needs at least 3, got ${masters}`);
  const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) throw new Error(REDIS_INSTALL_HINT);
  const dir = mkdtempSync(join(tmpdir(), "gridbrain-redis-cluster-"));
  const children: ChildProcess[] = [];
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await Promise.allSettled(children.map((c) => stopChild(c, false)));
      rmSync(dir, { recursive: true, force: true });
    })());
  try {
    const ports: number[] = [];
    for (let i = 0; i < masters; i++) ports.push(await freePort());
    for (const port of ports) {
      const child = spawn(
        "redis-server",
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          `nodes-${port}.conf`,
          "--appendonly",
          "no",
          "--save",
          "",
          "--dir",
          dir,
        ],
        { stdio: "ignore" },
      );
      children.push(child);
      await waitUntil(`redis-server (cluster node) on port ${port}`, child, async () => {
        const ping = spawnSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8" });
        return ping.stdout?.trim() === "PONG";
      });
    }
    const create = spawnSync(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...ports.map((p) => `127.0.0.1:${p}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      { encoding: "utf8" },
    );
    if (create.status !== 0)
      throw new Error(
        `redis-cli --cluster create failed (exit ${create.status}): ${create.stdout}${create.stderr}`,
      );
    for (const [i, port] of ports.entries())
      await waitUntil(`redis cluster state ok on port ${port}`, children[i]!, async () => {
        const info = spawnSync("redis-cli", ["-p", String(port), "cluster", "info"], { encoding: "utf8" });
        return /cluster_state:ok/.test(info.stdout ?? "");
      });
    return { urls: ports.map((p) => `redis://127.0.0.1:${p}`), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function rpcAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    });
    return response.ok;
  } catch {
    return false;
  }
}

/** The local chain clients `startChain` knows. */
export const CHAIN_KINDS = ["hardhat", "anvil"] as const;
export type ChainKind = (typeof CHAIN_KINDS)[number];

export interface LocalChain extends LocalService {
  readonly kind: ChainKind;
}

/** The dev mnemonic both chains derive their funded accounts from (Hardhat's default, Anvil's too). */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/**
 * Starts a local chain of `kind` on a free loopback port, chain id 31337, with the same 20 funded
 * dev accounts (10 000 ETH each, from `DEV_MNEMONIC`) and automine on both, so a test or the
 * demo runs unchanged against either.
 */
export async function startChain(kind: ChainKind, options: { port?: number } = {}): Promise<LocalChain> {
  const service = kind === "anvil" ? await startAnvil(options) : await startHardhatNode(options);
  // Assign, not spread: a spread would freeze `pid`'s getter at its value now.
  return Object.assign(service, { kind });
}

/** The anvil binary shipped by `@foundry-rs/anvil`'s per-platform package (no download at run time). */
export function anvilBinary(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const path = join(
    PROJECT_ROOT,
    "node_modules",
    "@foundry-rs",
    `anvil-${process.platform}-${arch}`,
    "bin",
    "anvil",
  );
  if (!existsSync(path))
    throw new Error(
      `anvil was not found at ${path}: the devDependency @foundry-rs/anvil ships no binary for ${process.platform}-${arch}, or \`npm ci\` did not run`,
    );
  return path;
}

/**
 * Starts Foundry's `anvil`. Hardhat's node derives 20 accounts from `DEV_MNEMONIC`; Anvil derives
 * 10 from the same mnemonic by default, so the count is raised to match. Anvil also answers
 * `anvil_reorg`, which the reorg e2e test uses (Hardhat's node has no equivalent).
 */
export async function startAnvil(options: { port?: number } = {}): Promise<LocalService> {
  const port = options.port ?? (await freePort());
  const child = spawn(
    anvilBinary(),
    [
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--chain-id",
      "31337",
      "--accounts",
      "20",
      "--mnemonic",
      DEV_MNEMONIC,
      // The default (unoptimised) build of EnergyMarket is ~34 KB, above EIP-170's 24 KB;
      // Hardhat's node deploys it, so Anvil must too.
      "--disable-code-size-limit",
      "--silent",
    ],
    { stdio: "ignore" },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(`anvil on port ${port}`, child, () => rpcAnswers(url));
  return {
    port,
    url,
    get pid() {
      return child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    stop: async (stopOptions = {}) => stopChild(child, stopOptions.hard === true),
  };
}

/** A Hardhat node that can also be frozen, to simulate a stalled chain (SIGSTOP / SIGCONT). */
export interface HardhatNodeService extends LocalService {
  /** Stops the node's processes (SIGSTOP): requests hang until `resume()`. */
  pause(): void;
  resume(): void;
}

/**
 * Starts `hardhat node` (Hardhat's in-process EDR chain behind JSON-RPC, chain id 31337, the
 * well-known funded dev accounts) on a free loopback port.
 */
export async function startHardhatNode(options: { port?: number } = {}): Promise<HardhatNodeService> {
  const port = options.port ?? (await freePort());
  const child = spawn("npx", ["hardhat", "node", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: PROJECT_ROOT,
    stdio: "ignore",
    detached: true, // its own process group, so stop() also ends npx's child
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(`hardhat node on port ${port}`, child, () => rpcAnswers(url));
  let stopped = false;
  // The whole process group: npx and the node it runs.
  const signal = (sig: NodeJS.Signals) => {
    if (!stopped && child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, sig);
  };
  return {
    port,
    url,
    get pid() {
      return stopped || child.exitCode !== null ? undefined : child.pid;
    },
    pause: () => signal("SIGSTOP"),
    resume: () => signal("SIGCONT"),
    stop: async (stopOptions = {}) => {
      if (stopped) return;
      stopped = true;
      if (child.exitCode !== null || child.pid === undefined) return;
      const exited = new Promise<void>((done) => child.once("exit", () => done()));
      try {
        process.kill(-child.pid, stopOptions.hard === true ? "SIGKILL" : "SIGTERM");
        process.kill(-child.pid, "SIGCONT"); // a paused node acts on SIGTERM only once resumed
      } catch {
        return; // already gone
      }
      await exited;
    },
  };
}
