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
import type { ActiveFlexOrder, FlexOrderOnChain, FlexOrderStateAt } from "../domain/flexibility/index.js";
import { energyMarketAbi, flexibilityMarketAbi, gridRegistryAbi } from "./abis.js";
import {
  DEFAULT_FLEX_REORG_DEPTH,
  type FlexLogClient,
  type FlexLogReader,
  flexLogReader,
} from "./flex-log-reader.js";

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

export type { FlexOrderOnChain } from "../domain/flexibility/index.js";

/**
 * Every order placed on the flexibility market since `fromBlock`, with its last active interval
 * (FlexOrderPlaced and FlexOrderEnded), in the order placed. What the keeper reads to find the
 * intervals to close and the orders to refund. Through the client's cached reader
 * (chain/flex-log-reader.ts): only the blocks after its fold are read.
 */
export async function readFlexOrders(
  client: FlexLogClient,
  flexibilityMarket: Address,
  fromBlock: bigint,
  reorgDepth: bigint = DEFAULT_FLEX_REORG_DEPTH,
): Promise<FlexOrderOnChain[]> {
  return flexLogReader(client, flexibilityMarket, fromBlock).read(reorgDepth, ({ index, tail }) =>
    index.orders(tail),
  );
}

/**
 * The events' part of `readActiveFlexOrders` on `reader`: the orders active in `intervalId` with
 * the steps of intervals before `before`. Below the reader's fold horizon (an interval more than
 * its retained intervals older than the newest asked) the events are read afresh; otherwise the
 * fold answers and its horizon follows `before`.
 */
export async function flexStatesAt(
  reader: FlexLogReader,
  intervalId: bigint,
  before: bigint,
  reorgDepth: bigint,
): Promise<FlexOrderStateAt[]> {
  const cached = await reader.read(reorgDepth, ({ index, tail }) => {
    const horizon = index.horizon;
    if (horizon !== undefined && before < horizon) return undefined;
    const states = index.activeAt(intervalId, before, tail);
    index.advance(before);
    return states;
  });
  return cached ?? reader.readFresh(({ index, tail }) => index.activeAt(intervalId, before, tail));
}

/**
 * The orders active in `intervalId` with their state at its start (see the file comment), in
 * ascending battery id (the order the contract settles steps in). With `settledBefore` (the
 * market's cursor as read before this call) only the steps of intervals before it count: a step
 * settled after that read is one the caller applies from its own pending list, not twice.
 *
 * The events come from the client's cached reader (chain/flex-log-reader.ts), which reads only the
 * blocks after its fold; for an interval older than the fold keeps (log-index.ts, the horizon) they
 * are read afresh from `fromBlock`. Either way the answer is the full read's.
 */
export async function readActiveFlexOrders(
  client: PublicClient,
  addresses: { flexibilityMarket: Address; registry: Address },
  intervalId: bigint,
  fromBlock: bigint,
  options: { readonly settledBefore?: bigint | undefined; readonly reorgDepth?: bigint | undefined } = {},
): Promise<ActiveFlexOrder[]> {
  const settledBefore = options.settledBefore;
  const before = settledBefore !== undefined && settledBefore < intervalId ? settledBefore : intervalId;
  const active = await flexStatesAt(
    flexLogReader(client, addresses.flexibilityMarket, fromBlock),
    intervalId,
    before,
    options.reorgDepth ?? DEFAULT_FLEX_REORG_DEPTH,
  );

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
    const b = batteries[k]!;
    return {
      orderId: a.orderId,
      order: a.order,
      spent: a.spent,
      socWh: a.socWh,
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
