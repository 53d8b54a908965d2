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
  const read = <
    F extends
      | "token"
      | "tokenDecimals"
      | "offerCollateralPerKwh"
      | "intervalSeconds"
      | "gateClosureSeconds"
      | "certificates",
  >(
    functionName: F,
  ) => publicClient.readContract({ address: parameters.market, abi: energyMarketAbi, functionName });
  const [token, decimals, collateralPerKwh, intervalSeconds, gateClosureSeconds, certificates] =
    await Promise.all([
      read("token"),
      read("tokenDecimals"),
      read("offerCollateralPerKwh"),
      read("intervalSeconds"),
      read("gateClosureSeconds"),
      read("certificates"),
    ]);
  const symbol = await publicClient
    .readContract({ address: token as Address, abi: testTokenAbi, functionName: "symbol" })
    .catch(() => "tokens");
  return {
    token: token as Address,
    decimals: Number(decimals),
    symbol,
    collateralPerKwh: collateralPerKwh as bigint,
    intervalSeconds: BigInt(intervalSeconds as bigint | number),
    gateClosureSeconds: BigInt(gateClosureSeconds as bigint | number),
    certificates: certificates as Address,
  };
}
