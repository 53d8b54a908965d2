/**
 * Local development: the mintable test token (6 decimals, EIP-2612 permit) and the suite.
 *
 *   npx hardhat ignition deploy deploy/modules/LocalGridBrain.ts --network localhost \
 *     --parameters deploy/parameters/localhost.json
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { defineSuite } from "./suite.js";

export default buildModule("LocalGridBrain", (m) => {
  const token = m.contract("TestToken");
  return { token, ...defineSuite(m, token) };
});
