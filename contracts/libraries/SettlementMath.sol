// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title SettlementMath
/// @notice The one money rule of GridBrain: the cost of `energyWh` at `pricePerKwh` is `pricePerKwh * energyWh / 1000`,
/// rounded up when the market charges and down when it pays out, so it never pays out more than it holds.
library SettlementMath {
    uint256 internal constant WH_PER_KWH = 1000;

    /// @notice `ceil(pricePerKwh * energyWh / 1000)`: what the market charges. Reverts on overflow.
    function costUp(uint256 pricePerKwh, uint256 energyWh) internal pure returns (uint256) {
        uint256 product = pricePerKwh * energyWh;
        // Safe "unchecked": division by a non-zero constant, and product / 1000 + 1 cannot overflow.
        unchecked {
            return product / WH_PER_KWH + (product % WH_PER_KWH == 0 ? 0 : 1);
        }
    }

    /// @notice `floor(pricePerKwh * energyWh / 1000)`: what the market pays out. Reverts on overflow.
    function costDown(uint256 pricePerKwh, uint256 energyWh) internal pure returns (uint256) {
        return (pricePerKwh * energyWh) / WH_PER_KWH;
    }
}
