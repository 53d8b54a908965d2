/**
 * The GridBrain suite on any EVM network, settling in an existing ERC-20 (`token` parameter).
 *
 *   npx hardhat ignition deploy deploy/modules/GridBrain.ts --network <net> \
 *     --parameters deploy/parameters/<net>.json
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { defineSuite } from "./suite.js";

export default buildModule("GridBrain", (m) => defineSuite(m, m.getParameter("token")));
