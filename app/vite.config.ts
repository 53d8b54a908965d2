/**
 * Vite config of the prosumer web app. Contract addresses come from an Ignition deployment
 * (`deploy/deployments/<GRIDBRAIN_DEPLOYMENT or chain-<chain id>>/deployed_addresses.json`) or from
 * `GRIDBRAIN_MARKET_ADDRESS` (and `GRIDBRAIN_FLEX_MARKET_ADDRESS`); the chain from `GRIDBRAIN_RPC_URL` / `GRIDBRAIN_CHAIN_ID`.
 * Tests build against their own deployment with `appConfig(settings)` (no environment read).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type UserConfig, defineConfig } from "vite";

const root = dirname(fileURLToPath(import.meta.url));
const project = resolve(root, "..");

/** What the app is built against; becomes the `__GRIDBRAIN__` constant in the bundle. */
export interface AppSettings {
  readonly market: string;
  readonly registry: string;
  /** The FlexibilityMarket; absent or "": the one the market names (`flexibilityMarket()`). */
  readonly flexMarket?: string;
  readonly rpcUrl: string;
  readonly chainId: number;
}

/**
 * The Ignition deployment whose addresses the app reads: `GRIDBRAIN_DEPLOYMENT`, else Ignition's
 * own default id `chain-<chain id>`, which is what `npm run local:deploy` (app/README.md's first
 * step) writes. The default was `local-demo`, the demo's id, whose chain the demo stops when it
 * ends; on a checkout where no demo had run, the documented two steps left the app without a
 * market address.
 */
export function appDeploymentId(env: Readonly<Record<string, string | undefined>>): string {
  return env["GRIDBRAIN_DEPLOYMENT"] ?? `chain-${Number(env["GRIDBRAIN_CHAIN_ID"] ?? "31337")}`;
}

/** Settings from the environment variables and the deployment's address file (see app/README.md). */
export function settingsFromEnv(env: Readonly<Record<string, string | undefined>>): AppSettings {
  const deployment = appDeploymentId(env);
  const addressesFile = join(project, "deploy", "deployments", deployment, "deployed_addresses.json");
  const deployed: Record<string, string> = existsSync(addressesFile)
    ? (JSON.parse(readFileSync(addressesFile, "utf8")) as Record<string, string>)
    : {};
  return {
    market: env["GRIDBRAIN_MARKET_ADDRESS"] ?? deployed["LocalGridBrain#EnergyMarket"] ?? "",
    registry: env["GRIDBRAIN_REGISTRY_ADDRESS"] ?? deployed["LocalGridBrain#GridRegistry"] ?? "",
    flexMarket: env["GRIDBRAIN_FLEX_MARKET_ADDRESS"] ?? deployed["LocalGridBrain#FlexibilityMarket"] ?? "",
    rpcUrl: env["GRIDBRAIN_RPC_URL"] ?? "http://127.0.0.1:8545",
    chainId: Number(env["GRIDBRAIN_CHAIN_ID"] ?? "31337"),
  };
}

/** The Vite config for `settings`; `outDir` defaults to cache/app. */
export function appConfig(
  settings: AppSettings,
  options: { outDir?: string; port?: number } = {},
): UserConfig {
  return {
    root,
    define: { __GRIDBRAIN__: JSON.stringify(settings) },
    server: { port: options.port ?? 5173, fs: { allow: [project] } },
    build: { outDir: options.outDir ?? join(project, "cache", "app"), emptyOutDir: true, target: "es2022" },
  };
}

export default defineConfig(
  appConfig(settingsFromEnv(process.env), { port: Number(process.env["GRIDBRAIN_APP_PORT"] ?? "5173") }),
);
