/**
 * A smart meter's signed interval reading: the EIP-712 type shared with the contracts, the zod
 * schema every reading passes at the boundary (HTTP body, file import), and signature recovery.
 *
 * Invariants of a parsed reading: `meter` is a checksummed address; `intervalId`, `injectedWh`
 * and `consumedWh` are bigints in [0, 2^64 - 1]; `signature` is 65 bytes of hex.
 */
import {
  type Address,
  type Hex,
  type LocalAccount,
  getAddress,
  hashTypedData,
  isAddress,
  isHex,
  recoverTypedDataAddress,
} from "viem";
import { z } from "zod";

export const UINT64_MAX = (1n << 64n) - 1n;

/** `MeterReading(address meter,uint64 intervalId,uint64 injectedWh,uint64 consumedWh)`. */
export const METER_READING_TYPES = {
  MeterReading: [
    { name: "meter", type: "address" },
    { name: "intervalId", type: "uint64" },
    { name: "injectedWh", type: "uint64" },
    { name: "consumedWh", type: "uint64" },
  ],
} as const;

export const METER_READING_PRIMARY_TYPE = "MeterReading" as const;

/** The market's EIP-712 domain (shared protocol fact: name "GridBrain", version "1"). */
export function marketDomain(chainId: number, market: Address) {
  return { name: "GridBrain", version: "1", chainId, verifyingContract: market } as const;
}

export interface MeterReadingMessage {
  readonly meter: Address;
  readonly intervalId: bigint;
  readonly injectedWh: bigint;
  readonly consumedWh: bigint;
}

export interface SignedMeterReading extends MeterReadingMessage {
  readonly signature: Hex;
}

/**
 * An unsigned integer that fits uint64, from a JSON number (safe integers only) or a decimal
 * string. Units, fractions, exponents, signs and hex are rejected with a reason naming them.
 */
export function uint64Schema() {
  return z.unknown().transform((value, ctx): bigint => {
    const fail = (message: string): never => {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message });
      return z.NEVER;
    };
    if (value === undefined || value === null) return fail("is required");
    if (typeof value === "bigint") {
      if (value < 0n) return fail(`must not be negative, got ${value}`);
      if (value > UINT64_MAX) return fail(`exceeds uint64 max (2^64-1), got ${value}`);
      return value;
    }
    if (typeof value === "number") {
      if (Number.isNaN(value)) return fail("must be an integer, got NaN");
      if (!Number.isFinite(value)) return fail(`must be finite, got ${value}`);
      if (!Number.isInteger(value)) return fail(`must be an integer, got fraction ${value}`);
      if (value < 0) return fail(`must not be negative, got ${value}`);
      if (!Number.isSafeInteger(value))
        return fail(`number ${value} is above 2^53-1 and loses precision; send it as a decimal string`);
      return BigInt(value);
    }
    if (typeof value !== "string") return fail(`must be an integer or a decimal string, got ${typeof value}`);
    const text = value.trim();
    if (text === "") return fail("must not be empty");
    if (/^-\d/.test(text)) return fail(`must not be negative, got "${value}"`);
    if (/^\d+\.\d*$/.test(text)) return fail(`must be an integer, got fraction "${value}"`);
    if (/^\d+(\.\d+)?\s*[a-zA-Z]+$/.test(text))
      return fail(
        `must be a plain integer without a unit, got "${value}" (give the unit in the "unit" field)`,
      );
    if (/^nan$/i.test(text)) return fail("must be an integer, got NaN");
    if (!/^\d+$/.test(text)) return fail(`must be a decimal integer, got "${value}"`);
    const parsed = BigInt(text);
    if (parsed > UINT64_MAX) return fail(`exceeds uint64 max (2^64-1), got ${text}`);
    return parsed;
  });
}

export function addressSchema() {
  return z.unknown().transform((value, ctx): Address => {
    if (typeof value !== "string" || value === "") {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: "is required (a 0x-prefixed 20-byte address)" });
      return z.NEVER;
    }
    if (!/^0x[0-9a-fA-F]{40}$/.test(value)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `is not a 0x-prefixed 20-byte hex address: "${value}"`,
      });
      return z.NEVER;
    }
    // Mixed case must be a valid EIP-55 checksum: a typo in one digit is caught, not trusted.
    if (!isAddress(value, { strict: true })) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `has an invalid EIP-55 checksum: "${value}"` });
      return z.NEVER;
    }
    return getAddress(value);
  });
}

export function signatureSchema() {
  return z.unknown().transform((value, ctx): Hex => {
    if (value === undefined || value === null || value === "") {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: "is missing: the reading is unsigned" });
      return z.NEVER;
    }
    if (typeof value !== "string" || !isHex(value, { strict: true }) || value.length !== 132) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: "must be a 65-byte (r, s, v) signature as 0x-prefixed hex (132 characters)",
      });
      return z.NEVER;
    }
    return value.toLowerCase() as Hex;
  });
}

/** The wire schema of one signed reading. Unknown fields are rejected (a typo is not ignored). */
export const SignedMeterReadingSchema = z
  .object({
    meter: addressSchema(),
    intervalId: uint64Schema(),
    injectedWh: uint64Schema(),
    consumedWh: uint64Schema(),
    signature: signatureSchema(),
  })
  .strict();

/** EIP-712 digest of a reading under the market's domain. */
export function meterReadingDigest(chainId: number, market: Address, reading: MeterReadingMessage): Hex {
  return hashTypedData({
    domain: marketDomain(chainId, market),
    types: METER_READING_TYPES,
    primaryType: METER_READING_PRIMARY_TYPE,
    message: {
      meter: reading.meter,
      intervalId: reading.intervalId,
      injectedWh: reading.injectedWh,
      consumedWh: reading.consumedWh,
    },
  });
}

/** Recovers the address that signed `reading` (throws on a malformed signature). */
export async function recoverMeterReadingSigner(
  chainId: number,
  market: Address,
  reading: SignedMeterReading,
): Promise<Address> {
  return recoverTypedDataAddress({
    domain: marketDomain(chainId, market),
    types: METER_READING_TYPES,
    primaryType: METER_READING_PRIMARY_TYPE,
    message: {
      meter: reading.meter,
      intervalId: reading.intervalId,
      injectedWh: reading.injectedWh,
      consumedWh: reading.consumedWh,
    },
    signature: reading.signature,
  });
}

/** Signs a reading with a meter's key (used by meter simulators, the demo and tests). */
export async function signMeterReading(
  account: LocalAccount,
  chainId: number,
  market: Address,
  reading: Omit<MeterReadingMessage, "meter">,
): Promise<SignedMeterReading> {
  const message = { meter: account.address, ...reading };
  const signature = await account.signTypedData({
    domain: marketDomain(chainId, market),
    types: METER_READING_TYPES,
    primaryType: METER_READING_PRIMARY_TYPE,
    message,
  });
  return { ...message, signature };
}
