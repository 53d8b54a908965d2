/**
 * The committee's reports as the pipeline handles them: the EIP-712 typed data, digest and signer
 * recovery of a `ScheduleReport` or `MeterReport` under the market's domain, the schedule root,
 * and a JSON form with bigints as decimal strings for Redis and the peer API.
 *
 * The encodings themselves live once, in the domain twins of the contract: `domain/eip712.ts`
 * (types, domain, digests) and `domain/schedule.ts` (fill and meter trees); test/contracts proves
 * those equal the contract's `hash…` views. This module only adapts them to the pipeline's
 * `{ kind, report }` form.
 */
import { type Address, type Hex, type LocalAccount, getAddress, recoverTypedDataAddress } from "viem";
import { z } from "zod";
import {
  type MeterReport,
  type ScheduleReport,
  gridBrainDomain,
  hashMeterReport,
  hashScheduleReport,
  meterReportTypedData,
  scheduleReportTypedData,
} from "../domain/eip712.js";

export type { MeterReport, ScheduleReport } from "../domain/eip712.js";

export type ReportKind = "schedule" | "meter";
export type AnyReport = { kind: "schedule"; report: ScheduleReport } | { kind: "meter"; report: MeterReport };

/** EIP-712 digest of a report under the market's domain (what `hashScheduleReport` / `hashMeterReport` return). */
export function reportDigest(chainId: number, r: AnyReport): Hex {
  const domain = gridBrainDomain(chainId, r.report.market);
  return r.kind === "schedule" ? hashScheduleReport(domain, r.report) : hashMeterReport(domain, r.report);
}

/** A committee member's EIP-712 signature of a report. */
export function signReport(account: LocalAccount, chainId: number, r: AnyReport): Promise<Hex> {
  const domain = gridBrainDomain(chainId, r.report.market);
  return r.kind === "schedule"
    ? account.signTypedData(scheduleReportTypedData(domain, r.report))
    : account.signTypedData(meterReportTypedData(domain, r.report));
}

export function recoverReportSigner(chainId: number, r: AnyReport, signature: Hex): Promise<Address> {
  const domain = gridBrainDomain(chainId, r.report.market);
  return r.kind === "schedule"
    ? recoverTypedDataAddress({ ...scheduleReportTypedData(domain, r.report), signature })
    : recoverTypedDataAddress({ ...meterReportTypedData(domain, r.report), signature });
}

/** The schedule root rule lives with the fill tree (domain/schedule.ts); re-exported for the pipeline. */
export { scheduleRootOf } from "../domain/schedule.js";

/* JSON FORM (Redis, peer API) */

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 32 bytes of 0x-hex");
const addr = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 20-byte 0x-hex address")
  .transform((v) => getAddress(v));
const uint = z
  .string()
  .regex(/^(0|[1-9][0-9]*)$/, "must be a decimal unsigned integer string")
  .transform((v) => BigInt(v));

export const scheduleReportJsonSchema = z
  .object({
    market: addr,
    intervalId: uint,
    configEpoch: uint,
    ordersDigest: hex32.transform((v) => v.toLowerCase() as Hex),
    scheduleRoot: hex32.transform((v) => v.toLowerCase() as Hex),
    fillCount: z
      .number()
      .int()
      .nonnegative()
      .max(2 ** 32 - 1),
    zonePrices: z.array(uint).max(4096),
  })
  .strict();

export const meterReportJsonSchema = z
  .object({
    market: addr,
    intervalId: uint,
    configEpoch: uint,
    meterRoot: hex32.transform((v) => v.toLowerCase() as Hex),
    scheduleRoot: hex32.transform((v) => v.toLowerCase() as Hex),
    zonePrices: z.array(uint).max(4096),
    shortPrices: z.array(uint).max(4096),
    longPrices: z.array(uint).max(4096),
    zoneSurplusWh: z.array(uint).max(4096),
  })
  .strict();

export const signedReportJsonSchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("schedule"),
      report: scheduleReportJsonSchema,
      signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte 0x-hex signature"),
    })
    .strict(),
  z
    .object({
      kind: z.literal("meter"),
      report: meterReportJsonSchema,
      signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte 0x-hex signature"),
    })
    .strict(),
]);

/** JSON.stringify replacer writing bigints as decimal strings. */
export const bigintReplacer = (_key: string, value: unknown): unknown =>
  typeof value === "bigint" ? value.toString() : value;

export function reportToJson(r: AnyReport): unknown {
  return JSON.parse(JSON.stringify(r.report, bigintReplacer)) as unknown;
}

export function reportFromJson(kind: ReportKind, json: unknown): AnyReport {
  if (kind === "schedule") return { kind, report: scheduleReportJsonSchema.parse(json) };
  return { kind, report: meterReportJsonSchema.parse(json) };
}
