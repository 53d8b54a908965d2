/**
 * Phase 6 of an interval: every buyer claims its certificates for the renewable energy it bought
 * and received (anyone may claim for a buyer; here the owners do, in parallel).
 */
import { parseEventLogs, type Address } from "viem";
import { claimCertificates as claimBuyerCertificates } from "../client/index.js";
import { Side } from "../domain/eip712.js";
import type { EventLog } from "./chain-reads.js";
import { accountOf, type RunContext } from "./context.js";

export interface CertificateClaims {
  /** Certificates claimed (Wh). */
  readonly certificatesWh: bigint;
  /** Buyers with a settled fill, households and the grid. */
  readonly buyers: number;
}

export async function claimCertificates(
  context: RunContext,
  intervalId: bigint,
  fills: readonly EventLog[],
): Promise<CertificateClaims> {
  const { chain } = context.parameters;
  const buyers = fills
    .map((l) => l.args as { owner: Address; side: number })
    .filter((a) => a.side === Side.Buy);
  // The grid's zone accounts buy surplus too and receive their pro-rata share like any buyer.
  const claimed = await Promise.all(
    buyers.map(async (buyer) => {
      const account = accountOf(context, buyer.owner.toLowerCase());
      // A buyer whose share rounds to nothing has nothing to claim: the call's gas estimate
      // reverts ZeroAmount before anything is sent.
      const hash = await claimBuyerCertificates(chain.clientsOf(account), {
        market: chain.addresses.market,
        buyer: buyer.owner,
        intervalId,
        source: "solar",
      })
        .then((claim) => claim.transaction)
        .catch((error: unknown) => {
          if (!String(error).includes("ZeroAmount"))
            context.undone(intervalId, `claim certificates of ${buyer.owner}`, error);
          return undefined;
        });
      if (hash === undefined) return 0n;
      const receipt = await chain.publicClient.getTransactionReceipt({ hash });
      let amount = 0n;
      for (const log of parseEventLogs({ abi: chain.abis.market, logs: receipt.logs }) as EventLog[])
        if (log.eventName === "CertificatesClaimed") amount += (log.args as { amountWh: bigint }).amountWh;
      return amount;
    }),
  );
  return { certificatesWh: claimed.reduce((sum, amount) => sum + amount, 0n), buyers: buyers.length };
}
