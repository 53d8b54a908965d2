// Tests use the same launcher as the demo: a redis-server of their own, free port, no persistence.
export { freePort, startRedis, type RedisServer } from "../../oracle/src/devnet/local-services.js";
