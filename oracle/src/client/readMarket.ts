/**
 * `readMarket`: what a caller needs once per market: its token (address, decimals, symbol), the
 * offer collateral rate, the interval length and gate closure lead, and the certificate contract.
 */
import type { Address, PublicClient } from "viem";
import { energyMarketAbi, testTokenAbi } from "../chain/abis.js";

export interface ReadMarketParameters {
  readonly market: Address;
}

export interface ReadMarketReturnType {
  readonly token: Address;
  readonly decimals: number;
  /** The token's symbol, or "tokens" when it has none. */
  readonly symbol: string;
  /** Token base units locked per kWh of any order (the imbalance collateral). */
  readonly collateralPerKwh: bigint;
  readonly intervalSeconds: bigint;
  /** Orders for an interval close this many seconds before it starts. */
  readonly gateClosureSeconds: bigint;
  readonly certificates: Address;
}

export async function readMarket(
  publicClient: PublicClient,
  parameters: ReadMarketParameters,
): Promise<ReadMarketReturnType> {
  const at = { address: parameters.market, abi: energyMarketAbi } as const;
  const [token, decimals, collateralPerKwh, intervalSeconds, gateClosureSeconds, certificates] =
    await Promise.all([
      publicClient.readContract({ ...at, functionName: "token" }),
      publicClient.readContract({ ...at, functionName: "tokenDecimals" }),
      publicClient.readContract({ ...at, functionName: "offerCollateralPerKwh" }),
      publicClient.readContract({ ...at, functionName: "intervalSeconds" }),
      publicClient.readContract({ ...at, functionName: "gateClosureSeconds" }),
      publicClient.readContract({ ...at, functionName: "certificates" }),
    ]);
  const symbol = await publicClient
    .readContract({ address: token, abi: testTokenAbi, functionName: "symbol" })
    .catch(() => "tokens");
  return {
    token,
    decimals: Number(decimals),
    symbol,
    collateralPerKwh,
    intervalSeconds: BigInt(intervalSeconds),
    gateClosureSeconds: BigInt(gateClosureSeconds),
    certificates,
  };
}
