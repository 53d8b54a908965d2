/**
 * Random instances shaped like the market's on-chain intervals (domain/clearing.ts clearingInstance):
 * zones 0..Z-1, lines with losses in basis points, fees and capacities, token prices of tens of
 * thousands of base units per kWh (a 6-decimal stablecoin), household-sized orders, no batteries
 * (the market has no flexibility-order type yet). Used by the budget property test and by
 * bench/dispatch-budget.ts.
 */
import fc from "fast-check";
import type { DispatchInstanceInput } from "../../../../oracle/src/domain/dispatch/index.js";
import { OWNER } from "./fixtures.js";

export const CHAIN_FIRST = 2_015_100;

export const chainInstanceArb: fc.Arbitrary<DispatchInstanceInput> = fc
  .record({
    Z: fc.integer({ min: 2, max: 4 }),
    T: fc.integer({ min: 1, max: 2 }),
    base: fc.integer({ min: 20_000, max: 120_000 }),
    orders: fc.array(
      fc.record({
        zone: fc.nat(3),
        t: fc.nat(1),
        bid: fc.boolean(),
        // household-sized, with many small ones: small flows are where rounding hurts most
        q: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 3000 })),
        // around the base price, with ties
        spread: fc.oneof(fc.integer({ min: -30_000, max: 30_000 }), fc.constantFrom(0, 1, -1, 6_531)),
      }),
      { minLength: 1, maxLength: 16 },
    ),
    lines: fc.array(
      fc.record({
        cap: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 5000 })),
        lossBps: fc.oneof(fc.constantFrom(0, 1, 200, 250, 300, 1000), fc.integer({ min: 0, max: 1500 })),
        fee: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3000 })),
      }),
      { minLength: 6, maxLength: 6 },
    ),
  })
  .map(({ Z, T, base, orders, lines }) => {
    const pairs: Array<[number, number]> = [
      [0, 1],
      [1, 2],
      [0, 2],
      [2, 3],
      [1, 3],
      [0, 3],
    ];
    return {
      horizon: { firstInterval: CHAIN_FIRST, intervals: T },
      zones: Array.from({ length: Z }, (_, i) => i),
      lines: pairs
        .map(([a, b], i) => ({ a, b, l: lines[i]! }))
        .filter(({ a, b }) => a < Z && b < Z)
        .map(({ a, b, l }) => ({
          from: a,
          to: b,
          capacityWh: l.cap,
          lossFactor: l.lossBps / 10_000,
          feePerKwh: l.fee,
        })),
      batteries: [],
      orders: orders.map((o, i) => ({
        id: String(i + 1),
        owner: OWNER,
        zone: o.zone % Z,
        side: o.bid ? ("bid" as const) : ("offer" as const),
        quantityWh: o.q,
        limitPricePerKwh: Math.max(0, base + o.spread),
        interval: CHAIN_FIRST + (o.t % T),
      })),
    };
  });
