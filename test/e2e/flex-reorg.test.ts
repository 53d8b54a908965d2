/**
 * The incremental flexibility reader (chain/flex-log-reader.ts) under chain reorganisations, on
 * Anvil (`anvil_reorg(depth, txs)` drops the newest `depth` blocks and mines as many empty
 * replacements). A placement the reader had already folded (deeper than its reorg depth) and one
 * it had only in its re-read tail are both dropped: neither may stay in its answer, which must
 * equal a full read of the new chain.
 */
import { expect } from "chai";
import type { Address, Hex } from "viem";
import { flexibilityMarketAbi, gridRegistryAbi } from "../../oracle/src/chain/abis.js";
import { FlexLogReader } from "../../oracle/src/chain/flex-log-reader.js";
import type { FlexOrder } from "../../oracle/src/domain/eip712.js";
import { fullRead } from "../oracle/chain/flex-full-read.js";
import { flexParties, flexibilityMarketOf, placeFlexOrderOf, registerBatteryOwner } from "./flex-scenario.js";
import { type World, devAccount, startWorld } from "./harness.js";

const DEPTH = 2n;

describe("FlexLogReader under a reorg (Anvil)", function () {
  this.timeout(240_000);
  let env: World;
  let flex: Address;
  const owner = devAccount(8);
  let batteryId: number;

  before(async () => {
    const { seller, buyer } = flexParties();
    env = await startWorld({ chain: "anvil", market: { parties: [seller, buyer], zones: 1 } });
    flex = await flexibilityMarketOf(env);
    await registerBatteryOwner(env, owner, 10_000_000n);
    batteryId =
      (await env.client.readContract({
        address: env.addresses.registry,
        abi: gridRegistryAbi,
        functionName: "batteryCount",
      })) - 1;
  });
  after(async () => {
    await env?.stop();
  });

  const place = async (nonce: bigint): Promise<Hex> => {
    const first =
      (await env.client.readContract({
        address: flex,
        abi: flexibilityMarketAbi,
        functionName: "firstOpenInterval",
      })) +
      // One order at a time per battery (FlexOrderExists): the windows do not overlap.
      10n * nonce;
    const order: FlexOrder = {
      owner: owner.address,
      batteryId,
      firstInterval: first,
      lastInterval: first + 3n,
      maxChargePricePerKwh: 100_000n,
      minDischargePricePerKwh: 200_000n,
      chargeBudget: 100_000n,
      initialSocWh: 5_000n,
      nonce,
    };
    return (await placeFlexOrderOf(env, owner, order)).toLowerCase() as Hex;
  };
  const head = () => env.client.getBlockNumber({ cacheTime: 0 });
  const ids = (orders: readonly { orderId: Hex }[]) => orders.map((o) => o.orderId);

  it("drops a folded placement whose block a reorg deeper than its depth removed, by the hash of its last folded block", async () => {
    const reader = new FlexLogReader(env.client, flex, 0n);
    const kept = await place(1n);
    const dropped = await place(2n);
    const placedAt = await head();
    for (let k = 0; k < 4; k++) await env.rpc("evm_mine", []);
    const before = await reader.read(DEPTH, ({ index, tail }) => index.orders(tail));
    expect(ids(before), "both placements read").to.include.members([kept, dropped]);
    expect(reader.foldedThrough, "the second placement is folded").to.be.greaterThanOrEqual(placedAt);

    await env.rpc("anvil_reorg", [Number((await head()) - placedAt + 1n), []]);
    const after = await reader.read(DEPTH, ({ index, tail }) => index.orders(tail));
    expect(reader.stats.resets, "the fold was dropped once").to.equal(1);
    expect(ids(after), "the dropped placement is gone").to.not.include(dropped);
    expect(ids(after)).to.include(kept);
    expect(after).to.deep.equal((await fullRead(env.client, flex, 0n)).orders);
  });

  it("drops a placement it held only in its re-read tail, without dropping the fold", async () => {
    const reader = new FlexLogReader(env.client, flex, 0n);
    await reader.read(DEPTH, () => undefined);
    const shallow = await place(3n);
    const seen = await reader.read(DEPTH, ({ index, tail }) => index.orders(tail));
    expect(ids(seen), "the placement is in the tail").to.include(shallow);
    expect(reader.foldedThrough, "not folded").to.be.lessThan(await head());

    await env.rpc("anvil_reorg", [1, []]);
    const after = await reader.read(DEPTH, ({ index, tail }) => index.orders(tail));
    expect(ids(after), "the reorganised placement is gone").to.not.include(shallow);
    expect(reader.stats.resets, "a reorg within the depth needs no reset").to.equal(0);
    expect(after).to.deep.equal((await fullRead(env.client, flex, 0n)).orders);
  });
});
