/**
 * The oracle committee as `gridbrain market status` shows it: the current membership and, when a
 * change is pending on-chain, what it installs and when it can be executed. A pending change is
 * the signal for users who distrust the new committee to settle, release and withdraw before it
 * takes effect (docs/CONTRACTS.md, "Trust model").
 */

export interface CommitteeView {
  readonly epoch: bigint;
  readonly threshold: number;
  readonly members: readonly string[];
  /** Seconds between a proposal and its execution (fixed at deployment). */
  readonly changeDelaySeconds: bigint;
  /** The pending change, or null when none is pending (`executableAt` 0 on-chain). */
  readonly pending: {
    readonly threshold: number;
    readonly members: readonly string[];
    readonly executableAt: bigint;
  } | null;
}

/** Lines describing `committee` at chain time `now` (unix seconds). */
export function committeeStatusLines(committee: CommitteeView, now: bigint): string[] {
  const lines = [
    `committee epoch ${committee.epoch}: ${committee.threshold}-of-${committee.members.length}; changes wait ${committee.changeDelaySeconds} s`,
  ];
  const pending = committee.pending;
  if (pending === null) {
    lines.push("committee change pending: none");
    return lines;
  }
  const current = new Set(committee.members.map((m) => m.toLowerCase()));
  const next = new Set(pending.members.map((m) => m.toLowerCase()));
  const added = pending.members.filter((m) => !current.has(m.toLowerCase()));
  const removed = committee.members.filter((m) => !next.has(m.toLowerCase()));
  const when =
    now >= pending.executableAt
      ? `executable now (since ${pending.executableAt})`
      : `executable at ${pending.executableAt} (in ${pending.executableAt - now} s)`;
  lines.push(
    `committee change PENDING: epoch ${committee.epoch + 1n} would be ${pending.threshold}-of-${pending.members.length}, ${when}`,
  );
  lines.push(`  added: ${added.length === 0 ? "-" : added.join(", ")}`);
  lines.push(`  removed: ${removed.length === 0 ? "-" : removed.join(", ")}`);
  return lines;
}
