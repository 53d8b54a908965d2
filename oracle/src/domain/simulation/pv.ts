/**
 * PV output of one array over one interval: irradiance on the panel from solar.ts, DC power by
 * a performance ratio, AC power through an inverter with a flat efficiency and clipping at its
 * rating. See docs/SIMULATION.md §3.
 */
import {
  AMSTERDAM,
  decomposeGhi,
  haurwitzClearSkyGhi,
  planeOfArrayIrradiance,
  solarPosition,
  type Location,
  type PlaneOrientation,
} from "./solar.js";

/** A rooftop PV system. */
export interface PvSystem extends PlaneOrientation {
  /** Nameplate DC power at STC (1000 W/m², 25 °C), kWp. */
  readonly peakPowerKwp: number;
  /** Inverter AC rating, W; output is clipped here. */
  readonly inverterAcW: number;
}

/** Loss parameters shared by every array in the simulation. */
export interface PvLossModel {
  /**
   * DC performance ratio: DC energy / (kWp · POA insolation / 1 kW/m²). Lumps temperature,
   * soiling, mismatch, wiring and module degradation. Default 0.88.
   */
  readonly dcPerformanceRatio: number;
  /** Inverter efficiency (flat, European-efficiency style). Default 0.96. */
  readonly inverterEfficiency: number;
  /** Ground reflectance for the isotropic model. Default 0.2 (grass, roofs). */
  readonly albedo: number;
}

export const DEFAULT_PV_LOSSES: PvLossModel = Object.freeze({
  dcPerformanceRatio: 0.88,
  inverterEfficiency: 0.96,
  albedo: 0.2,
});

/** Number of instants sampled per interval (midpoints of equal slices). 15 min / 5 = 3-minute slices. */
export const PV_SAMPLES_PER_INTERVAL = 5;

/** AC power of `system` for a given global horizontal irradiance at `unixSeconds`, W. */
export function pvAcPower(
  system: PvSystem,
  unixSeconds: number,
  ghiOf: (clearSkyGhi: number) => number,
  location: Location = AMSTERDAM,
  losses: PvLossModel = DEFAULT_PV_LOSSES,
): number {
  const position = solarPosition(unixSeconds, location);
  if (position.elevationDeg <= 0) return 0;
  const ghi = ghiOf(haurwitzClearSkyGhi(position.zenithDeg));
  const poa = planeOfArrayIrradiance(decomposeGhi(ghi, position), position, system, losses.albedo);
  const dcW = system.peakPowerKwp * poa * losses.dcPerformanceRatio; // kWp · (W/m²) / (1 kW/m²) = W
  return Math.min(dcW * losses.inverterEfficiency, system.inverterAcW);
}

/**
 * AC energy of `system` over [startUnix, startUnix + durationSeconds), Wh (not rounded), with the
 * horizontal irradiance scaled by the clear-sky index `clearSkyIndex` (1 = cloudless).
 * Integrated by the midpoint rule over `PV_SAMPLES_PER_INTERVAL` slices.
 */
export function pvEnergyWh(
  system: PvSystem,
  startUnix: number,
  durationSeconds: number,
  clearSkyIndex: number,
  location: Location = AMSTERDAM,
  losses: PvLossModel = DEFAULT_PV_LOSSES,
): number {
  const slice = durationSeconds / PV_SAMPLES_PER_INTERVAL;
  let joulesPerSecondSum = 0;
  for (let i = 0; i < PV_SAMPLES_PER_INTERVAL; i++) {
    joulesPerSecondSum += pvAcPower(
      system,
      startUnix + (i + 0.5) * slice,
      (clear) => clear * clearSkyIndex,
      location,
      losses,
    );
  }
  return (joulesPerSecondSum * slice) / 3600;
}
