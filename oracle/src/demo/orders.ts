/**
 * Phase 1 of an interval: every agent places its orders, from forecasts, just before gate closure.
 * Households trade only their own PV and load: their batteries take part through standing
 * flexibility orders (flexibility.ts), which the committee schedules, not per-interval orders.
 */
import type { HDAccount } from "viem/accounts";
import { placeOrders, type IntervalSimulation, type StrategyOrder } from "../domain/simulation/index.js";
import { placeOrder } from "../client/index.js";
import { sideCode } from "../domain/eip712.js";
import { advanceTo } from "./chain-reads.js";
import type { RunContext } from "./context.js";

export interface PlacedOrders {
  /** The orders the agents wanted, one per owner and side; some may have failed to be placed. */
  readonly wanted: readonly StrategyOrder[];
  /** What each order is for, by `<lower-case owner>/<side code>`. */
  readonly purposeBySlot: ReadonlyMap<string, StrategyOrder["purpose"]>;
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

/** Moves chain time to just before gate closure and places every agent's orders for `sim`'s interval. */
export async function placeIntervalOrders(
  context: RunContext,
  sim: IntervalSimulation,
): Promise<PlacedOrders> {
  const { chain, accounts, neighbourhood, timing } = context.parameters;
  const intervalId = BigInt(sim.intervalId);
  await advanceTo(chain, sim.startUnix - timing.gateClosureSeconds - 120);
  const wanted = oneOrderPerSide(
    placeOrders({
      neighbourhood,
      interval: sim,
      socWh: context.socWh,
      options: {
        retailPricePerKwh: context.parameters.retailPricePerKwh,
        feedInPricePerKwh: context.parameters.feedInPricePerKwh,
        batteryOrders: false,
        ...context.parameters.hedge,
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
      // Nonce 0: one order per owner, interval and side (oneOrderPerSide), so ids stay distinct
      // and the same from run to run.
      return placeOrder(chain.clientsOf(account), {
        market: chain.addresses.market,
        side: order.side,
        intervalId,
        zoneId: order.zone,
        quantityWh: BigInt(order.quantityWh),
        limitPricePerKwh: BigInt(order.limitPricePerKwh),
        nonce: 0n,
      });
    }),
  );
  // An order that could not be placed (e.g. the chain stalled past gate closure) is left out;
  // the interval clears without it.
  placed.forEach((result, i) => {
    if (result.status === "rejected")
      context.undone(intervalId, `place ${wanted[i]!.side} of ${wanted[i]!.owner}`, result.reason);
  });
  return { wanted, purposeBySlot };
}
