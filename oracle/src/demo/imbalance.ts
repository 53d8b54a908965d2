/**
 * Phase 5 of an interval: the committee commits the meter report and settles every imbalance; the
 * demo waits for both on chain and reads what was settled and the certificates issued.
 */
import type { Address } from "viem";
import type { IntervalLedger } from "../domain/household-outcomes.js";
import { intervalState, marketEvents, ofInterval, waitFor } from "./chain-reads.js";
import type { RunContext } from "./context.js";
import type { Reading } from "./delivery.js";

export interface ImbalanceSettlement {
  readonly imbalanceWh: bigint;
  readonly imbalanceShortWh: bigint;
  readonly imbalanceCharged: bigint;
  readonly imbalancePaid: bigint;
  readonly imbalances: IntervalLedger["imbalances"];
  readonly certificatesIssuedWh: bigint;
  /** The committed meter report's `zoneSurplusWh` (empty when it was not committed). */
  readonly zoneSurplusWh: readonly bigint[];
  /** Why the meter report or an imbalance was not settled in time. */
  readonly problem: string | undefined;
}

export async function awaitImbalances(
  context: RunContext,
  intervalId: bigint,
  firstBlock: bigint,
  readings: readonly Reading[],
): Promise<ImbalanceSettlement> {
  const { chain, stepTimeoutMs } = context.parameters;
  let imbalanceWh = 0n;
  let imbalanceShortWh = 0n;
  let imbalanceCharged = 0n;
  let imbalancePaid = 0n;
  let certificatesIssuedWh = 0n;
  let zoneSurplusWh: readonly bigint[] = [];
  let problem: string | undefined;
  const imbalances: IntervalLedger["imbalances"][number][] = [];
  // Every household whose meter measured energy must have its imbalance settled.
  const participantsWithEnergy = new Set<string>(
    readings.filter((r) => r.injectedWh + r.consumedWh > 0n).map((r) => r.participant.toLowerCase()),
  );
  try {
    await waitFor(`interval ${intervalId} meter report`, stepTimeoutMs, async () => {
      const state = await intervalState(chain, intervalId);
      return /^0x0+$/.test(state.meterRoot) ? undefined : state;
    });
    const settled = await waitFor(`interval ${intervalId} imbalances`, stepTimeoutMs, async () => {
      const logs = ofInterval(await marketEvents(chain, firstBlock), "ImbalanceSettled", intervalId);
      const settledParticipants = new Set(
        logs.map((l) => (l.args as { participant: Address }).participant.toLowerCase()),
      );
      return [...participantsWithEnergy].every((a) => settledParticipants.has(a)) ? logs : undefined;
    });
    const events = await marketEvents(chain, firstBlock);
    const [report] = ofInterval(events, "MeterReportCommitted", intervalId);
    zoneSurplusWh = [
      ...((report?.args as { zoneSurplusWh?: readonly bigint[] } | undefined)?.zoneSurplusWh ?? []),
    ];
    for (const log of ofInterval(events, "CertificatesIssued", intervalId))
      certificatesIssuedWh += (log.args as { energyWh: bigint }).energyWh;
    for (const log of settled) {
      const a = log.args as {
        participant: Address;
        deviationWh: bigint;
        charged: bigint;
        paid: bigint;
        uncovered: bigint;
      };
      imbalances.push({
        participant: a.participant,
        deviationWh: a.deviationWh,
        charged: a.charged,
        paid: a.paid,
        uncovered: a.uncovered,
      });
      imbalanceWh += a.deviationWh < 0n ? -a.deviationWh : a.deviationWh;
      if (a.deviationWh < 0n) imbalanceShortWh -= a.deviationWh;
      imbalanceCharged += a.charged;
      imbalancePaid += a.paid;
    }
  } catch (error) {
    problem = (error as Error).message;
  }
  return {
    imbalanceWh,
    imbalanceShortWh,
    imbalanceCharged,
    imbalancePaid,
    imbalances,
    certificatesIssuedWh,
    zoneSurplusWh,
    problem,
  };
}
