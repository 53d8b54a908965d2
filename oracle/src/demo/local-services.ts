/**
 * Local services for the demo and the integration tests: a Hardhat JSON-RPC node and a
 * throwaway redis-server, each on a free loopback port, each stopped by an idempotent `stop()`.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export interface LocalService {
  readonly port: number;
  readonly url: string;
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
