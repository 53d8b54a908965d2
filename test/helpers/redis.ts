import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A throwaway redis-server owned by one test suite: free port, no persistence. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGKILL when `hard`, to simulate a crash). Idempotent. */
  stop(options?: { hard?: boolean }): Promise<void>;
  /** Starts the server again on the same port (after `stop`), empty. */
  restart(): Promise<void>;
}

const INSTALL_HINT =
  "redis-server was not found on PATH. Install Redis 7 (Debian: `sudo apt-get install -y redis-server`), " +
  "or run `bash scripts/bootstrap.sh`, which installs it when missing.";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") return reject(new Error("no port"));
      server.close(() => resolve(address.port));
    });
  });
}

function assertRedisInstalled(): void {
  const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) throw new Error(INSTALL_HINT);
}

async function waitForPing(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited early with code ${child.exitCode}`);
    const ping = spawnSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8" });
    if (ping.stdout?.trim() === "PONG") return;
    if (Date.now() > deadline)
      throw new Error(`redis-server on port ${port} did not answer PING within 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts redis-server on a free loopback port with RDB and AOF off. */
export async function startRedis(): Promise<RedisServer> {
  assertRedisInstalled();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "gridbrain-redis-"));
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
      { stdio: "ignore" },
    );
    await waitForPing(port, child);
  };

  const stop = async (options: { hard?: boolean } = {}): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
    running.kill(options.hard === true ? "SIGKILL" : "SIGTERM");
    await exited;
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: async (options) => {
      await stop(options);
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stop();
      await launch();
    },
  };
}
