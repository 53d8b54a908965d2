/**
 * Phase 2 of an interval: past gate closure, the committee clears, commits and settles the
 * schedule; the demo waits for it on chain and reads the settled fills and the zone prices.
 */
import { advanceTo, intervalState, marketEvents, ofInterval, waitFor, type EventLog } from "./chain-reads.js";
import type { RunContext } from "./context.js";

export interface Clearing {
  /** The interval's FillSettled events. */
  readonly fills: readonly EventLog[];
  readonly zonePrices: readonly bigint[];
  /** Why the interval was not scheduled and settled in time; then fills and prices are empty. */
  readonly problem: string | undefined;
}

export async function awaitClearing(
  context: RunContext,
  intervalId: bigint,
  gateClosure: number,
  firstBlock: bigint,
): Promise<Clearing> {
  const { chain, stepTimeoutMs } = context.parameters;
  await advanceTo(chain, gateClosure + 1);
  try {
    await waitFor(`interval ${intervalId} scheduled and settled`, stepTimeoutMs, async () => {
      const state = await intervalState(chain, intervalId);
      return state.scheduled && state.settledCount === state.fillCount ? state : undefined;
    });
    const events = await marketEvents(chain, firstBlock);
    const committed = ofInterval(events, "ScheduleCommitted", intervalId)[0];
    return {
      fills: ofInterval(events, "FillSettled", intervalId),
      zonePrices:
        committed === undefined ? [] : (committed.args as { zonePrices: readonly bigint[] }).zonePrices,
      problem: undefined,
    };
  } catch (error) {
    return { fills: [], zonePrices: [], problem: (error as Error).message };
  }
}
