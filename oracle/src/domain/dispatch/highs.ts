/**
 * HiGHS (WebAssembly, `highs` package) loaded once per thread and reused. The options of every
 * solve are pinned here: the same version, options and model give the same vertex and duals.
 */
import highsModule from "highs";
import type { Highs } from "highs";

let instance: Promise<Highs> | undefined;

/** Loads the HiGHS runtime on first use (about 100 ms) and returns the same instance after. */
export function loadHighs(): Promise<Highs> {
  // The package is CommonJS-typed; under ESM the loader may arrive as `default`.
  type Loader = () => Promise<Highs>;
  const mod = highsModule as unknown as { default?: Loader } & Loader;
  const loader: Loader = mod.default ?? mod;
  instance ??= loader();
  return instance;
}

/**
 * Version of the `highs` npm package this engine is pinned to (recorded in every LP schedule). A
 * test fails when the installed package differs, so an upgrade is always a deliberate change.
 */
export const HIGHS_PACKAGE_VERSION = "1.15.3";

/**
 * Pinned solver options. Serial dual simplex (the Wasm build is single-threaded anyway), fixed
 * seed, presolve on, tight tolerances so duals read as prices are accurate to ~1e-6 per kWh.
 */
export const HIGHS_OPTIONS = Object.freeze({
  output_flag: false,
  presolve: "on",
  solver: "simplex",
  simplex_strategy: 1,
  random_seed: 0,
  primal_feasibility_tolerance: 1e-9,
  dual_feasibility_tolerance: 1e-9,
} as const);
