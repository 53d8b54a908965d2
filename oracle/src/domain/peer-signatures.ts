/**
 * The committee exchange's rules (docs/ORACLE.md, "Committee"): which signature a node takes from
 * a peer, and which of the signatures it holds go into a commit.
 *
 * A node accepts a peer's signature of a report only if
 *   - the report names this node's market (400 otherwise),
 *   - it is signed under the current committee epoch (409),
 *   - the signature recovers to an address (400) that is a current committee member (403), and
 *   - once this node has computed its own report for that interval, the digests are equal (409).
 * A signature for a report this node has not computed yet is kept under its digest and counts only
 * if this node later computes the same report: a node that solved a tampered order set never
 * collects its peers' signatures for its forged root, nor they its own.
 *
 * A commit carries the held signatures of current members only, sorted by signer ascending (the
 * committee contract rejects unsorted or repeated signers).
 *
 * Pure: the committee, the recovered signer and this node's own digest come in as arguments.
 */

export interface PeerSignatureCheck {
  /** The market the report names, and this node's market. */
  readonly reportMarket: string;
  readonly market: string;
  /** The report's epoch, and the committee's current one. */
  readonly reportEpoch: bigint;
  readonly epoch: bigint;
  /** The address the signature recovers to; undefined when it does not recover. */
  readonly signer: string | undefined;
  /** Current committee members. */
  readonly members: readonly string[];
  /** The report's EIP-712 digest, and this node's own report's digest if it has computed one. */
  readonly digest: string;
  readonly ownDigest: string | undefined;
}

export type PeerSignatureVerdict =
  | { readonly accept: true }
  | {
      readonly accept: false;
      /** Which rule refused it. */
      readonly reason: "market" | "epoch" | "signature" | "member" | "digest";
      /** HTTP status of the answer: 400 malformed, 403 not a member, 409 conflicts with this node's state. */
      readonly status: 400 | 403 | 409;
      /** Names the field and the reason. */
      readonly error: string;
    };

/** Whether this node takes a peer's signature (the module comment's rules, in that order). */
export function judgePeerSignature(c: PeerSignatureCheck): PeerSignatureVerdict {
  if (c.reportMarket !== c.market)
    return {
      accept: false,
      reason: "market",
      status: 400,
      error: `report.market: ${c.reportMarket} is not this node's market ${c.market}`,
    };
  if (c.reportEpoch !== c.epoch)
    return {
      accept: false,
      reason: "epoch",
      status: 409,
      error: `report.configEpoch: ${c.reportEpoch} is not the current epoch ${c.epoch}`,
    };
  if (c.signer === undefined)
    return {
      accept: false,
      reason: "signature",
      status: 400,
      error: "signature: does not recover to an address",
    };
  const signer = c.signer;
  if (!c.members.some((m) => m.toLowerCase() === signer.toLowerCase()))
    return {
      accept: false,
      reason: "member",
      status: 403,
      error: `signature: signer ${signer} is not a current committee member`,
    };
  if (c.ownDigest !== undefined && c.ownDigest.toLowerCase() !== c.digest.toLowerCase())
    return {
      accept: false,
      reason: "digest",
      status: 409,
      error: `report: differs from this node's report (digest ${c.ownDigest}, got ${c.digest})`,
    };
  return { accept: true };
}

/**
 * The signatures a commit carries: those of `held` (signer → signature) whose signer is a current
 * member, sorted by signer ascending (case-insensitive; signers are returned as held).
 */
export function quorumSignatures<S extends string>(
  held: Readonly<Record<string, S>>,
  members: readonly string[],
): { signer: string; signature: S }[] {
  const current = new Set(members.map((m) => m.toLowerCase()));
  return Object.entries(held)
    .filter(([signer]) => current.has(signer.toLowerCase()))
    .map(([signer, signature]) => ({ signer, signature }))
    .sort((a, b) => (a.signer.toLowerCase() < b.signer.toLowerCase() ? -1 : 1));
}
