/**
 * Local services for the demo and the integration tests: a local chain (Hardhat's node or
 * Foundry's Anvil, behind one `startChain`), a throwaway redis-server and a throwaway Redis
 * Cluster, each on free loopback ports, each stopped by an idempotent `stop()`.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
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

/** Where the suite's production build for a local deploy goes when ./artifacts holds another profile. */
export const DEPLOY_BUILD_DIR = join(PROJECT_ROOT, "cache", "production-deploy");

/**
 * The environment of the Hardhat processes behind a local deploy of the suite (`deployLocalSuite`'s
 * `hardhat ignition deploy` and the `hardhat node` it deploys to): the caller's, with the build
 * profile pinned to production (what Ignition deploys: unoptimised, EnergyMarket is over the
 * 24,576-byte code size limit) and, unless the caller's own build is production, the artifacts and
 * compile cache in DEPLOY_BUILD_DIR (hardhat.config.ts, GRIDBRAIN_BUILD_DIR).
 *
 * Why: Hardhat keeps one compile-cache entry per source file whatever the profile, so a deploy from
 * `npx hardhat test mocha` (default profile) compiled every contract again through viaIR (48 s of
 * the 58 s setup of test/oracle/chain/flex-log-reader.test.ts, 2 loaded cores), overwrote the
 * default artifacts, and the next test run compiled those again. Kept apart, each profile's build
 * is compiled once and reused. `hardhat test --build-profile production` (`npm test`, CI) sets
 * HARDHAT_BUILD_PROFILE=production for its test files (hardhat-mocha), and its deploys reuse the
 * test run's own ./artifacts, as before. Never stale: Hardhat's cache, in either folder, rebuilds a
 * file whose sources, compiler settings or outputs changed.
 */
export function deployBuildEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const production = { ...env, HARDHAT_BUILD_PROFILE: "production" };
  return env["HARDHAT_BUILD_PROFILE"] === "production"
    ? production
    : { ...production, GRIDBRAIN_BUILD_DIR: DEPLOY_BUILD_DIR };
}

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

/**
 * Starts services side by side and returns them in order. When one start fails the others may
 * still succeed, and their processes would outlive the caller (a detached Hardhat node outlives
 * even this process; a test's mocha would never exit): whatever started is stopped, then the first
 * failure is thrown.
 */
export async function startTogether<T extends readonly { stop(): Promise<void> }[]>(starts: {
  readonly [K in keyof T]: Promise<T[K]>;
}): Promise<T> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((s) => s.status === "rejected");
  if (failed === undefined)
    return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
  await Promise.allSettled(settled.flatMap((s) => (s.status === "fulfilled" ? [s.value.stop()] : [])));
  throw failed.reason;
}

export interface RedisServer extends LocalService {
  /** Starts the server again on the same port (after a stop), empty. */
  restart(): Promise<void>;
}

const REDIS_INSTALL_HINT =
  "redis-server was not found on PATH. Install Redis 7 (Debian: `sudo apt-get install -y redis-server`), " +
  "or run `bash scripts/bootstrap.sh`, which installs it when missing.";

/**
 * A port the kernel had free a moment ago. Only a candidate: the probe socket is closed before the
 * service binds, so another process may take the port in between (a time-of-check/time-of-use
 * race). Start services through `onFreePort`, which takes another port when that happens.
 */
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

/** Where `onFreePort` takes candidate ports from (`freePort` unless a test injects taken ones). */
export type PortSource = () => Promise<number>;

/** A service could not bind its port: something else took it after `freePort` had seen it free. */
export class PortInUseError extends Error {
  constructor(
    readonly what: string,
    readonly port: number,
  ) {
    super(`${what}: port ${port} is already in use`);
    this.name = "PortInUseError";
  }
}

/** The error of a listen on a taken port: ours (`PortInUseError`) or Node's (`code: "EADDRINUSE"`). */
export function isPortInUse(error: unknown): boolean {
  return error instanceof PortInUseError || (error as { code?: unknown } | null)?.code === "EADDRINUSE";
}

/** How many ports `onFreePort` tries before it gives up. */
export const PORT_ATTEMPTS = 5;

/** Options of `onFreePorts` / `onFreePort`. */
export interface FreePortOptions {
  /** Where candidate ports come from (default `freePort`; tests offer taken ones). */
  readonly ports?: PortSource;
  /** Attempts before giving up (default PORT_ATTEMPTS). */
  readonly attempts?: number;
  /** The first attempt's ports, when the caller has chosen them already (configs written). */
  readonly first?: readonly number[];
  /** The error message when every attempt was taken (default: `what` and every port tried). */
  readonly exhausted?: (tried: readonly (readonly number[])[], attempts: number) => string;
}

/**
 * Runs `start` on `count` free ports and, when one was taken before its service bound it (the
 * error satisfies `isPortInUse`), again on `count` new ones, at most `attempts` times. Every other
 * error is thrown as is, at once. `start` must leave nothing running when it throws. One set of
 * ports per attempt: services that name each other (a committee's peers) move together.
 * @throws Error naming `what` and every port tried, when all `attempts` were taken.
 */
