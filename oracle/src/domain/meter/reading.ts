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
  isAddress,
  isHex,
  recoverTypedDataAddress,
} from "viem";
import { z } from "zod";
import { type MeterReading, gridBrainDomain, hashMeterReading, meterReadingTypedData } from "../eip712.js";

export const UINT64_MAX = (1n << 64n) - 1n;

// The EIP-712 type and domain are defined once, in the contract's twin (`domain/eip712.ts`, proved
// equal to `EnergyMarket.hashMeterReading` by test/contracts/eip712.test.ts); these are its names
// for the readers of meter code.
export {
  meterReadingTypes as METER_READING_TYPES,
  gridBrainDomain as marketDomain,
  type MeterReading as MeterReadingMessage,
} from "../eip712.js";

export interface SignedMeterReading extends MeterReading {
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

/** The reading's fields alone (a parsed reading also carries its signature). */
function message(reading: MeterReading): MeterReading {
  return {
    meter: reading.meter,
    intervalId: reading.intervalId,
    injectedWh: reading.injectedWh,
    consumedWh: reading.consumedWh,
  };
}

/** EIP-712 digest of a reading under the market's domain (equals `EnergyMarket.hashMeterReading`). */
export function meterReadingDigest(chainId: number, market: Address, reading: MeterReading): Hex {
  return hashMeterReading(gridBrainDomain(chainId, market), message(reading));
}

/** Recovers the address that signed `reading` (throws on a malformed signature). */
export async function recoverMeterReadingSigner(
  chainId: number,
  market: Address,
  reading: SignedMeterReading,
): Promise<Address> {
  return recoverTypedDataAddress({
    ...meterReadingTypedData(gridBrainDomain(chainId, market), message(reading)),
    signature: reading.signature,
  });
}

/** Signs a reading with a meter's key (used by meter simulators, the demo and tests). */
export async function signMeterReading(
  account: LocalAccount,
  chainId: number,
  market: Address,
  reading: Omit<MeterReading, "meter">,
): Promise<SignedMeterReading> {
  const fields = { meter: account.address, ...reading };
  const signature = await account.signTypedData(
    meterReadingTypedData(gridBrainDomain(chainId, market), fields),
  );
  return { ...fields, signature };
}
