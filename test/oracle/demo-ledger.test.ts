import { expect } from "chai";
import type { Log } from "viem";
import { getLogsInRanges } from "../../oracle/src/demo/ledger.js";

const MARKET = "0x00000000000000000000000000000000000000aa" as const;

/** A chain of `latest + 1` blocks with one log per block; records every range asked for. */
function fakeChain(latest: bigint) {
  const ranges: [bigint, bigint][] = [];
  const client = {
    getBlockNumber: async () => latest,
    getLogs: async ({ fromBlock, toBlock }: { fromBlock: bigint; toBlock: bigint }) => {
      ranges.push([fromBlock, toBlock]);
      const logs: Log[] = [];
      for (let b = fromBlock; b <= toBlock && b <= latest; b++) logs.push({ blockNumber: b } as Log);
      return logs;
    },
  };
  return { client: client as unknown as Parameters<typeof getLogsInRanges>[0], ranges };
}

describe("demo ledger: getLogsInRanges", () => {
  it("reads a long history in ranges of at most blocksPerRead blocks, every block exactly once, in order", async () => {
    const { client, ranges } = fakeChain(2_500n);
    const logs = await getLogsInRanges(client, MARKET, 0n, 1_000n);
    expect(ranges).to.deep.equal([
      [0n, 999n],
      [1_000n, 1_999n],
      [2_000n, 2_500n],
    ]);
    expect(logs.map((l) => l.blockNumber)).to.deep.equal(Array.from({ length: 2_501 }, (_, i) => BigInt(i)));
  });

  it("starts at fromBlock, reads the last block when the history is one range, and nothing past the head", async () => {
    const one = fakeChain(40n);
    expect((await getLogsInRanges(one.client, MARKET, 7n)).map((l) => l.blockNumber)).to.have.length(34);
    expect(one.ranges).to.deep.equal([[7n, 40n]]);
    const ahead = fakeChain(40n);
    expect(await getLogsInRanges(ahead.client, MARKET, 41n)).to.deep.equal([]);
    expect(ahead.ranges).to.deep.equal([]);
  });

  it("rejects a range size below one block, naming it", async () => {
    const { client } = fakeChain(10n);
    let error: unknown;
    try {
      await getLogsInRanges(client, MARKET, 0n, 0n);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(RangeError);
    expect((error as Error).message).to.match(/blocksPerRead/);
  });
});
