/**
 * The meter-reading exchange between committee nodes, over HTTP (docs/ORACLE.md, "Meter
 * readings between members"). Nodes of different operators share no Redis, and a meter may reach
 * only some of them (a node was down, a meter posted to one node), so:
 *
 *   push: a node that accepts a new reading from a meter POSTs it to every peer's
 *         `/committee/meter-readings` (best effort, once);
 *   pull: before building a meter report with a silent meter, a node GETs every peer's
 *         `/meter-readings/<intervalId>` (paged).
 *
 * Nothing here trusts a peer: what comes back is raw JSON, bounded in size, for the caller to
 * verify (meter signature, registry) exactly like a reading from a meter.
 */
import { z } from "zod";
import type { SignedMeterReading } from "../domain/meter/reading.js";
import { formatIssues } from "../domain/errors.js";
import type { Logger } from "./logging.js";

/** Readings per page of `GET /meter-readings/:intervalId` (and per forwarded batch). */
export const READINGS_PAGE_SIZE = 1_000;
/** Pages a pull follows at most: 50,000 meters per interval. */
export const MAX_READING_PAGES = 50;
/** Bytes of one page a pull reads at most (a reading is about 300 bytes of JSON). */
export const MAX_PAGE_BYTES = 1_000_000;

const PEER_TIMEOUT_MS = 5_000;

/** A reading as JSON on the wire (uint64 fields as decimal strings). */
export interface WireMeterReading {
  readonly meter: string;
  readonly intervalId: string;
  readonly injectedWh: string;
  readonly consumedWh: string;
  readonly signature: string;
}

export function readingToWire(r: SignedMeterReading): WireMeterReading {
  return {
    meter: r.meter,
    intervalId: r.intervalId.toString(),
    injectedWh: r.injectedWh.toString(),
    consumedWh: r.consumedWh.toString(),
    signature: r.signature,
  };
}

/** A page as served: the items stay `unknown` until the caller verifies each one. */
export const ReadingsPageSchema = z
  .object({
    intervalId: z.string().regex(/^\d+$/, "must be a decimal integer"),
    readings: z
      .array(z.unknown())
      .max(READINGS_PAGE_SIZE, `must hold at most ${READINGS_PAGE_SIZE} readings`),
    next: z.number().int().nonnegative().nullable(),
  })
  .strict();

export type ReadingsPage = z.output<typeof ReadingsPageSchema>;

/** One page of the readings a node holds, from `offset`; `next` is the offset of the next page. */
export function readingsPage(
  intervalId: bigint,
  all: readonly SignedMeterReading[],
  offset: number,
): ReadingsPage {
  const slice = all.slice(offset, offset + READINGS_PAGE_SIZE).map(readingToWire);
  const end = offset + slice.length;
  return { intervalId: intervalId.toString(), readings: slice, next: end < all.length ? end : null };
}

export class PeerResponseError extends Error {
  override name = "PeerResponseError";
}

async function readBounded(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new PeerResponseError(`body of ${declared} bytes exceeds ${maxBytes}`);
  const reader = response.body?.getReader();
  if (reader === undefined) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new PeerResponseError(`body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Every reading `peer` holds for `intervalId`, unverified. Throws PeerResponseError on a bad
 * status, an oversized or malformed page, or more than MAX_READING_PAGES pages.
 */
export async function fetchPeerReadings(peer: string, intervalId: bigint): Promise<unknown[]> {
  const out: unknown[] = [];
  let offset: number | null = 0;
  for (let page = 0; offset !== null; page++) {
    if (page >= MAX_READING_PAGES) throw new PeerResponseError(`more than ${MAX_READING_PAGES} pages`);
    const url = new URL(`/meter-readings/${intervalId}`, peer);
    url.searchParams.set("offset", String(offset));
    const response = await fetch(url, { signal: AbortSignal.timeout(PEER_TIMEOUT_MS) });
    const text = await readBounded(response, MAX_PAGE_BYTES);
    if (!response.ok)
      throw new PeerResponseError(`${peer} answered ${response.status}: ${text.slice(0, 200)}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new PeerResponseError(`${peer} answered with a body that is not JSON`);
    }
    const parsed = ReadingsPageSchema.safeParse(json);
    if (!parsed.success) throw new PeerResponseError(`${peer}: ${formatIssues(parsed.error.issues)}`);
    if (parsed.data.intervalId !== intervalId.toString())
      throw new PeerResponseError(`${peer}: intervalId ${parsed.data.intervalId}, asked for ${intervalId}`);
    if (parsed.data.next !== null && parsed.data.next <= offset)
      throw new PeerResponseError(`${peer}: next ${parsed.data.next} does not advance past ${offset}`);
    out.push(...parsed.data.readings);
    offset = parsed.data.next;
  }
  return out;
}

