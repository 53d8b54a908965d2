/**
 * One full interval of the two-zone scenario (scenario.ts) through a committee the caller starts:
 * orders, a cancellation, gate closure, commit, fill settlement, meter readings, meter report and
 * imbalance settlement, each checked against the hand-computed fills, prices and balances. The
 * chain suites (pipeline.test.ts) and the Redis Cluster suite run this same interval.
 */
import { expect } from "chai";
import { energyMarketAbi } from "../../oracle/src/chain/abis.js";
import { verifyInterval } from "../../oracle/src/cli/verify.js";
import { signMeterReading } from "../../oracle/src/domain/meter/reading.js";
import type { OracleNode } from "../../oracle/src/node/node.js";
import { type Env, GATE, INTERVAL, READING_DEADLINE, OPERATOR_FUNDS, waitFor } from "./harness.js";
import {
  EXPECTED_FILLS,
  EXPECTED_PRICES,
  READINGS,
  bookScenarioOrders,
  byName,
  EXPECTED_IMBALANCE_PRICES,
  expectedAfterDelivery,
  expectedFreeAfterFills,
  scenarioParties,
} from "./scenario.js";

/**
 * Runs the interval on `env`. `startCommittee` is called once chain time is past gate closure and
 * returns the running nodes (the caller keeps them to close them).
 */
export async function runFullInterval(env: Env, startCommittee: () => Promise<OracleNode[]>): Promise<void> {
  const parties = scenarioParties();
  const intervalId = await bookScenarioOrders(env, parties);
  const gateClosure = intervalId * INTERVAL - GATE;
  await env.setTime(gateClosure + 1n);

  const nodes = await startCommittee();

  const market = env.addresses.market;
  const read = (functionName: "intervalState", args: [bigint]) =>
    env.client.readContract({ address: market, abi: energyMarketAbi, functionName, args });
  const state = await waitFor("all fills settled", async () => {
    const s = await read("intervalState", [intervalId]);
    return s.scheduled && s.settledCount === s.fillCount ? s : undefined;
  });
  expect(state.fillCount, "one leaf per open order (B4 cancelled)").to.equal(6);

  const committed = await env.client.getContractEvents({
    address: market,
    abi: energyMarketAbi,
    eventName: "ScheduleCommitted",
    fromBlock: 0n,
    args: { intervalId },
  });
  expect(committed, "exactly one ScheduleCommitted").to.have.length(1);
  expect(committed[0]!.args.zonePrices).to.deep.equal(EXPECTED_PRICES);

  const fills = await env.client.getContractEvents({
    address: market,
    abi: energyMarketAbi,
    eventName: "FillSettled",
    fromBlock: 0n,
    args: { intervalId },
  });
  const filled = new Map(fills.map((f) => [f.args.orderId!.toLowerCase(), f.args.filledWh!]));
  for (const [name, wh] of Object.entries(EXPECTED_FILLS))
    expect(filled.get(byName(parties, name).orderId!.toLowerCase()), `fill of ${name}`).to.equal(wh);

  // Balances after fill settlement, from fills and prices alone.
  const afterFills = (name: string): bigint => expectedFreeAfterFills(parties, name);
  const balance = (name: string) =>
    env.client.readContract({
      address: market,
      abi: energyMarketAbi,
      functionName: "balanceOf",
      args: [byName(parties, name).account.address],
    });
  for (const name of ["S1", "S2", "B1", "B2", "S3", "B3", "B4"])
    expect(await balance(name), `${name} after fills`).to.equal(afterFills(name));

  // Metering: readings signed by the meters' keys, sent to every node after the interval ends.
  const end = (intervalId + 1n) * INTERVAL;
  await env.setTime(end + 1n);
  const readings = await Promise.all(
    Object.entries(READINGS).map(([name, [injectedWh, consumedWh]]) =>
      signMeterReading(byName(parties, name).meter!, 31337, market, {
        intervalId,
        injectedWh,
        consumedWh,
      }),
    ),
  );
  const body = JSON.stringify(readings, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  for (const node of nodes) {
    const res = await fetch(`${node.url}/meter-readings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const json = (await res.json()) as { accepted: number; rejected: number };
    expect(json, `ingest at ${node.url}`).to.include({ accepted: readings.length, rejected: 0 });
  }
  // S2's meter is silent: it counts as missing only after the reading deadline
  // (meterDeadlineSeconds, default 2700 s after the interval end).
  await env.setTime(end + READING_DEADLINE + 1n);

  const participants = ["S1", "S2", "B1", "B2", "S3", "B3"];
  await waitFor("all imbalances settled", async () => {
    for (const name of participants) {
      const done = await env.client.readContract({
        address: market,
        abi: energyMarketAbi,
        functionName: "imbalanceSettled",
        args: [byName(parties, name).account.address, intervalId],
      });
      if (!done) return undefined;
    }
    return true;
  });
  const metered = await env.client.getContractEvents({
    address: market,
    abi: energyMarketAbi,
    eventName: "MeterReportCommitted",
    fromBlock: 0n,
    args: { intervalId },
  });
  expect(metered, "exactly one MeterReportCommitted").to.have.length(1);
  // Zone 0's shorts are partly covered by B2's surplus: netted prices, not the bare tariffs.
  expect(metered[0]!.args.shortPrices, "short prices").to.deep.equal(
    EXPECTED_IMBALANCE_PRICES.map((z) => z.short),
  );
  expect(metered[0]!.args.longPrices, "long prices").to.deep.equal(
    EXPECTED_IMBALANCE_PRICES.map((z) => z.long),
  );
  // Each zone's surplus, by hand (docs/MARKET_RULES.md; no batteries, so no scaling): zone 0,
  // S1's 4,800 Wh (S2's silent meter injects 0; the buyers are short); zone 1, S3's 1,500 Wh.
  expect(metered[0]!.args.zoneSurplusWh, "zone surplus").to.deep.equal([4_800n, 1_500n]);
  // Anyone can recompute them once the deviations are settled: `gridbrain verify` does.
  const verified = await verifyInterval({
    client: env.client,
    market,
    registry: env.addresses.registry,
    intervalId,
  });
  expect(verified.status, "verify of the schedule").to.equal("ok");
  expect(
    verified.status === "not-scheduled" ? undefined : verified.imbalance,
    "verify's imbalance check",
  ).to.deep.include({ status: "reproduced", settledParticipants: participants.length });

  // S2's missing reading counts as 0 injected.
  let operatorDelta = 0n;
  for (const name of participants) {
    const expected = expectedAfterDelivery(parties, name);
    operatorDelta += expected.operatorDelta;
    expect(await balance(name), `${name} after imbalance`).to.equal(expected.free);
  }
  const funds = await env.client.readContract({
    address: market,
    abi: energyMarketAbi,
    functionName: "operatorFunds",
  });
  // Grid revenue is zero here: no line, each zone pays its sellers exactly what its buyers pay.
  expect(funds).to.equal(OPERATOR_FUNDS + operatorDelta);
}
