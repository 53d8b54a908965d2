/**
 * The chaos suite's own chain and Redis, started so that faults can be injected into them: the
 * Hardhat node in its own process group (SIGSTOP / SIGCONT stall the whole chain), and a
 * redis-server with AOF on, `appendfsync always`, restartable on the same port and directory so
 * that a SIGKILL loses nothing that was acknowledged.
 */
import { type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  launchRedis,
  onFreePort,
  redisPings,
  startHardhatNode,
} from "../../oracle/src/devnet/local-services.js";

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

/** The shared launcher's Hardhat node (its own process group, a free port retried when taken). */
export async function startChain(): Promise<ChaosChain> {
  const node = await startHardhatNode();
  const answers = async (timeoutMs = 2_000) => {
    try {
      const response = await fetch(node.url, {
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
  let stopping: Promise<void> | undefined;
  return {
    url: node.url,
    pause: () => node.pause(),
    resume: () => node.resume(),
    answers,
    // stop() resumes a paused node before its SIGTERM.
    stop: () => (stopping ??= node.stop()),
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
  const dir = mkdtempSync(join(tmpdir(), "gridbrain-chaos-redis-"));
  let child: ChildProcess | undefined;
  // appendfsync always: every acknowledged write is on disk before the reply, so a SIGKILL
  // loses nothing the nodes were told was stored (everysec could lose the last second).
  const args = ["--save", "", "--appendonly", "yes", "--appendfsync", "always"];
  let port: number;
  try {
    port = await onFreePort("redis-server", async (p) => {
      child = await launchRedis("redis-server", p, dir, args);
      return p;
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const ping = () => redisPings(port);
  // Same port and directory: the nodes hold its URL, and it reloads its AOF.
  const launch = async () => {
    child = await launchRedis("redis-server", port, dir, args);
  };
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
