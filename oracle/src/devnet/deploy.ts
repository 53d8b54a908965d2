/**
 * Deploys the suite with the Ignition module `deploy/modules/LocalGridBrain.ts` to a running
 * JSON-RPC node and returns the contract addresses Ignition wrote to
 * `deploy/deployments/<deploymentId>/deployed_addresses.json`.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT, deployBuildEnv } from "./local-services.js";

export interface SuiteAddresses {
  readonly token: `0x${string}`;
  readonly registry: `0x${string}`;
  readonly committee: `0x${string}`;
  readonly certificates: `0x${string}`;
  readonly market: `0x${string}`;
  /** The FlexibilityMarket the suite sets on the market (EnergyMarket.flexibilityMarket()). */
  readonly flexibilityMarket: `0x${string}`;
}

export interface DeployLocalSuiteParameters {
  readonly rpcUrl: string;
  readonly committeeMembers: readonly `0x${string}`[];
  readonly committeeThreshold: number;
  /** Market timing overrides (seconds) and collateral; Ignition defaults apply otherwise. */
  readonly market?: Partial<{
    intervalSeconds: number;
    gateClosureSeconds: number;
    scheduleWindowSeconds: number;
    meterWindowSeconds: number;
    offerCollateralPerKwh: string;
  }>;
  readonly deploymentId?: string;
}

export async function deployLocalSuite(parameters: DeployLocalSuiteParameters): Promise<SuiteAddresses> {
  const deploymentId = parameters.deploymentId ?? "local-demo";
  const parametersFile = join(mkdtempSync(join(tmpdir(), "gridbrain-deploy-")), "parameters.json");
  writeFileSync(
    parametersFile,
    JSON.stringify({
      LocalGridBrain: {
        committeeMembers: parameters.committeeMembers,
        committeeThreshold: parameters.committeeThreshold,
        ...parameters.market,
      },
    }),
  );
  const args = [
    "hardhat",
    "ignition",
    "deploy",
    "deploy/modules/LocalGridBrain.ts",
    "--network",
    "localhost",
    "--parameters",
    parametersFile,
    "--deployment-id",
    deploymentId,
    "--reset",
  ];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn("npx", args, {
      cwd: PROJECT_ROOT,
      // Production bytecode, compiled once per change of the sources (deployBuildEnv).
      env: { ...deployBuildEnv(), GRIDBRAIN_RPC_URL: parameters.rpcUrl },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(text) : reject(new Error(`ignition deploy failed (exit ${code}):\n${text}`)),
    );
  });
  const addressesFile = join(PROJECT_ROOT, "deploy", "deployments", deploymentId, "deployed_addresses.json");
  let deployed: Record<string, `0x${string}`>;
  try {
    deployed = JSON.parse(readFileSync(addressesFile, "utf8")) as Record<string, `0x${string}`>;
  } catch (error) {
    throw new Error(`ignition reported success but ${addressesFile} is unreadable:\n${output}`, {
      cause: error,
    });
  }
  const pick = (name: string): `0x${string}` => {
    const address = deployed[`LocalGridBrain#${name}`];
    if (address === undefined) throw new Error(`ignition deployment lacks ${name}: ${addressesFile}`);
    return address;
  };
  return {
    token: pick("TestToken"),
    registry: pick("GridRegistry"),
    committee: pick("OracleCommittee"),
    certificates: pick("EnergyCertificate"),
    market: pick("EnergyMarket"),
    flexibilityMarket: pick("FlexibilityMarket"),
  };
}
