/**
 * What the two reorg tests (reorg.test.ts, shallow-reorg.test.ts) read and check of the scenario's
 * interval: settled-ness, its ScheduleCommitted and FillSettled events, and the final chain after
 * the reorg — one commit in a new block, every fill settled exactly once with the expected energy,
 * every party's balance exact.
 */
import { expect } from "chai";
import type { Hash } from "viem";
import { energyMarketAbi } from "../../oracle/src/chain/abis.js";
import type { Env, Party } from "./harness.js";
import { EXPECTED_FILLS, byName, expectedFreeAfterFills } from "./scenario.js";

export function intervalReads(env: Env, intervalId: bigint) {
  const market = env.addresses.market;
  return {
    /** The interval's state once it is scheduled and every fill settled, else undefined. */
    allSettled: async () => {
      const s = await env.client.readContract({
        address: market,
        abi: energyMarketAbi,
        functionName: "intervalState",
        args: [intervalId],
      });
      return s.scheduled && s.fillCount > 0 && s.settledCount === s.fillCount ? s : undefined;
    },
    commitsOf: () =>
      env.client.getContractEvents({
        address: market,
        abi: energyMarketAbi,
        eventName: "ScheduleCommitted",
        fromBlock: 0n,
        args: { intervalId },
      }),
    fillsOf: () =>
      env.client.getContractEvents({
        address: market,
        abi: energyMarketAbi,
        eventName: "FillSettled",
        fromBlock: 0n,
        args: { intervalId },
      }),
  };
}

/** Checks the final chain after a reorg dropped the block `orphanHash`; returns its one commit. */
export async function expectSettledOnceAfterReorg(
  env: Env,
  parties: readonly Party[],
  intervalId: bigint,
  orphanHash: Hash,
) {
  const { commitsOf, fillsOf } = intervalReads(env, intervalId);
  const commits = await commitsOf();
  expect(commits, "exactly one ScheduleCommitted on the final chain").to.have.length(1);
  expect(commits[0]!.blockHash, "committed again, in a new block").to.not.equal(orphanHash);

  const fills = await fillsOf();
  const ids = fills.map((f) => f.args.orderId!.toLowerCase());
  expect(new Set(ids).size, "no fill settled twice").to.equal(fills.length);
  expect(fills, "no fill lost").to.have.length(6);
  const filled = new Map(fills.map((f) => [f.args.orderId!.toLowerCase(), f.args.filledWh!]));
  for (const [name, wh] of Object.entries(EXPECTED_FILLS))
    expect(filled.get(byName(parties, name).orderId!.toLowerCase()), `fill of ${name}`).to.equal(wh);

  // Balances prove the same: each party paid or was paid once.
  for (const name of ["S1", "S2", "B1", "B2", "S3", "B3", "B4"]) {
    const balance = await env.client.readContract({
      address: env.addresses.market,
      abi: energyMarketAbi,
      functionName: "balanceOf",
      args: [byName(parties, name).account.address],
    });
    expect(balance, `${name} after the reorg`).to.equal(expectedFreeAfterFills(parties, name));
  }
  return commits[0]!;
}
