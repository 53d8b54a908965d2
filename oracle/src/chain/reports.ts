/**
 * The committee's reports as the market verifies them: EIP-712 types of `ScheduleReport` and
 * `MeterReport`, the fill and meter Merkle trees (OpenZeppelin StandardMerkleTree, leaves
 * `(bytes32 orderId, uint64 filledWh)` and `(address participant, uint64 injectedWh, uint64
 * consumedWh)`), and a JSON form with bigints as decimal strings for Redis and the peer API.
 *
 * NOTE: the schedule twin `oracle/src/domain/schedule.ts` / `eip712.ts` is being written by the
 * contracts helper; when it lands these encodings should be replaced by imports from it. The
 * e2e test proves these agree with the contract (a commit verified on-chain).
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { type Address, type Hex, getAddress, hashTypedData, recoverTypedDataAddress } from "viem";
import { z } from "zod";

export const SCHEDULE_REPORT_TYPES = {
  ScheduleReport: [
    { name: "market", type: "address" },
    { name: "intervalId", type: "uint64" },
    { name: "configEpoch", type: "uint64" },
    { name: "ordersDigest", type: "bytes32" },
    { name: "scheduleRoot", type: "bytes32" },
    { name: "fillCount", type: "uint32" },
    { name: "zonePrices", type: "uint256[]" },
  ],
} as const;

export const METER_REPORT_TYPES = {
  MeterReport: [
    { name: "market", type: "address" },
    { name: "intervalId", type: "uint64" },
    { name: "configEpoch", type: "uint64" },
    { name: "meterRoot", type: "bytes32" },
    { name: "shortPricePerKwh", type: "uint128" },
    { name: "longPricePerKwh", type: "uint128" },
  ],
} as const;

export interface ScheduleReport {
  readonly market: Address;
  readonly intervalId: bigint;
  readonly configEpoch: bigint;
  readonly ordersDigest: Hex;
  readonly scheduleRoot: Hex;
  readonly fillCount: number;
  readonly zonePrices: readonly bigint[];
}

export interface MeterReport {
  readonly market: Address;
  readonly intervalId: bigint;
  readonly configEpoch: bigint;
  readonly meterRoot: Hex;
  readonly shortPricePerKwh: bigint;
  readonly longPricePerKwh: bigint;
}

export type ReportKind = "schedule" | "meter";
export type AnyReport = { kind: "schedule"; report: ScheduleReport } | { kind: "meter"; report: MeterReport };

const domain = (chainId: number, market: Address) =>
  ({ name: "GridBrain", version: "1", chainId, verifyingContract: market }) as const;

function typedData(chainId: number, r: AnyReport) {
  if (r.kind === "schedule")
    return {
      domain: domain(chainId, r.report.market),
      types: SCHEDULE_REPORT_TYPES,
      primaryType: "ScheduleReport" as const,
      message: { ...r.report, zonePrices: [...r.report.zonePrices] },
    };
  return {
    domain: domain(chainId, r.report.market),
    types: METER_REPORT_TYPES,
    primaryType: "MeterReport" as const,
    message: r.report,
  };
}

/** EIP-712 digest of a report under the market's domain (what `hashScheduleReport` / `hashMeterReport` return). */
export function reportDigest(chainId: number, r: AnyReport): Hex {
  return hashTypedData(typedData(chainId, r) as Parameters<typeof hashTypedData>[0]);
}

export function recoverReportSigner(chainId: number, r: AnyReport, signature: Hex): Promise<Address> {
  return recoverTypedDataAddress({
    ...(typedData(chainId, r) as Parameters<typeof hashTypedData>[0]),
    signature,
  });
}

/* FILL TREE */

export const FILL_LEAF_ENCODING = ["bytes32", "uint64"];
export const METER_LEAF_ENCODING = ["address", "uint64", "uint64"];

export type FillLeaf = [orderId: Hex, filledWh: bigint];
export type MeterLeaf = [participant: Address, injectedWh: bigint, consumedWh: bigint];

export function fillTree(leaves: readonly FillLeaf[]): StandardMerkleTree<FillLeaf> {
  return StandardMerkleTree.of<FillLeaf>([...leaves], FILL_LEAF_ENCODING);
}

export function meterTree(leaves: readonly MeterLeaf[]): StandardMerkleTree<MeterLeaf> {
  return StandardMerkleTree.of<MeterLeaf>([...leaves], METER_LEAF_ENCODING);
}

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
    shortPricePerKwh: uint,
    longPricePerKwh: uint,
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
