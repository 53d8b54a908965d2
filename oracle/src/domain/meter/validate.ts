/**
 * Validation of a batch of meter readings against the protocol rules: shape (zod), registration,
 * timing (not before the interval ends, not after its meter deadline), EIP-712 signature by the
 * meter's own key, and duplicates within the batch. Pure: the clock and the registry are inputs.
 *
 * Every input item ends in exactly one of `accepted`, `duplicates` or `rejected`, keyed by its
 * index in the batch, so a caller can answer per item and nothing is silently dropped.
 */
import { type Address, getAddress } from "viem";
import type { EnergySource } from "../energy-source.js";
import { formatIssues } from "../errors.js";
import { type SignedMeterReading, SignedMeterReadingSchema, recoverMeterReadingSigner } from "./reading.js";

/** The registry's source of a meter (domain/energy-source.ts; a consumption-only meter is `other`). */
export type MeterSource = EnergySource;

export interface RegisteredMeter {
  readonly participant: Address;
  readonly source: MeterSource;
}

/** Registered meters by checksummed meter address (build it with `meterRegistry`). */
export type MeterRegistry = ReadonlyMap<Address, RegisteredMeter>;

export function meterRegistry(entries: Iterable<readonly [string, RegisteredMeter]>): MeterRegistry {
  const map = new Map<Address, RegisteredMeter>();
  for (const [meter, info] of entries)
    map.set(getAddress(meter), { participant: getAddress(info.participant), source: info.source });
  return map;
}

export type MeterRejectionCode =
  | "malformed"
  | "unsigned"
  | "wrong-signer"
  | "bad-signature"
  | "unregistered"
  | "premature"
  | "late"
  | "conflict";

export interface MeterRejection {
  /** Index of the item in the submitted batch. */
  readonly index: number;
  readonly code: MeterRejectionCode;
  /** Names the field (when one is at fault) and the reason. */
  readonly reason: string;
  /** The item as received (for the `meter-rejected` record). */
  readonly input: unknown;
}

export interface AcceptedReading {
  readonly index: number;
  readonly reading: SignedMeterReading;
  readonly participant: Address;
  readonly source: MeterSource;
}

export interface MeterBatchResult {
  readonly accepted: readonly AcceptedReading[];
  /** Exact repeats of an accepted item in the same batch: idempotent, stored once. */
  readonly duplicates: readonly { readonly index: number; readonly duplicateOf: number }[];
  readonly rejected: readonly MeterRejection[];
}

export interface MeterValidationContext {
  readonly chainId: number;
  readonly market: Address;
  readonly registry: MeterRegistry;
  /** Current time, unix seconds. */
  readonly nowSeconds: bigint;
  readonly intervalSeconds: bigint;
  /** Readings are accepted until `interval end + meterDeadlineSeconds`. */
  readonly meterDeadlineSeconds: bigint;
}

/** The window in which readings of `intervalId` are accepted: [interval end, end + deadline]. */
export function meterWindow(
  intervalId: bigint,
  intervalSeconds: bigint,
  meterDeadlineSeconds: bigint,
): { opensAt: bigint; closesAt: bigint } {
  const opensAt = (intervalId + 1n) * intervalSeconds;
  return { opensAt, closesAt: opensAt + meterDeadlineSeconds };
}

/** Validates one batch. Order of checks: shape → registration → timing → signature → batch duplicates. */
export async function verifyMeterReadings(
  items: readonly unknown[],
  ctx: MeterValidationContext,
): Promise<MeterBatchResult> {
  const rejected: MeterRejection[] = [];
  const candidates: AcceptedReading[] = [];

  for (const [index, input] of items.entries()) {
    const reject = (code: MeterRejectionCode, reason: string): void => {
      rejected.push({ index, code, reason, input });
    };
    const parsed = SignedMeterReadingSchema.safeParse(input);
    if (!parsed.success) {
      const unsigned = parsed.error.issues.some(
        (i) => i.path[0] === "signature" && /unsigned/.test(i.message),
      );
      reject(unsigned ? "unsigned" : "malformed", formatIssues(parsed.error.issues));
      continue;
    }
    const reading = parsed.data;
    const registered = ctx.registry.get(reading.meter);
    if (registered === undefined) {
      reject("unregistered", `meter: ${reading.meter} is not a registered meter`);
      continue;
    }
    const window = meterWindow(reading.intervalId, ctx.intervalSeconds, ctx.meterDeadlineSeconds);
    if (ctx.nowSeconds < window.opensAt) {
      reject(
        "premature",
        `intervalId: interval ${reading.intervalId} has not ended yet (readings open at ${window.opensAt}, now ${ctx.nowSeconds})`,
      );
      continue;
    }
    if (ctx.nowSeconds > window.closesAt) {
      reject(
        "late",
        `intervalId: the meter deadline of interval ${reading.intervalId} passed at ${window.closesAt} (now ${ctx.nowSeconds})`,
      );
      continue;
    }
    let signer: Address;
    try {
      signer = await recoverMeterReadingSigner(ctx.chainId, ctx.market, reading);
    } catch {
      reject("bad-signature", "signature: is not a valid secp256k1 signature");
      continue;
    }
    if (signer !== reading.meter) {
      reject("wrong-signer", `signature: signed by ${signer}, not by the meter ${reading.meter}`);
      continue;
    }
    candidates.push({ index, reading, participant: registered.participant, source: registered.source });
  }

  // Same meter and interval twice in one batch: identical values are one reading sent twice;
  // different values mean the meter (or someone holding its key) contradicts itself, and no
  // version can be trusted, so every version is rejected.
  const groups = new Map<string, AcceptedReading[]>();
  for (const c of candidates) {
    const key = `${c.reading.meter}-${c.reading.intervalId}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [c]);
    else group.push(c);
  }
  const accepted: AcceptedReading[] = [];
  const duplicates: { index: number; duplicateOf: number }[] = [];
  for (const group of groups.values()) {
    const first = group[0]!;
    const consistent = group.every(
      (g) =>
        g.reading.injectedWh === first.reading.injectedWh &&
        g.reading.consumedWh === first.reading.consumedWh,
    );
    if (consistent) {
      accepted.push(first);
      for (const g of group.slice(1)) duplicates.push({ index: g.index, duplicateOf: first.index });
      continue;
    }
    for (const g of group)
      rejected.push({
        index: g.index,
        code: "conflict",
        reason: `meter ${g.reading.meter} sent conflicting readings for interval ${g.reading.intervalId} in one batch`,
        input: items[g.index],
      });
  }
  accepted.sort((a, b) => a.index - b.index);
  rejected.sort((a, b) => a.index - b.index);
  return { accepted, duplicates, rejected };
}
