/** `retireCertificate`: burns `amountWh` of certificate `id` with a claim for a beneficiary (`EnergyCertificate.retire`). */
import type { Address, Hex } from "viem";
import { energyCertificateAbi, energyMarketAbi } from "../chain/abis.js";
import { type WriteClients, sendContract } from "./clients.js";
import { InvalidParameterError } from "./errors.js";

export interface RetireCertificateParameters {
  readonly market: Address;
  readonly id: bigint;
  /** Wh (> 0). */
  readonly amountWh: bigint;
  readonly beneficiary: Address;
  /** Free text recorded in the `Retired` event. Default "". */
  readonly claimData?: string;
}

export interface RetireCertificateReturnType {
  readonly transaction: Hex;
}

/** @throws InvalidParameterError `amountWh` when zero; a revert such as `ERC1155InsufficientBalance`. */
export async function retireCertificate(
  clients: WriteClients,
  parameters: RetireCertificateParameters,
): Promise<RetireCertificateReturnType> {
  if (parameters.amountWh <= 0n) throw new InvalidParameterError("amountWh", "must be greater than zero");
  const certificates = await clients.publicClient.readContract({
    address: parameters.market,
    abi: energyMarketAbi,
    functionName: "certificates",
  });
  const transaction = await sendContract(clients, {
    address: certificates,
    abi: energyCertificateAbi,
    functionName: "retire",
    args: [parameters.id, parameters.amountWh, parameters.beneficiary, parameters.claimData ?? ""],
  });
  return { transaction };
}
