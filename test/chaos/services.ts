/**
 * The chaos suite's own chain and Redis, started so that faults can be injected into them: the
 * Hardhat node in its own process group (SIGSTOP / SIGCONT stall the whole chain), and a
 * redis-server with AOF on, `appendfsync always`, restartable on the same port and directory so
 * that a SIGKILL loses nothing that was acknowledged.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, PROJECT_ROOT } from "../../oracle/src/devnet/local-services.js";

async function until(what: string, child: () => ChildProcess, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const c = child();
    if (c.exitCode !== null) throw new Error(`${what} exited early with code ${c.exitCode}`);
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`${what} did not become ready within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => child.once("exit", () => done()));
}

export interface ChaosChain {
  readonly url: string;
  /** SIGSTOP to the node's process group: it stops answering, nothing is lost. */
  pause(): void;
  /** SIGCONT to the node's process group. */
  resume(): void;
  /** Answers eth_chainId within `timeoutMs`. */
  answers(timeoutMs?: number): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startChain(): Promise<ChaosChain> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(PROJECT_ROOT, "node_modules/hardhat/dist/src/cli.js"),
      "node",
      "--hostname",
      "127.0.0.1",
      "--port",
      String(port),
    ],
    { cwd: PROJECT_ROOT, stdio: "ignore", detached: true },
  );
  const url = `http://127.0.0.1:${port}`;
  const answers = async (timeoutMs = 2_000) => {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      return response.ok;
    } catch {
      return false;
    }
  };
  await until(
    `hardhat node on port ${port}`,
    () => child,
    () => answers(),
  );
  const signal = (name: NodeJS.Signals) => {
    if (child.exitCode === null) process.kill(-child.pid!, name);
  };
  let stopping: Promise<void> | undefined;
  return {
    url,
    pause: () => signal("SIGSTOP"),
    resume: () => signal("SIGCONT"),
    answers,
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode !== null) return;
        const done = exited(child);
        process.kill(-child.pid!, "SIGCONT"); // a stopped process would not act on SIGTERM
        process.kill(-child.pid!, "SIGTERM");
        await done;
      })()),
  };
}

export interface ChaosRedis {
  readonly url: string;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory; it reloads its AOF. */
  restart(): Promise<void>;
  ping(): boolean;
  stop(): Promise<void>;
}

export async function startAofRedis(): Promise<ChaosRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "gridbrain-chaos-redis-"));
  let child: ChildProcess | undefined;
  const ping = () =>
    spawnSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8" }).stdout?.trim() === "PONG";
  const launch = async () => {
    // appendfsync always: every acknowledged write is on disk before the reply, so a SIGKILL
    // loses nothing the nodes were told was stored (everysec could lose the last second).
    const started = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes"].concat([
        "--appendfsync",
        "always",
        "--dir",
        dir,
      ]),
      { stdio: "ignore" },
    );
    child = started;
    await until(
      `redis-server on port ${port}`,
      () => started,
      async () => ping(),
    );
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    ping,
    kill: async () => {
      const running = child;
      if (running === undefined) return;
      const done = exited(running);
      running.kill("SIGKILL");
      await done;
    },
    restart: launch,
    stop: async () => {
      const running = child;
      child = undefined;
      if (running !== undefined) {
        const done = exited(running);
        running.kill("SIGTERM");
        await done;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
