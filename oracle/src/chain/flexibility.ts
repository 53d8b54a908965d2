/**
 * The flexibility orders of one interval as the committee schedules them, read from the chain
 * alone (FlexibilityMarket's events and the registry's batteries), so every node and
 * `gridbrain verify` build the same input:
 *
 * - the orders active in interval i: placed (`FlexOrderPlaced`), first ≤ i ≤ end, where end is the
 *   order's lastInterval or, after a cancel or change, the `FlexOrderEnded` interval;
 * - each order's state at the START of i, from the settled steps of earlier intervals
 *   (`FlexStepSettled`): what it has spent of its budget, and the battery's scheduled state of
 *   charge (the socWh of the battery's last settled step at or after the order's first interval,
 *   else the order's initialSocWh — the contract's rule);
 * - the battery as registered now (null when removed: a zero owner).
 *
 * Because the state comes from events of intervals before i, the same reader serves a later
 * `verify` and the live pipeline. The pipeline does not wait for every earlier interval to settle:
 * it reads only the steps settled before the market's cursor (`settledBefore`) and applies the
 * steps of the intervals committed but not settled yet from the schedules it stored
 * (domain/flexibility/pending.ts `flexStateAtStart`, jobs/schedule.ts).
 */
import { type Address, type Hex, type PublicClient, getAddress, zeroAddress } from "viem";
import type { ActiveFlexOrder, FlexOrderFields } from "../domain/flexibility/index.js";
import { flexOrderFields } from "../domain/eip712.js";
import { flexEndInterval } from "../domain/flex-keeper.js";
import { energyMarketAbi, flexibilityMarketAbi, gridRegistryAbi } from "./abis.js";

const placedEvent = flexibilityMarketAbi.find((x) => x.type === "event" && x.name === "FlexOrderPlaced")!;
const endedEvent = flexibilityMarketAbi.find((x) => x.type === "event" && x.name === "FlexOrderEnded")!;
const stepEvent = flexibilityMarketAbi.find((x) => x.type === "event" && x.name === "FlexStepSettled")!;

/**
 * Flexibility markets already read, per client and market. EnergyMarket sets its flexibility
 * market once (`setFlexibilityMarket`), so a non-zero answer never changes; the scheduler's tick,
 * collect and settle then do not read it again. A zero answer is not kept: it may still be set.
 */
const knownFlexibilityMarkets = new WeakMap<PublicClient, Map<Address, Address>>();

/** The flexibility market the EnergyMarket settles with (zero address: none set). */
export async function readFlexibilityMarket(client: PublicClient, market: Address): Promise<Address> {
  let known = knownFlexibilityMarkets.get(client);
  const cached = known?.get(market);
  if (cached !== undefined) return cached;
  const address = getAddress(
    await client.readContract({ address: market, abi: energyMarketAbi, functionName: "flexibilityMarket" }),
  );
  if (address !== zeroAddress) {
    if (known === undefined) knownFlexibilityMarkets.set(client, (known = new Map()));
    known.set(market, address);
  }
  return address;
}

/** Every interval before the returned one has its steps settled, missed or had no active order. */
export async function flexSettledThrough(client: PublicClient, flexibilityMarket: Address): Promise<bigint> {
  return client.readContract({
    address: flexibilityMarket,
    abi: flexibilityMarketAbi,
    functionName: "nextInterval",
  });
}

/** An order as the events give it: its fields, id and last active interval (see `flexEndInterval`). */
export interface FlexOrderOnChain {
  readonly orderId: Hex;
  readonly order: FlexOrderFields;
  readonly endInterval: bigint;
}

/**
 * Every order placed on the flexibility market since `fromBlock`, with its last active interval
 * (FlexOrderPlaced and FlexOrderEnded), in the order placed. What the keeper reads to find the
 * intervals to close and the orders to refund.
 */
export async function readFlexOrders(
  client: PublicClient,
  flexibilityMarket: Address,
  fromBlock: bigint,
): Promise<FlexOrderOnChain[]> {
  const range = { fromBlock, toBlock: "latest" as const };
  const [placedLogs, endedLogs] = await Promise.all([
    client.getLogs({ address: flexibilityMarket, event: placedEvent, ...range, strict: true }),
    client.getLogs({ address: flexibilityMarket, event: endedEvent, ...range, strict: true }),
  ]);
  return ordersFromLogs(placedLogs, endedLogs);
}

