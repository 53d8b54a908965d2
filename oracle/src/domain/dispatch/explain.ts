/**
 * Per-zone, per-interval summary of a schedule (what `gridbrain dispatch solve --explain` prints):
 * price, energy bought and sold, imports and exports, battery charge and discharge. Pure.
 */
import type { DispatchInstance } from "./schema.js";
import type { CanonicalSchedule } from "./schedule.js";

export interface ZoneIntervalSummary {
  readonly interval: number;
  readonly zone: number;
  readonly pricePerKwh: number;
  /** Energy sold by offers in the zone. */
  readonly supplyWh: number;
  /** Energy bought by bids in the zone. */
  readonly demandWh: number;
  /** Energy received over lines. */
  readonly importWh: number;
  /** Energy sent over lines. */
  readonly exportWh: number;
  readonly batteryChargeWh: number;
  readonly batteryDischargeWh: number;
}

export function summarizeSchedule(
  instance: DispatchInstance,
  schedule: CanonicalSchedule,
): ZoneIntervalSummary[] {
  const key = (interval: number, zone: number) => `${interval}/${zone}`;
  const rows = new Map<string, { -readonly [K in keyof ZoneIntervalSummary]: ZoneIntervalSummary[K] }>();
  for (const p of schedule.prices) {
    rows.set(key(p.interval, p.zone), {
      interval: p.interval,
      zone: p.zone,
      pricePerKwh: p.pricePerKwh,
      supplyWh: 0,
      demandWh: 0,
      importWh: 0,
      exportWh: 0,
      batteryChargeWh: 0,
      batteryDischargeWh: 0,
    });
  }
  const fills = new Map(schedule.fills.map((f) => [f.orderId, f.filledWh]));
  for (const o of instance.orders) {
    const row = rows.get(key(o.interval, o.zone));
    if (row === undefined) continue;
    if (o.side === "bid") row.demandWh += fills.get(o.id) ?? 0;
    else row.supplyWh += fills.get(o.id) ?? 0;
  }
  for (const f of schedule.flows) {
    const out = rows.get(key(f.interval, f.from));
    const into = rows.get(key(f.interval, f.to));
    if (out !== undefined) out.exportWh += f.sentWh;
    if (into !== undefined) into.importWh += f.receivedWh;
  }
  const zoneOf = new Map(instance.batteries.map((b) => [b.id, b.zone]));
  for (const b of schedule.batteries) {
    for (const s of b.steps) {
      const row = rows.get(key(s.interval, zoneOf.get(b.batteryId) ?? -1));
      if (row === undefined) continue;
      row.batteryChargeWh += s.chargeWh;
      row.batteryDischargeWh += s.dischargeWh;
    }
  }
  return [...rows.values()];
}
