/**
 * The committee exchange between nodes of different operators (docs/ORACLE.md, "Committee"):
 * nodes do not share a Redis, so each node POSTs `{ kind, report, signature }` to every peer's
 * `/committee/signatures`. Which signatures a node accepts, and which go into a commit, are the
 * rules of domain/peer-signatures.ts; this module reads the committee, the signer and its own
 * report, asks the rule, and stores.
 *
 * Meter readings travel the same way (infra/meter-peers.ts): pushed to `/committee/meter-readings`
 * when a node accepts one from a meter, pulled from `/meter-readings/<interval>` before a meter
 * report. A reading from a peer is stored only if it passes every check a reading from the meter
 * itself passes (zod shape, registered meter, the meter's own EIP-712 signature, timing up to the
 * market's meter deadline): the meter's signature, not the peer, vouches for it.
 */
import { type Address, type Hex, getAddress } from "viem";
import { chainNow, readCommittee, readMeterRegistry } from "../chain/market.js";
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
import { judgePeerSignature, quorumSignatures } from "../domain/peer-signatures.js";
import { fetchPeerReadings } from "../infra/meter-peers.js";
import { type IngestResult, MAX_INGEST_BATCH, ingestMeterReadings } from "../infra/meter-store.js";
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
  const held = await ctx.redis.hgetall(stateKey(ctx, "sigs", kind, intervalId, digest.toLowerCase()));
  return quorumSignatures(held, members).map(({ signer, signature }) => ({
    signer: getAddress(signer),
    signature: signature as Hex,
  }));
}

/**
 * Sends this node's signed report to every peer (best effort: the peers that are unreachable or
 * reject it are logged in one line; the aggregate step sends again, with exponential backoff,
 * until the report is on-chain).
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
  // One line per send, however many peers failed: below quorum this repeats (with backoff).
  const failed = results.flatMap((r, i) =>
    r.status === "rejected" ? [{ peer: ctx.settings.peerUrls[i], reason: String(r.reason) }] : [],
  );
  if (failed.length > 0)
    ctx.logger.warn(
      { kind: report.kind, intervalId: report.report.intervalId, failed },
      "peer did not take our signature",
    );
  return results.length - failed.length;
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
  const digest = reportDigest(ctx.config.chainId, report);
  const [committee, signer, own] = await Promise.all([
    readCommittee(ctx.client, ctx.config.committeeAddress),
    recoverReportSigner(ctx.config.chainId, report, signature).catch(() => undefined),
    loadOwn(ctx, report.kind, r.intervalId),
  ]);
  const verdict = judgePeerSignature({
    reportMarket: r.market,
    market: ctx.config.marketAddress,
    reportEpoch: r.configEpoch,
    epoch: committee.epoch,
    signer,
    members: committee.members,
    digest,
    ownDigest: own?.digest,
  });
  if (!verdict.accept) {
    if (verdict.reason === "digest")
      ctx.logger.warn(
        { kind: report.kind, intervalId: r.intervalId, signer, theirs: digest, ours: own?.digest },
        "rejected a peer signature: its report differs from ours",
      );
    return { status: verdict.status, body: { error: verdict.error } };
  }
  // Accepted implies the signature recovered to a member.
  await storeSignature(ctx, report.kind, r.intervalId, digest, signer!, signature);
  return { status: 202, body: { accepted: true, signer, digest } };
}

/**
 * Verifies readings that came from a peer and stores those that pass (never forwarded again).
 * Rejections (a forged signature, an unregistered meter…) land in `meter-rejected` like any other.
 */
export async function ingestPeerReadings(
  ctx: PipelineContext,
  items: readonly unknown[],
): Promise<IngestResult> {
  const [registry, nowSeconds] = await Promise.all([
    readMeterRegistry(ctx.client, ctx.config.registryAddress, ctx.config.startBlock),
    chainNow(ctx.client),
  ]);
  return ingestMeterReadings(ctx.meterStore, items, {
    chainId: ctx.config.chainId,
    market: ctx.config.marketAddress,
    registry,
    nowSeconds,
    intervalSeconds: ctx.timing.intervalSeconds,
    // Until the market's meter deadline, not the reading deadline: a reading a peer accepted just
    // before the reading deadline must still reach every node.
    meterDeadlineSeconds: ctx.timing.meterWindowSeconds,
  });
}

/** Handles one POST /committee/meter-readings body: an array of signed readings from a peer. */
export async function receivePeerReadings(ctx: PipelineContext, body: unknown): Promise<InboundResult> {
  if (!Array.isArray(body))
    return { status: 400, body: { error: "body: expected a JSON array of signed meter readings" } };
  if (body.length > MAX_INGEST_BATCH)
    return {
      status: 413,
      body: { error: `body: at most ${MAX_INGEST_BATCH} readings per request, got ${body.length}` },
    };
  const result = await ingestPeerReadings(ctx, body);
  if (result.rejected > 0)
    ctx.logger.warn(
      { rejected: result.items.filter((i) => i.status === "rejected") },
      "rejected meter readings from a peer",
    );
  // Same rule as POST /meter-readings: 422 when every item was rejected, so the sending node
  // reads "refused" from the status; duplicates count as taken (a resend is harmless).
  const status = result.accepted === 0 && result.rejected > 0 ? 422 : 202;
  return { status, body: result as unknown as Record<string, unknown> };
}

/**
 * Fetches every peer's readings of `intervalId` and stores those that verify. A peer that is down
 * or answers garbage is skipped (logged); returns how many readings were new to this node.
 */
export async function pullPeerReadings(ctx: PipelineContext, intervalId: bigint): Promise<number> {
  const fetched = await Promise.allSettled(
    ctx.settings.peerUrls.map((p) => fetchPeerReadings(p, intervalId)),
  );
  let fresh = 0;
  const failed: { peer: string | undefined; reason: string }[] = [];
  for (const [i, r] of fetched.entries()) {
    if (r.status === "rejected") {
      failed.push({ peer: ctx.settings.peerUrls[i], reason: String(r.reason) });
      continue;
    }
    if (r.value.length === 0) continue;
    const result = await ingestPeerReadings(ctx, r.value);
    fresh += result.items.filter((s) => s.status === "accepted").length;
    if (result.rejected > 0)
      failed.push({
        peer: ctx.settings.peerUrls[i],
        reason: `${result.rejected} readings failed verification`,
      });
  }
  if (failed.length > 0)
    ctx.logger.warn({ intervalId, failed }, "meter readings not fetched from some peers");
  return fresh;
}
