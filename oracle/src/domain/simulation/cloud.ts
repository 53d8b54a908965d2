/**
 * Cloud process: the clear-sky index kc = GHI / GHI_clear of each 15-minute interval follows a
 * bounded first-order autoregressive process shared by the neighbourhood, with a small
 * independent per-house factor for cloud edges. See docs/SIMULATION.md §4.
 *
 *   kc[t] = clamp(μ + φ · (kc[t−1] − μ) + σ · sqrt(1 − φ²) · ε[t], kcMin, kcMax),  ε ~ N(0, 1)
 *   kc_house[t] = clamp(kc[t] · exp(σh · η − σh²/2), kcMin, kcMax),                   η ~ N(0, 1)
 *
 * σ is the stationary standard deviation of the unbounded process, so φ alone sets the memory
 * (φ = 0.9 per 15 min is a decorrelation time of −15/ln φ ≈ 2.4 h).
 * The forecast an agent bids from is the conditional mean of the AR(1) process given the last
 * index it observed `leadSteps` intervals earlier: μ + φ^leadSteps · (kc[t − leadSteps] − μ).
 */
import type { Prng } from "./random.js";

export interface CloudModel {
  /** Long-run mean clear-sky index μ. Default 0.68 (KNMI De Bilt, June: ~5.5 of ~8 kWh/m² clear-sky). */
  readonly mean: number;
  /** Lag-one autocorrelation per interval φ, in [0, 1). Default 0.9. */
  readonly persistence: number;
  /** Stationary standard deviation σ of the unbounded process. Default 0.22. */
  readonly stationarySd: number;
  /** Lower bound (thick overcast still passes diffuse light). Default 0.1. */
  readonly min: number;
  /** Upper bound (cloud-edge enhancement over 15 minutes stays small). Default 1.05. */
  readonly max: number;
  /** Per-house log-sd σh of the multiplicative house factor. Default 0.05. */
  readonly houseSd: number;
  /** Intervals between the last observation an agent has and the interval it bids for. Default 2. */
  readonly forecastLeadSteps: number;
}

export const DEFAULT_CLOUD_MODEL: CloudModel = Object.freeze({
  mean: 0.68,
  persistence: 0.9,
  stationarySd: 0.22,
  min: 0.1,
  max: 1.05,
  houseSd: 0.05,
  forecastLeadSteps: 2,
});

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** First value: a draw from the stationary distribution, clamped. */
export function initialClearSkyIndex(model: CloudModel, rng: Prng): number {
  return clamp(rng.normal(model.mean, model.stationarySd), model.min, model.max);
}

/** One AR(1) step from `previous`. */
export function nextClearSkyIndex(previous: number, model: CloudModel, rng: Prng): number {
  const innovationSd = model.stationarySd * Math.sqrt(1 - model.persistence ** 2);
  return clamp(
    model.mean + model.persistence * (previous - model.mean) + innovationSd * rng.normal(),
    model.min,
    model.max,
  );
}

/** The shared index seen by one house: small mean-one lognormal variation, clamped. */
export function houseClearSkyIndex(shared: number, model: CloudModel, rng: Prng): number {
  return clamp(shared * rng.meanOneLognormal(model.houseSd), model.min, model.max);
}

/** AR(1) conditional-mean forecast `leadSteps` ahead of the last observation `observed`. */
export function forecastClearSkyIndex(
  observed: number,
  model: CloudModel,
  leadSteps: number = model.forecastLeadSteps,
): number {
  return clamp(model.mean + model.persistence ** leadSteps * (observed - model.mean), model.min, model.max);
}
