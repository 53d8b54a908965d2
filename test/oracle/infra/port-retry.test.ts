/**
 * The launchers of oracle/src/devnet/local-services.ts when the port `freePort` offered is taken
 * before the service binds it (another process won the race): they start again on a new port. The
 * race is made certain here: the first candidate is a port this test keeps listening on.
 */
import { expect } from "chai";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import {
  PORT_ATTEMPTS,
  type PortSource,
  freePort,
  onFreePort,
  redisPings,
  startChain,
  startRedis,
} from "../../../oracle/src/devnet/local-services.js";

// Another process holding a loopback port and impersonating the services: it answers an HTTP POST
// with chain id 31337 and anything else with a Redis `+PONG`, so a launcher that trusted its
// probe alone would take it for its own chain or Redis. A process of its own: the Redis probe
// (spawnSync) blocks this one's event loop.
const IMPERSONATOR = `
const server = require("node:net").createServer((socket) => {
  socket.on("error", () => undefined);
  socket.on("data", (data) => {
    if (!data.toString("latin1").startsWith("POST")) return void socket.write("+PONG\\r\\n");
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, result: "0x7a69" });
    socket.end("HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\ncontent-length: " +
      body.length + "\\r\\nconnection: close\\r\\n\\r\\n" + body);
  });
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`;

async function occupy(): Promise<{ port: number; process: ChildProcess }> {
  const child = spawn(process.execPath, ["-e", IMPERSONATOR], { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = (await once(child.stdout!, "data")) as [Buffer];
  return { port: Number(line.toString().trim()), process: child };
}

/** Candidate ports: `first` in order, then free ones; `offered` records every port handed out. */
function candidates(first: readonly number[]): { ports: PortSource; offered: number[] } {
  const offered: number[] = [];
  const queue = [...first];
  return {
    offered,
    ports: async () => {
      const port = queue.shift() ?? (await freePort());
      offered.push(port);
      return port;
    },
  };
}

const rpc = async (url: string, method: string): Promise<unknown> => {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: [] }),
  });
  return ((await res.json()) as { result?: unknown }).result;
};

describe("onFreePort (local services on a port taken before they bind)", function () {
  this.timeout(180_000);
  let taken: { port: number; process: ChildProcess };
  before(async () => {
    taken = await occupy();
  });
  after(async () => {
    const exited = once(taken.process, "exit");
    taken.process.kill();
    await exited;
  });

  describe("when startRedis is first offered a taken port", () => {
    it("starts redis-server on the next port", async () => {
      const { ports, offered } = candidates([taken.port]);
      const redis = await startRedis({ ports });
      try {
        expect(offered, "the taken port, then one more").to.have.length(2);
        expect(offered[0]).to.equal(taken.port);
        expect(redis.port, "the second port").to.equal(offered[1]);
        expect(redisPings(taken.port), "the impersonator answers PING too").to.equal(true);
        expect(redisPings(redis.port), "redis-server answers PING there").to.equal(true);
      } finally {
        await redis.stop();
      }
    });
  });

  for (const kind of ["hardhat", "anvil"] as const)
    describe(`when startChain("${kind}") is first offered a taken port`, () => {
      it("starts the chain on the next port, not talking to the process on the taken one", async () => {
        const { ports, offered } = candidates([taken.port]);
        const chain = await startChain(kind, { ports });
        try {
          expect(offered[0]).to.equal(taken.port);
          expect(chain.port, "the second port").to.equal(offered[1]);
          expect(await rpc(`http://127.0.0.1:${taken.port}`, "eth_chainId"), "the impersonator").to.equal(
            "0x7a69",
          );
          expect(await rpc(chain.url, "eth_blockNumber"), "the chain's own answer").to.equal("0x0");
        } finally {
          await chain.stop();
        }
      });
    });

  describe("when every port offered is taken", () => {
    it("gives up after PORT_ATTEMPTS with an error naming each port, and leaves no redis-server", async () => {
      const { ports, offered } = candidates(Array.from({ length: PORT_ATTEMPTS }, () => taken.port));
      let error: Error | undefined;
      await startRedis({ ports }).catch((e: Error) => {
        error = e;
      });
      expect(offered, "one port per attempt").to.have.length(PORT_ATTEMPTS);
      expect(error?.message).to.equal(
        `redis-server: every port tried was taken by another process before it bound (${offered.join(", ")}; ${PORT_ATTEMPTS} attempts)`,
      );
      const children = spawnSync("ps", ["-o", "args=", "--ppid", String(process.pid)], { encoding: "utf8" });
      expect(
        children.stdout.split("\n").filter((args) => args.includes(`redis-server 127.0.0.1:${taken.port}`)),
        "redis-server children on the taken port",
      ).to.deep.equal([]);
    });
  });

  describe("when the start fails for another reason", () => {
    it("throws that error at once, without trying another port", async () => {
      const { ports, offered } = candidates([]);
      let error: Error | undefined;
      await onFreePort(
        "broken service",
        async (port) => {
          throw new Error(`bad config for port ${port}`);
        },
        { ports },
      ).catch((e: Error) => {
        error = e;
      });
      expect(offered).to.have.length(1);
      expect(error?.message).to.equal(`bad config for port ${offered[0]}`);
    });
  });
});
