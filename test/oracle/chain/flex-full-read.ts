/**
 * The full read the incremental reader replaces (chain/flexibility.ts before issue 14's follow-up),
 * kept verbatim as the reference the tests and the bench compare against: FlexOrderPlaced,
 * FlexOrderEnded and FlexStepSettled from `fromBlock` to latest on every call, one getLogs each.
 */
import type { Address, Hex, PublicClient } from "viem";
import { flexibilityMarketAbi } from "../../../oracle/src/chain/abis.js";
import { flexOrderFields } from "../../../oracle/src/domain/eip712.js";
import { flexEndInterval } from "../../../oracle/src/domain/flex-keeper.js";
import type { FlexOrderOnChain, FlexOrderStateAt } from "../../../oracle/src/domain/flexibility/index.js";

const placedEvent = flexibilityMarketAbi.find((x) => x.type === "event" && x.name === "FlexOrderPlaced")!;
const endedEvent = flexibilityMarketAbi.find((x) => x.type === "event" && x.name === "FlexOrderEnded")!;
const stepEvent = flexibilityMarketAbi.find((x) => x.type === "event" && x.name === "FlexStepSettled")!;

export type FullReadClient = Pick<PublicClient, "getLogs">;

export interface FullRead {
  readonly orders: FlexOrderOnChain[];
  /** The old readActiveFlexOrders without the registry read: the orders active in `intervalId`. */
  activeAt(intervalId: bigint, before: bigint): FlexOrderStateAt[];
}

/** One full read (three getLogs from `fromBlock` to latest), queried as the old code did. */
export async function fullRead(
  client: FullReadClient,
  flexibilityMarket: Address,
  fromBlock: bigint,
): Promise<FullRead> {
  const range = { fromBlock, toBlock: "latest" as const };
  const address = flexibilityMarket;
  const [placedLogs, endedLogs, stepLogs] = await Promise.all([
    client.getLogs({ address, event: placedEvent, ...range, strict: true }),
    client.getLogs({ address, event: endedEvent, ...range, strict: true }),
    client.getLogs({ address, event: stepEvent, ...range, strict: true }),
  ]);
  const ended = new Map<string, bigint>();
  for (const log of endedLogs) {
    const id = log.args.orderId.toLowerCase();
    const previous = ended.get(id);
    ended.set(
      id,
      previous === undefined || log.args.endInterval < previous ? log.args.endInterval : previous,
    );
  }
  const orders = placedLogs.map((log) => {
    const order = flexOrderFields(log.args.order);
    const endInterval = flexEndInterval(order.lastInterval, ended.get(log.args.orderId.toLowerCase()));
    return { orderId: log.args.orderId.toLowerCase() as Hex, order, endInterval };
  });
  return {
    orders,
    activeAt(intervalId, before) {
      const active = orders
        .filter((o) => o.order.firstInterval <= intervalId && intervalId <= o.endInterval)
        .sort((a, b) => a.order.batteryId - b.order.batteryId);
      return active.map((a) => {
        const earlier = stepLogs.filter((l) => l.args.intervalId < before);
        const ownSteps = earlier.filter((l) => l.args.orderId.toLowerCase() === a.orderId);
        const spent = ownSteps
          .filter((l) => l.args.direction === 0)
          .reduce((sum, l) => sum + l.args.amount, 0n);
        let last: (typeof earlier)[number] | undefined;
        for (const l of earlier)
          if (
            l.args.batteryId === a.order.batteryId &&
            l.args.intervalId >= a.order.firstInterval &&
            (last === undefined || l.args.intervalId > last.args.intervalId)
          )
            last = l;
        return { ...a, spent, socWh: last === undefined ? a.order.initialSocWh : last.args.socWh };
      });
    },
  };
}
