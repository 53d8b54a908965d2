import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import {
  type Address,
  type Hex,
  type PublicClient,
  type WalletClient,
  createPublicClient,
  createWalletClient,
  http,
  pad,
  parseAbiItem,
  toHex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { ChainWatcher, type ReorgEvent, type WatchedLog } from "../../../oracle/src/infra/chain-watcher.js";
import { startRedis, type RedisServer } from "../../helpers/redis.js";
import {
  EMITTER_RUNTIME,
  HARDHAT_KEYS,
  type HardhatNode,
  deployCode,
  startHardhatNode,
} from "./hardhat-node.js";

const PING = parseAbiItem("event Ping(uint256 value)");

describe("ChainWatcher", function () {
  this.timeout(60_000);
  let node: HardhatNode;
  let redisServer: RedisServer;
  let redis: Redis;
  let client: PublicClient;
  let wallet: WalletClient;
  let emitter: Address;
  const account = privateKeyToAccount(HARDHAT_KEYS[0]);

  before(async () => {
    [node, redisServer] = await Promise.all([startHardhatNode(), startRedis()]);
    redis = new Redis(redisServer.url);
    client = createPublicClient({ chain: hardhat, transport: http(node.url) }) as PublicClient;
    wallet = createWalletClient({ account, chain: hardhat, transport: http(node.url) });
    const hash = await wallet.sendTransaction({ account, chain: hardhat, data: deployCode(EMITTER_RUNTIME) });
    emitter = (await client.waitForTransactionReceipt({ hash })).contractAddress!;
  });
  after(async () => {
    redis.disconnect();
    await Promise.all([node.stop(), redisServer.stop()]);
  });

  /** Sends one Ping(value) in its own block (automine) and returns the block number. */
  async function ping(value: number): Promise<bigint> {
    const hash = await wallet.sendTransaction({
      account,
      chain: hardhat,
      to: emitter,
      data: pad(toHex(value)),
    });
    return (await client.waitForTransactionReceipt({ hash })).blockNumber;
  }

  const valueOf = (log: WatchedLog): number => Number((log.args as { value: bigint }).value);

  function watcher(
    key: string,
    startBlock: bigint,
    sink: WatchedLog[],
    extra: Partial<ConstructorParameters<typeof ChainWatcher>[0]> = {},
  ) {
    return new ChainWatcher({
      client,
      redis,
      key,
      addresses: [emitter],
      events: [PING],
      confirmations: 0,
      startBlock,
      onLog: async (log) => {
        sink.push(log);
      },
      ...extra,
    });
  }

  async function drain(w: ChainWatcher): Promise<void> {
    for (let i = 0; i < 100; i++) if ((await w.tick()).caughtUp) return;
    throw new Error("watcher did not catch up in 100 ticks");
  }

  describe("when logs are within the confirmation depth", () => {
    it("delivers them only once they have `confirmations` blocks on top, in order", async () => {
      const start = (await client.getBlockNumber({ cacheTime: 0 })) + 1n;
      for (const v of [1, 2, 3]) await ping(v);
      const seen: WatchedLog[] = [];
      const w = watcher(`t:${randomUUID()}`, start, seen, { confirmations: 2 });
      await drain(w);
      // Head is the block of ping 3: pings 1 (head-2) is confirmed, 2 and 3 are not.
      expect(seen.map(valueOf)).to.deep.equal([1]);
      await node.rpc("hardhat_mine", ["0x2"]);
      await drain(w);
      expect(seen.map(valueOf)).to.deep.equal([1, 2, 3]);
      expect(
        seen.every((l) => l.eventName === "Ping" && l.address.toLowerCase() === emitter.toLowerCase()),
      ).to.equal(true);
      await w.close();
    });
  });

  describe("when the process crashes in the middle of a range and restarts", () => {
    it("resumes without missing or re-delivering a log", async () => {
      const start = (await client.getBlockNumber({ cacheTime: 0 })) + 1n;
      for (const v of [10, 11, 12, 13, 14, 15]) await ping(v);
      const key = `t:${randomUUID()}`;
      const delivered: number[] = [];
      let calls = 0;
      const first = watcher(key, start, [], {
        maxBlockRange: 4n,
        onLog: async (log) => {
          if (++calls === 3) throw new Error("simulated crash");
          delivered.push(valueOf(log));
        },
      });
      let crashed: unknown;
      try {
        await drain(first);
      } catch (error) {
        crashed = error;
      }
      expect((crashed as Error).message).to.equal("simulated crash");
      await first.close();
      // The restart: a new instance on the same Redis key.
      const second = watcher(key, start, [], {
        maxBlockRange: 4n,
        onLog: async (log) => void delivered.push(valueOf(log)),
      });
      await drain(second);
      expect(delivered).to.deep.equal([10, 11, 12, 13, 14, 15]);
      // And once more: nothing new is delivered after a second restart.
      const third = watcher(key, start, [], { onLog: async (log) => void delivered.push(valueOf(log)) });
      await drain(third);
      expect(delivered).to.have.length(6);
      expect(await third.cursor()).to.equal(await client.getBlockNumber({ cacheTime: 0 }));
      await Promise.all([second.close(), third.close()]);
    });
  });

  describe("when the chain reorganises below the cursor", () => {
    it("emits 'reorg' with the last good block, rewinds, and delivers the new canonical logs, also after a restart", async () => {
      const key = `t:${randomUUID()}`;
      const start = (await client.getBlockNumber({ cacheTime: 0 })) + 1n;
      const seen: WatchedLog[] = [];
      const w1 = watcher(key, start, seen);
      await ping(20);
      await drain(w1);
      const forkPoint = await client.getBlockNumber({ cacheTime: 0 });
      const snapshot = await node.rpc<Hex>("evm_snapshot");
      for (const v of [21, 22, 23]) await ping(v);
      await drain(w1);
      expect(seen.map(valueOf)).to.deep.equal([20, 21, 22, 23]);
      await w1.close();

      // The fork: drop the three blocks, mine a longer chain with different logs.
      expect(await node.rpc<boolean>("evm_revert", [snapshot])).to.equal(true);
      await node.rpc("hardhat_mine", ["0x1"]);
      for (const v of [31, 32, 33]) await ping(v);

      const reorgs: ReorgEvent[] = [];
      const undone: bigint[] = [];
      const w2 = watcher(key, start, seen, {
        onReorg: async (e) => {
          // What a consumer does: drop everything it took from the orphaned blocks.
          for (let i = seen.length - 1; i >= 0; i--)
            if (seen[i]!.blockNumber >= e.firstOrphanedBlock) seen.splice(i, 1);
          undone.push(e.firstOrphanedBlock);
        },
      });
      w2.on("reorg", (e: ReorgEvent) => reorgs.push(e));
      await drain(w2);
      expect(reorgs).to.have.length(1);
      expect(reorgs[0]!.lastGoodBlock).to.equal(forkPoint);
      expect(undone).to.deep.equal([forkPoint + 1n]);
      expect(seen.map(valueOf)).to.deep.equal([20, 31, 32, 33]);
      const canonical = await Promise.all(seen.map((l) => client.getBlock({ blockNumber: l.blockNumber })));
      expect(seen.map((l) => l.blockHash)).to.deep.equal(canonical.map((b) => b.hash));
      await w2.close();
    });
  });

  describe("constructor", () => {
    it("rejects confirmations above 64", () => {
      expect(() => watcher("k", 0n, [], { confirmations: 65 })).to.throw(/confirmations/);
    });
  });

  describe("start / close", () => {
    it("polls in the background until closed, and close is idempotent", async () => {
      const start = (await client.getBlockNumber({ cacheTime: 0 })) + 1n;
      const seen: WatchedLog[] = [];
      const w = watcher(`t:${randomUUID()}`, start, seen, { pollIntervalMs: 50 });
      const progressed = new Promise<void>((resolve) => {
        w.on("progress", () => {
          if (seen.length === 1) resolve();
        });
      });
      w.start();
      await ping(99);
      await progressed;
      expect(seen.map(valueOf)).to.deep.equal([99]);
      const a = w.close();
      expect(w.close()).to.equal(a);
      await a;
    });
  });
});
