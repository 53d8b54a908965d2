/** Output of the prosumer commands: token amounts in token units and `--json` documents. */
import { formatUnits } from "viem";

/** What formatting a token amount needs from the connected market. */
export interface TokenUnits {
  readonly decimals: number;
  readonly symbol: string;
}

/** JSON with bigints as decimal strings, indented for reading. */
export const jsonText = (value: unknown) =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);

export function fmt(ctx: Pick<TokenUnits, "decimals">, v: bigint): string {
  return formatUnits(v, ctx.decimals);
}