export async function onFreePorts<T>(
  what: string,
  count: number,
  start: (ports: readonly number[]) => Promise<T>,
  options: FreePortOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? PORT_ATTEMPTS;
  const next = options.ports ?? freePort;
  const tried: number[][] = [];
  for (;;) {
    const ports: number[] = [];
    if (tried.length === 0 && options.first !== undefined) ports.push(...options.first);
    else for (let i = 0; i < count; i++) ports.push(await next());
    tried.push(ports);
    try {
      return await start(ports);
    } catch (error) {
      if (!isPortInUse(error)) throw error;
      if (tried.length >= attempts)
        throw new Error(
          options.exhausted?.(tried, attempts) ??
            `${what}: every port tried was taken by another process before it bound (${tried.flat().join(", ")}; ${attempts} attempts)`,
          { cause: error },
        );
    }
  }
}

/** `onFreePorts` for one service on one port. */
export function onFreePort<T>(
  what: string,
  start: (port: number) => Promise<T>,
  options: FreePortOptions = {},
): Promise<T> {
  return onFreePorts(what, 1, ([port]) => start(port!), options);
}

// What redis-server ("bind: Address already in use"), Node ("listen EADDRINUSE") and Anvil
// ("Address already in use (os error 98)") print when the port is taken.
const ADDRESS_IN_USE = /EADDRINUSE|address already in use/i;

/** Whether a service's output says its port was taken (what `launchService` reads on an early exit). */
export const saysAddressInUse = (output: string): boolean => ADDRESS_IN_USE.test(output);

async function stopChild(child: ChildProcess | undefined, hard: boolean): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  child.kill(hard ? "SIGKILL" : "SIGTERM");
  await exited;
}

/**
 * Waits until no process of group `pgid` is left: npx exits on SIGTERM before the node it runs
 * has, and a stop that returned then would leave that node running for a while. After 10 s the
 * group is killed.
 */
