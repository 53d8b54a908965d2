/**
 * The full interval with the committee's Redis on a real Redis Cluster: three masters started and
 * stopped by the test (`redis-server --cluster-enabled yes`, `redis-cli --cluster create`). Node 1
 * uses the documented `{gridbrain}` prefix; nodes 2 and 3 share the cluster under their own hash
 * tags (each node's keys must stay apart). Three nodes of a 3-of-5 committee: every commit needs
 * all three signatures, so every node's pipeline has to work on the Cluster.
 */
import { expect } from "chai";
import { Cluster } from "ioredis";
import { type RedisCluster, startRedisCluster } from "../../oracle/src/devnet/local-services.js";
import { type World, nodeConfigs, startWorld } from "./harness.js";
import { runFullInterval } from "./interval.js";

const PREFIXES = ["{gridbrain}", "{gridbrain-node2}", "{gridbrain-node3}"];

describe("oracle pipeline on a Redis Cluster (e2e, 3 masters, Anvil)", function () {
  this.timeout(240_000);
  let env: World;
  let cluster: RedisCluster;

  before(async () => {
    [env, cluster] = await Promise.all([startWorld({ chain: "anvil" }), startRedisCluster({ masters: 3 })]);
  });
  after(async () => {
    // The nodes first: they hold connections to the Cluster.
    await env?.stopNodes();
    await Promise.allSettled([env?.stop(), cluster?.stop()]);
  });

  describe("when a full interval runs with the {gridbrain} prefix", () => {
    it("commits, settles every fill and every imbalance, and keeps each node's keys in its hash-tag slot", async () => {
      await runFullInterval(env, async () => {
        const { configs } = await nodeConfigs(env, {}, 3);
        const onCluster = configs.map((c, i) => ({
          ...c,
          redisUrl: cluster.urls[0]!,
          redisClusterNodes: cluster.urls.slice(1),
          queuePrefix: PREFIXES[i]!,
        }));
        return env.startNodes(onCluster);
      });

      const client = env.nodes[0]!.context.queues.connection;
      expect(client, "node 1 talks to the Cluster through ioredis's Cluster client").to.be.instanceOf(
        Cluster,
      );
      // Each prefix is a hash tag: all of a node's keys sit on the one master serving its slot.
      const masters = (client as Cluster).nodes("master");
      expect(masters, "three masters").to.have.length(3);
      for (const prefix of PREFIXES) {
        const counts = await Promise.all(masters.map(async (m) => (await m.keys(`${prefix}:*`)).length));
        expect(
          counts.filter((n) => n > 0),
          `${prefix}: keys on exactly one master (${counts.join(", ")})`,
        ).to.have.length(1);
        expect(
          counts.reduce((a, b) => a + b, 0),
          `${prefix}: queues, watcher cursor and meter readings`,
        ).to.be.greaterThan(10);
      }
    });
  });
});
