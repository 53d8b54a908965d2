/**
 * The two-zone scenario with hand-computed clearing (no line between the zones, so each zone
 * clears on its own merit order and its price is the bracket midpoint, docs/DISPATCH.md):
 *
 * zone 0: offers S1 5000 Wh ≥ 100000, S2 3000 Wh ≥ 150000; bids B1 4000 Wh ≤ 200000,
 *         B2 3000 Wh ≤ 120000, B4 1000 Wh ≤ 500000 (cancelled before gate closure).
 *         Merit order: B1 takes 4000 of S1, B2 the last 1000 of S1; S2 (150000) is above B2's 120000.
 *         Bracket: L = max(100000 matched ask, 120000 unfilled bid) = 120000,
 *                  U = min(200000, 120000 matched bids, 150000 unfilled ask) = 120000 → price 120000.
 * zone 1: offer S3 2000 Wh ≥ 90000; bid B3 1500 Wh ≤ 300000. B3 takes 1500 of S3.
 *         L = 90000, U = min(300000, 90000 unfilled ask) = 90000 → price 90000.
 */
import type { Address } from "viem";
import { type Party, devAccount, newMeter } from "./harness.js";

export function scenarioParties(): Party[] {
  const p = (
    name: string,
    i: number,
    zone: number,
    side: "bid" | "offer",
    q: bigint,
    limit: bigint,
    meter = true,
  ): Party => ({
    name,
    account: devAccount(i),
    zone,
    side,
    quantityWh: q,
    limit,
    meter: meter ? newMeter() : undefined,
  });
  return [
    p("S1", 6, 0, "offer", 5000n, 100_000n),
    p("S2", 7, 0, "offer", 3000n, 150_000n),
    p("B1", 8, 0, "bid", 4000n, 200_000n),
    p("B2", 9, 0, "bid", 3000n, 120_000n),
    p("S3", 10, 1, "offer", 2000n, 90_000n),
    p("B3", 11, 1, "bid", 1500n, 300_000n),
    p("B4", 12, 0, "bid", 1000n, 500_000n, false),
  ];
}

/** Expected fills (Wh) by party name; B4 is cancelled and has no leaf. */
export const EXPECTED_FILLS: Readonly<Record<string, bigint>> = {
  S1: 5000n,
  S2: 0n,
  B1: 4000n,
  B2: 1000n,
  S3: 1500n,
  B3: 1500n,
};
export const EXPECTED_PRICES: readonly bigint[] = [120_000n, 90_000n];

/** Meter readings (injected, consumed) by party name; S2's meter sends nothing (missing-reading rule). */
export const READINGS: Readonly<Record<string, [bigint, bigint]>> = {
  S1: [4800n, 0n],
  B1: [0n, 4100n],
  B2: [0n, 1000n],
  S3: [1500n, 0n],
  B3: [0n, 1400n],
};

export const byName = (parties: readonly Party[], name: string): Party =>
  parties.find((x) => x.name === name)!;
export const addressOf = (parties: readonly Party[], name: string): Address =>
  byName(parties, name).account.address;
