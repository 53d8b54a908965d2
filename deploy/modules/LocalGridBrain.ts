/**
 * Local development: the mintable test token (6 decimals, EIP-2612 permit) and the suite.
 *
 *   npx hardhat ignition deploy deploy/modules/LocalGridBrain.ts --network localhost \
 *     --parameters deploy/parameters/localhost.json
 *
 * The contract tests' fixture (test/contracts/helpers/fixture.ts), the gas bench (bench/gas.ts)
 * and the devnet (oracle/src/devnet/deploy.ts) deploy this same module in process.
 */
import { localSuiteModule } from "./suite.js";

export default localSuiteModule();
