/**
 * The committee's turn order for one interval: which member sends a commit first, and how long
 * each of the others waits before it looks again (docs/ORACLE.md, "Committee"). Every member
 * computes the same order from the chain's member list, so exactly one sends at a time and a
 * member that died is covered by the next after its delay, with no coordination between nodes.
 *
 * Pure: the members come in as arguments.
 */

/**
 * Rank of `self` for `intervalId`: its index in the ascending member list, rotated by
 * `intervalId mod n` so the first sender changes from interval to interval. -1 if not a member.
 * Addresses compare case-insensitively.
 */
export function submitRank(members: readonly string[], self: string, intervalId: bigint): number {
  const n = members.length;
  const index = members.findIndex((m) => m.toLowerCase() === self.toLowerCase());
  if (index < 0 || n === 0) return -1;
  return (index - Number(intervalId % BigInt(n)) + n) % n;
}

/**
 * How long the member at `rank` waits before a step the committee staggers (submit, settle,
 * keeper): `rank × staggerMs`; a non-member (rank -1) does not wait, so it behaves as rank 0.
 */
export function rankDelayMs(rank: number, staggerMs: number): number {
  return Math.max(0, rank) * staggerMs;
}
