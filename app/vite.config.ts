/**
 * Vite config of the prosumer web app. Contract addresses come from an Ignition deployment
 * (`deploy/deployments/<GRIDBRAIN_DEPLOYMENT or local-demo>/deployed_addresses.json`) or from
 * `GRIDBRAIN_MARKET_ADDRESS`; the chain from `GRIDBRAIN_RPC_URL` / `GRIDBRAIN_CHAIN_ID`.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = dirname(fileURLToPath(import.meta.url));
const project = resolve(root, "..");
const deployment = process.env["GRIDBRAIN_DEPLOYMENT"] ?? "local-demo";
const addressesFile = join(project, "deploy", "deployments", deployment, "deployed_addresses.json");
const deployed: Record<string, string> = existsSync(addressesFile)
  ? (JSON.parse(readFileSync(addressesFile, "utf8")) as Record<string, string>)
  : {};

const settings = {
  market: process.env["GRIDBRAIN_MARKET_ADDRESS"] ?? deployed["LocalGridBrain#EnergyMarket"] ?? "",
  registry: process.env["GRIDBRAIN_REGISTRY_ADDRESS"] ?? deployed["LocalGridBrain#GridRegistry"] ?? "",
  rpcUrl: process.env["GRIDBRAIN_RPC_URL"] ?? "http://127.0.0.1:8545",
  chainId: Number(process.env["GRIDBRAIN_CHAIN_ID"] ?? "31337"),
};

export default defineConfig({
  root,
  define: { __GRIDBRAIN__: JSON.stringify(settings) },
  server: { port: Number(process.env["GRIDBRAIN_APP_PORT"] ?? "5173"), fs: { allow: [project] } },
  build: { outDir: join(project, "cache", "app"), emptyOutDir: true, target: "es2022" },
});
