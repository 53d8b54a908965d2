// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title TestToken
/// @notice A 6-decimal settlement token with EIP-2612 permit and a public mint. FOR LOCAL NETWORKS ONLY.
contract TestToken is ERC20, ERC20Permit {
    constructor() ERC20("GridBrain Test Dollar", "gUSD") ERC20Permit("GridBrain Test Dollar") {}

    /// @notice Anyone mints: this token exists only for tests and local demos.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
