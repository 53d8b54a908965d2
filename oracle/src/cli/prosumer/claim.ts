/**
 * `claim`: pull settlement of the account's own fill and imbalance with proofs from an oracle node,
 * and of the interval's flexibility steps (client actions). The order is the contract's: the buy
 * side first, then the steps (a charge pays into the interval, a discharge is paid from what the
 * buyers paid), then the sell side (paid out of both), then the imbalance (once every fill and
 * step is settled).
 */
import { type Hex, formatUnits } from "viem";
import { z } from "zod";
import {
  type FlexIntervalOutcome,
  ClientError,
  claimFill,
  decodeError,
  explainError,
  settleFlexSteps,
  settleImbalance,
} from "../../client/index.js";
import type { Context, Flags } from "./context.js";
import { CliError } from "../output.js";
import { fmt } from "./format.js";
import { freeBalance } from "./funds.js";
import { parse, uint } from "./parse.js";

type StepsResult =
  { intervals: FlexIntervalOutcome[] } | "none" | "settled" | "pending" | "closed" | "skipped";

/**
 * Settles the interval's flexibility steps (and earlier intervals' that block them). With
 * `required` (`--only steps`) every failure is the command's; otherwise what only has to wait — an
 * earlier interval not committed yet, buyers who have not paid for a discharge yet, a closed
 * interval — is reported and the claim goes on (the sell side may still settle, the imbalance
 * later).
 */
async function claimSteps(
  ctx: Context,
  target: { market: `0x${string}`; nodeUrl: string; intervalId: bigint },
  required: boolean,
): Promise<{ steps: StepsResult; reason?: string; line: string }> {
  try {
    const r = await settleFlexSteps(await ctx.signer(), target);
    if (r.status === "no steps")
      return { steps: "none", line: "no flexibility order is active in the interval" };
    if (r.status === "already settled")
      return { steps: "settled", line: "the interval's flexibility steps are already settled" };
    if (r.status === "closed") {
      if (required) throw new CliError(`steps: ${r.reason}`, 1, "FlexSettlementClosed");
      return { steps: "closed", reason: r.reason, line: `flexibility steps not settled: ${r.reason}` };
    }
    const line = r.intervals
      .map((i) =>
        i.outcome === "missed"
          ? `closed interval ${i.intervalId} as missed (${i.steps} flexibility order(s) idle; its meter deadline had passed)`
          : `settled the ${i.steps} flexibility step(s) of interval ${i.intervalId}: charges ${fmt(ctx, i.charged)} ${ctx.symbol} paid in, discharges ${fmt(ctx, i.paid)} ${ctx.symbol} paid out`,
      )
      .join("\n");
    return { steps: { intervals: [...r.intervals] }, line };
  } catch (error) {
    if (required) throw error;
    // A market without a flexibility market has no steps to settle.
    if (error instanceof ClientError && error.errorName === "NoFlexibilityMarket")
      return { steps: "none", line: "the market has no flexibility market" };
    const revert = decodeError(error);
    const waits =
      (error instanceof ClientError && error.errorName === "FlexIntervalPending") ||
      revert?.name === "BudgetExceeded";
    if (!waits) throw error;
    const reason =
      revert !== undefined
        ? `${explainError(revert, ctx)} (the interval's buyers have not paid enough yet for the batteries' discharges)`
        : (error as ClientError).message;
    return {
      steps: "pending",
      reason,
      line: `flexibility steps not settled: ${reason}; run claim again later`,
    };
  }
}

export async function claim(ctx: Context, flags: Flags) {
  const f = parse(
    z.object({
      "--interval": uint,
      "--node-url": z
        .string({ required_error: "is required (an oracle node's HTTP URL)" })
        .url("must be a URL"),
      "--only": z
        .enum(["fill", "imbalance", "steps"], {
          errorMap: () => ({ message: 'must be "fill", "imbalance" or "steps"' }),
        })
        .optional(),
    }),
    {
      "--interval": flags["interval"],
      "--node-url": flags["nodeUrl"] ?? process.env["GRIDBRAIN_NODE_URL"],
      "--only": flags["only"],
    },
  );
  const intervalId = f["--interval"];
  const target = { market: ctx.market, nodeUrl: f["--node-url"], intervalId };
  const transactions: Hex[] = [];
  const fills: { orderId: Hex; side: "bid" | "offer"; filledWh: bigint }[] = [];
  const lines: string[] = [];
  let imbalance: { injectedWh: bigint; consumedWh: bigint } | "settled" | "pending" | "skipped" = "skipped";
  let pendingReason = "";
  const flex: { steps: StepsResult; reason: string } = { steps: "skipped", reason: "" };
  const only = f["--only"];

  const steps = async (required: boolean) => {
    const r = await claimSteps(ctx, target, required);
    flex.steps = r.steps;
    flex.reason = r.reason ?? "";
    if (typeof r.steps === "object") for (const i of r.steps.intervals) transactions.push(i.transaction);
    lines.push(r.line);
  };

  if (only === "steps") await steps(true);
  if (only === undefined || only === "fill") {
    // Buy side first: the contract pays a seller only out of what the interval's buyers were charged
    // and, in an interval with flexibility steps, the batteries' charges (settled in between).
    for (const side of ["bid", "offer"] as const) {
      if (side === "offer") await steps(false);
      let claimed;
      try {
        claimed = await claimFill(await ctx.signer(), { ...target, side });
      } catch (error) {
        // A seller refused while the steps wait: say why, which the revert alone does not.
        const revert = decodeError(error);
        if (side === "offer" && flex.steps === "pending" && revert?.name === "BudgetExceeded")
          throw new CliError(
            `${explainError(revert, ctx)}: the sell side settles once the interval's flexibility steps do (${flex.reason})`,
            1,
            "BudgetExceeded",
          );
        throw error;
      }
      if (claimed.status !== "claimed") continue;
      transactions.push(claimed.transaction);
      fills.push({ orderId: claimed.orderId, side, filledWh: claimed.filledWh });
      lines.push(`claimed the ${side} fill ${claimed.orderId}: ${formatUnits(claimed.filledWh, 3)} kWh`);
    }
    if (fills.length === 0) lines.push(`no open fill in interval ${intervalId}`);
  }

  if (only === undefined || only === "imbalance") {
    const settled = await settleImbalance(await ctx.signer(), target);
    if (settled.status === "already settled") {
      imbalance = "settled";
      lines.push("the imbalance is already settled");
    } else if (settled.status === "pending") {
      if (only === "imbalance") throw new CliError(`imbalance: ${settled.reason}`);
      pendingReason = settled.reason;
      imbalance = "pending";
      lines.push(`imbalance not claimed: ${pendingReason}; run claim again later`);
    } else {
      transactions.push(settled.transaction);
      imbalance = { injectedWh: settled.injectedWh, consumedWh: settled.consumedWh };
      lines.push(
        `settled the imbalance: injected ${formatUnits(settled.injectedWh, 3)} kWh, consumed ${formatUnits(settled.consumedWh, 3)} kWh`,
      );
    }
  }
  const free = await freeBalance(ctx);
  lines.push(`free balance ${fmt(ctx, free)} ${ctx.symbol}`);
  return {
    result: {
      intervalId,
      fills,
      flexSteps: flex.steps,
      ...(flex.reason === "" ? {} : { flexStepsReason: flex.reason }),
      imbalance,
      ...(pendingReason === "" ? {} : { pendingReason }),
      freeBalance: free,
      transactions,
    },
    text: lines.join("\n"),
  };
}
