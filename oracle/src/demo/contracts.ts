/**
 * ABIs of the suite's contracts for the demo's viem clients: the generated, committed
 * oracle/src/chain/abis.ts (`npm run check:abis`, part of lint, fails when it differs from a build).
 *
 * Not Hardhat's ./artifacts: a deploy from a process that is not a production-profile Hardhat run
 * (`npm run demo`, `npm run bench:chaos`) builds into cache/production-deploy
 * (devnet/local-services.ts, `deployBuildEnv`), so on a fresh checkout ./artifacts does not exist
 * and the README's main command failed there with "cannot read the ABI of EnergyMarket".
 */
import type { Abi } from "viem";
import {
  energyCertificateAbi,
  energyMarketAbi,
  gridRegistryAbi,
  oracleCommitteeAbi,
  testTokenAbi,
} from "../chain/abis.js";

export const demoAbis: {
  readonly market: Abi;
  readonly registry: Abi;
  readonly committee: Abi;
  readonly certificates: Abi;
  readonly token: Abi;
} = {
  market: energyMarketAbi,
  registry: gridRegistryAbi,
  committee: oracleCommitteeAbi,
  certificates: energyCertificateAbi,
  token: testTokenAbi,
};
