/**
 * Issue #11, item 2: readings posted while three of five nodes are down. The two live nodes hold
 * the real readings but cannot reach quorum; the three restarted nodes must fetch the readings
 * from their peers (and, missing any, wait for the reading deadline) instead of committing a
 * report that marks every participant "estimated".
 *
 * One control interval runs first with every node given the readings; the fault interval runs
 * the same orders and readings, so its committed meter leaves and imbalance charges must equal
 * the control's.
 */
import { expect } from "chai";
import { type Address, type Hex, zeroHash } from "viem";
import { energyMarketAbi } from "../../oracle/src/chain/abis.js";
import { signMeterReading } from "../../oracle/src/domain/meter/reading.js";
import { buildMeterTree } from "../../oracle/src/domain/schedule.js";
import { loadOwn } from "../../oracle/src/jobs/committee.js";
import { jobId } from "../../oracle/src/jobs/context.js";
import type { Config } from "../../oracle/src/infra/config.js";
import type { OracleNode } from "../../oracle/src/node/node.js";
import {
  type World,
  GATE,
  INTERVAL,
  METER_GRACE,
  type Party,
  nodeConfigs,
  placeOrders,
  startNodes,
  startWorld,
  waitFor,
} from "./harness.js";
import { EXPECTED_FILLS, READINGS, byName, scenarioParties } from "./scenario.js";

/** Every registered meter reports here (S2's meter too: it sold nothing and measured nothing). */
const ALL_READINGS: Readonly<Record<string, [bigint, bigint]>> = { ...READINGS, S2: [0n, 0n] };

interface IntervalOutcome {
  readonly meterRoot: Hex;
  /** participant → [charged, paid] from ImbalanceSettled. */
  readonly imbalance: ReadonlyMap<Address, readonly [bigint, bigint]>;
  readonly charged: bigint;
}

