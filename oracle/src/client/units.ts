/**
 * Units at the client's boundary: exact decimal text → integer base units (token amounts with the
 * token's decimals, energy in kWh → Wh), never rounded: more fraction digits than the unit has is
 * an error naming the field. The money rounding (`costRoundedUp`/`Down`, `orderLock`) and the
 * certificate ids are the domain's (domain/units.ts, domain/energy-source.ts), re-exported here so
 * an integrator imports one module.
 */
import { InvalidParameterError } from "./errors.js";

export { costRoundedDown, costRoundedUp, intervalIdAt, orderLock } from "../domain/units.js";
export { certificateId, certificateOf, sourceLabel, type EnergySource } from "../domain/energy-source.js";

/** Energy has 3 decimals in kWh: the chain counts Wh. */
export const KWH_DECIMALS = 3;

/**
 * Exact decimal text (`"12.5"`) → base units with `decimals` fraction digits.
 * @throws InvalidParameterError naming `field` when the text is not a non-negative decimal or has
 *   more fraction digits than `decimals` (trailing zeros are allowed).
 */
export function parseAmount(value: string, decimals: number, field: string): bigint {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(value);
  if (match === null)
    throw new InvalidParameterError(field, `must be a non-negative decimal number, got "${value}"`);
  const fraction = (match[2] ?? "").replace(/0+$/, "");
  if (fraction.length > decimals)
    throw new InvalidParameterError(
      field,
      `"${value}" has more than ${decimals} decimal places (the smallest unit is 10^-${decimals})`,
    );
  return BigInt(match[1]! + fraction.padEnd(decimals, "0"));
}

/** kWh text → Wh, exactly (at most 3 decimals). */
export function parseKwh(value: string, field: string): bigint {
  return parseAmount(value, KWH_DECIMALS, field);
}

/** A positive amount: `parseAmount` that also refuses zero. */
export function parsePositiveAmount(value: string, decimals: number, field: string): bigint {
  const amount = parseAmount(value, decimals, field);
  if (amount === 0n) throw new InvalidParameterError(field, "must be greater than zero");
  return amount;
}

/** A random order nonce below 2^63 (fits the contract's uint64), from the platform's CSPRNG. */
export function randomOrderNonce(): bigint {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n >> 1n;
}
