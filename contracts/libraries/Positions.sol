// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IEnergyMarket} from "../interfaces/IEnergyMarket.sol";
import {SettlementMath} from "./SettlementMath.sol";

/// @title Positions
/// @notice What a position slot holds and what an open order locks. A slot of (owner, interval, side) is 0, an open
/// order's id, or a settled fill record `SETTLED_FLAG | filledWh`.
library Positions {
    using SettlementMath for uint256;

    /// @dev An order id (a keccak digest) has the settled record's shape (bits 64..254 all zero) with probability
    /// 2^-191, i.e. never.
    uint256 private constant _SETTLED_FLAG = 1 << 255;

    function settledRecord(uint64 filledWh) internal pure returns (bytes32) {
        return bytes32(_SETTLED_FLAG | filledWh);
    }

    function isSettled(bytes32 slot) internal pure returns (bool) {
        return uint256(slot) >> 64 == _SETTLED_FLAG >> 64;
    }

    /// @dev (false, 0) for an empty slot or an open order.
    function settledFill(bytes32 slot) internal pure returns (bool settled, uint64 filledWh) {
        if (!isSettled(slot)) return (false, 0);
        return (true, uint64(uint256(slot)));
    }

    /// @dev The imbalance collateral of `energyWh`, rounded up: locked for an order's quantity, kept for its fill.
    function collateral(uint128 collateralPerKwh, uint256 energyWh) internal pure returns (uint256) {
        return uint256(collateralPerKwh).costUp(energyWh);
    }

    /// @dev What an open order locks: both sides the imbalance collateral, a bid also its highest payment.
    function lockOf(
        IEnergyMarket.Side side,
        uint64 quantityWh,
        uint128 limitPricePerKwh,
        uint128 collateralPerKwh
    ) internal pure returns (uint256) {
        uint256 locked = collateral(collateralPerKwh, quantityWh);
        return
            side == IEnergyMarket.Side.Buy ? uint256(limitPricePerKwh).costUp(quantityWh) + locked : locked;
    }
}
