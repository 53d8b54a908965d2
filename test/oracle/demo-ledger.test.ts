import { expect } from "chai";
import { type AbiEvent, type Log, encodeAbiParameters, encodeEventTopics } from "viem";
import { flexibilityMarketAbi } from "../../oracle/src/chain/abis.js";
import { getLogsInRanges, readFlexLedger } from "../../oracle/src/demo/ledger.js";

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

describe("demo ledger: readFlexLedger", () => {
  const FLEX = "0x00000000000000000000000000000000000000f1" as const;
  const TOKEN = "0x00000000000000000000000000000000000000f2" as const;
  const OWNER_A = "0x00000000000000000000000000000000000000a1" as const;
  const OWNER_B = "0x00000000000000000000000000000000000000b2" as const;
  const id = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as const;
  const order = (owner: `0x${string}`, batteryId: number, chargeBudget: bigint) => ({
    owner,
    batteryId,
    firstInterval: 10n,
    lastInterval: 20n,
    maxChargePricePerKwh: 100_000n,
    minDischargePricePerKwh: 150_000n,
    chargeBudget,
    initialSocWh: 5_000n,
    nonce: 0n,
  });
  const eventLog = (eventName: string, args: Record<string, unknown>, blockNumber: bigint): Log => {
    const event = flexibilityMarketAbi.find((e) => e.type === "event" && e.name === eventName) as AbiEvent;
    const topics = encodeEventTopics({ abi: [event], eventName, args } as never);
    const data = encodeAbiParameters(
      event.inputs.filter((i) => !i.indexed),
      event.inputs.filter((i) => !i.indexed).map((i) => args[i.name!]),
    );
    return { address: FLEX, topics, data, blockNumber, logIndex: 0 } as unknown as Log;
  };
  // Order 1 (A, budget 1,000,000) spent 120,000 and is open; order 2 (B, 500,000) was refunded;
  // A holds 190,000 of discharge credits, B its refund of 500,000.
  const logs = [
    eventLog(
      "FlexOrderPlaced",
      { orderId: id(1), owner: OWNER_A, batteryId: 0, order: order(OWNER_A, 0, 1_000_000n) },
      1n,
    ),
    eventLog(
      "FlexOrderPlaced",
      { orderId: id(2), owner: OWNER_B, batteryId: 1, order: order(OWNER_B, 1, 500_000n) },
      2n,
    ),
    eventLog("FlexFundsRefunded", { orderId: id(2), owner: OWNER_B, amount: 500_000n }, 3n),
  ];
  const client = (tokenBalance: bigint) =>
    ({
      getBlockNumber: async () => 3n,
      getLogs: async ({ fromBlock, toBlock }: { fromBlock: bigint; toBlock: bigint }) =>
        logs.filter((l) => l.blockNumber! >= fromBlock && l.blockNumber! <= toBlock),
      readContract: async ({ functionName, args }: { functionName: string; args: readonly unknown[] }) => {
        if (functionName === "balanceOf" && args[0] === FLEX) return tokenBalance;
        if (functionName === "balanceOf")
          return String(args[0]).toLowerCase() === OWNER_A ? 190_000n : 500_000n;
        if (functionName === "orderState") {
          if (args[0] !== id(1))
            throw new Error(`orderState of a refunded order ${String(args[0])} was read`);
          return { placed: true, endInterval: 20n, spent: 120_000n, refunded: false };
        }
        throw new Error(`unexpected read ${functionName}`);
      },
    }) as unknown as Parameters<typeof readFlexLedger>[0];

  it("counts owners' balances and the unspent budget of every order not refunded, from the events", async () => {
    const ledger = await readFlexLedger(client(190_000n + 500_000n + 880_000n), FLEX, TOKEN);
    expect(ledger.balances).to.equal(690_000n);
    expect(ledger.unspentBudgets, "order 1's budget − spent; order 2 refunded").to.equal(880_000n);
    expect(ledger.exact).to.equal(true);
  });

  it("is not exact when the contract holds one unit less than it owes", async () => {
    expect((await readFlexLedger(client(1_569_999n), FLEX, TOKEN)).exact).to.equal(false);
  });
});
