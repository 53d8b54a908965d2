/**
 * The demo's interval loop on an accelerated chain clock. For each interval it: moves chain time
 * to just before gate closure, lets every agent place its orders (from forecasts), moves past
 * gate closure, waits for the committee to commit and settle the schedule, moves past the end of
 * the interval, has every meter sign its actual reading and posts them to the oracle nodes, waits
 * for the meter report and imbalance settlement, and claims certificates for buyers.
 *
 * The demo never settles anything itself except certificate claims (anyone may call them): every
 * commit and settlement comes from the oracle nodes' pipeline.
 */
import { parseEventLogs, type Address, type Hex } from "viem";

type EventLog = { eventName: string; args: unknown };
import type { HDAccount } from "viem/accounts";
import {
  NeighbourhoodSimulator,
  applyBatteryEnergy,
  meterReading,
  placeOrders,
  type IntervalSimulation,
  type Neighbourhood,
  type StrategyOrder,
} from "../domain/simulation/index.js";
import { Side, sideCode } from "../domain/eip712.js";
import { sourceCode } from "../domain/energy-source.js";
import { METER_READING_TYPES, marketDomain } from "../domain/meter/reading.js";
import type { IntervalLedger } from "../domain/household-outcomes.js";
import type { DemoAccounts, DemoChain } from "./world.js";

export interface IntervalTiming {
  readonly intervalSeconds: number;
  readonly gateClosureSeconds: number;
  /** The oracle nodes wait this long after an interval ends before reporting its meters. */
  readonly meterGraceSeconds: number;
}

export interface IntervalRecord {
  readonly intervalId: bigint;
  readonly startUnix: number;
  readonly orders: number;
  readonly zonePrices: readonly bigint[];
  /** Energy per zone: household buys, household sells, grid supply, grid offtake (Wh). */
  readonly zones: readonly { bought: bigint; sold: bigint; gridSupply: bigint; gridOfftake: bigint }[];
  readonly actualPvWh: number;
  readonly actualLoadWh: number;
  readonly batterySocWh: number;
  readonly imbalanceWh: bigint;
  /** The part of imbalanceWh where households delivered less (or used more) than scheduled. */
  readonly imbalanceShortWh: bigint;
  readonly imbalanceCharged: bigint;
  readonly imbalancePaid: bigint;
  readonly householdPaid: bigint;
  readonly householdReceived: bigint;
  /** What households would have paid net with no local market: deficits at retail, surpluses at feed-in. */
  readonly noMarketCost: bigint;
  /** Certificates claimed by buyers (Wh). */
  readonly certificatesWh: bigint;
  /** Certificates the market issued into the interval's pool (CertificatesIssued events, Wh). */
  readonly certificatesIssuedWh: bigint;
  /** Renewable energy sold and injected, as the demo computes it from fills and its meters. */
  readonly renewableDeliveredWh: bigint;
  /** Buyers with a settled fill, households and the grid (claims round down, so issued − claimed ≤ buyers). */
  readonly buyers: number;
  readonly gasUsed: bigint;
  /** The interval's FillSettled and ImbalanceSettled events and the households' meter readings: the
   * input of every household's outcome (domain/household-outcomes.ts), kept in the JSON report so a
   * reader can recompute the summary. */
  readonly ledger: IntervalLedger;
  /** Wall time of each step of this interval (ms), for finding where a run spends its time. */
  readonly phaseMs: Readonly<Record<Phase, number>>;
  readonly final: boolean;
  readonly problem?: string;
}

/** Something the demo could not do (a node down, a send that failed); reported at the end of the run. */
export interface UndoneAction {
  readonly intervalId: bigint;
  readonly action: string;
  readonly reason: string;
}

export interface RunParameters {
  readonly chain: DemoChain;
  readonly accounts: DemoAccounts;
  readonly neighbourhood: Neighbourhood;
  readonly simulator: NeighbourhoodSimulator;
  readonly timing: IntervalTiming;
  readonly intervals: number;
  /** Oracle nodes' HTTP base URLs: meter readings are posted to each. */
  readonly nodeUrls: readonly string[];
  readonly retailPricePerKwh: number;
  readonly feedInPricePerKwh: number;
  /** Per-step wait limit for the committee (ms). */
  readonly stepTimeoutMs: number;
  readonly onInterval?: (record: IntervalRecord, index: number) => void | Promise<void>;
  /** Called with each action the demo could not do; the run goes on (the committee may ride through). */
  readonly onUndone?: (undone: UndoneAction) => void;
  /** Fault injection: runs just before the meter readings of interval `index` (0-based) are posted. */
  readonly beforeReadings?: (index: number) => Promise<void>;
}

