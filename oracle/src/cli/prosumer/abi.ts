/** Contract interfaces the prosumer commands use beyond the generated ABIs in chain/abis.ts. */
import { parseAbi } from "viem";

/** The parts of EnergyCertificate (ERC-1155) the CLI uses. */
export const certificateAbi = parseAbi([
  "function balanceOf(address account, uint256 id) view returns (uint256)",
  "function retire(uint256 id, uint256 amountWh, address beneficiary, string claimData)",
  "event TransferSingle(address indexed operator, address indexed from, address indexed to, uint256 id, uint256 value)",
  "event TransferBatch(address indexed operator, address indexed from, address indexed to, uint256[] ids, uint256[] values)",
  "error ERC1155InsufficientBalance(address sender, uint256 balance, uint256 needed, uint256 tokenId)",
  "error ZeroRetirement()",
  "error ZeroBeneficiary()",
]);
