/**
 * The committee exchange between nodes of different operators (docs/ORACLE.md, "Committee"):
 * nodes do not share a Redis, so each node POSTs `{ kind, report, signature }` to every peer's
 * `/committee/signatures`. A receiving node accepts a signature only if
 *   - the report names this market and the current committee epoch,
 *   - the signature recovers to a current committee member, and
 *   - once this node has computed its own report for that interval, the digests are equal.
 * Signatures for a report this node has not computed yet are kept under their digest and count
 * only if this node later computes the same report. A node that solved a tampered order set
 * therefore never collects its peers' signatures for its forged root, nor they its own.
 */
import { type Address, type Hex, getAddress } from "viem";
import { readCommittee } from "../chain/market.js";
import {
  type AnyReport,
  type ReportKind,
  bigintReplacer,
  recoverReportSigner,
  reportDigest,
  reportToJson,
  signedReportJsonSchema,
} from "../chain/reports.js";
import { formatIssues } from "../domain/errors.js";
import { type PipelineContext, stateKey } from "./context.js";

/** This node's own report for (kind, interval), with what settlement needs to rebuild proofs. */
export interface OwnRecord<Extra = unknown> {
  readonly kind: ReportKind;
  readonly report: unknown; // JSON form
  readonly digest: Hex;
  readonly signature: Hex;
  readonly extra: Extra;
}

export async function saveOwn(ctx: PipelineContext, intervalId: bigint, record: OwnRecord): Promise<void> {
  await ctx.redis.set(stateKey(ctx, "own", record.kind, intervalId), JSON.stringify(record, bigintReplacer));
}

export async function loadOwn<Extra>(
  ctx: PipelineContext,
  kind: ReportKind,
  intervalId: bigint,
): Promise<OwnRecord<Extra> | undefined> {
  const raw = await ctx.redis.get(stateKey(ctx, "own", kind, intervalId));
  return raw === null ? undefined : (JSON.parse(raw) as OwnRecord<Extra>);
}

export async function storeSignature(
  ctx: PipelineContext,
  kind: ReportKind,
  intervalId: bigint,
  digest: Hex,
  signer: Address,
  signature: Hex,
): Promise<void> {
  await ctx.redis.hset(
    stateKey(ctx, "sigs", kind, intervalId, digest.toLowerCase()),
    signer.toLowerCase(),
    signature,
  );
}

/** Signatures held for `digest`, by current members only, sorted by signer ascending. */
export async function signaturesFor(
  ctx: PipelineContext,
  kind: ReportKind,
  intervalId: bigint,
  digest: Hex,
  members: readonly Address[],
): Promise<{ signer: Address; signature: Hex }[]> {
  const all = await ctx.redis.hgetall(stateKey(ctx, "sigs", kind, intervalId, digest.toLowerCase()));
  const current = new Set(members.map((m) => m.toLowerCase()));
  return Object.entries(all)
    .filter(([signer]) => current.has(signer))
    .map(([signer, signature]) => ({ signer: getAddress(signer), signature: signature as Hex }))
    .sort((a, b) => (a.signer.toLowerCase() < b.signer.toLowerCase() ? -1 : 1));
}

/**
 * Sends this node's signed report to every peer (best effort: an unreachable or rejecting peer
 * is logged; the aggregate step sends again on each look until the report is on-chain).
 */
export async function broadcastSignature(
  ctx: PipelineContext,
  report: AnyReport,
  signature: Hex,
): Promise<number> {
  const body = JSON.stringify({ kind: report.kind, report: reportToJson(report), signature });
  const results = await Promise.allSettled(
    ctx.settings.peerUrls.map(async (peer) => {
      const response = await fetch(new URL("/committee/signatures", peer), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(5_000),
      });
      if (!response.ok) throw new Error(`${peer} answered ${response.status}: ${await response.text()}`);
    }),
  );
  let delivered = 0;
  for (const [i, r] of results.entries()) {
    if (r.status === "fulfilled") delivered++;
    else
      ctx.logger.warn(
        {
          peer: ctx.settings.peerUrls[i],
          kind: report.kind,
          intervalId: report.report.intervalId,
          reason: String(r.reason),
        },
        "peer did not take our signature",
      );
  }
  return delivered;
}

export interface InboundResult {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Handles one POST /committee/signatures body (see the module comment for the rules). */
export async function receiveSignature(ctx: PipelineContext, body: unknown): Promise<InboundResult> {
  const parsed = signedReportJsonSchema.safeParse(body);
  if (!parsed.success) return { status: 400, body: { error: formatIssues(parsed.error.issues) } };
  const report: AnyReport =
    parsed.data.kind === "schedule"
      ? { kind: "schedule", report: parsed.data.report }
      : { kind: "meter", report: parsed.data.report };
  const signature = parsed.data.signature.toLowerCase() as Hex;
  const r = report.report;
  if (r.market !== ctx.config.marketAddress)
    return {
      status: 400,
      body: { error: `report.market: ${r.market} is not this node's market ${ctx.config.marketAddress}` },
    };
  const committee = await readCommittee(ctx.client, ctx.config.committeeAddress);
  if (r.configEpoch !== committee.epoch)
    return {
      status: 409,
      body: { error: `report.configEpoch: ${r.configEpoch} is not the current epoch ${committee.epoch}` },
    };
  const digest = reportDigest(ctx.config.chainId, report);
  let signer: Address;
  try {
    signer = await recoverReportSigner(ctx.config.chainId, report, signature);
  } catch {
    return { status: 400, body: { error: "signature: does not recover to an address" } };
  }
  if (!committee.members.some((m) => m.toLowerCase() === signer.toLowerCase()))
    return { status: 403, body: { error: `signature: signer ${signer} is not a current committee member` } };
  const own = await loadOwn(ctx, report.kind, r.intervalId);
  if (own !== undefined && own.digest.toLowerCase() !== digest.toLowerCase()) {
    ctx.logger.warn(
      { kind: report.kind, intervalId: r.intervalId, signer, theirs: digest, ours: own.digest },
      "rejected a peer signature: its report differs from ours",
    );
    return {
      status: 409,
      body: { error: `report: differs from this node's report (digest ${own.digest}, got ${digest})` },
    };
  }
  await storeSignature(ctx, report.kind, r.intervalId, digest, signer, signature);
  return { status: 202, body: { accepted: true, signer, digest } };
}
