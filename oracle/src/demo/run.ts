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
import { METER_READING_TYPES, marketDomain } from "../domain/meter/reading.js";
import type { DemoAccounts, DemoChain } from "./world.js";
import { SOURCE } from "./world.js";

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
  readonly imbalanceCharged: bigint;
  readonly imbalancePaid: bigint;
  readonly householdPaid: bigint;
  readonly householdReceived: bigint;
  /** What households would have paid net with no local market: deficits at retail, surpluses at feed-in. */
  readonly noMarketCost: bigint;
  readonly certificatesWh: bigint;
  readonly gasUsed: bigint;
  readonly final: boolean;
  readonly problem?: string;
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
}

const SIDE = { bid: 0, offer: 1 } as const;

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
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
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

/** One order per (owner, side): the market keeps one open order per owner, interval and side. */
function oneOrderPerSide(orders: readonly StrategyOrder[]): StrategyOrder[] {
  const seen = new Set<string>();
  return orders.filter((o) => {
    const key = `${o.owner}/${o.side}`;
    if (seen.has(key)) return false; // a battery order colliding with the household's own: keep the first
    seen.add(key);
    return true;
  });
}

export async function runIntervals(parameters: RunParameters): Promise<IntervalRecord[]> {
  const { chain, accounts, neighbourhood, simulator, timing } = parameters;
  const { market, token } = chain.addresses;
  const marketAbi = chain.abis.market;
  const chainId = await chain.publicClient.getChainId();
  const householdByAddress = new Map<string, number>(
    accounts.households.map((a, i) => [a.address.toLowerCase(), i]),
  );
  const gridAddresses = new Set(accounts.grid.map((a) => a.address.toLowerCase()));
  const socWh: Record<string, number> = {};
  for (const h of neighbourhood.households) if (h.battery !== null) socWh[h.id] = h.battery.initialSocWh;
  const records: IntervalRecord[] = [];

  for (let index = 0; index < parameters.intervals; index++) {
    const sim: IntervalSimulation = simulator.step();
    const intervalId = BigInt(sim.intervalId);
    const gateClosure = sim.startUnix - timing.gateClosureSeconds;
    const firstBlock = (await chain.publicClient.getBlockNumber()) + 1n;
    let problem: string | undefined;

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
          remainderBlock: false,
        },
      }),
    );
    const ownerAccount = (order: StrategyOrder): HDAccount =>
      order.owner === "grid"
        ? accounts.grid[order.zone]!
        : accounts.households[neighbourhood.households.find((h) => h.id === order.owner)!.index]!;
    const purposeBySlot = new Map<string, StrategyOrder["purpose"]>();
    await Promise.all(
      wanted.map((order) => {
        const account = ownerAccount(order);
        purposeBySlot.set(`${account.address.toLowerCase()}/${SIDE[order.side]}`, order.purpose);
        return chain.send(account, market, marketAbi, order.side === "bid" ? "placeBid" : "placeOffer", [
          intervalId,
          order.zone,
          BigInt(order.quantityWh),
          BigInt(order.limitPricePerKwh),
          0n,
        ]);
      }),
    );

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
        if (a.side === SIDE.bid) {
          zone.bought += a.filledWh;
          householdPaid += a.amount;
        } else {
          zone.sold += a.filledWh;
          householdReceived += a.amount;
        }
      } else if (gridAddresses.has(owner)) {
        const z = accounts.grid.findIndex((g) => g.address.toLowerCase() === owner);
        if (a.side === SIDE.bid) zones[z]!.gridOfftake += a.filledWh;
        else zones[z]!.gridSupply += a.filledWh;
      }
    }

    const readings: { meter: HDAccount; injectedWh: bigint; consumedWh: bigint }[] = [];
    let actualPvWh = 0;
    let actualLoadWh = 0;
    let noMarketCost = 0n;
    for (const hs of sim.households) {
      const house = neighbourhood.households.find((h) => h.id === hs.id)!;
      const owner = accounts.households[house.index]!.address.toLowerCase();
      let chargeWh = 0;
      let dischargeWh = 0;
      if (house.battery !== null) {
        if (purposeBySlot.get(`${owner}/${SIDE.bid}`) === "battery-charge")
          chargeWh = Number(filledBy.get(`${owner}/${SIDE.bid}`) ?? 0n);
        if (purposeBySlot.get(`${owner}/${SIDE.offer}`) === "battery-discharge")
          dischargeWh = Number(filledBy.get(`${owner}/${SIDE.offer}`) ?? 0n);
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
      readings.push({
        meter: accounts.meters[house.index]!,
        injectedWh: BigInt(reading.injectedWh),
        consumedWh: BigInt(reading.consumedWh),
      });
    }

    // 4. Meters sign their readings and send them to every oracle node; then the interval ends
    //    (chain time moves past its end and the meter grace period).
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
    await Promise.all(
      parameters.nodeUrls.map(async (url) => {
        const response = await fetch(`${url}/meter-readings`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(signed),
        });
        if (!response.ok) problem ??= `node ${url} rejected meter readings: HTTP ${response.status}`;
      }),
    );

    await advanceTo(chain, sim.startUnix + timing.intervalSeconds + timing.meterGraceSeconds + 1);

    // 5. Meter report and imbalance settlement by the committee.
    let imbalanceWh = 0n;
    let imbalanceCharged = 0n;
    let imbalancePaid = 0n;
    const participantsWithEnergy = new Set<string>([
      ...readings.filter((r) => r.injectedWh + r.consumedWh > 0n).map((r) => r.meter.address),
    ]);
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
          return logs.length >= participantsWithEnergy.size ? logs : undefined;
        },
      );
      for (const log of settled) {
        const a = log.args as { deviationWh: bigint; charged: bigint; paid: bigint };
        imbalanceWh += a.deviationWh < 0n ? -a.deviationWh : a.deviationWh;
        imbalanceCharged += a.charged;
        imbalancePaid += a.paid;
      }
    } catch (error) {
      problem ??= (error as Error).message;
    }

    // 6. Certificates for the renewable energy each household bought and received.
    let certificatesWh = 0n;
    if (problem === undefined) {
      const buyers = fills
        .map((l) => l.args as { owner: Address; side: number })
        .filter((a) => a.side === SIDE.bid && householdByAddress.has(a.owner.toLowerCase()));
      for (const buyer of buyers) {
        const hash = await chain.send(accounts.operator, market, marketAbi, "claimCertificates", [
          buyer.owner,
          intervalId,
          SOURCE.Solar,
        ]);
        const receipt = await chain.publicClient.getTransactionReceipt({ hash });
        for (const log of parseEventLogs({ abi: marketAbi, logs: receipt.logs }) as EventLog[])
          if (log.eventName === "CertificatesClaimed")
            certificatesWh += (log.args as { amountWh: bigint }).amountWh;
      }
    }

    // Gas of every transaction of this interval (agents', oracle nodes', claims).
    let gasUsed = 0n;
    const lastBlock = await chain.publicClient.getBlockNumber();
    for (let n = firstBlock; n <= lastBlock; n++)
      gasUsed += (await chain.publicClient.getBlock({ blockNumber: n })).gasUsed;

    const batterySocWh = Object.values(socWh).reduce((s, v) => s + v, 0);
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
      imbalanceCharged,
      imbalancePaid,
      householdPaid,
      householdReceived,
      noMarketCost,
      certificatesWh,
      gasUsed,
      final: problem === undefined,
      ...(problem === undefined ? {} : { problem }),
    };
    records.push(record);
    await parameters.onInterval?.(record, index);
    void token;
  }
  return records;
}
