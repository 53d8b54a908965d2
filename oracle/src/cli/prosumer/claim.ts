/** `claim`: pull settlement of the account's own fill and imbalance with proofs from an oracle node. */
import { type Address, type Hex, formatUnits } from "viem";
import { z } from "zod";
import { energyMarketAbi } from "../../chain/abis.js";
import { Side, orderSide } from "../../domain/eip712.js";
import { formatIssues } from "../../domain/errors.js";
import { meterProofMessage } from "../../domain/proof-request.js";
import { FillProofResponseSchema, MeterProofResponseSchema } from "../../infra/proofs.js";
import type { Context, Flags } from "./context.js";
import { CliError } from "./errors.js";
import { fmt } from "./format.js";
import { freeBalance } from "./funds.js";
import { parse, uint } from "./parse.js";

/** How long a signed meter-proof request stays valid (the node accepts at most 600 s). */
const CLAIM_REQUEST_TTL_SECONDS = 120n;

/** GETs `path` from the node and validates the answer; a 4xx/5xx becomes a CliError with the node's reason. */
async function fromNode<S extends z.ZodTypeAny>(
  nodeUrl: string,
  path: string,
  schema: S,
): Promise<z.output<S>> {
  let res: Response;
  try {
    res = await fetch(new URL(path, nodeUrl), { signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new CliError(`--node-url: no answer from ${nodeUrl} (${(error as Error).message})`);
  }
  const body = (await res.json().catch(() => undefined)) as { error?: unknown } | undefined;
  if (!res.ok)
    throw new CliError(`node ${nodeUrl} answered ${res.status}: ${String(body?.error ?? res.statusText)}`);
  const parsed = schema.safeParse(body);
  if (!parsed.success)
    throw new CliError(
      `node ${nodeUrl} answered an unexpected document: ${formatIssues(parsed.error.issues)}`,
    );
  return parsed.data as z.output<S>;
}

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
  const nodeUrl = f["--node-url"].endsWith("/") ? f["--node-url"] : `${f["--node-url"]}/`;
  const read = <T>(functionName: string, args: readonly unknown[]) =>
    ctx.client.readContract({
      address: ctx.market,
      abi: energyMarketAbi,
      functionName: functionName as "position",
      args: args as [Address, bigint, number],
    }) as Promise<T>;
  const transactions: Hex[] = [];
  const fills: { orderId: Hex; side: "bid" | "offer"; filledWh: bigint }[] = [];
  const lines: string[] = [];
  let imbalance: { injectedWh: bigint; consumedWh: bigint } | "settled" | "pending" | "skipped" = "skipped";
  let pendingReason = "";

  if (f["--only"] !== "imbalance") {
    // Buy side first: the contract pays a seller only out of what the interval's buyers were charged.
    for (const side of [Side.Buy, Side.Sell]) {
      // The slot holds the order id while the fill is open, a settled record (flag | filledWh) after.
      const [slot, [settled]] = await Promise.all([
        read<Hex>("position", [ctx.me, intervalId, side]),
        read<readonly [boolean, bigint]>("settledFill", [ctx.me, intervalId, side]),
      ]);
      if (settled || /^0x0{64}$/.test(slot)) continue;
      const p = await fromNode(nodeUrl, `proofs/${intervalId}/fills/${slot}`, FillProofResponseSchema);
      const o = p.leaf.order;
      const { send } = await ctx.signer();
      transactions.push(
        await send({
          address: ctx.market,
          abi: energyMarketAbi,
          functionName: "claimFill",
          args: [
            p.scheduleRoot,
            p.zonePrices.map(BigInt),
            {
              order: {
                owner: o.owner,
                intervalId: BigInt(o.intervalId),
                side: o.side,
                zoneId: o.zoneId,
                quantityWh: BigInt(o.quantityWh),
                limitPricePerKwh: BigInt(o.limitPricePerKwh),
                nonce: BigInt(o.nonce),
              },
              filledWh: BigInt(p.leaf.filledWh),
            },
            p.proof,
          ],
        }),
      );
      const sideName = orderSide(side);
      fills.push({ orderId: slot, side: sideName, filledWh: BigInt(p.leaf.filledWh) });
      lines.push(`claimed the ${sideName} fill ${slot}: ${formatUnits(BigInt(p.leaf.filledWh), 3)} kWh`);
    }
    if (fills.length === 0) lines.push(`no open fill in interval ${intervalId}`);
  }

  if (f["--only"] !== "fill") {
    const state = (await ctx.client.readContract({
      address: ctx.market,
      abi: energyMarketAbi,
      functionName: "intervalState",
      args: [intervalId],
    })) as { meterRoot: Hex; fillCount: number | bigint; settledCount: number | bigint };
    if (await read<boolean>("imbalanceSettled", [ctx.me, intervalId])) {
      imbalance = "settled";
      lines.push("the imbalance is already settled");
    } else if (/^0x0{64}$/.test(state.meterRoot)) {
      pendingReason = `interval ${intervalId} has no committed meter report yet`;
    } else if (BigInt(state.settledCount) < BigInt(state.fillCount)) {
      pendingReason = `the imbalance settles once every fill of the interval has (${state.settledCount}/${state.fillCount} settled)`;
    } else {
      const { account, send } = await ctx.signer();
      const expiry = BigInt(Math.floor(Date.now() / 1000)) + CLAIM_REQUEST_TTL_SECONDS;
      const chainId = await ctx.client.getChainId();
      const signature = await account.signMessage({
        message: meterProofMessage({ market: ctx.market, chainId, intervalId, participant: ctx.me, expiry }),
      });
      const p = await fromNode(
        nodeUrl,
        `proofs/${intervalId}/meter/${ctx.me}?expiry=${expiry}&signature=${signature}`,
        MeterProofResponseSchema,
      );
      const injectedWh = BigInt(p.leaf.injectedWh);
      const consumedWh = BigInt(p.leaf.consumedWh);
      transactions.push(
        await send({
          address: ctx.market,
          abi: energyMarketAbi,
          functionName: "settleImbalance",
          args: [ctx.me, intervalId, injectedWh, consumedWh, p.proof],
        }),
      );
      imbalance = { injectedWh, consumedWh };
      lines.push(
        `settled the imbalance: injected ${formatUnits(injectedWh, 3)} kWh, consumed ${formatUnits(consumedWh, 3)} kWh`,
      );
    }
    if (pendingReason !== "") {
      if (f["--only"] === "imbalance") throw new CliError(`imbalance: ${pendingReason}`);
      imbalance = "pending";
      lines.push(`imbalance not claimed: ${pendingReason}; run claim again later`);
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
