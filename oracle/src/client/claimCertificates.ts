/**
 * `claimCertificates`: mints a buyer's pro-rata share of an interval's certificate pool of one
 * source (`EnergyMarket.claimCertificates`; anyone may send it for any buyer). Possible once the
 * interval is metered and its fills settled (or its meter deadline passed).
 */
import type { Address, Hex } from "viem";
import { energyMarketAbi } from "../chain/abis.js";
import { type EnergySource, sourceCode } from "../domain/energy-source.js";
import { type WriteClients, sendContract } from "./clients.js";

export interface ClaimCertificatesParameters {
  readonly market: Address;
  /** Default: the wallet's account. */
  readonly buyer?: Address;
  readonly intervalId: bigint;
  readonly source: EnergySource;
}

export interface ClaimCertificatesReturnType {
  readonly transaction: Hex;
}

/** @throws a revert such as `CertificatesNotFinal`, `CertificatesClaimed` or `ZeroAmount` (see `decodeError`). */
export async function claimCertificates(
  clients: WriteClients,
  parameters: ClaimCertificatesParameters,
): Promise<ClaimCertificatesReturnType> {
  const transaction = await sendContract(clients, {
    address: parameters.market,
    abi: energyMarketAbi,
    functionName: "claimCertificates",
    args: [
      parameters.buyer ?? clients.walletClient.account.address,
      parameters.intervalId,
      sourceCode(parameters.source),
    ],
  });
  return { transaction };
}