/** How many refused readings of one peer a log line lists (the count is always logged). */
const MAX_LOGGED_REFUSALS = 20;

/** One reading a peer refused (its 422 item), indexed in the forwarded readings. */
export interface PeerRefusal {
  readonly index: number;
  readonly code?: string;
  readonly reason: string;
}

const RefusedBodySchema = z.object({
  items: z.array(
    z.object({
      index: z.number().int().nonnegative(),
      status: z.string(),
      code: z.string().optional(),
      reason: z.string().optional(),
    }),
  ),
});

/** The rejected items of a 422 page, shifted by the page's offset; the raw text if unparsable. */
function refusals(text: string, pageOffset: number): PeerRefusal[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = RefusedBodySchema.safeParse(json);
  if (!parsed.success) return [{ index: pageOffset, reason: `unreadable 422 body: ${text.slice(0, 200)}` }];
  return parsed.data.items
    .filter((i) => i.status === "rejected")
    .map((i) => ({
      index: pageOffset + i.index,
      ...(i.code === undefined ? {} : { code: i.code }),
      reason: i.reason ?? "no reason given",
    }));
}

/**
 * Sends readings this node accepted to every peer (pages of READINGS_PAGE_SIZE). A peer that is
 * down or fails is logged once per call with the others in one line; it fetches what it missed
 * itself before its meter report. A peer that answers 422 refused every reading of that page (they
 * failed its verification, e.g. its registry view lags): that is an answer, not an outage, so the
 * next pages are still sent, nothing is resent, and the refusals are logged with the peer's
 * reasons. Returns the number of peers that took every page.
 */
export async function forwardReadings(
  peers: readonly string[],
  readings: readonly unknown[],
  logger?: Logger,
): Promise<number> {
  if (readings.length === 0 || peers.length === 0) return 0;
  const pages: string[] = [];
  for (let i = 0; i < readings.length; i += READINGS_PAGE_SIZE)
    pages.push(JSON.stringify(readings.slice(i, i + READINGS_PAGE_SIZE)));
  const results = await Promise.allSettled(
    peers.map(async (peer) => {
      const refused: PeerRefusal[] = [];
      for (const [p, body] of pages.entries()) {
        const response = await fetch(new URL("/committee/meter-readings", peer), {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          signal: AbortSignal.timeout(PEER_TIMEOUT_MS),
        });
        if (response.status === 422) {
          refused.push(...refusals(await readBounded(response, MAX_PAGE_BYTES), p * READINGS_PAGE_SIZE));
          continue;
        }
        if (!response.ok)
          throw new Error(`${peer} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
        await response.body?.cancel();
      }
      return refused;
    }),
  );
  const failed = results.flatMap((r, i) =>
    r.status === "rejected" ? [{ peer: peers[i], reason: String(r.reason) }] : [],
  );
  const refusedBy = results.flatMap((r, i) =>
    r.status === "fulfilled" && r.value.length > 0
      ? [{ peer: peers[i], refused: r.value.length, reasons: r.value.slice(0, MAX_LOGGED_REFUSALS) }]
      : [],
  );
  if (failed.length > 0)
    logger?.warn({ failed, readings: readings.length }, "peers did not take forwarded meter readings");
  if (refusedBy.length > 0)
    logger?.warn({ refusedBy, readings: readings.length }, "peers refused forwarded meter readings");
  return peers.length - failed.length - refusedBy.length;
}
