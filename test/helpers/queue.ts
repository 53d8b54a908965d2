/**
 * One Redis per `describe` and a fresh QueueFactory per test: a prefix of its own, so no test sees
 * another's jobs, closed after each test (its workers and connections with it).
 */
import { randomUUID } from "node:crypto";
import { QueueFactory } from "../../oracle/src/infra/queue.js";
import { startRedis, type RedisServer } from "./redis.js";

export interface QueueFixture {
  /** The factory of the running test. */
  readonly factory: QueueFactory;
  /** Its key prefix, for BullMQ objects opened beside it (e.g. QueueEvents). */
  readonly prefix: string;
  readonly redis: RedisServer;
}

/**
 * Registers the hooks in the calling `describe` and returns the fixture; read its fields inside
 * the tests (they are set by the hooks, not at registration).
 */
export function useQueueFactory(): QueueFixture {
  let redis: RedisServer | undefined;
  let factory: QueueFactory | undefined;
  let prefix: string | undefined;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });
  beforeEach(() => {
    prefix = `t${randomUUID().slice(0, 8)}`;
    factory = new QueueFactory({ redisUrl: redis!.url, prefix });
  });
  afterEach(async () => {
    await factory?.close();
  });
  const set = <T>(value: T | undefined, name: string): T => {
    if (value === undefined)
      throw new Error(`${name} is set by useQueueFactory's hooks: read it inside a test`);
    return value;
  };
  return {
    get factory() {
      return set(factory, "factory");
    },
    get prefix() {
      return set(prefix, "prefix");
    },
    get redis() {
      return set(redis, "redis");
    },
  };
}
