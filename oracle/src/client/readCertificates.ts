/**
 * `readCertificates`: the energy certificates (ERC-1155, 1 unit = 1 Wh, one id per interval and
 * source) an account holds: the ids it ever received (TransferSingle/TransferBatch events) with
 * their current balances (0 once all of an id is retired or sent on).
 */
import type { Address, PublicClient } from "viem";
import { energyCertificateAbi, energyMarketAbi } from "../chain/abis.js";
import { certificateOf, sourceLabel } from "../domain/energy-source.js";

export interface ReadCertificatesParameters {
  readonly market: Address;
  readonly account: Address;
  /** First block to read events from; default 0. */
  readonly fromBlock?: bigint;
}

export interface CertificateHolding {
  readonly id: bigint;
  readonly intervalId: bigint;
  /** The registry's source code and its display name ("Solar"). */
  readonly sourceCode: number;
  readonly source: string;
  readonly amountWh: bigint;
}

export interface ReadCertificatesReturnType {
  /** The EnergyCertificate contract. */
  readonly certificates: Address;
  /** Holdings by ascending id. */
  readonly held: readonly CertificateHolding[];
}

export async function readCertificates(
  publicClient: PublicClient,
  parameters: ReadCertificatesParameters,
): Promise<ReadCertificatesReturnType> {
  const { market, account } = parameters;
  const certificates = await publicClient.readContract({
    address: market,
    abi: energyMarketAbi,
    functionName: "certificates",
  });
  const range = {
    address: certificates,
    abi: energyCertificateAbi,
    fromBlock: parameters.fromBlock ?? 0n,
    toBlock: "latest" as const,
  };
  const [single, batch] = await Promise.all([
    publicClient.getContractEvents({ ...range, eventName: "TransferSingle", args: { to: account } }),
    publicClient.getContractEvents({ ...range, eventName: "TransferBatch", args: { to: account } }),
  ]);
  const ids = [
    ...new Set([...single.map((e) => e.args.id!), ...batch.flatMap((e) => [...e.args.ids!])]),
  ].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const balances = await Promise.all(
    ids.map((id) =>
      publicClient.readContract({
        address: certificates,
        abi: energyCertificateAbi,
        functionName: "balanceOf",
        args: [account, id],
      }),
    ),
  );
  const held = ids.map((id, i): CertificateHolding => {
    const { intervalId, sourceCode } = certificateOf(id);
    return { id, intervalId, sourceCode, source: sourceLabel(sourceCode), amountWh: balances[i]! };
  });
  return { certificates, held };
}
