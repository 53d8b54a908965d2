/**
 * chain/forecast-history.ts against a real chain (the client tests' Hardhat node, one per mocha
 * process): orders over three intervals in two zones — a cancelled one, one cancelled and placed
 * again with the same id, the grid's — read back as the records computed here by hand; a read
 * fault on one log range makes exactly the intervals it could hold absent, and the forecast then
 * takes the documented fallback; shuffled logs and a second read give the same bytes.
 */
import { expect } from "chai";
import { type Address, type PublicClient, createWalletClient, http } from "viem";
import { generatePrivateKey, mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { gridRegistryAbi, testTokenAbi } from "../../../oracle/src/chain/abis.js";
import {
  type ForecastHistory,
  type ForecastHistoryClient,
  type ReadForecastHistoryParameters,
  readForecastHistory,
} from "../../../oracle/src/chain/forecast-history.js";
import { type WriteClients, cancelOrder, placeBid, placeOffer } from "../../../oracle/src/client/index.js";
import { DEV_MNEMONIC } from "../../../oracle/src/devnet/local-services.js";
import { UnrecoverableInputError } from "../../../oracle/src/domain/errors.js";
import { sourceCode } from "../../../oracle/src/domain/energy-source.js";
import {
  DEFAULT_FORECAST_RULE,
  type ZoneIntervalObservation,
  forecastForInterval,
} from "../../../oracle/src/domain/forecast/index.js";
import { type ClientChain, clientChain } from "../client/chain.js";

const LOCATION = { latitudeDeg: 52.52, longitudeDeg: 13.4 };

describe("readForecastHistory", function () {
  this.timeout(300_000);
  let chain: ClientChain;
  let zoneB: number;
  let zoneCount: number;
  let i0: bigint;
  let startBlock: bigint;
  /** Block of zone B's second bid of i0 + 1 (a range that can hold orders of i0 + 1 and i0 + 2 only). */
  let faultBlock: bigint;
  /** The head at the gate closure of i0 + 1: interval i0 + 2 is still open there. */
  let headBeforeLastGate: bigint;
  let toBlock: bigint;
  const i = () => i0 + 2n;
  const params = (over: Partial<ReadForecastHistoryParameters> = {}): ReadForecastHistoryParameters => ({
    client: chain.publicClient,
    market: chain.market,
    registry: chain.addresses.registry,
    startBlock,
    toBlock,
    interval: i(),
    history: 2,
    location: LOCATION,
    ...over,
  });

  before(async () => {
    chain = await clientChain();
    const { publicClient, market, addresses } = chain;
    const blockOf = async (transaction: `0x${string}`) =>
      (await publicClient.getTransactionReceipt({ hash: transaction })).blockNumber;
    startBlock = (await publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
    zoneB = Number(
      await publicClient.readContract({
        address: addresses.registry,
        abi: gridRegistryAbi,
        functionName: "zoneCount",
      }),
    );
    await chain.operatorSend(addresses.registry, gridRegistryAbi, "addZone", ["Forecast B"]);
    zoneCount = zoneB + 1;

    const [a, b, c, d] = [
      await chain.newProsumer(),
      await chain.newProsumer(),
      await chain.newProsumer(),
      await chain.newProsumer(),
    ];
    for (const who of [a, b, c, d]) await chain.fund(who, 50_000_000n);
    for (const who of [c, d])
      await chain.operatorSend(addresses.registry, gridRegistryAbi, "registerParticipant", [
        who.walletClient.account.address,
        zoneB,
      ]);
    // C's meter is solar: zone B has PV, for solarShape.
    await chain.operatorSend(addresses.registry, gridRegistryAbi, "registerMeter", [
      privateKeyToAccount(generatePrivateKey()).address,
      c.walletClient.account.address,
      sourceCode("solar"),
    ]);
    // Zone 0's grid account (test/oracle/client/chain.ts registers dev account 200 as the grid).
    const gridAccount = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 200 });
    const zoneGrid = await publicClient.readContract({
      address: addresses.registry,
      abi: gridRegistryAbi,
      functionName: "zoneGrid",
      args: [0],
    });
    expect(zoneGrid.account, "zone 0's grid account").to.equal(gridAccount.address);
    await publicClient.request({
      method: "hardhat_setBalance" as never,
      params: [gridAccount.address, "0x56BC75E2D63100000"] as never,
    });
    await chain.operatorSend(addresses.token, testTokenAbi, "mint", [gridAccount.address, 100_000_000n]);
    const grid: WriteClients = {
      publicClient,
      walletClient: createWalletClient({
        account: gridAccount,
        chain: publicClient.chain!,
        transport: http(chain.url),
      }),
    };
    await chain.fund(grid, 50_000_000n);

    i0 = (await chain.now()) / 900n + 40n;
    const order = (
      t: bigint,
      zoneId: number,
      quantityWh: bigint,
      limitPricePerKwh: bigint,
      nonce?: bigint,
    ) => ({
      market,
      intervalId: t,
      zoneId,
      quantityWh,
      limitPricePerKwh,
      ...(nonce === undefined ? {} : { nonce }),
    });
    const gateClosure = (t: bigint) => t * 900n - 300n;

    // i0: zone 0 bids 1,000 @ 200,001 and 2,000 @ 100,000; zone B offers 1,500 @ 60,000 and 500 @ 80,001.
    await placeBid(a, order(i0, 0, 1_000n, 200_001n));
    await placeBid(b, order(i0, 0, 2_000n, 100_000n));
    await placeOffer(c, order(i0, zoneB, 1_500n, 60_000n));
    await placeOffer(d, order(i0, zoneB, 500n, 80_001n));
    await placeBid(grid, order(i0, 0, 5_000n, 250_000n));
    await chain.mineAt(gateClosure(i0));

    // i0 + 1: zone 0 offers 700 @ 90,000 (B's 300 @ 50,000 cancelled); zone B bids 1,200 @ 150,000
    // (cancelled, then placed again with the same nonce: the same order id, open) and 800 @ 140,001.
    await placeOffer(a, order(i0 + 1n, 0, 700n, 90_000n));
    const cancelled = await placeOffer(b, order(i0 + 1n, 0, 300n, 50_000n));
    await cancelOrder(b, { market, orderId: cancelled.orderId, fromBlock: startBlock });
    await placeOffer(grid, order(i0 + 1n, 0, 2_000n, 40_000n));
    const first = await placeBid(c, order(i0 + 1n, zoneB, 1_200n, 150_000n, 77n));
    await cancelOrder(c, { market, orderId: first.orderId, fromBlock: startBlock });
    const again = await placeBid(c, order(i0 + 1n, zoneB, 1_200n, 150_000n, 77n));
    expect(again.orderId, "the re-placed order's id").to.equal(first.orderId);
    faultBlock = await blockOf((await placeBid(d, order(i0 + 1n, zoneB, 800n, 140_001n))).transaction);
    await chain.mineAt(gateClosure(i0 + 1n));
    headBeforeLastGate = await publicClient.getBlockNumber({ cacheTime: 0 });

    // i0 + 2 (= i): zone 0 bids 2,500 @ 180,000; zone B offers 1,000 @ 70,000.
    await placeBid(a, order(i0 + 2n, 0, 2_500n, 180_000n));
    await placeOffer(c, order(i0 + 2n, zoneB, 1_000n, 70_000n));
    await chain.mineAt(gateClosure(i0 + 2n));
    toBlock = await publicClient.getBlockNumber({ cacheTime: 0 });
  });

  /** Records of zone 0 and zone B as given; every other zone a record of zeros. */
  const records = (
    rows: { t: bigint; zone: number; bid?: [number, number]; offer?: [number, number] }[],
  ): ZoneIntervalObservation[] =>
    [...new Set(rows.map((r) => r.t))].flatMap((t) =>
      Array.from({ length: zoneCount }, (_, zone) => {
        const r = rows.find((x) => x.t === t && x.zone === zone);
        return {
          intervalId: Number(t),
          zone,
          bidWh: r?.bid?.[0] ?? 0,
          bidPricePerKwh: r?.bid?.[1] ?? 0,
          offerWh: r?.offer?.[0] ?? 0,
          offerPricePerKwh: r?.offer?.[1] ?? 0,
        };
      }),
    );

  describe("when every range reads", () => {
    it("gives the inflexible orders per zone and interval: cancels and the grid left out, prices volume-weighted and rounded half up", async () => {
      const read = await readForecastHistory(params());
      expect(read.absentIntervals, "absent intervals").to.deep.equal([]);
      expect(read.failedRanges).to.deep.equal([]);
      expect(read.zones).to.deep.equal(Array.from({ length: zoneCount }, (_, z) => z));
      expect(read.intervalSeconds).to.equal(900);
      expect(read.solarZones, "zones with a solar meter").to.include(zoneB);
      expect(read.observations).to.deep.equal(
        records([
          // (1,000 × 200,001 + 2,000 × 100,000) / 3,000 = 133,333.67 → 133,334
          { t: i0, zone: 0, bid: [3_000, 133_334] },
          // (1,500 × 60,000 + 500 × 80,001) / 2,000 = 65,000.25 → 65,000
          { t: i0, zone: zoneB, offer: [2_000, 65_000] },
          { t: i0 + 1n, zone: 0, offer: [700, 90_000] },
          // (1,200 × 150,000 + 800 × 140,001) / 2,000 = 146,000.4 → 146,000
          { t: i0 + 1n, zone: zoneB, bid: [2_000, 146_000] },
          { t: i0 + 2n, zone: 0, bid: [2_500, 180_000] },
          { t: i0 + 2n, zone: zoneB, offer: [1_000, 70_000] },
        ]),
      );
    });

    it("gives the same forecast bytes on a second read, with the logs in any order, and in small ranges", async () => {
      const forecast = (h: ForecastHistory) => JSON.stringify(forecastForInterval({ ...h, horizon: 6 }));
      const once = forecast(await readForecastHistory(params()));
      const twice = forecast(await readForecastHistory(params()));
      const shuffled = forecast(
        await readForecastHistory(params({ client: shuffling(chain.publicClient), blocksPerRead: 3n })),
      );
      expect(JSON.parse(once), "rows for i+1 … i+5").to.have.length(5 * zoneCount);
      expect(twice).to.equal(once);
      expect(shuffled).to.equal(once);
    });

    it("reads the same records at a later confirmed head (books are final at gate closure)", async () => {
      const now = await readForecastHistory(params());
      await chain.mineAt((await chain.now()) + 60n);
      const later = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
      expect(later, "a later head").to.be.greaterThan(toBlock);
      expect(await readForecastHistory(params({ toBlock: later }))).to.deep.equal(now);
    });

    it("marks the intervals before the first one anyone ordered for absent (before-first-order), not zero records", async () => {
      // i0 − 2 and i0 − 1 closed after startBlock with empty books: the market was not in use yet.
      // Zero records there would make `yesterday` forecast no demand for a fresh market's first day.
      const read = await readForecastHistory(params({ history: 4 }));
      expect(read.absentIntervals).to.deep.equal([
        { intervalId: Number(i0 - 2n), reason: "before-first-order" },
        { intervalId: Number(i0 - 1n), reason: "before-first-order" },
      ]);
      const twoBack = await readForecastHistory(params());
      expect(read.observations, "the records from the first ordered interval on").to.deep.equal(
        twoBack.observations,
      );
    });

    it("marks the interval whose gate had not closed at toBlock absent", async () => {
      const read = await readForecastHistory(params({ toBlock: headBeforeLastGate }));
      expect(read.absentIntervals).to.deep.equal([{ intervalId: Number(i()), reason: "gate-open" }]);
      expect(read.observations.map((o) => o.intervalId)).to.not.include(Number(i()));
    });
  });

  describe("when one log range fails", () => {
    it("makes absent exactly the intervals whose gate was open in that range, never zeros", async () => {
      const read = await readForecastHistory(
        params({ client: failingAt(chain.publicClient, chain.market, faultBlock), blocksPerRead: 1n }),
      );
      expect(read.failedRanges.map((r) => [r.fromBlock, r.toBlock])).to.deep.equal([
        [faultBlock, faultBlock],
      ]);
      expect(read.absentIntervals).to.deep.equal([
        { intervalId: Number(i0 + 1n), reason: "read-failed" },
        { intervalId: Number(i0 + 2n), reason: "read-failed" },
      ]);
      expect(read.observations).to.deep.equal(
        records([
          { t: i0, zone: 0, bid: [3_000, 133_334] },
          { t: i0, zone: zoneB, offer: [2_000, 65_000] },
        ]),
      );
    });

    it("makes every interval read absent when the range's first block cannot be read either", async () => {
      const failing = failingAt(chain.publicClient, chain.market, faultBlock);
      const client: ForecastHistoryClient = {
        ...failing,
        getBlock: (async (args: { blockNumber?: bigint }) => {
          if (args.blockNumber === faultBlock) throw new Error("forced fault: eth_getBlockByNumber");
          return chain.publicClient.getBlock(args as never);
        }) as PublicClient["getBlock"],
      };
      const read = await readForecastHistory(params({ client, blocksPerRead: 1n }));
      expect(read.absentIntervals.map((a) => [a.intervalId, a.reason])).to.deep.equal([
        [Number(i0), "read-failed"],
        [Number(i0 + 1n), "read-failed"],
        [Number(i0 + 2n), "read-failed"],
      ]);
      expect(read.observations).to.deep.equal([]);
    });

    it("then forecasts by the fallback rule: absent persistence is 0, recentMean averages the records that exist", async () => {
      const read = await readForecastHistory(
        params({ client: failingAt(chain.publicClient, chain.market, faultBlock), blocksPerRead: 1n }),
      );
      const rows = forecastForInterval({ ...read, horizon: 3 }, DEFAULT_FORECAST_RULE);
      // DEFAULT_FORECAST_RULE on records of i0 only (i = i0 + 2 absent): bid volume `yesterday`
      // (t − 96 not read) → persistence → 0; bid price `recentMean` over i … i − 3 → i0's price;
      // offer volume `solarShape` → persistence → 0; offer price `yesterday` → 0.
      const expected = [1n, 2n].flatMap((lead) =>
        Array.from({ length: zoneCount }, (_, zone) => ({
          intervalId: Number(i() + lead),
          zone,
          bidWh: 0,
          bidPricePerKwh: zone === 0 ? 133_334 : 0,
          offerWh: 0,
          offerPricePerKwh: 0,
        })),
      );
      expect(rows).to.deep.equal(expected);
    });
  });

  describe("when a parameter is bad", () => {
    it("names the field", async () => {
      const error = await readForecastHistory(params({ history: -1 })).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(UnrecoverableInputError);
      expect((error as UnrecoverableInputError).field).to.equal("history");
      const late = await readForecastHistory(params({ toBlock: startBlock - 1n })).catch((e: unknown) => e);
      expect((late as UnrecoverableInputError).field).to.equal("toBlock");
    });
  });
});

/** The client with the market's getLogs failing on every range that contains `block`, as an RPC error after retries. */
function failingAt(client: PublicClient, market: Address, block: bigint): ForecastHistoryClient {
  return {
    getBlock: client.getBlock.bind(client),
    readContract: client.readContract.bind(client),
    getLogs: (async (args: { address: Address; fromBlock: bigint; toBlock: bigint }) => {
      if (
        args.address.toLowerCase() === market.toLowerCase() &&
        args.fromBlock <= block &&
        block <= args.toBlock
      )
        throw new Error(`forced fault: eth_getLogs ${args.fromBlock}–${args.toBlock}`);
      return client.getLogs(args as never);
    }) as PublicClient["getLogs"],
  };
}

/** The client with every getLogs answer in a scrambled (but fixed) order. */
function shuffling(client: PublicClient): ForecastHistoryClient {
  return {
    getBlock: client.getBlock.bind(client),
    readContract: client.readContract.bind(client),
    getLogs: (async (args: never) => {
      const logs = [...(await client.getLogs(args))];
      // Reversed: no answer of 2+ logs stays in chain order.
      return logs.reverse();
    }) as PublicClient["getLogs"],
  };
}
