/**
 * Sun position and irradiance. Equations and sources are in docs/SIMULATION.md §2; in short:
 * - position: NOAA Global Monitoring Laboratory, "General Solar Position Calculations"
 *   (fractional year, Spencer's 1971 Fourier series for declination and equation of time,
 *   hour angle from true solar time, zenith and azimuth);
 * - extraterrestrial irradiance: Spencer (1971) eccentricity correction, solar constant 1367 W/m²;
 * - clear-sky global horizontal irradiance: Haurwitz (1945), as evaluated by Reno, Hansen & Stein
 *   (2012, Sandia SAND2012-2389);
 * - beam/diffuse split: Erbs, Klein & Duffie (1982) diffuse-fraction correlation;
 * - plane of array: isotropic sky (Liu & Jordan 1963) with ground reflection.
 * All angles in the public API are degrees; azimuth is clockwise from north (180° = south).
 */

const DEG = Math.PI / 180;

/** A place on Earth. */
export interface Location {
  /** Degrees north (negative south), in [-90, 90]. */
  readonly latitudeDeg: number;
  /** Degrees east (negative west), in [-180, 180]. */
  readonly longitudeDeg: number;
}

/** Amsterdam, the simulation's default site. */
export const AMSTERDAM: Location = Object.freeze({ latitudeDeg: 52.37, longitudeDeg: 4.9 });