describe("meter report below quorum (e2e, readings posted to 2 of 5 nodes)", function () {
  this.timeout(300_000);
  // The nodes here are started and stopped in parts (three down, then back), so this suite keeps
  // its own list rather than the world's.
  let env: World;
  let nodes: (OracleNode | undefined)[] = [];
  // B4 has no meter and no order here: every participant with a position has a meter.
  const parties: Party[] = scenarioParties().filter((p) => p.name !== "B4");
  const meterParties = parties.filter((p) => ALL_READINGS[p.name] !== undefined);

  const stopAll = async () => {
    await Promise.allSettled(nodes.map((n) => n?.close()));
    nodes = [];
  };
  before(async () => {
    env = await startWorld({ market: { parties, zones: 2 } });
  });
  after(async () => {
    await stopAll();
    await env?.stop();
  });

  const intervalState = (intervalId: bigint) =>
    env.client.readContract({
      address: env.addresses.market,
      abi: energyMarketAbi,
      functionName: "intervalState",
      args: [intervalId],
    });

  /** Places orders, closes the gate and waits until the schedule is committed and every fill settled. */
  const scheduleAndSettle = async (configs: readonly Config[]): Promise<bigint> => {
    const intervalId = (await env.now()) / INTERVAL + 2n;
    await placeOrders(env, parties, intervalId);
    nodes = await startNodes(configs);
    await env.setTime(intervalId * INTERVAL - GATE + 1n);
    await waitFor("every fill settled", async () => {
      const s = await intervalState(intervalId);
      return s.scheduled && s.fillCount > 0 && s.settledCount === s.fillCount ? true : undefined;
    });
    return intervalId;
  };

  const postReadings = async (intervalId: bigint, to: readonly OracleNode[], only = meterParties) => {
    const readings = await Promise.all(
      only.map((p) => {
        const [injectedWh, consumedWh] = ALL_READINGS[p.name]!;
        return signMeterReading(p.meter!, 31337, env.addresses.market, {
          intervalId,
          injectedWh,
          consumedWh,
        });
      }),
    );
    const body = JSON.stringify(readings, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
    for (const node of to) {
      const res = await fetch(`${node.url}/meter-readings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      const json = (await res.json()) as { accepted: number; rejected: number };
      expect(json, `ingest at ${node.url}`).to.include({ accepted: readings.length, rejected: 0 });
    }
  };

  /** Waits for the meter commit and every participant's imbalance settlement. */
  const outcome = async (intervalId: bigint): Promise<IntervalOutcome> => {
    const meterRoot = await waitFor("meter report committed", async () => {
      const s = await intervalState(intervalId);
      return s.meterRoot === zeroHash ? undefined : s.meterRoot;
    });
    await waitFor("every imbalance settled", async () => {
      for (const p of meterParties) {
        const done = await env.client.readContract({
          address: env.addresses.market,
          abi: energyMarketAbi,
          functionName: "imbalanceSettled",
          args: [p.account.address, intervalId],
        });
        if (!done) return undefined;
      }
      return true;
    });
    const logs = await env.client.getContractEvents({
      address: env.addresses.market,
      abi: energyMarketAbi,
      eventName: "ImbalanceSettled",
      fromBlock: 0n,
      args: { intervalId },
    });
    const imbalance = new Map<Address, readonly [bigint, bigint]>();
    let charged = 0n;
    for (const l of logs) {
      imbalance.set(l.args.participant!, [l.args.charged!, l.args.paid!]);
      charged += l.args.charged!;
    }
    return { meterRoot, imbalance, charged };
  };

  /** The meter root of the true readings (no participant estimated). */
  const trueRoot = (): Hex =>
    buildMeterTree(
      meterParties.map((p) => {
        const [injectedWh, consumedWh] = ALL_READINGS[p.name]!;
        return { participant: p.account.address, injectedWh, consumedWh };
      }),
    ).root as Hex;

  it("commits the real readings, and charges what a run where every node got them charges", async () => {
    expect(EXPECTED_FILLS.S1, "the scenario's fills are in place").to.equal(5000n);

    // Control: every node gets the readings.
    const control = await nodeConfigs(env);
    const a = await scheduleAndSettle(control.configs);
    const endA = (a + 1n) * INTERVAL;
    await env.setTime(endA + 1n);
    await postReadings(a, nodes as OracleNode[]);
    await env.setTime(endA + METER_GRACE + 1n);
    const expected = await outcome(a);
    expect(expected.meterRoot, "control meter root: the true readings").to.equal(trueRoot());
    await stopAll();

    // Fault: nodes 3, 4, 5 are down while the readings arrive at nodes 1 and 2 only.
    const { configs } = await nodeConfigs(env);
    const b = await scheduleAndSettle(configs);
    await Promise.all(nodes.slice(2).map((n) => n!.close()));
    nodes = nodes.slice(0, 2);
    const endB = (b + 1n) * INTERVAL;
    await env.setTime(endB + 1n);
    await postReadings(b, nodes as OracleNode[]);
    await env.setTime(endB + METER_GRACE + 1n);
    // The two live nodes sign the real report and stay below the threshold of 3.
    await waitFor("both live nodes' own meter reports", async () => {
      for (const n of nodes) if ((await loadOwn(n!.context, "meter", b)) === undefined) return undefined;
      return true;
    });
    expect((await intervalState(b)).meterRoot, "no meter commit below quorum").to.equal(zeroHash);

    nodes.push(...(await startNodes(configs.slice(2))));
    const got = await outcome(b);
    // Charges first: on failure the message shows what households paid against the control run.
    expect(got.charged, "imbalance charged, fault vs control").to.equal(expected.charged);
    for (const p of meterParties)
      expect(got.imbalance.get(p.account.address), `${p.name} imbalance [charged, paid]`).to.deep.equal(
        expected.imbalance.get(p.account.address),
      );
    expect(got.meterRoot, "committed meter root: the true readings, nobody estimated").to.equal(trueRoot());
  });

  it("before the reading deadline, waits for a silent meter instead of estimating it, then commits its reading", async () => {
    await stopAll();
    const { configs } = await nodeConfigs(env);
    const c = await scheduleAndSettle(configs);
    const live = nodes as OracleNode[];
    const endC = (c + 1n) * INTERVAL;
    await env.setTime(endC + 1n);
    // Every meter but S2's posts, to node 1 only: node 1 forwards them to the other four.
    await postReadings(
      c,
      live.slice(0, 1),
      meterParties.filter((p) => p.name !== "S2"),
    );
    await env.setTime(endC + METER_GRACE + 1n);
    // Every node's meter-report job has looked, found S2's meter silent, and re-delayed itself.
    await waitFor("every node's meter report waiting", async () => {
      for (const n of live) {
        const job = await n.context.queues.queue("meter-report").getJob(jobId(n.context, c, "meter-report"));
        if (((job?.data as { waits?: number } | undefined)?.waits ?? 0) < 1) return undefined;
      }
      return true;
    });
    for (const n of live)
      expect(
        await loadOwn(n.context, "meter", c),
        "no meter report signed while a meter may still report",
      ).to.equal(undefined);
    expect((await intervalState(c)).meterRoot, "nothing committed before the reading deadline").to.equal(
      zeroHash,
    );

    // S2's meter reports late but before the deadline, to node 2 only.
    await postReadings(
      c,
      live.slice(1, 2),
      meterParties.filter((p) => p.name === "S2"),
    );
    const got = await outcome(c);
    expect(got.meterRoot, "committed meter root: S2's real reading, not estimated").to.equal(trueRoot());
  });
});
