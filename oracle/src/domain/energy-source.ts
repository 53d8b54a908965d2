/**
 * The energy source behind a smart meter: the one TypeScript definition of the registry's
 * `enum Source` (contracts/interfaces/IGridRegistry.sol). The position in `ENERGY_SOURCES` is the
 * uint8 the contract stores and emits, so the order is the contract's, and
 * test/oracle/domain/contract-enums.test.ts fails if the two drift apart. Every other place
 * (chain reads, the demo, meter validation) imports it; a consumption-only meter is `other`.
 */
export const ENERGY_SOURCES = ["other", "solar", "wind", "hydro", "battery"] as const;
export type EnergySource = (typeof ENERGY_SOURCES)[number];

/** The contract's `Source` value of a source (ABI arguments: `registerMeter`, `claimCertificates`). */
export function sourceCode(source: EnergySource): number {
  return ENERGY_SOURCES.indexOf(source);
}

/** A source's display name ("Solar"), or `source N` for a value the registry does not define. */
export function sourceLabel(code: number): string {
  const source = ENERGY_SOURCES[code];
  return source === undefined ? `source ${code}` : source[0]!.toUpperCase() + source.slice(1);
}

/** The certificates' ERC-1155 id of `source` in `intervalId`: `(intervalId << 8) | source` (`EnergyMarket.certificateId`). */
export function certificateId(intervalId: bigint, source: EnergySource): bigint {
  return (intervalId << 8n) | BigInt(sourceCode(source));
}

/** The interval and source code a certificate id stands for (the inverse of `certificateId`). */
export function certificateOf(id: bigint): { intervalId: bigint; sourceCode: number } {
  return { intervalId: id >> 8n, sourceCode: Number(id & 0xffn) };
}
