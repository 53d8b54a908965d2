/**
 * `startTogether` (oracle/src/devnet/local-services.ts), which the devnet and the e2e harness start
 * their chain and Redis through: when one start fails, whatever did start is stopped before the
 * failure is thrown, or its process would outlive the caller.
 */
import { expect } from "chai";
import { startTogether } from "../../../oracle/src/devnet/local-services.js";

class FakeService {
  stops = 0;
  constructor(readonly name: string) {}
  async stop(): Promise<void> {
    this.stops++;
  }
}

describe("startTogether", () => {
  it("returns the services in the order given when every start succeeds, stopping none", async () => {
    const chain = new FakeService("chain");
    const redis = new FakeService("redis");
    const [first, second] = await startTogether([
      // The slower start first: the order is the array's, not the order they finish in.
      new Promise<FakeService>((resolve) => setTimeout(() => resolve(chain), 20)),
      Promise.resolve(redis),
    ]);
    expect(first.name).to.equal("chain");
    expect(second.name).to.equal("redis");
    expect(chain.stops + redis.stops).to.equal(0);
  });

  it("stops the service that started when the other fails, then throws that failure", async () => {
    const redis = new FakeService("redis");
    const failure = new Error("hardhat node: exited before it listened");
    const started = startTogether([Promise.reject(failure), Promise.resolve(redis)]);
    await started.then(
      () => expect.fail("startTogether resolved although one start failed"),
      (error: unknown) => expect(error).to.equal(failure),
    );
    expect(redis.stops).to.equal(1);
  });

  it("throws the first failure in the array's order when both fail, stopping nothing", async () => {
    const first = new Error("chain: port taken in every attempt");
    const second = new Error("redis: not installed");
    const settled = await startTogether<[FakeService, FakeService]>([
      Promise.reject(first),
      Promise.reject(second),
    ]).catch((error: unknown) => error);
    expect(settled).to.equal(first);
  });
});
