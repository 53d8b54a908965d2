/** `claim`: pull settlement of the account's own fill and imbalance with proofs from an oracle node (client actions). */
import { type Hex, formatUnits } from "viem";
import { z } from "zod";
import { claimFill, settleImbalance } from "../../client/index.js";
import type { Context, Flags } from "./context.js";
import { CliError } from "../output.js";
import { fmt } from "./format.js";
import { freeBalance } from "./funds.js";
import { parse, uint } from "./parse.js";

export async function claim(ctx: Context, flags: Flags) {
  const f = parse(
    z.object({
      "--interval": uint,
      "--node-url": z
        .string({ required_error: "is required (an oracle node's HTTP URL)" })
        .url("must be a URL"),
      "--only": z.enum(["fill", "imbalance"]).optional(),
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

  if (f["--only"] !== "imbalance") {
    // Buy side first: the contract pays a seller only out of what the interval's buyers were charged.
    for (const side of ["bid", "offer"] as const) {
      const claimed = await claimFill(await ctx.signer(), { ...target, side });
      if (claimed.status !== "claimed") continue;
      transactions.push(claimed.transaction);
      fills.push({ orderId: claimed.orderId, side, filledWh: claimed.filledWh });
      lines.push(`claimed the ${side} fill ${claimed.orderId}: ${formatUnits(claimed.filledWh, 3)} kWh`);
    }
    if (fills.length === 0) lines.push(`no open fill in interval ${intervalId}`);
  }

  if (f["--only"] !== "fill") {
    const settled = await settleImbalance(await ctx.signer(), target);
    if (settled.status === "already settled") {
      imbalance = "settled";
      lines.push("the imbalance is already settled");
    } else if (settled.status === "pending") {
      if (f["--only"] === "imbalance") throw new CliError(`imbalance: ${settled.reason}`);
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
      imbalance,
      ...(pendingReason === "" ? {} : { pendingReason }),
      freeBalance: free,
      transactions,
    },
    text: lines.join("\n"),
  };
}
