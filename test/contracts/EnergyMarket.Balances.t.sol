// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarketBase} from "./utils/MarketBase.sol";
import {IEnergyMarket} from "../../contracts/interfaces/IEnergyMarket.sol";
import {EnergyMarket} from "../../contracts/EnergyMarket.sol";
import {IGridRegistry} from "../../contracts/interfaces/IGridRegistry.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

contract EnergyMarketBalancesTest is MarketBase {
    function test_constructor_readsTokenDecimals() public view {
        assertEq(market.tokenDecimals(), 6, "decimals of the settlement token");
    }

    function test_constructor_failsOnZeroParameters() public {
        IEnergyMarket.MarketConfig memory c = IEnergyMarket.MarketConfig(
            address(token),
            address(registry),
            address(committee),
            address(certificate),
            admin,
            operator,
            guardian,
            900,
            300,
            300,
            86_400,
            1
        );
        string[7] memory fields = [
            "token",
            "registry",
            "committee",
            "certificates",
            "intervalSeconds",
            "scheduleWindowSeconds",
            "meterWindowSeconds"
        ];
        for (uint256 i; i < fields.length; ++i) {
            IEnergyMarket.MarketConfig memory bad = c;
            if (i == 0) bad.token = address(0);
            if (i == 1) bad.registry = address(0);
            if (i == 2) bad.committee = address(0);
            if (i == 3) bad.certificates = address(0);
            if (i == 4) bad.intervalSeconds = 0;
            if (i == 5) bad.scheduleWindowSeconds = 0;
            if (i == 6) bad.meterWindowSeconds = 0;
            vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidParameter.selector, fields[i]));
            new EnergyMarket(bad);
            c = IEnergyMarket.MarketConfig(
                address(token),
                address(registry),
                address(committee),
                address(certificate),
                admin,
                operator,
                guardian,
                900,
                300,
                300,
                86_400,
                1
            );
        }
    }

    function test_deposit_creditsFreeBalance() public {
        address eve = makeAddr("eve");
        token.mint(eve, 5e6);
        vm.startPrank(eve);
        token.approve(address(market), 5e6);
        vm.expectEmit(address(market));
        emit IEnergyMarket.Deposited(eve, 5e6);
        market.deposit(5e6);
        vm.stopPrank();
        assertEq(market.balanceOf(eve), 5e6, "free balance");
        assertEq(token.balanceOf(eve), 0, "tokens moved");
    }

    function test_deposit_failsOnZero() public {
        vm.expectRevert(IEnergyMarket.ZeroAmount.selector);
        vm.prank(alice);
        market.deposit(0);
    }

    function test_depositWithPermit_usesPermit() public {
        uint256 key = 0xA11CE;
        address owner = vm.addr(key);
        token.mint(owner, 7e6);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
                ),
                owner,
                address(market),
                7e6,
                token.nonces(owner),
                deadline
            )
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        vm.prank(owner);
        market.depositWithPermit(7e6, deadline, v, r, s);
        assertEq(market.balanceOf(owner), 7e6, "deposited through permit");
    }

    function test_depositWithPermit_ignoresFailedPermitWhenAllowanceExists() public {
        token.mint(alice, 1e6);
        vm.prank(alice);
        market.depositWithPermit(1e6, 0, 27, bytes32(0), bytes32(0));
        assertEq(market.balanceOf(alice), 1_001e6, "deposited through the existing allowance");
    }

    function test_withdraw_sendsTokens() public {
        address to = makeAddr("wallet");
        vm.expectEmit(address(market));
        emit IEnergyMarket.Withdrawn(alice, to, 10e6);
        vm.prank(alice);
        market.withdraw(10e6, to);
        assertEq(token.balanceOf(to), 10e6, "received");
        assertEq(market.balanceOf(alice), 990e6, "debited");
    }

    function test_withdraw_failsOnZero() public {
        vm.expectRevert(IEnergyMarket.ZeroAmount.selector);
        vm.prank(alice);
        market.withdraw(0, alice);
    }

    function test_withdraw_failsAboveBalance() public {
        vm.expectRevert(
            abi.encodeWithSelector(IEnergyMarket.InsufficientBalance.selector, alice, 1_000e6, 1_001e6)
        );
        vm.prank(alice);
        market.withdraw(1_001e6, alice);
    }

    function test_withdraw_worksWhilePaused() public {
        vm.prank(guardian);
        market.pause();
        vm.prank(alice);
        market.withdraw(1e6, alice);
        assertEq(token.balanceOf(alice), 1e6, "withdrawn while paused");
    }

    function test_pause_onlyGuardian() public {
        vm.expectRevert();
        vm.prank(alice);
        market.pause();
        vm.prank(guardian);
        market.pause();
        assertTrue(market.paused(), "paused");
        vm.prank(guardian);
        market.unpause();
        assertFalse(market.paused(), "unpaused");
    }

    function test_operatorFunds_depositAndWithdraw() public {
        token.mint(operator, 50e6);
        vm.startPrank(operator);
        token.approve(address(market), 50e6);
        market.depositOperatorFunds(50e6);
        assertEq(market.operatorFunds(), 50e6, "funded");
        market.withdrawOperatorFunds(20e6, operator);
        vm.stopPrank();
        assertEq(market.operatorFunds(), 30e6, "withdrawn");
        assertEq(token.balanceOf(operator), 20e6, "received");
    }

    function test_depositOperatorFunds_failsOnZero() public {
        vm.expectRevert(IEnergyMarket.ZeroAmount.selector);
        market.depositOperatorFunds(0);
    }

    function test_withdrawOperatorFunds_failsOnZero() public {
        vm.expectRevert(IEnergyMarket.ZeroAmount.selector);
        vm.prank(operator);
        market.withdrawOperatorFunds(0, operator);
    }

    function test_withdrawOperatorFunds_failsAboveFunds() public {
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InsufficientOperatorFunds.selector, 0, 1));
        vm.prank(operator);
        market.withdrawOperatorFunds(1, operator);
    }

    function test_withdrawOperatorFunds_onlyOperator() public {
        vm.expectRevert();
        vm.prank(alice);
        market.withdrawOperatorFunds(1, alice);
    }

    function test_placeBid_failsWhilePaused() public {
        vm.prank(guardian);
        market.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(alice);
        market.placeBid(interval, 0, 1000, 1, 0);
    }

    function test_timeline_views() public view {
        uint256 start = uint256(interval) * INTERVAL_SECONDS;
        assertEq(market.gateClosure(interval), start - GATE_CLOSURE_SECONDS, "gate closure");
        assertEq(
            market.scheduleDeadline(interval),
            start - GATE_CLOSURE_SECONDS + SCHEDULE_WINDOW_SECONDS,
            "sched"
        );
        assertEq(market.meterDeadline(interval), start + INTERVAL_SECONDS + METER_WINDOW_SECONDS, "meter");
        assertEq(
            market.certificateId(interval, IGridRegistry.Source.Wind),
            (uint256(interval) << 8) | 2,
            "id"
        );
    }
}
