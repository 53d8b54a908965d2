/**
 * The e2e harness itself (test/e2e/harness.ts) when its setup fails half way: whatever it started
 * is stopped, so a failed `before` hook leaves no process, socket or Redis connection that would
 * keep mocha from exiting; and oracle nodes whose HTTP port was taken start again on new ports.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:net";
import { type PortSource, freePort } from "../../oracle/src/devnet/local-services.js";
import { type OracleNode } from "../../oracle/src/node/node.js";
import { startOracleNodes } from "../../oracle/src/devnet/oracle-nodes.js";
import {
  GATE,
  INTERVAL,
  METER_GRACE,
  READING_DEADLINE,
  type World,
  devAccount,
  nodeConfigs,
  startEnv,
  startNodes,
  startWorld,
} from "./harness.js";

/** This process's child processes: pid, process group and command line. */
function children(): { pid: number; pgid: number; args: string }[] {
  const ps = spawnSync("ps", ["-o", "pid=,pgid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" });
  return ps.stdout
    .split("\n")
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .flatMap((m) => (m === null ? [] : [{ pid: Number(m[1]), pgid: Number(m[2]), args: m[3]! }]));
}

/** Whether process `target` exists (a negative `target`: any process of group `-target`). */
function alive(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch {
    return false;
  }
}

/** Redis `CLIENT LIST` of the server on `port`, without the redis-cli connection asking. */
function redisClients(port: number): string[] {
  const out = spawnSync("redis-cli", ["-p", String(port), "client", "list"], { encoding: "utf8" }).stdout;
  return out.split("\n").filter((l) => l.trim() !== "" && !l.includes("cmd=client"));
}

describe("e2e harness", function () {
  this.timeout(300_000);

  describe("startEnv", () => {
    describe("when the deploy fails after the chain and Redis started", () => {
      it("stops both: the hardhat node's process group and redis-server are gone", async () => {
        let started: { pid: number; pgid: number; args: string }[] = [];
        let error: Error | undefined;
        await startEnv({
          deploy: async ({ rpcUrl }) => {
            const port = new URL(rpcUrl).port;
            started = children().filter(
              (c) =>
                c.args.includes(`hardhat node --hostname 127.0.0.1 --port ${port}`) ||
                c.args.startsWith("redis-server"),
            );
            throw new Error("deploy failed (test)");
          },
        }).catch((e: Error) => {
          error = e;
        });
        expect(error?.message).to.equal("deploy failed (test)");
        expect(
          started.map((c) => c.args.split(" ")[0]).sort(),
          "seen running during the deploy",
        ).to.deep.equal(["npm", "redis-server"]);
        for (const c of started)
          expect(
            alive(c.args.startsWith("redis-server") ? c.pid : -c.pgid),
            `${c.args} after the failure`,
          ).to.equal(false);
      });
    });
  });

  describe("startNodes", () => {
    let world: World;
    let blocker: Server;
    let taken: number;
    before(async () => {
      world = await startWorld();
      blocker = createServer();
      await new Promise<void>((done) => blocker.listen(0, "127.0.0.1", done));
      taken = (blocker.address() as { port: number }).port;
    });
    after(async () => {
      await world?.stop();
      await new Promise((done) => blocker?.close(done));
    });

    /** `first` in order, then free ports. */
    const portsFrom =
      (first: number[], then: PortSource): PortSource =>
      async () =>
        first.shift() ?? then();

    describe("when one node's HTTP port is taken before it listens", () => {
      it("starts every node on new ports, each listing the others' new URLs as peers", async () => {
        const { configs } = await nodeConfigs(world, {}, 3, portsFrom([taken], freePort));
        expect(configs[0]!.httpPort, "node 1 configured on the taken port").to.equal(taken);
        const nodes: OracleNode[] = await startNodes(configs);
        try {
          const urls = nodes.map((n) => n.url);
          expect(
            urls.some((u) => u.endsWith(`:${taken}`)),
            "no node on the taken port",
          ).to.equal(false);
          for (const [i, node] of nodes.entries()) {
            expect(node.url, `node ${i} listens on its config's port`).to.equal(
              `http://127.0.0.1:${node.config.httpPort}`,
            );
            expect(node.config.peerUrls, `node ${i}'s peers`).to.deep.equal(urls.filter((_, j) => j !== i));
            expect((await fetch(`${node.url}/healthz`)).status, `node ${i} serves`).to.equal(200);
          }
        } finally {
          await Promise.allSettled(nodes.map((n) => n.close()));
        }
      });
    });

    describe("when startOracleNodes (node processes) is first offered a taken port", () => {
      it("stops them all and starts them again on new ports, each answering /readyz", async () => {
        const dir = mkdtempSync(join(tmpdir(), "gridbrain-harness-nodes-"));
        const offered: number[] = [];
        const next = portsFrom([taken], freePort);
        const nodes = await startOracleNodes({
          accounts: [1, 2, 3].map(devAccount),
          rpcUrl: world.chain.url,
          redisUrl: world.redis.url,
          addresses: world.addresses,
          workDir: dir,
          intervalSeconds: Number(INTERVAL),
          gateClosureSeconds: Number(GATE),
          meterDeadlineSeconds: Number(READING_DEADLINE),
          meterGraceSeconds: Number(METER_GRACE),
          ports: async () => {
            const port = await next();
            offered.push(port);
            return port;
          },
        });
        try {
          expect(offered, "3 ports, then 3 new ones").to.have.length(6);
          expect(offered[0]).to.equal(taken);
          expect(nodes.urls).to.deep.equal(offered.slice(3).map((p) => `http://127.0.0.1:${p}`));
          for (const url of nodes.urls) expect((await fetch(`${url}/readyz`)).status, url).to.equal(200);
        } finally {
          await nodes.stop();
          rmSync(dir, { recursive: true, force: true });
        }
      });
    });

    describe("when the port is taken in every attempt", () => {
      it("throws naming the ports, and closes every node it created (no Redis connection left)", async () => {
        const { configs } = await nodeConfigs(world, {}, 2, async () => taken);
        const before = redisClients(world.redis.port);
        let error: Error | undefined;
        await startNodes(configs, undefined, async () => taken).catch((e: Error) => {
          error = e;
        });
        expect(error?.message).to.equal(
          `oracle nodes: an HTTP port was taken before its node listened in each of 5 attempts (ports ${Array.from({ length: 5 }, () => `${taken}, ${taken}`).join(" / ")})`,
        );
        expect(redisClients(world.redis.port), "Redis connections of the failed nodes").to.deep.equal(before);
      });
    });
  });
});
