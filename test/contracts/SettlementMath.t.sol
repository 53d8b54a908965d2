// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {SettlementMath} from "../../contracts/libraries/SettlementMath.sol";

contract SettlementMathTest is Test {
    function test_costUp_roundsUp() public pure {
        assertEq(SettlementMath.costUp(1, 1), 1, "1 Wh at 1/kWh charges 1");
        assertEq(SettlementMath.costUp(250_000, 1500), 375_000, "exact");
        assertEq(SettlementMath.costUp(3, 333), 1, "0.999 rounds up to 1");
        assertEq(SettlementMath.costUp(0, 1000), 0, "free");
    }

    function test_costDown_roundsDown() public pure {
        assertEq(SettlementMath.costDown(1, 1), 0, "0.001 rounds down to 0");
        assertEq(SettlementMath.costDown(250_000, 1500), 375_000, "exact");
        assertEq(SettlementMath.costDown(3, 333), 0, "0.999 rounds down to 0");
    }

    function testFuzz_costUp_isCeilingOfExactCost(uint128 price, uint64 energy) public pure {
        uint256 up = SettlementMath.costUp(price, energy);
        uint256 exact = uint256(price) * energy;
        assertGe(up * 1000, exact, "never charges less than the exact cost");
        if (up > 0) assertLt((up - 1) * 1000, exact, "charges less than one unit above the exact cost");
    }

    function testFuzz_costDown_isFloorOfExactCost(uint128 price, uint64 energy) public pure {
        uint256 down = SettlementMath.costDown(price, energy);
        uint256 exact = uint256(price) * energy;
        assertLe(down * 1000, exact, "never pays more than the exact cost");
        assertGt((down + 1) * 1000, exact, "pays less than one unit below the exact cost");
    }

    function testFuzz_costDown_neverExceedsCostUp(uint128 price, uint64 energy) public pure {
        uint256 up = SettlementMath.costUp(price, energy);
        uint256 down = SettlementMath.costDown(price, energy);
        assertLe(down, up, "payout <= charge");
        assertLe(up - down, 1, "they differ by at most one base unit");
    }

    function testFuzz_costUp_isMonotone(uint128 price, uint64 a, uint64 b) public pure {
        (uint64 lo, uint64 hi) = a < b ? (a, b) : (b, a);
        assertLe(SettlementMath.costUp(price, lo), SettlementMath.costUp(price, hi), "monotone in energy");
        assertLe(SettlementMath.costUp(price / 2, hi), SettlementMath.costUp(price, hi), "monotone in price");
    }
}
