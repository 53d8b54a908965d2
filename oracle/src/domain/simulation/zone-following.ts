/**
 * Zone following (issue 14; docs/DISPATCH.md, "Zone following"). A committed schedule is fixed at
 * gate closure, five minutes before its interval starts; on a cloudy day the households' panels
 * then produce more or less than they sold. A battery's controller that reads its zone's real-time
 * deviation from the schedule (the zone's net injection at its transformer minus the net the
 * schedule gave its households) absorbs, on top of its committed step, its share of that deviation
 * in proportion to its registered power: it charges more while the zone has unscheduled surplus and
 * discharges more while the zone is short, within its power. Its meter then deviates opposite to its
 * neighbours', and the netted imbalance prices (docs/MARKET_RULES.md, "Imbalance prices: netted per
 * zone") settle the covered part at the zone price instead of the grid's retail and feed-in prices.
 *
 * Pure: the demo's delivery phase (oracle/src/demo/delivery.ts) and the value bench
 * (`meterFollowing: "zone"` in domain/rolling/day.ts) take the same rule.
 */
import { batteryIntervalLimits } from "./battery.js";
import type { HomeBattery } from "./neighbourhood.js";

/** A battery's grid-side step in one interval: energy drawn (charge) or delivered (discharge). */
export interface BatteryStep {
  readonly direction: "charge" | "discharge";
  readonly energyWh: number;
}

export interface ZoneFollower {
  readonly id: string;
  readonly zone: number;
  readonly battery: HomeBattery;
  /** Its committed step in the interval (an idle battery: a charge of 0). */
  readonly committed: BatteryStep;
}

/**
 * Each follower's target step: its committed net (charge positive) plus
 * round(zone deviation × its power / the zone's followers' power), capped at its power for the
 * interval. `zoneDeviationWh` is each zone's actual minus scheduled net injection of its households,
 * batteries left out (positive: unscheduled surplus); a zone without an entry has none. The target
 * ignores the state of charge: the battery then does what its SoC allows (`followFlexStep`), and its
 * meter shows the rest.
 * @throws RangeError naming the field when a committed step or a deviation is not an integer.
 */
export function zoneFollowingSteps(
  followers: readonly ZoneFollower[],
  zoneDeviationWh: ReadonlyMap<number, number>,
  intervalSeconds: number,
): Map<string, BatteryStep> {
  const zonePowerW = new Map<number, number>();
  for (const f of followers) {
    if (!Number.isSafeInteger(f.committed.energyWh) || f.committed.energyWh < 0)
      throw new RangeError(
        `committed.energyWh of ${f.id} must be a non-negative integer, got ${f.committed.energyWh}`,
      );
    zonePowerW.set(f.zone, (zonePowerW.get(f.zone) ?? 0) + f.battery.maxPowerW);
  }
  for (const [zone, wh] of zoneDeviationWh)
    if (!Number.isSafeInteger(wh))
      throw new RangeError(`zoneDeviationWh of zone ${zone} must be an integer, got ${wh}`);
  const targets = new Map<string, BatteryStep>();
  for (const f of followers) {
    const deviation = zoneDeviationWh.get(f.zone) ?? 0;
    const power = zonePowerW.get(f.zone)!;
    const share = power === 0 ? 0 : Math.round((deviation * f.battery.maxPowerW) / power);
    const committedNet = f.committed.direction === "charge" ? f.committed.energyWh : -f.committed.energyWh;
    const net = committedNet + share;
    const limits = batteryIntervalLimits(f.battery, intervalSeconds);
    targets.set(
      f.id,
      net >= 0
        ? { direction: "charge", energyWh: Math.min(net, limits.maxChargeWh) }
        : { direction: "discharge", energyWh: Math.min(-net, limits.maxDischargeWh) },
    );
  }
  return targets;
}
