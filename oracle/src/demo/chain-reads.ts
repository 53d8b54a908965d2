/**
 * The demo's view of the chain: its clock (read and moved forward), the market's interval state,
 * the market's events, and waiting for the committee to make a condition true.
 */
import { parseEventLogs, type Hex } from "viem";
import type { DemoChain } from "./world.js";

export type EventLog = { eventName: string; args: unknown };

export async function chainNow(chain: DemoChain): Promise<number> {
  const block = await chain.publicClient.getBlock({ blockTag: "latest" });
  return Number(block.timestamp);
}

/** Moves chain time forward to `unix` (never backwards) and mines a block there. */
export async function advanceTo(chain: DemoChain, unix: number): Promise<void> {
  if ((await chainNow(chain)) >= unix) return;
  await chain.publicClient.request({ method: "evm_setNextBlockTimestamp" as never, params: [unix] as never });
  await chain.publicClient.request({ method: "evm_mine" as never, params: [] as never });
}

export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
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

export interface IntervalStateView {
  scheduled: boolean;
  fillCount: number;
  settledCount: number;
  meterRoot: Hex;
}

export async function intervalState(chain: DemoChain, intervalId: bigint): Promise<IntervalStateView> {
  return (await chain.publicClient.readContract({
    address: chain.addresses.market,
    abi: chain.abis.market,
    functionName: "intervalState",
    args: [intervalId],
  })) as IntervalStateView;
}

/** Every market event since `fromBlock`, decoded. */
export async function marketEvents(chain: DemoChain, fromBlock: bigint): Promise<EventLog[]> {
  const logs = await chain.publicClient.getLogs({ address: chain.addresses.market, fromBlock });
  return parseEventLogs({ abi: chain.abis.market, logs }) as EventLog[];
}

/** The events named `eventName` that belong to interval `intervalId`. */
export function ofInterval(events: readonly EventLog[], eventName: string, intervalId: bigint): EventLog[] {
  return events.filter(
    (l) => l.eventName === eventName && (l.args as { intervalId: bigint }).intervalId === intervalId,
  );
}
