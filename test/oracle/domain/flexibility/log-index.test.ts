/**
 * domain/flexibility/log-index.ts: the fold answers as the full read does (a naive replay of every
 * event), whatever the events, the split between applied events and the unapplied tail, and the
 * horizon's moves; below the horizon it refuses rather than answer wrong.
 */
import { expect } from "chai";
import fc from "fast-check";
import type { Hex } from "viem";
import { flexEndInterval } from "../../../../oracle/src/domain/flex-keeper.js";
import {
  type FlexEvent,
  FlexEventIndex,
  FlexHorizonPassedError,
  type FlexOrderFields,
} from "../../../../oracle/src/domain/flexibility/index.js";

const id = (k: number) => `0x${k.toString(16).padStart(64, "0")}` as Hex;
const order = (batteryId: number, first: bigint, last: bigint, nonce: bigint): FlexOrderFields => ({
  owner: "0x0000000000000000000000000000000000000001",
  batteryId,
  firstInterval: first,
  lastInterval: last,
  maxChargePricePerKwh: 1n,
  minDischargePricePerKwh: 2n,
  chargeBudget: 1_000n,
  initialSocWh: 100n + nonce,
  nonce,
});

/** The full read's orders over every event (chain/flexibility.ts before the index). */
function naiveOrders(events: readonly FlexEvent[]) {
  const ended = new Map<string, bigint>();
  for (const e of events)
    if (e.kind === "ended") {
      const p = ended.get(e.orderId);
      ended.set(e.orderId, p === undefined || e.endInterval < p ? e.endInterval : p);
    }
  return events
    .filter((e) => e.kind === "placed")
    .map((p) => ({
      orderId: p.orderId,
      order: p.order,
      endInterval: flexEndInterval(p.order.lastInterval, ended.get(p.orderId)),
    }));
}

/** The full read's active orders and states. */
function naive(events: readonly FlexEvent[], intervalId: bigint, before: bigint) {
  const steps = events.filter((e) => e.kind === "step").filter((s) => s.intervalId < before);
  return naiveOrders(events)
    .filter((o) => o.order.firstInterval <= intervalId && intervalId <= o.endInterval)
    .sort((a, b) => a.order.batteryId - b.order.batteryId)
    .map((o) => {
      const spent = steps
        .filter((s) => s.orderId === o.orderId && s.direction === 0)
        .reduce((n, s) => n + s.amount, 0n);
      let last: (typeof steps)[number] | undefined;
      for (const s of steps)
        if (
          s.batteryId === o.order.batteryId &&
          s.intervalId >= o.order.firstInterval &&
          (last === undefined || s.intervalId > last.intervalId)
        )
          last = s;
      return { ...o, spent, socWh: last === undefined ? o.order.initialSocWh : last.socWh };
    });
}

/** Orders 0..5 on batteries 0..2, then ends and steps in any order (steps of any interval, out of order too). */
const eventsArb = fc
  .tuple(
    fc.array(
      fc.tuple(
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 6 }),
      ),
      {
        minLength: 1,
        maxLength: 6,
      },
    ),
    fc.array(
      fc.oneof(
        fc.record({
          kind: fc.constant("ended" as const),
          k: fc.nat(5),
          end: fc.integer({ min: 0, max: 14 }),
        }),
        fc.record({
          kind: fc.constant("step" as const),
          k: fc.nat(5),
          interval: fc.integer({ min: 0, max: 16 }),
          direction: fc.constantFrom(0 as const, 1 as const),
          soc: fc.nat(9_000),
          amount: fc.nat(500),
        }),
      ),
      { maxLength: 60 },
    ),
  )
  .map(([placed, rest]) => {
    const orders = placed.map(([battery, first, len], k) => ({
      orderId: id(k + 1),
      order: order(battery, BigInt(first), BigInt(first + len), BigInt(k)),
    }));
    const events: FlexEvent[] = orders.map((o) => ({ kind: "placed", ...o }));
    for (const r of rest) {
      const o = orders[r.k % orders.length]!;
      if (r.kind === "ended") events.push({ kind: "ended", orderId: o.orderId, endInterval: BigInt(r.end) });
      else
        events.push({
          kind: "step",
          orderId: o.orderId,
          batteryId: o.order.batteryId,
          intervalId: BigInt(r.interval),
          direction: r.direction,
          socWh: BigInt(r.soc),
          amount: BigInt(r.amount),
        });
    }
    return events;
  });

describe("FlexEventIndex", () => {
  describe("when events are applied in chunks, with a tail and horizon moves", () => {
    it("answers every query at or above the horizon as the full read does", () => {
      fc.assert(
        fc.property(
          eventsArb,
          fc.array(fc.nat(100), { maxLength: 4 }),
          fc.nat(100),
          fc.array(fc.integer({ min: 0, max: 18 }), { maxLength: 4 }),
          fc.integer({ min: 0, max: 3 }),
          (events, cuts, tailPct, advances, retain) => {
            const index = new FlexEventIndex(BigInt(retain));
            const tailFrom = Math.floor((events.length * tailPct) / 100);
            const applied = events.slice(0, tailFrom);
            const tail = events.slice(tailFrom);
            // Apply in chunks, moving the horizon between them.
            const bounds = [
              ...cuts.map((c) => Math.floor((applied.length * c) / 100)).sort((a, b) => a - b),
              applied.length,
            ];
            let at = 0;
            bounds.forEach((b, k) => {
              index.apply(applied.slice(at, b));
              at = b;
              const a = advances[k];
              if (a !== undefined) index.advance(BigInt(a));
            });
            expect(index.orders(tail)).to.deep.equal(naiveOrders(events));
            for (let i = 0n; i <= 16n; i++)
              for (const before of [i, i - 1n, i - 4n]) {
                const horizon = index.horizon;
                if (horizon !== undefined && before < horizon) {
                  expect(() => index.activeAt(i, before, tail)).to.throw(FlexHorizonPassedError);
                  continue;
                }
                expect(index.activeAt(i, before, tail), `interval ${i} before ${before}`).to.deep.equal(
                  naive(events, i, before),
                );
              }
          },
        ),
        { numRuns: 300, seed: 14 },
      );
    });
  });

  describe("when two steps of a battery share the highest interval", () => {
    it("takes the first in chain order, folded or not", () => {
      const o = order(0, 1n, 9n, 0n);
      const step = (interval: bigint, socWh: bigint): FlexEvent => ({
        kind: "step",
        orderId: id(1),
        batteryId: 0,
        intervalId: interval,
        direction: 1,
        socWh,
        amount: 0n,
      });
      for (const fold of [false, true]) {
        const index = new FlexEventIndex(0n);
        index.apply([{ kind: "placed", orderId: id(1), order: o }, step(3n, 111n)]);
        if (fold) index.advance(5n);
        index.apply([step(3n, 222n)]);
        expect(index.activeAt(5n, 5n)[0]?.socWh, fold ? "folded" : "retained").to.equal(111n);
      }
    });
  });
});
