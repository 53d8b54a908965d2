// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Positions
/// @notice What a position slot of (owner, interval, side) holds: 0, an open order's id, or the settled fill record
/// `SETTLED_FLAG | filledWh`.
library Positions {
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
}
