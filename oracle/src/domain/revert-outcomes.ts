/**
 * What a reverted transaction means for the pipeline step that sent it: one table, so a newcomer
 * who adds a custom error to the market (or a step that sends a transaction) changes one file.
 *
 * The committee's nodes race each other on purpose (every node may commit, settle and release;
 * jobs/report.ts staggers them by rank), so most reverts are not failures but "someone else did
 * it first". The outcomes:
 * - `done-by-peer`  — the effect the step wanted is on chain already; the step succeeds.
 * - `concurrent`    — part of a batch was done by a peer meanwhile; the whole batch reverted, so the
 *                     step retries from the chain's new view (a normal, retryable job failure).
 * - `unrecoverable` — no retry can cure it; the job is dead-lettered at once with the reason.
 * - `unknown`       — not a rule of this table; the caller rethrows the error as it is (a
 *                     transient fault stays retryable, BullMQ's attempts decide).
 *
 * Pure: it reads the decoded revert (`errorName`, `errorArgs`, from infra/tx-sender.ts's
 * TxSendError), not the error object, so it has no infra import and a plain unit test.
 */

/** The steps that send transactions and whose reverts have a meaning here. */
export type SendingStep =
  | "commit-schedule"
  | "commit-meter"
  | "settle-fills"
  | "settle-flex"
  | "settle-imbalances"
  | "keeper-release"
  | "keeper-flex";

/** The contract each step sends to: its custom errors are the ones that contract declares. */
export const STEP_CONTRACT: Readonly<Record<SendingStep, "energy-market" | "flexibility-market">> = {
  "commit-schedule": "energy-market",
  "commit-meter": "energy-market",
  "settle-fills": "energy-market",
  "settle-flex": "flexibility-market",
  "settle-imbalances": "energy-market",
  "keeper-release": "energy-market",
  "keeper-flex": "flexibility-market",
};

/** The part of a failed send this rule reads. */
export interface RevertFacts {
  /** viem/tx-sender's classification: only `revert` (a mined or simulated revert) is judged here. */
  readonly kind: string;
  /** Decoded custom error name, when the ABI knew it. */
  readonly errorName: string | undefined;
  readonly errorArgs?: readonly unknown[] | undefined;
}

export type RevertOutcome =
  | { readonly outcome: "done-by-peer"; readonly reason: string }
  | { readonly outcome: "concurrent"; readonly reason: string }
  /** `details` absent: the caller gives the revert's own message. */
  | { readonly outcome: "unrecoverable"; readonly reason: string; readonly details?: string }
  | { readonly outcome: "unknown" };

/** Custom errors meaning "the effect this step wanted is already on chain", per step. */
const DONE_BY_PEER: Readonly<Record<SendingStep, readonly string[]>> = {
  "commit-schedule": ["AlreadyScheduled"],
  "commit-meter": ["AlreadyMetered"],
  "settle-fills": [],
  "settle-flex": [],
  "settle-imbalances": [],
  // A keeper releases one lock per transaction: taken first by anyone is the same outcome.
  "keeper-release": ["OrderNotOpen", "ImbalanceAlreadySettled", "CollateralNotReleasable"],
  // closeMissedInterval / refundFlexFunds: a refund done by anyone is the same outcome. (A close a
  // peer did first reverts FlexIntervalOutOfOrder, judged by its arguments below.)
  "keeper-flex": ["AlreadyRefunded"],
};

/** Custom errors meaning "a peer settled part of this batch": the batch retries from the chain. */
const CONCURRENT: Readonly<Record<SendingStep, readonly string[]>> = {
  "commit-schedule": [],
  "commit-meter": [],
  "settle-fills": ["OrderNotOpen"],
  "settle-flex": [],
  "settle-imbalances": ["ImbalanceAlreadySettled"],
  "keeper-release": [],
  "keeper-flex": [],
};