export interface SolarPosition {
  /** Solar declination, degrees. */
  readonly declinationDeg: number;
  /** Equation of time (true solar time − mean solar time), minutes. */
  readonly equationOfTimeMin: number;
  /** Hour angle, degrees, negative before solar noon. */
  readonly hourAngleDeg: number;
  /** Geometric zenith angle (no refraction), degrees in [0, 180]. */
  readonly zenithDeg: number;
  /** Geometric elevation = 90° − zenith. */
  readonly elevationDeg: number;
  /** Azimuth clockwise from north, degrees in [0, 360). */
  readonly azimuthDeg: number;
  /** Fractional year γ used by the series, radians. */
  readonly fractionalYearRad: number;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Fractional year γ = 2π/N · (dayOfYear − 1 + (hour − 12)/24), UTC, N = days in the year. */
export function fractionalYear(unixSeconds: number): number {
  const date = new Date(unixSeconds * 1000);
  const year = date.getUTCFullYear();
  const startOfYear = Date.UTC(year, 0, 1) / 1000;
  const daysInYear = isLeapYear(year) ? 366 : 365;
  const dayIndex = Math.floor((unixSeconds - startOfYear) / 86_400); // dayOfYear − 1
  const hour = (unixSeconds - startOfYear - dayIndex * 86_400) / 3600;
  return ((2 * Math.PI) / daysInYear) * (dayIndex + (hour - 12) / 24);
}

/** Sun position at `unixSeconds` (UTC) seen from `location`. */
export function solarPosition(unixSeconds: number, location: Location = AMSTERDAM): SolarPosition {
  const g = fractionalYear(unixSeconds);
  // Spencer (1971) series, as given by NOAA; accuracy ~0.0006 rad (declination), ~0.5 min (EoT).
  const equationOfTimeMin =
    229.18 *
    (0.000075 +
      0.001868 * Math.cos(g) -
      0.032077 * Math.sin(g) -
      0.014615 * Math.cos(2 * g) -
      0.040849 * Math.sin(2 * g));
  const decl =
    0.006918 -
    0.399912 * Math.cos(g) +
    0.070257 * Math.sin(g) -
    0.006758 * Math.cos(2 * g) +
    0.000907 * Math.sin(2 * g) -
    0.002697 * Math.cos(3 * g) +
    0.00148 * Math.sin(3 * g);

  const secondsOfDayUtc = ((unixSeconds % 86_400) + 86_400) % 86_400;
  // True solar time in minutes: UTC minutes + EoT + 4 min per degree of longitude east.
  const trueSolarMin = secondsOfDayUtc / 60 + equationOfTimeMin + 4 * location.longitudeDeg;
  let hourAngleDeg = trueSolarMin / 4 - 180;
  hourAngleDeg = ((((hourAngleDeg + 180) % 360) + 360) % 360) - 180; // normalise to [-180, 180)

  const lat = location.latitudeDeg * DEG;
  const ha = hourAngleDeg * DEG;
  const cosZenith = Math.sin(lat) * Math.sin(decl) + Math.cos(lat) * Math.cos(decl) * Math.cos(ha);
  const zenith = Math.acos(Math.min(1, Math.max(-1, cosZenith)));
  // Azimuth from north, clockwise: atan2 form of NOAA's cos(180° − θ) relation (quadrant-safe).
  const azimuth =
    Math.atan2(Math.sin(ha), Math.cos(ha) * Math.sin(lat) - Math.tan(decl) * Math.cos(lat)) + Math.PI;

  return {
    declinationDeg: decl / DEG,
    equationOfTimeMin,
    hourAngleDeg,
    zenithDeg: zenith / DEG,
    elevationDeg: 90 - zenith / DEG,
    azimuthDeg: (((azimuth / DEG) % 360) + 360) % 360,
    fractionalYearRad: g,
  };
}

/** Solar constant, W/m² (the value Spencer and Erbs et al. used). */
export const SOLAR_CONSTANT = 1367;

/** Extraterrestrial normal irradiance with Spencer's (1971) Earth–Sun distance correction, W/m². */
export function extraterrestrialIrradiance(fractionalYearRad: number): number {
  const g = fractionalYearRad;
  return (
    SOLAR_CONSTANT *
    (1.00011 +
      0.034221 * Math.cos(g) +
      0.00128 * Math.sin(g) +
      0.000719 * Math.cos(2 * g) +
      0.000077 * Math.sin(2 * g))
  );
}

/** Haurwitz clear-sky global horizontal irradiance: 1098 · cosZ · exp(−0.057 / cosZ) W/m², 0 with the sun down. */
export function haurwitzClearSkyGhi(zenithDeg: number): number {
  const cosZ = Math.cos(zenithDeg * DEG);
  if (cosZ <= 0) return 0;
  return 1098 * cosZ * Math.exp(-0.057 / cosZ);
}

/**
 * Erbs et al. (1982) diffuse fraction DHI/GHI as a function of the clearness index
 * kt = GHI / (E0 · cosZ).
 */
export function erbsDiffuseFraction(kt: number): number {
  if (kt <= 0.22) return 1 - 0.09 * kt;
  if (kt <= 0.8) return 0.9511 - 0.1604 * kt + 4.388 * kt ** 2 - 16.638 * kt ** 3 + 12.336 * kt ** 4;
  return 0.165;
}

/** Horizontal irradiance split into its parts, W/m². */
export interface IrradianceComponents {
  readonly ghi: number;
  readonly dni: number;
  readonly dhi: number;
}

/**
 * cosZ floor used when turning beam-horizontal into beam-normal, so that DNI stays finite at
 * sunrise and sunset (pvlib uses the same guard, `min_cos_zenith = 0.065`, i.e. Z ≈ 86.3°).
 */
const MIN_COS_ZENITH = 0.065;

/** Splits `ghi` into DNI and DHI with the Erbs correlation. */
export function decomposeGhi(ghi: number, position: SolarPosition): IrradianceComponents {
  const cosZ = Math.cos(position.zenithDeg * DEG);
  if (ghi <= 0 || cosZ <= 0) return { ghi: 0, dni: 0, dhi: 0 };
  const e0 = extraterrestrialIrradiance(position.fractionalYearRad);
  const kt = Math.min(1, ghi / (e0 * Math.max(cosZ, MIN_COS_ZENITH)));
  const dhi = ghi * erbsDiffuseFraction(kt);
  const dni = Math.max(0, (ghi - dhi) / Math.max(cosZ, MIN_COS_ZENITH));
  return { ghi, dni, dhi };
}

/** A flat plane (a PV array). */
export interface PlaneOrientation {
  /** Tilt from horizontal, degrees in [0, 90]. */
  readonly tiltDeg: number;
  /** Direction the plane faces, clockwise from north (180 = south). */
  readonly azimuthDeg: number;
}

/** Cosine of the angle of incidence of beam radiation on `plane`; negative when the sun is behind it. */
export function cosAngleOfIncidence(position: SolarPosition, plane: PlaneOrientation): number {
  const z = position.zenithDeg * DEG;
  const b = plane.tiltDeg * DEG;
  return (
    Math.cos(z) * Math.cos(b) +
    Math.sin(z) * Math.sin(b) * Math.cos((position.azimuthDeg - plane.azimuthDeg) * DEG)
  );
}

/**
 * Plane-of-array irradiance, isotropic sky: beam · max(0, cos θ) + DHI · (1 + cos β)/2 +
 * GHI · albedo · (1 − cos β)/2, W/m².
 */
export function planeOfArrayIrradiance(
  components: IrradianceComponents,
  position: SolarPosition,
  plane: PlaneOrientation,
  albedo = 0.2,
): number {
  if (components.ghi <= 0) return 0;
  const cosB = Math.cos(plane.tiltDeg * DEG);
  const beam = components.dni * Math.max(0, cosAngleOfIncidence(position, plane));
  const sky = components.dhi * ((1 + cosB) / 2);
  const ground = components.ghi * albedo * ((1 - cosB) / 2);
  return beam + sky + ground;
}