export const PHASES = ["orders", "clearing", "meters", "imbalance", "certificates", "accounting"] as const;
export type Phase = (typeof PHASES)[number];

/** Measures consecutive steps: `lap(phase)` charges the time since the previous lap to `phase`. */
function stopwatch(): { lap(phase: Phase): void; restart(): void; readonly ms: Record<Phase, number> } {
  const ms = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  let last = performance.now();
  return {
    ms,
    lap(phase) {
      const now = performance.now();
      ms[phase] += Math.round(now - last);
      last = now;
    },
    restart() {
      last = performance.now();
    },
  };
}

async function chainNow(chain: DemoChain): Promise<number> {
  const block = await chain.publicClient.getBlock({ blockTag: "latest" });
  return Number(block.timestamp);
}

/** Moves chain time forward to `unix` (never backwards) and mines a block there. */
async function advanceTo(chain: DemoChain, unix: number): Promise<void> {
  if ((await chainNow(chain)) >= unix) return;
  await chain.publicClient.request({ method: "evm_setNextBlockTimestamp" as never, params: [unix] as never });
  await chain.publicClient.request({ method: "evm_mine" as never, params: [] as never });
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    // A failed read (the chain stalled past the transport's retries) is one more look, not the end.
    const value = await probe().catch((error: unknown) => {
      lastError = error;
      return undefined;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}` +
          (lastError === undefined ? "" : ` (last read failed: ${String(lastError).split("\n")[0]})`),
      );
    await new Promise((r) => setTimeout(r, 150));
  }
}

interface IntervalStateView {
  scheduled: boolean;
  fillCount: number;
  settledCount: number;
  meterRoot: Hex;
}

async function intervalState(chain: DemoChain, intervalId: bigint): Promise<IntervalStateView> {
  return (await chain.publicClient.readContract({
    address: chain.addresses.market,
    abi: chain.abis.market,
    functionName: "intervalState",
    args: [intervalId],
  })) as IntervalStateView;
}

/**
 * The market keeps one open order per owner, interval and side, so an agent's blocks on one side
 * become one order: the quantities add up and the limit is the block's outside option (the
 * highest bid, the lowest ask), which is what the agent would otherwise pay or get from the grid.
 * A battery order that collides with its household's own order on the same side is dropped (the
 * battery then stays idle in that interval). The grid's orders are per zone.
 */
export function oneOrderPerSide(orders: readonly StrategyOrder[]): StrategyOrder[] {
  const merged = new Map<string, StrategyOrder>();
  for (const order of orders) {
    const key = order.owner === "grid" ? `grid/${order.zone}/${order.side}` : `${order.owner}/${order.side}`;
    const existing = merged.get(key);
    if (existing === undefined) {
      merged.set(key, order);
      continue;
    }
    const battery = (o: StrategyOrder) => o.purpose === "battery-charge" || o.purpose === "battery-discharge";
    if (battery(order)) continue;
    if (battery(existing)) {
      merged.set(key, order);
      continue;
    }
    merged.set(key, {
      ...existing,
      quantityWh: existing.quantityWh + order.quantityWh,
      limitPricePerKwh:
        order.side === "bid"
          ? Math.max(existing.limitPricePerKwh, order.limitPricePerKwh)
          : Math.min(existing.limitPricePerKwh, order.limitPricePerKwh),
    });
  }
  return [...merged.values()];
}

interface PendingInterval {
  readonly sim: IntervalSimulation;
  readonly index: number;
  readonly intervalId: bigint;
  readonly firstBlock: bigint;
  readonly problem: string | undefined;
  readonly wanted: readonly StrategyOrder[];
  readonly fills: readonly EventLog[];
  readonly zonePrices: readonly bigint[];
  readonly zones: IntervalRecord["zones"];
  readonly householdPaid: bigint;
  readonly householdReceived: bigint;
  readonly readings: readonly {
    participant: Address;
    meter: HDAccount;
    injectedWh: bigint;
    consumedWh: bigint;
  }[];
  readonly actualPvWh: number;
  readonly actualLoadWh: number;
  readonly noMarketCost: bigint;
  readonly renewableDeliveredWh: bigint;
  readonly batterySocWh: number;
  /** Time spent on this interval's order and clearing steps (the rest is added when it finishes). */
  readonly watch: ReturnType<typeof stopwatch>;
}

export async function runIntervals(parameters: RunParameters): Promise<IntervalRecord[]> {
  const { chain, accounts, neighbourhood, simulator, timing } = parameters;
  const { market } = chain.addresses;
  const marketAbi = chain.abis.market;
  const chainId = await chain.publicClient.getChainId();
  const householdByAddress = new Map<string, number>(
    accounts.households.map((a, i) => [a.address.toLowerCase(), i]),
  );
  const gridAddresses = new Set(accounts.grid.map((a) => a.address.toLowerCase()));
  const socWh: Record<string, number> = {};
  for (const h of neighbourhood.households) if (h.battery !== null) socWh[h.id] = h.battery.initialSocWh;
  const records: IntervalRecord[] = [];
  const undone = (intervalId: bigint, action: string, reason: unknown) =>
    parameters.onUndone?.({
      intervalId,
      action,
      reason: (reason instanceof Error ? reason.message : String(reason)).split("\n")[0]!,
    });
  let pending: PendingInterval | undefined;
  let gasCursor: bigint | undefined;

  for (let index = 0; index < parameters.intervals; index++) {
    const sim: IntervalSimulation = simulator.step();
    const intervalId = BigInt(sim.intervalId);
    const gateClosure = sim.startUnix - timing.gateClosureSeconds;
    const firstBlock = (await chain.publicClient.getBlockNumber()) + 1n;
    let problem: string | undefined;
    const watch = stopwatch();

    // 1. Orders, placed from forecasts before gate closure.
    await advanceTo(chain, gateClosure - 120);
    const wanted = oneOrderPerSide(
      placeOrders({
        neighbourhood,
        interval: sim,
        socWh,
        options: {
          retailPricePerKwh: parameters.retailPricePerKwh,
          feedInPricePerKwh: parameters.feedInPricePerKwh,
        },
      }),
    );
    const ownerAccount = (order: StrategyOrder): HDAccount =>
      order.owner === "grid"
        ? accounts.grid[order.zone]!
        : accounts.households[neighbourhood.households.find((h) => h.id === order.owner)!.index]!;
    const purposeBySlot = new Map<string, StrategyOrder["purpose"]>();
    const placed = await Promise.allSettled(
      wanted.map((order) => {
        const account = ownerAccount(order);
        purposeBySlot.set(`${account.address.toLowerCase()}/${sideCode(order.side)}`, order.purpose);
        return chain.send(account, market, marketAbi, order.side === "bid" ? "placeBid" : "placeOffer", [
          intervalId,
          order.zone,
          BigInt(order.quantityWh),
          BigInt(order.limitPricePerKwh),
          0n,
        ]);
      }),
    );
    // An order that could not be placed (e.g. the chain stalled past gate closure) is left out;
    // the interval clears without it.
    placed.forEach((result, i) => {
      if (result.status === "rejected")
        undone(intervalId, `place ${wanted[i]!.side} of ${wanted[i]!.owner}`, result.reason);
    });

    watch.lap("orders");
    // 2. Gate closure; the committee clears, commits and settles.
    await advanceTo(chain, gateClosure + 1);
    let fills: EventLog[] = [];
    let zonePrices: readonly bigint[] = [];
    try {
      await waitFor(`interval ${intervalId} scheduled and settled`, parameters.stepTimeoutMs, async () => {
        const state = await intervalState(chain, intervalId);
        return state.scheduled && state.settledCount === state.fillCount ? state : undefined;
      });
      const logs = await chain.publicClient.getLogs({ address: market, fromBlock: firstBlock });
      const parsed = parseEventLogs({ abi: marketAbi, logs });
      fills = (parsed as EventLog[]).filter(
        (l) => l.eventName === "FillSettled" && (l.args as { intervalId: bigint }).intervalId === intervalId,
      );
      const committed = (parsed as EventLog[]).find(
        (l) =>
          l.eventName === "ScheduleCommitted" && (l.args as { intervalId: bigint }).intervalId === intervalId,
      );
      zonePrices =
        committed === undefined ? [] : (committed.args as { zonePrices: readonly bigint[] }).zonePrices;
    } catch (error) {
      problem = (error as Error).message;
    }
    watch.lap("clearing");

    // 3. Delivery: batteries follow their scheduled fills; meters measure the actual energy.
    const filledBy = new Map<string, bigint>();
    const zones = Array.from({ length: neighbourhood.zones }, () => ({
      bought: 0n,
      sold: 0n,
      gridSupply: 0n,
      gridOfftake: 0n,
    }));
    let householdPaid = 0n;
    let householdReceived = 0n;
    for (const log of fills) {
      const a = log.args as { owner: Address; side: number; filledWh: bigint; amount: bigint };
      const owner = a.owner.toLowerCase();
      filledBy.set(`${owner}/${a.side}`, a.filledWh);
      const houseIndex = householdByAddress.get(owner);
      if (houseIndex !== undefined) {
        const zone = zones[neighbourhood.households[houseIndex]!.zone]!;
        if (a.side === Side.Buy) {
          zone.bought += a.filledWh;
          householdPaid += a.amount;
        } else {
          zone.sold += a.filledWh;
          householdReceived += a.amount;
        }
      } else if (gridAddresses.has(owner)) {
        const z = accounts.grid.findIndex((g) => g.address.toLowerCase() === owner);
        if (a.side === Side.Buy) zones[z]!.gridOfftake += a.filledWh;
        else zones[z]!.gridSupply += a.filledWh;
      }
    }

    const readings: { participant: Address; meter: HDAccount; injectedWh: bigint; consumedWh: bigint }[] = [];
    let actualPvWh = 0;
    let actualLoadWh = 0;
    let noMarketCost = 0n;
    let renewableDeliveredWh = 0n;
    for (const hs of sim.households) {
      const house = neighbourhood.households.find((h) => h.id === hs.id)!;
      const owner = accounts.households[house.index]!.address.toLowerCase();
      let chargeWh = 0;
      let dischargeWh = 0;
      if (house.battery !== null) {
        if (purposeBySlot.get(`${owner}/${Side.Buy}`) === "battery-charge")
          chargeWh = Number(filledBy.get(`${owner}/${Side.Buy}`) ?? 0n);
        if (purposeBySlot.get(`${owner}/${Side.Sell}`) === "battery-discharge")
          dischargeWh = Number(filledBy.get(`${owner}/${Side.Sell}`) ?? 0n);
        try {
          socWh[house.id] = applyBatteryEnergy(house.battery, socWh[house.id]!, chargeWh, dischargeWh);
        } catch {
          // The battery cannot follow its schedule (state of charge limits): it stays idle and the
          // household's meter shows the difference, which is settled as imbalance.
          chargeWh = 0;
          dischargeWh = 0;
        }
      }
      const reading = meterReading({
        pvWh: hs.actual.pvWh,
        loadWh: hs.actual.loadWh,
        batteryChargeWh: chargeWh,
        batteryDischargeWh: dischargeWh,
      });
      actualPvWh += hs.actual.pvWh;
      actualLoadWh += hs.actual.loadWh;
      noMarketCost +=
        (BigInt(reading.consumedWh) * BigInt(parameters.retailPricePerKwh)) / 1000n -
        (BigInt(reading.injectedWh) * BigInt(parameters.feedInPricePerKwh)) / 1000n;
      if (house.pv !== null) {
        // The certificate rule, recomputed here independently of the contract: renewable energy
        // a seller both sold and injected.
        const sold = filledBy.get(`${owner}/${Side.Sell}`) ?? 0n;
        const injected = BigInt(reading.injectedWh);
        renewableDeliveredWh += sold < injected ? sold : injected;
      }
      readings.push({
        participant: accounts.households[house.index]!.address,
        meter: accounts.meters[house.index]!,
        injectedWh: BigInt(reading.injectedWh),
        consumedWh: BigInt(reading.consumedWh),
      });
    }

    // The previous interval is delivering now; finish it (meters, imbalances, certificates)
    // before this one's delivery. Chain time is before the previous interval's end here.
    if (pending !== undefined) await finishInterval(pending);
    pending = {
      sim,
      index,
      intervalId,
      firstBlock,
      problem,
      wanted,
      fills,
      zonePrices,
      zones,
      householdPaid,
      householdReceived,
      readings,
      actualPvWh,
      actualLoadWh,
      noMarketCost,
      renewableDeliveredWh,
      batterySocWh: Object.values(socWh).reduce((sum, v) => sum + v, 0),
      watch,
    };
  }
  if (pending !== undefined) await finishInterval(pending);
  return records;

  async function finishInterval(p: PendingInterval): Promise<void> {
    const { sim, index, intervalId, firstBlock, wanted, fills, zonePrices, zones, readings } = p;
    const { householdPaid, householdReceived, actualPvWh, actualLoadWh, noMarketCost, batterySocWh } = p;
    const { renewableDeliveredWh } = p;
    let certificatesIssuedWh = 0n;
    let buyerCount = 0;
    let problem = p.problem;
    const { watch } = p;
    watch.restart(); // the time since its clearing step belongs to the next interval's steps
    // 4. Meters sign their readings and send them to every oracle node; then the interval ends
    //    (chain time moves past its end and the meter grace period).
    await advanceTo(chain, sim.startUnix + timing.intervalSeconds + 1);
    const signed = await Promise.all(
      readings.map(async (r) => {
        const message = {
          meter: r.meter.address,
          intervalId,
          injectedWh: r.injectedWh,
          consumedWh: r.consumedWh,
        };
        const signature = await r.meter.signTypedData({
          domain: marketDomain(chainId, market),
          types: METER_READING_TYPES,
          primaryType: "MeterReading",
          message,
        });
        return {
          meter: r.meter.address,
          intervalId: intervalId.toString(),
          injectedWh: r.injectedWh.toString(),
          consumedWh: r.consumedWh.toString(),
          signature,
        };
      }),
    );
    await parameters.beforeReadings?.(index);
    // Every node gets the readings; a node that is down (or refuses them) is recorded and skipped:
    // the committee settles with the nodes that have them, and whether it did is read from the
    // chain below, not assumed from the posts.
    await Promise.all(
      parameters.nodeUrls.map(async (url) => {
        try {
          const response = await fetch(`${url}/meter-readings`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(signed),
          });
          if (!response.ok) undone(intervalId, `post meter readings to ${url}`, `HTTP ${response.status}`);
        } catch (error) {
          undone(intervalId, `post meter readings to ${url}`, (error as { cause?: unknown }).cause ?? error);
        }
      }),
    );

    await advanceTo(chain, sim.startUnix + timing.intervalSeconds + timing.meterGraceSeconds + 1);
    watch.lap("meters");

    // 5. Meter report and imbalance settlement by the committee.
    let imbalanceWh = 0n;
    let imbalanceShortWh = 0n;
    let imbalanceCharged = 0n;
    let imbalancePaid = 0n;
    const imbalances: IntervalLedger["imbalances"][number][] = [];
    // Every household whose meter measured energy must have its imbalance settled.
    const participantsWithEnergy = new Set<string>(
      readings.filter((r) => r.injectedWh + r.consumedWh > 0n).map((r) => r.participant.toLowerCase()),
    );
    try {
      await waitFor(`interval ${intervalId} meter report`, parameters.stepTimeoutMs, async () => {
        const state = await intervalState(chain, intervalId);
        return /^0x0+$/.test(state.meterRoot) ? undefined : state;
      });
      const settled = await waitFor(
        `interval ${intervalId} imbalances`,
        parameters.stepTimeoutMs,
        async () => {
          const logs = (
            parseEventLogs({
              abi: marketAbi,
              logs: await chain.publicClient.getLogs({ address: market, fromBlock: firstBlock }),
            }) as EventLog[]
          ).filter(
            (l) =>
              l.eventName === "ImbalanceSettled" &&
              (l.args as { intervalId: bigint }).intervalId === intervalId,
          );
          const settledParticipants = new Set(
            logs.map((l) => (l.args as { participant: Address }).participant.toLowerCase()),
          );
          return [...participantsWithEnergy].every((a) => settledParticipants.has(a)) ? logs : undefined;
        },
      );
      for (const log of (
        parseEventLogs({
          abi: marketAbi,
          logs: await chain.publicClient.getLogs({ address: market, fromBlock: firstBlock }),
        }) as EventLog[]
      ).filter(
        (l) =>
          l.eventName === "CertificatesIssued" &&
          (l.args as { intervalId: bigint }).intervalId === intervalId,
      ))
        certificatesIssuedWh += (log.args as { energyWh: bigint }).energyWh;
      for (const log of settled) {
        const a = log.args as {
          participant: Address;
          deviationWh: bigint;
          charged: bigint;
          paid: bigint;
          uncovered: bigint;
        };
        imbalances.push({
          participant: a.participant,
          deviationWh: a.deviationWh,
          charged: a.charged,
          paid: a.paid,
          uncovered: a.uncovered,
        });
        imbalanceWh += a.deviationWh < 0n ? -a.deviationWh : a.deviationWh;
        if (a.deviationWh < 0n) imbalanceShortWh -= a.deviationWh;
        imbalanceCharged += a.charged;
        imbalancePaid += a.paid;
      }
    } catch (error) {
      problem ??= (error as Error).message;
    }

    watch.lap("imbalance");
    // 6. Certificates for the renewable energy each household bought and received.
    let certificatesWh = 0n;
    if (problem === undefined) {
      const buyers = fills
        .map((l) => l.args as { owner: Address; side: number })
        .filter((a) => a.side === Side.Buy);
      buyerCount = buyers.length;
      // Each buyer claims its own certificates (anyone may; here the owners do, in parallel). The
      // grid's zone accounts buy surplus too and receive their pro-rata share like any buyer.
      const claimed = await Promise.all(
        buyers.map(async (buyer) => {
          const owner = buyer.owner.toLowerCase();
          const houseIndex = householdByAddress.get(owner);
          const account =
            houseIndex !== undefined
              ? accounts.households[houseIndex]!
              : accounts.grid.find((g) => g.address.toLowerCase() === owner)!;
          // A buyer whose share rounds to nothing has nothing to claim: the call's gas estimate
          // reverts ZeroAmount before anything is sent.
          const hash = await chain
            .send(account, market, marketAbi, "claimCertificates", [
              buyer.owner,
              intervalId,
              sourceCode("solar"),
            ])
            .catch((error: unknown) => {
              if (!String(error).includes("ZeroAmount"))
                undone(intervalId, `claim certificates of ${buyer.owner}`, error);
              return undefined;
            });
          if (hash === undefined) return 0n;
          const receipt = await chain.publicClient.getTransactionReceipt({ hash });
          let amount = 0n;
          for (const log of parseEventLogs({ abi: marketAbi, logs: receipt.logs }) as EventLog[])
            if (log.eventName === "CertificatesClaimed")
              amount += (log.args as { amountWh: bigint }).amountWh;
          return amount;
        }),
      );
      certificatesWh = claimed.reduce((sum, amount) => sum + amount, 0n);
    }

    watch.lap("certificates");
    // Gas of every block mined since the previous record (agents', oracle nodes', claims): each
    // block is counted once; intervals overlap in time, so the split between neighbours is approximate.
    let gasUsed = 0n;
    const lastBlock = await chain.publicClient.getBlockNumber();
    const blockNumbers: bigint[] = [];
    for (let n = gasCursor ?? firstBlock; n <= lastBlock; n++) blockNumbers.push(n);
    for (const block of await Promise.all(
      blockNumbers.map((blockNumber) => chain.publicClient.getBlock({ blockNumber })),
    ))
      gasUsed += block.gasUsed;
    gasCursor = lastBlock + 1n;
    watch.lap("accounting");
    const record: IntervalRecord = {
      intervalId,
      startUnix: sim.startUnix,
      orders: wanted.length,
      zonePrices,
      zones,
      actualPvWh,
      actualLoadWh,
      batterySocWh,
      imbalanceWh,
      imbalanceShortWh,
      imbalanceCharged,
      imbalancePaid,
      householdPaid,
      householdReceived,
      noMarketCost,
      certificatesWh,
      certificatesIssuedWh,
      renewableDeliveredWh,
      buyers: buyerCount,
      gasUsed,
      ledger: {
        fills: fills.map((l) => {
          const a = l.args as { owner: Address; side: number; amount: bigint };
          return { owner: a.owner, side: a.side, amount: a.amount };
        }),
        imbalances,
        readings: readings.map((r) => ({
          participant: r.participant,
          injectedWh: r.injectedWh,
          consumedWh: r.consumedWh,
        })),
      },
      phaseMs: { ...watch.ms },
      final: problem === undefined,
      ...(problem === undefined ? {} : { problem }),
    };
    records.push(record);
    await parameters.onInterval?.(record, index);
  }
}
