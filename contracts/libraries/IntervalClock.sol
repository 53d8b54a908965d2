// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IntervalClock
/// @notice The market's timeline of an interval (docs/CONTRACTS.md, "Timeline of interval `i`"): interval `id` delivers during
/// [id * intervalSeconds, (id + 1) * intervalSeconds); orders close `gateClosureSeconds` before it starts, the
/// schedule is committed within `scheduleWindowSeconds` of gate closure, and meter reports and settlement within
/// `meterWindowSeconds` of its end. Pure: EnergyMarket passes its immutable durations.
library IntervalClock {
    function start(uint64 intervalId, uint64 intervalSeconds) internal pure returns (uint256) {
        return uint256(intervalId) * intervalSeconds;
    }

    /// @dev Delivery ends, and the meter window opens.
    function end(uint64 intervalId, uint64 intervalSeconds) internal pure returns (uint256) {
        return start(intervalId, intervalSeconds) + intervalSeconds;
    }

    /// @dev Clamped at 0 for the first intervals after the epoch, so that it never underflows.
    function gateClosure(
        uint64 intervalId,
        uint64 intervalSeconds,
        uint64 gateClosureSeconds
    ) internal pure returns (uint256) {
        uint256 begins = start(intervalId, intervalSeconds);
        return begins > gateClosureSeconds ? begins - gateClosureSeconds : 0;
    }

    function scheduleDeadline(
        uint64 intervalId,
        uint64 intervalSeconds,
        uint64 gateClosureSeconds,
        uint64 scheduleWindowSeconds
    ) internal pure returns (uint256) {
        return gateClosure(intervalId, intervalSeconds, gateClosureSeconds) + scheduleWindowSeconds;
    }

    function meterDeadline(
        uint64 intervalId,
        uint64 intervalSeconds,
        uint64 meterWindowSeconds
    ) internal pure returns (uint256) {
        return end(intervalId, intervalSeconds) + meterWindowSeconds;
    }
}