async function groupGone(pgid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return; // ESRCH: the group is empty
    }
    if (Date.now() > deadline) {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        return;
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Signals a child started with `detached: true`: its whole process group (npx and what it runs). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export interface LaunchParameters {
  /** Names the service in errors, with its port: `redis-server on port 6379`. */
  readonly what: string;
  readonly port: number;
  /** Where the child's stdout and stderr go: read to tell a taken port from other failures. */
  readonly logFile: string;
  /** Spawns the child with `stdio` (its output to `logFile`). */
  spawn(stdio: ["ignore", number, number]): ChildProcess;
  /**
   * The child's own output says it listens on `port`. Without it, a readiness probe could be
   * answered by whichever process took the port while ours is still starting (and about to fail).
   */
  listening(log: string): boolean;
  /** The service answers on the port. */
  answers(): Promise<boolean>;
  /** Started with `detached: true`: a failed start ends its whole process group. */
  readonly detached?: boolean;
}

/**
 * Spawns a service with its output in `logFile` and waits, at most 60 s, until its own output
 * says it listens and it answers. When it exits first, the output tells why: a taken port throws
 * `PortInUseError` (`onFreePort` then takes another), anything else an Error with the exit code
 * and the output's end. On timeout the child is killed: nothing is left running after a throw.
 */
export async function launchService(p: LaunchParameters): Promise<ChildProcess> {
  const fd = openSync(p.logFile, "w");
  let child: ChildProcess;
  try {
    child = p.spawn(["ignore", fd, fd]);
  } finally {
    closeSync(fd); // the child holds its own copy
  }
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const readLog = () => {
    try {
      return readFileSync(p.logFile, "utf8");
    } catch {
      return "";
    }
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (gone()) {
      const log = readLog();
      if (ADDRESS_IN_USE.test(log)) throw new PortInUseError(p.what, p.port);
      throw new Error(
        `${p.what} exited early with code ${child.exitCode ?? child.signalCode}: ${log.slice(-800).trim()}`,
      );
    }
    if (p.listening(readLog()) && (await p.answers())) return child;
    if (Date.now() > deadline) {
      if (p.detached === true) signalGroup(child, "SIGKILL");
      else child.kill("SIGKILL");
      await exited;
      if (p.detached === true && child.pid !== undefined) await groupGone(child.pid);
      throw new Error(`${p.what} did not become ready within 60 s: ${readLog().slice(-800).trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
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

/** PING with a bound: a foreign process on the port may accept and never answer. */
export function redisPings(port: number): boolean {
  const ping = spawnSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8", timeout: 2_000 });
  return ping.stdout?.trim() === "PONG";
}

/** Spawns redis-server on `port` with `args`, its log in `dir`, and waits until it serves. */
export function launchRedis(what: string, port: number, dir: string, args: readonly string[]) {
  return launchService({
    what: `${what} on port ${port}`,
    port,
    logFile: join(dir, `redis-${port}.log`),
    spawn: (stdio) =>
      spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, ...args], {
        stdio,
      }),
    // "Ready to accept connections" (7.0; "… tcp" from 7.2) follows the bind.
    listening: (log) => log.includes("Ready to accept connections"),
    answers: async () => redisPings(port),
  });
}

/**
 * Starts redis-server on a free loopback port with RDB and AOF persistence off (another port when
 * the first is taken before it binds: `onFreePort`). `ports` injects the candidate ports (tests).
 */
export async function startRedis(options: { ports?: PortSource } = {}): Promise<RedisServer> {
  const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) throw new Error(REDIS_INSTALL_HINT);
  const dir = mkdtempSync(join(tmpdir(), "gridbrain-redis-"));
  const args = ["--save", "", "--appendonly", "no"];
  let child: ChildProcess | undefined;
  let port: number;
  try {
    port = await onFreePort(
      "redis-server",
      async (p) => {
        child = await launchRedis("redis-server", p, dir, args);
        return p;
      },
      options,
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
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
      // Same port: the clients hold its URL. Taken meanwhile, it throws PortInUseError.
      child = await launchRedis("redis-server", port, dir, args);
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
    for (let i = 0; i < masters; i++)
      ports.push(
        await onFreePort("redis-server (cluster node)", async (port) => {
          const args = ["--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`];
          children.push(
            await launchRedis("redis-server (cluster node)", port, dir, [
              ...args,
              "--appendonly",
              "no",
              "--save",
              "",
            ]),
          );
          return port;
        }),
      );
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
        const info = spawnSync("redis-cli", ["-p", String(port), "cluster", "info"], {
          encoding: "utf8",
          timeout: 2_000,
        });
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
      // Bounded: a foreign process on the port may accept and never answer.
      signal: AbortSignal.timeout(2_000),
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
export async function startChain(
  kind: ChainKind,
  options: { port?: number; ports?: PortSource } = {},
): Promise<LocalChain> {
  const service = kind === "anvil" ? await startAnvil(options) : await startHardhatNode(options);
  // Assign, not spread: a spread would freeze `pid`'s getter at its value now.
  return Object.assign(service, { kind });
}

/** Options of a chain start: a fixed `port` (no retry when taken) or candidate `ports` (tests). */
export interface ChainStartOptions {
  readonly port?: number;
  readonly ports?: PortSource;
}

/** `start` on `options.port` when given (a taken port throws PortInUseError), else on free ports. */
function onChainPort<T>(what: string, options: ChainStartOptions, start: (port: number) => Promise<T>) {
  if (options.port !== undefined) return start(options.port);
  return onFreePort(what, start, options.ports === undefined ? {} : { ports: options.ports });
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
export async function startAnvil(options: ChainStartOptions = {}): Promise<LocalService> {
  const dir = mkdtempSync(join(tmpdir(), "gridbrain-anvil-"));
  let started: { port: number; child: ChildProcess };
  try {
    started = await onChainPort("anvil", options, async (port) => ({
      port,
      child: await launchService({
        what: `anvil on port ${port}`,
        port,
        logFile: join(dir, "anvil.log"),
        spawn: (stdio) =>
          spawn(
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
            ],
            { stdio },
          ),
        listening: (log) => log.includes(`Listening on 127.0.0.1:${port}`),
        answers: () => rpcAnswers(`http://127.0.0.1:${port}`),
      }),
    }));
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const { port, child } = started;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get pid() {
      return child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    stop: async (stopOptions = {}) => {
      await stopChild(child, stopOptions.hard === true);
      rmSync(dir, { recursive: true, force: true });
    },
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
export async function startHardhatNode(options: ChainStartOptions = {}): Promise<HardhatNodeService> {
  const dir = mkdtempSync(join(tmpdir(), "gridbrain-hardhat-node-"));
  let started: { port: number; child: ChildProcess };
  try {
    started = await onChainPort("hardhat node", options, async (port) => ({
      port,
      child: await launchService({
        what: `hardhat node on port ${port}`,
        port,
        logFile: join(dir, "node.log"),
        spawn: (stdio) =>
          spawn("npx", ["hardhat", "node", "--hostname", "127.0.0.1", "--port", String(port)], {
            cwd: PROJECT_ROOT,
            // The deploy's build folder: the node decodes reverts and Solidity logs from its build info.
            env: deployBuildEnv(),
            stdio,
            detached: true, // its own process group, so stop() also ends npx's child
          }),
        detached: true,
        listening: (log) => log.includes(`JSON-RPC server at http://127.0.0.1:${port}/`),
        answers: () => rpcAnswers(`http://127.0.0.1:${port}`),
      }),
    }));
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const { port, child } = started;
  const url = `http://127.0.0.1:${port}`;
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
      try {
        if (child.exitCode !== null || child.pid === undefined) return;
        const exited = new Promise<void>((done) => child.once("exit", () => done()));
        try {
          process.kill(-child.pid, stopOptions.hard === true ? "SIGKILL" : "SIGTERM");
          process.kill(-child.pid, "SIGCONT"); // a paused node acts on SIGTERM only once resumed
        } catch {
          return; // already gone
        }
        await exited;
        await groupGone(child.pid);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
