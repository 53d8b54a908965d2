/**
 * chain/forecast-history.ts reads the committed meter reports' surplus (`MeterReportCommitted.
 * zoneSurplusWh`) against a real chain (the client tests' Hardhat node): a report committed
 * before the gate of i + 2 is read for i + 2; one committed after that gate is not (a node reading
 * later must not see more than one that read at the gate), and is read for the next interval;
 * reports newer than i − 2 are never read.
 */
import { expect } from "chai";
import { energyMarketAbi } from "../../../oracle/src/chain/abis.js";
import { readForecastHistory } from "../../../oracle/src/chain/forecast-history.js";
import { type ClientChain, type TradedInterval, clientChain, tradedInterval } from "../client/chain.js";

const LOCATION = { latitudeDeg: 52.52, longitudeDeg: 13.4 };

describe("readForecastHistory: the meter reports' surplus", function () {
  this.timeout(300_000);
  let chain: ClientChain;
  let startBlock: bigint;
  let onTime: TradedInterval;
  let late: TradedInterval;

  const gateClosure = (intervalId: bigint) =>
    chain.publicClient.readContract({
      address: chain.market,
      abi: energyMarketAbi,
      functionName: "gateClosure",
      args: [intervalId],
    });
  const surplusFor = async (interval: bigint) => {
    const history = await readForecastHistory({
      client: chain.publicClient,
      market: chain.market,
      registry: chain.addresses.registry,
      startBlock,
      toBlock: await chain.publicClient.getBlockNumber(),
      interval,
      history: 8,
      location: LOCATION,
    });
    expect(history.failedRanges).to.deep.equal([]);
    return history.meterSurplus;
  };

  before(async () => {
    chain = await clientChain();
    startBlock = await chain.publicClient.getBlockNumber();
    onTime = await tradedInterval(chain);
    await onTime.commitSchedule();
    await onTime.commitMeter(undefined, { zoneSurplusWh: 1_234n });
    late = await tradedInterval(chain);
    await late.commitSchedule();
    // Committed 10 s after the gate of late + 2 closed, still inside its meter window.
    await late.commitMeter(undefined, {
      at: (await gateClosure(late.intervalId + 2n)) + 10n,
      zoneSurplusWh: 77n,
    });
  });
  after(async () => {
    await onTime?.close();
    await late?.close();
  });

  it("reads a report committed before the gate of i, for i = its interval + 2", async () => {
    const rows = await surplusFor(onTime.intervalId + 2n);
    expect(rows).to.deep.include({ intervalId: Number(onTime.intervalId), zone: 0, surplusWh: 1_234 });
  });

  it("does not read a report newer than i − 2", async () => {
    const rows = await surplusFor(onTime.intervalId + 1n);
    expect(rows.filter((r) => r.intervalId === Number(onTime.intervalId))).to.deep.equal([]);
  });

  it("leaves out a report committed after the gate of i, and reads it for i + 1", async () => {
    const atGate = await surplusFor(late.intervalId + 2n);
    expect(atGate.filter((r) => r.intervalId === Number(late.intervalId))).to.deep.equal([]);
    const next = await surplusFor(late.intervalId + 3n);
    expect(next).to.deep.include({ intervalId: Number(late.intervalId), zone: 0, surplusWh: 77 });
  });
});