type PlacedLog = { args: { orderId: Hex; order: FlexOrderFields } };
type EndedLog = { args: { orderId: Hex; endInterval: bigint } };

/** Placed orders with the end their FlexOrderEnded events give them. */
function ordersFromLogs(
  placedLogs: readonly PlacedLog[],
  endedLogs: readonly EndedLog[],
): FlexOrderOnChain[] {
  const ended = new Map<string, bigint>();
  for (const log of endedLogs) {
    const id = log.args.orderId.toLowerCase();
    const previous = ended.get(id);
    // An order ends once; were it logged twice, the earlier end is the binding one.
    ended.set(
      id,
      previous === undefined || log.args.endInterval < previous ? log.args.endInterval : previous,
    );
  }
  return placedLogs.map((log) => {
    const o = log.args.order;
    const order = flexOrderFields(o);
    const endInterval = flexEndInterval(order.lastInterval, ended.get(log.args.orderId.toLowerCase()));
    return { orderId: log.args.orderId.toLowerCase() as Hex, order, endInterval };
  });
}

/**
 * The orders active in `intervalId` with their state at its start (see the file comment), in
 * ascending battery id (the order the contract settles steps in). With `settledBefore` (the
 * market's cursor as read before this call) only the steps of intervals before it count: a step
 * settled after that read is one the caller applies from its own pending list, not twice.
 */
export async function readActiveFlexOrders(
  client: PublicClient,
  addresses: { flexibilityMarket: Address; registry: Address },
  intervalId: bigint,
  fromBlock: bigint,
  toBlock?: bigint,
  settledBefore?: bigint,
): Promise<ActiveFlexOrder[]> {
  const before = settledBefore !== undefined && settledBefore < intervalId ? settledBefore : intervalId;
  const range = { fromBlock, ...(toBlock === undefined ? { toBlock: "latest" as const } : { toBlock }) };
  const address = addresses.flexibilityMarket;
  const [placedLogs, endedLogs, stepLogs] = await Promise.all([
    client.getLogs({ address, event: placedEvent, ...range, strict: true }),
    client.getLogs({ address, event: endedEvent, ...range, strict: true }),
    client.getLogs({ address, event: stepEvent, ...range, strict: true }),
  ]);
  const active = ordersFromLogs(placedLogs, endedLogs)
    .filter((o) => o.order.firstInterval <= intervalId && intervalId <= o.endInterval)
    .sort((a, b) => a.order.batteryId - b.order.batteryId);

  const batteries = await Promise.all(
    active.map((a) =>
      client.readContract({
        address: addresses.registry,
        abi: gridRegistryAbi,
        functionName: "battery",
        args: [a.order.batteryId],
      }),
    ),
  );
  return active.map((a, k): ActiveFlexOrder => {
    const earlier = stepLogs.filter((l) => l.args.intervalId < before);
    const ownSteps = earlier.filter((l) => l.args.orderId.toLowerCase() === a.orderId);
    const spent = ownSteps.filter((l) => l.args.direction === 0).reduce((sum, l) => sum + l.args.amount, 0n);
    // The battery's last settled step since this order began (any order of the battery: a change
    // continues the same battery), else the order's declared starting state.
    let last: (typeof earlier)[number] | undefined;
    for (const l of earlier)
      if (
        l.args.batteryId === a.order.batteryId &&
        l.args.intervalId >= a.order.firstInterval &&
        (last === undefined || l.args.intervalId > last.args.intervalId)
      )
        last = l;
    const b = batteries[k]!;
    return {
      orderId: a.orderId,
      order: a.order,
      spent,
      socWh: last === undefined ? a.order.initialSocWh : last.args.socWh,
      battery:
        b.owner === zeroAddress
          ? null
          : {
              owner: getAddress(b.owner),
              zoneId: b.zoneId,
              capacityWh: b.capacityWh,
              maxChargeW: b.maxChargeW,
              maxDischargeW: b.maxDischargeW,
              chargeEfficiencyBps: b.chargeEfficiencyBps,
              dischargeEfficiencyBps: b.dischargeEfficiencyBps,
              minSocWh: b.minSocWh,
              maxSocWh: b.maxSocWh,
            },
    };
  });
}
