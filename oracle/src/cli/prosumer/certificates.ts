/** `certificates` and `retire`: the energy certificates (ERC-1155, 1 unit = 1 Wh) the account holds. */
import { type Address, formatUnits } from "viem";
import { z } from "zod";
import { energyMarketAbi } from "../../chain/abis.js";
import { sourceLabel } from "../../domain/energy-source.js";
import { certificateAbi } from "./abi.js";
import type { Context, Flags } from "./context.js";
import { CliError } from "./errors.js";
import { address, decimal, parse, toBaseUnits, uint } from "./parse.js";

export async function certificatesAddress(ctx: Context): Promise<Address> {
  return ctx.client.readContract({ address: ctx.market, abi: energyMarketAbi, functionName: "certificates" });
}

export async function certificates(ctx: Context) {
  const cert = await certificatesAddress(ctx);
  const range = { address: cert, abi: certificateAbi, fromBlock: ctx.fromBlock, toBlock: "latest" as const };
  const [single, batch] = await Promise.all([
    ctx.client.getContractEvents({ ...range, eventName: "TransferSingle", args: { to: ctx.me } }),
    ctx.client.getContractEvents({ ...range, eventName: "TransferBatch", args: { to: ctx.me } }),
  ]);
  const ids = new Set<bigint>([...single.map((e) => e.args.id!), ...batch.flatMap((e) => [...e.args.ids!])]);
  const held = [];
  for (const id of [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const amountWh = await ctx.client.readContract({
      address: cert,
      abi: certificateAbi,
      functionName: "balanceOf",
      args: [ctx.me, id],
    });
    const source = Number(id & 0xffn);
    held.push({ id, intervalId: id >> 8n, source: sourceLabel(source), amountWh });
  }
  return {
    result: { account: ctx.me, certificates: held },
    text:
      held.length === 0
        ? "no certificates"
        : held
            .map((c) => `${c.id}: interval ${c.intervalId}, ${c.source}, ${formatUnits(c.amountWh, 3)} kWh`)
            .join("\n"),
  };
}

export async function retire(ctx: Context, idText: string, kwhText: string, flags: Flags) {
  const f = parse(
    z.object({ id: uint, kWh: decimal, "--beneficiary": address, "--claim": z.string().default("") }),
    { id: idText, kWh: kwhText, "--beneficiary": flags["beneficiary"], "--claim": flags["claim"] },
  );
  const amountWh = toBaseUnits(f.kWh, 3, "kWh");
  if (amountWh === 0n) throw new CliError("kWh: must be greater than zero", 2);
  const cert = await certificatesAddress(ctx);
  const { send } = await ctx.signer();
  const hash = await send({
    address: cert,
    abi: certificateAbi,
    functionName: "retire",
    args: [f.id, amountWh, f["--beneficiary"], f["--claim"]],
  });
  return {
    result: { id: f.id, amountWh, beneficiary: f["--beneficiary"], transactions: [hash] },
    text: `retired ${f.kWh} kWh of certificate ${f.id} for ${f["--beneficiary"]}`,
  };
}
