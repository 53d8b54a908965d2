/** ABIs of the compiled contracts (Hardhat's artifacts/), for the demo's viem clients. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Abi } from "viem";
import { PROJECT_ROOT } from "../devnet/local-services.js";

function artifactAbi(name: string, source = `${name}.sol`): Abi {
  const file = join(PROJECT_ROOT, "artifacts", "contracts", source, `${name}.json`);
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { abi: Abi }).abi;
  } catch (error) {
    throw new Error(`cannot read the ABI of ${name} from ${file}; run \`npx hardhat build\` first`, {
      cause: error,
    });
  }
}

export const demoAbis = {
  get market(): Abi {
    return artifactAbi("EnergyMarket");
  },
  get registry(): Abi {
    return artifactAbi("GridRegistry");
  },
  get committee(): Abi {
    return artifactAbi("OracleCommittee");
  },
  get certificates(): Abi {
    return artifactAbi("EnergyCertificate");
  },
  get token(): Abi {
    return artifactAbi("TestToken", "mocks/TestToken.sol");
  },
};