/** Custom errors judged by their arguments in `revertOutcome`, per step. */
const BY_ARGUMENTS: Readonly<Record<SendingStep, readonly string[]>> = {
  "commit-schedule": [],
  "commit-meter": [],
  "settle-fills": ["BudgetExceeded"],
  "settle-flex": ["FlexIntervalOutOfOrder"],
  "settle-imbalances": [],
  "keeper-release": [],
  "keeper-flex": ["FlexIntervalOutOfOrder"],
};

const namesOf = (step: SendingStep) => [...DONE_BY_PEER[step], ...CONCURRENT[step], ...BY_ARGUMENTS[step]];

/**
 * Every custom error name this table judges, per contract its steps send to (a test checks each
 * against that contract's ABI: a renamed error would silently stop matching).
 */
export const JUDGED_ERROR_NAMES_BY_CONTRACT: Readonly<
  Record<"energy-market" | "flexibility-market", readonly string[]>
> = {
  "energy-market": [
    ...new Set(
      (Object.keys(STEP_CONTRACT) as SendingStep[])
        .filter((s) => STEP_CONTRACT[s] === "energy-market")
        .flatMap(namesOf),
    ),
  ],
  "flexibility-market": [
    ...new Set(
      (Object.keys(STEP_CONTRACT) as SendingStep[])
        .filter((s) => STEP_CONTRACT[s] === "flexibility-market")
        .flatMap(namesOf),
    ),
  ],
};

/** Every custom error name this table judges, whatever the contract. */
export const JUDGED_ERROR_NAMES: readonly string[] = [
  ...new Set(Object.values(JUDGED_ERROR_NAMES_BY_CONTRACT).flat()),
];

export function revertOutcome(step: SendingStep, facts: RevertFacts): RevertOutcome {
  if (facts.kind !== "revert") return { outcome: "unknown" };
  const name = facts.errorName;
  if (name !== undefined && DONE_BY_PEER[step].includes(name))
    return { outcome: "done-by-peer", reason: name };
  if (name !== undefined && CONCURRENT[step].includes(name)) return { outcome: "concurrent", reason: name };
  if (step === "settle-fills" && name === "BudgetExceeded") {
    // The batch settles buyers before sellers, so when a seller still overdraws the interval the
    // committed schedule itself pays out more than it takes in: it can never settle.
    const [intervalId, payouts, receipts] = (facts.errorArgs ?? []).map(String);
    return {
      outcome: "unrecoverable",
      reason: "The committed schedule cannot settle (BudgetExceeded)",
      details: `interval ${intervalId}: payouts ${payouts} > receipts ${receipts}`,
    };
  }
  if (step === "settle-flex" && name === "FlexIntervalOutOfOrder") {
    // The flexibility market settles intervals in order (IFlexibilityMarket): past this interval
    // already means a peer settled it; short of it, an earlier interval is still pending there
    // (its batch or the keeper's closeMissedInterval comes first), so retry from the chain.
    const [intervalId, expected] = (facts.errorArgs ?? []).map((v) => BigInt(String(v)));
    return expected !== undefined && intervalId !== undefined && expected > intervalId
      ? { outcome: "done-by-peer", reason: "FlexIntervalOutOfOrder (settled by a peer)" }
      : { outcome: "concurrent", reason: "FlexIntervalOutOfOrder (an earlier interval is pending)" };
  }
  if (step === "keeper-flex" && name === "FlexIntervalOutOfOrder") {
    // FlexIntervalOutOfOrder(intervalId, expected): the cursor is past the interval this close
    // wanted, so someone closed (or settled) it first. An `expected` at or before it means an
    // earlier interval still blocks it: not this table's to judge (the job retries).
    const [intervalId, expected] = facts.errorArgs ?? [];
    if (typeof intervalId === "bigint" && typeof expected === "bigint" && expected > intervalId)
      return { outcome: "done-by-peer", reason: name };
    return { outcome: "unknown" };
  }
  if (step === "commit-schedule" || step === "commit-meter") {
    // A commit's inputs (the report and k signatures) were checked before sending; a revert that
    // is not "already committed" means the contract rejects this report, and re-sending the same
    // bytes cannot change that.
    return { outcome: "unrecoverable", reason: "Commit reverted" };
  }
  return { outcome: "unknown" };
}
