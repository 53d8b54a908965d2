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
import {
  COLLATERAL_PER_KWH,
  DEPOSIT,
  INTERVAL,
  type Env,
  type Party,
  costDown,
  costUp,
  devAccount,
  newMeter,
  placeOrders,
  setupMarket,
} from "./harness.js";
import { energyMarketAbi } from "../../oracle/src/chain/abis.js";

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
  B2: [0n, 900n],
  S3: [1500n, 0n],
  B3: [0n, 1400n],
};

/**
 * The netted imbalance prices the committee must report for READINGS (docs/MARKET_RULES.md;
 * tariffs R = SHORT_PRICE 200,000 and F = LONG_PRICE 20,000 in both zones), by hand:
 *
 * zone 0 (p = 120,000): S1 short 200 Wh (sold 5000, injected 4800), B1 short 100 (bought 4000,
 *   consumed 4100), B2 long 100 (bought 1000, consumed 900), S2 0 (sold nothing; its silent meter
 *   counts as 0). S = 300, L = 100: B2's 100 Wh covered 100 of the shorts.
 *   short = ⌈(100 · 120,000 + 200 · 200,000) / 300⌉ = ⌈173,333.3⌉ = 173,334; long = 120,000.
 * zone 1 (p = 90,000): B3 long 100 Wh, nobody short: short = R = 200,000, long = F = 20,000.
 */
export const EXPECTED_IMBALANCE_PRICES: readonly { readonly short: bigint; readonly long: bigint }[] = [
  { short: 173_334n, long: 120_000n },
  { short: 200_000n, long: 20_000n },
];

export const byName = (parties: readonly Party[], name: string): Party =>
  parties.find((x) => x.name === name)!;
export const addressOf = (parties: readonly Party[], name: string): Address =>
  byName(parties, name).account.address;

/**
 * Sets up the market, places the scenario's orders for the interval two ahead of chain time and
 * cancels B4's; returns that interval.
 */
export async function bookScenarioOrders(env: Env, parties: Party[]): Promise<bigint> {
  await setupMarket(env, parties, 2);
  const intervalId = (await env.now()) / INTERVAL + 2n;
  await placeOrders(env, parties, intervalId);
  const b4 = byName(parties, "B4");
  await env.write(b4.account, env.addresses.market, energyMarketAbi, "cancelOrder", [
    {
      owner: b4.account.address,
      intervalId,
      side: 0,
      zoneId: b4.zone,
      quantityWh: b4.quantityWh,
      limitPricePerKwh: b4.limit,
      nonce: 6n,
    },
  ]);
  return intervalId;
}

/**
 * A party's free balance once the fills are settled, from fills and prices alone: a buyer paid its
 * fill; the imbalance collateral of the filled part stays locked until the imbalance settles, and
 * a seller's payout is withheld until then (sellers are paid after delivery).
 */
export function expectedFreeAfterFills(parties: readonly Party[], name: string): bigint {
  const p = byName(parties, name);
  const f = EXPECTED_FILLS[name] ?? 0n;
  const price = EXPECTED_PRICES[p.zone]!;
  if (p.side === "bid") return DEPOSIT - costUp(price, f) - costUp(COLLATERAL_PER_KWH, f);
  return DEPOSIT - costUp(COLLATERAL_PER_KWH, f);
}

/** A seller's payout for its fill, withheld until its delivery is settled (0 for a buyer). */
export function expectedPendingPayout(parties: readonly Party[], name: string): bigint {
  const p = byName(parties, name);
  return p.side === "offer" ? costDown(EXPECTED_PRICES[p.zone]!, EXPECTED_FILLS[name] ?? 0n) : 0n;
}

/** Locked until delivery once the fills are settled: the filled part's collateral and a seller's withheld payout. */
export function expectedLockedAfterFills(parties: readonly Party[], name: string): bigint {
  return costUp(COLLATERAL_PER_KWH, EXPECTED_FILLS[name] ?? 0n) + expectedPendingPayout(parties, name);
}

/**
 * A party's free balance once its delivery is settled against READINGS, and what that moved into
 * the operator's funds. deviation = (injected − consumed) − (sold − bought), settled at
 * EXPECTED_IMBALANCE_PRICES; a missing reading counts as 0 injected. What was locked for the delivery comes back; a short charge reaches no
 * further than that.
 */
export function expectedAfterDelivery(
  parties: readonly Party[],
  name: string,
): { free: bigint; operatorDelta: bigint } {
  const p = byName(parties, name);
  const [injected, consumed] = READINGS[name] ?? [0n, 0n];
  const f = EXPECTED_FILLS[name]!;
  const deviation = injected - consumed - (p.side === "offer" ? f : -f);
  const locked = expectedLockedAfterFills(parties, name);
  const free = expectedFreeAfterFills(parties, name) + locked;
  const prices = EXPECTED_IMBALANCE_PRICES[p.zone]!;
  if (deviation < 0n) {
    const charge = costUp(prices.short, -deviation);
    const charged = charge < locked ? charge : locked;
    return { free: free - charged, operatorDelta: charged };
  }
  if (deviation > 0n) {
    const paid = costDown(prices.long, deviation);
    return { free: free + paid, operatorDelta: -paid };
  }
  return { free, operatorDelta: 0n };
}
