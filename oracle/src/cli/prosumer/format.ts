/** Token amounts in the prosumer commands' output, in token units (`--json` documents: ../output.ts). */
import { formatUnits } from "viem";
import type { TokenUnits } from "../../client/index.js";

export function fmt(ctx: Pick<TokenUnits, "decimals">, v: bigint): string {
  return formatUnits(v, ctx.decimals);
}
