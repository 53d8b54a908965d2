import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { startRedis, type RedisServer } from "../../helpers/redis.js";

function redisCli(port: number, ...args: string[]): string {
  return spawnSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8" }).stdout.trim();
}

describe("test harness: startRedis", () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });

  it("serves on its own port with persistence off", () => {
    expect(redisCli(redis.port, "config", "get", "appendonly")).to.match(/appendonly\s+no/);
    expect(redisCli(redis.port, "config", "get", "save")).to.match(/^save\s*$/);
  });

  it("comes back empty after a restart", async () => {
    redisCli(redis.port, "set", "k", "v");
    await redis.restart();
    expect(redisCli(redis.port, "get", "k")).to.equal("");
  });
});
