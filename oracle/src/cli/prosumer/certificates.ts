/** `certificates` and `retire`: the energy certificates (ERC-1155, 1 unit = 1 Wh) the account holds (client actions). */
import { formatUnits } from "viem";
import { z } from "zod";
import {
  parsePositiveAmount,
  readCertificates,
  retireCertificate,
  KWH_DECIMALS,
} from "../../client/index.js";
import type { Context, Flags } from "./context.js";
import { address, decimal, parse, uint } from "./parse.js";

export async function certificates(ctx: Context) {
  const { held } = await readCertificates(ctx.client, {
    market: ctx.market,
    account: ctx.me,
    fromBlock: ctx.fromBlock,
  });
  return {
    result: {
      account: ctx.me,
      certificates: held.map((c) => ({
        id: c.id,
        intervalId: c.intervalId,
        source: c.source,
        amountWh: c.amountWh,
      })),
    },
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
  const amountWh = parsePositiveAmount(f.kWh, KWH_DECIMALS, "kWh");
  const { transaction } = await retireCertificate(await ctx.signer(), {
    market: ctx.market,
    id: f.id,
    amountWh,
    beneficiary: f["--beneficiary"],
    claimData: f["--claim"],
  });
  return {
    result: { id: f.id, amountWh, beneficiary: f["--beneficiary"], transactions: [transaction] },
    text: `retired ${f.kWh} kWh of certificate ${f.id} for ${f["--beneficiary"]}`,
  };
}
