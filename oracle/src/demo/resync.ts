/**
 * Phase 0 of an interval, with `socResyncWh` set: battery owners re-synchronise the contract's
 * scheduled state of charge (domain/simulation/soc-resync.ts). Before the interval's gate closes,
 * each owner predicts its battery's SoC at the interval's start from its own meter (the SoC at the
 * end of the interval before the previous one, plus the previous interval's settled step); when the
 * prediction is more than `socResyncWh` off the SoC FlexibilityMarket holds, it changes its order to
 * an identical one that starts at this interval from the prediction (`changeFlexOrder`).
 *
 * The replacement locks the charging budget of the rest of the window; the old order's unspent budget
 * is refunded to the owner's FlexibilityMarket balance by the keeper once its last interval is settled.
 * The owner first withdraws that balance into its wallet and pays the new budget from it, minting only
 * what is missing (the demo's stand-in for the owner's own funds), so the closing conservation check
 * counts every token.
 */
import { flexibilityMarketAbi } from "../chain/abis.js";
import type { LedgerFlexStep } from "../domain/household-outcomes.js";
import { parseStrategyOptions, standingFlexOrder } from "../domain/simulation/index.js";
import { resyncSocWh } from "../domain/simulation/soc-resync.js";
import type { RunContext } from "./context.js";
import type { FlexResync } from "./interval-record.js";

/**
 * Re-synchronises every battery whose prediction for `intervalId` is more than the threshold off.
 * `meteredSocWh`: each battery's SoC at the end of interval `intervalId − 2` by household id;
 * `previousSteps`: the steps settled for `intervalId − 1`. Returns the tokens minted for budgets and
 * the changes made (in the order they were mined); a change that fails is reported as not done, and
 * the battery keeps its order.
 */
export async function resyncFlexOrders(
  context: RunContext,
  intervalId: bigint,
  meteredSocWh: Readonly<Record<string, number>>,
  previousSteps: readonly LedgerFlexStep[],
): Promise<{ minted: bigint; changed: FlexResync[] }> {
  const { chain, accounts, neighbourhood, timing, socResyncWh } = context.parameters;
  if (socResyncWh === undefined) return { minted: 0n, changed: [] };
  const options = parseStrategyOptions({
    retailPricePerKwh: context.parameters.retailPricePerKwh,
    feedInPricePerKwh: context.parameters.feedInPricePerKwh,
  });
  const stepOf = new Map(previousSteps.map((s) => [s.batteryId, s]));
  let minted = 0n;
  const changed: FlexResync[] = [];
  const results = await Promise.allSettled(
    context.batteries.map(async (b) => {
      const current = context.flexOrders.get(b.householdId);
      if (current === undefined || current.lastInterval < intervalId) return;
      const household = neighbourhood.households.find((h) => h.id === b.householdId)!;
      const step = stepOf.get(b.batteryId);
      const target = resyncSocWh({
        battery: household.battery!,
        meteredSocWh: meteredSocWh[b.householdId]!,
        ...(step === undefined
          ? {}
          : {
              committed: {
                direction: step.direction === 0 ? ("charge" as const) : ("discharge" as const),
                energyWh: Number(step.energyWh),
              },
            }),
        scheduledSocWh: context.scheduledSocWh[b.householdId]!,
        thresholdWh: socResyncWh,
        intervalSeconds: timing.intervalSeconds,
      });
      if (target === undefined) return;
      const account = accounts.households[household.index]!;
      const replacement = {
        owner: account.address,
        batteryId: b.batteryId,
        ...standingFlexOrder({
          household,
          options,
          firstInterval: intervalId,
          windowIntervals: Number(current.lastInterval - intervalId) + 1,
          intervalSeconds: timing.intervalSeconds,
          socWh: target,
        }),
        // An order's id is its hash: the interval it restarts at keeps every replacement distinct
        // from the window's first order (nonce = the window's number) and from one another.
        nonce: intervalId,
      };
      await fundBudget(context, account, replacement.chargeBudget, (wh) => (minted += wh));
      await chain.send(account, context.flexibilityMarket, flexibilityMarketAbi, "changeFlexOrder", [
        current,
        replacement,
      ]);
      context.flexOrders.set(b.householdId, replacement);
      context.scheduledSocWh[b.householdId] = target;
      changed.push({ batteryId: b.batteryId, initialSocWh: BigInt(target) });
    }),
  );
  results.forEach((result, i) => {
    if (result.status === "rejected")
      context.undone(
        intervalId,
        `re-synchronise the flexibility order of battery ${context.batteries[i]!.batteryId}`,
        result.reason,
      );
  });
  return { minted, changed };
}

/**
 * Puts `budget` in the owner's wallet and approves it to FlexibilityMarket: withdraws the owner's
 * FlexibilityMarket balance (refunds and discharge earnings) first and mints only the rest, reported
 * to `onMinted` once the mint is mined (the conservation check counts it whatever follows).
 */
async function fundBudget(
  context: RunContext,
  account: RunContext["parameters"]["accounts"]["households"][number],
  budget: bigint,
  onMinted: (tokens: bigint) => void,
): Promise<void> {
  const { chain } = context.parameters;
  const { token } = chain.addresses;
  const held = (await chain.publicClient.readContract({
    address: context.flexibilityMarket,
    abi: flexibilityMarketAbi,
    functionName: "balanceOf",
    args: [account.address],
  })) as bigint;
  if (held > 0n)
    await chain.send(account, context.flexibilityMarket, flexibilityMarketAbi, "withdraw", [
      held,
      account.address,
    ]);
  const wallet = (await chain.publicClient.readContract({
    address: token,
    abi: chain.abis.token,
    functionName: "balanceOf",
    args: [account.address],
  })) as bigint;
  const missing = budget > wallet ? budget - wallet : 0n;
  if (missing > 0n) {
    await chain.send(account, token, chain.abis.token, "mint", [account.address, missing]);
    onMinted(missing);
  }
  await chain.send(account, token, chain.abis.token, "approve", [context.flexibilityMarket, budget]);
}
