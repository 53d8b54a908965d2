/** Output of the prosumer commands: token amounts in token units and `--json` documents. */
import { formatUnits } from "viem";
import type { TokenUnits } from "../../client/index.js";

/** JSON with bigints as decimal strings, indented for reading. */
export const jsonText = (value: unknown) =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);

export function fmt(ctx: Pick<TokenUnits, "decimals">, v: bigint): string {
  return formatUnits(v, ctx.decimals);
}
