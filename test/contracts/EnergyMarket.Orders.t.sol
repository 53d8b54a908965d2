// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarketBase} from "./utils/MarketBase.sol";
import {IEnergyMarket} from "../../contracts/interfaces/IEnergyMarket.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

contract EnergyMarketOrdersTest is MarketBase {
    function test_placeBid_locksQuantityTimesMaxPricePlusImbalanceCollateral() public {
        IEnergyMarket.Order memory o = _order(alice, IEnergyMarket.Side.Buy, 0, 1500, 333);
        bytes32 expectedId = market.hashOrder(o);
        vm.expectEmit(address(market));
        emit IEnergyMarket.OrderPlaced(expectedId, alice, interval, IEnergyMarket.Side.Buy, 0, 1500, 333, 0);
        bytes32 orderId = _place(o);
        assertEq(orderId, expectedId, "id is the order's EIP-712 digest");
        // ceil(333 * 1500 / 1000) = ceil(499.5) = 500, plus the imbalance collateral 100_000 * 1.5 = 150_000
        assertEq(market.balanceOf(alice), 1_000e6 - 500 - 150_000, "lock rounded up");
        assertEq(market.position(alice, interval, IEnergyMarket.Side.Buy), orderId, "slot holds the id");
    }

    function test_placeOffer_locksCollateral() public {
        bytes32 orderId = _place(_order(bob, IEnergyMarket.Side.Sell, 0, 2500, 1));
        // ceil(100_000 * 2500 / 1000) = 250_000
        assertEq(market.balanceOf(bob), 1_000e6 - 250_000, "collateral locked");
        assertEq(market.position(bob, interval, IEnergyMarket.Side.Sell), orderId, "slot holds the id");
    }

    function test_placeBid_updatesRunningDigest() public {
        bytes32 a = _place(_order(alice, IEnergyMarket.Side.Buy, 0, 1000, 1));
        bytes32 b = _place(_order(bob, IEnergyMarket.Side.Sell, 0, 1000, 1));
        bytes32 expected = keccak256(abi.encode(keccak256(abi.encode(bytes32(0), a)), b));
        assertEq(market.ordersDigest(interval), expected, "digest = H(H(0, a), b)");
    }

    function test_placeBid_failsOnZeroQuantity() public {
        vm.expectRevert(IEnergyMarket.ZeroAmount.selector);
        vm.prank(alice);
        market.placeBid(interval, 0, 0, 1, 0);
    }

    function test_placeBid_failsAfterGateClosure() public {
        uint256 closure = market.gateClosure(interval);
        vm.warp(closure);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.GateClosed.selector, interval, closure));
        vm.prank(alice);
        market.placeBid(interval, 0, 1000, 1, 0);
    }

    function test_placeBid_failsWhenSlotTaken() public {
        bytes32 first = _place(_order(alice, IEnergyMarket.Side.Buy, 0, 1000, 1));
        vm.expectRevert(
            abi.encodeWithSelector(
                IEnergyMarket.OrderSlotTaken.selector,
                alice,
                interval,
                IEnergyMarket.Side.Buy,
                first
            )
        );
        vm.prank(alice);
        market.placeBid(interval, 0, 2000, 1, 1);
    }

    function test_placeBid_failsAboveBalance() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IEnergyMarket.InsufficientBalance.selector,
                alice,
                1_000e6,
                1_000e6 + 1 + 100_000
            )
        );
        vm.prank(alice);
        // lock = (1_000e6 + 1) for the energy + 100_000 of imbalance collateral
        market.placeBid(interval, 0, 1000, 1_000e6 + 1, 0);
    }

    function test_placeOffer_failsWhilePaused() public {
        vm.prank(guardian);
        market.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(bob);
        market.placeOffer(interval, 0, 1000, 1, 0);
    }

    function test_cancelOrder_returnsLockAndKeepsDigest() public {
        IEnergyMarket.Order memory o = _order(alice, IEnergyMarket.Side.Buy, 0, 1000, 500_000);
        bytes32 orderId = _place(o);
        bytes32 digest = market.ordersDigest(interval);
        vm.expectEmit(address(market));
        emit IEnergyMarket.OrderCancelled(orderId, alice, interval);
        vm.prank(alice);
        market.cancelOrder(o);
        assertEq(market.balanceOf(alice), 1_000e6, "lock returned");
        assertEq(market.position(alice, interval, IEnergyMarket.Side.Buy), bytes32(0), "slot emptied");
        assertEq(market.ordersDigest(interval), digest, "cancelled orders stay in the digest");
    }

    function test_cancelOrder_worksWhilePaused() public {
        IEnergyMarket.Order memory o = _order(alice, IEnergyMarket.Side.Buy, 0, 1000, 500_000);
        _place(o);
        vm.prank(guardian);
        market.pause();
        vm.prank(alice);
        market.cancelOrder(o);
        assertEq(market.balanceOf(alice), 1_000e6, "lock returned while paused");
    }

    function test_cancelOrder_failsForOthers() public {
        IEnergyMarket.Order memory o = _order(alice, IEnergyMarket.Side.Buy, 0, 1000, 1);
        bytes32 orderId = _place(o);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.NotOrderOwner.selector, orderId, bob));
        vm.prank(bob);
        market.cancelOrder(o);
    }

    function test_cancelOrder_failsAfterGateClosure() public {
        IEnergyMarket.Order memory o = _order(alice, IEnergyMarket.Side.Buy, 0, 1000, 1);
        _place(o);
        uint256 closure = market.gateClosure(interval);
        vm.warp(closure);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.GateClosed.selector, interval, closure));
        vm.prank(alice);
        market.cancelOrder(o);
    }

    function test_cancelOrder_failsForAlteredFields() public {
        IEnergyMarket.Order memory o = _order(alice, IEnergyMarket.Side.Buy, 0, 1000, 1);
        _place(o);
        o.quantityWh = 2000; // would refund a larger lock
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.OrderNotOpen.selector, market.hashOrder(o)));
        vm.prank(alice);
        market.cancelOrder(o);
    }

    function test_cancelOrder_failsTwice() public {
        IEnergyMarket.Order memory o = _order(alice, IEnergyMarket.Side.Buy, 0, 1000, 1);
        bytes32 orderId = _place(o);
        vm.startPrank(alice);
        market.cancelOrder(o);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.OrderNotOpen.selector, orderId));
        market.cancelOrder(o);
        vm.stopPrank();
    }

    function test_releaseOrder_afterScheduleDeadlineOfUnscheduledInterval() public {
        IEnergyMarket.Order memory o = _order(alice, IEnergyMarket.Side.Buy, 0, 1000, 500_000);
        bytes32 orderId = _place(o);
        vm.warp(market.scheduleDeadline(interval));
        vm.prank(guardian);
        market.pause(); // releases stay open while paused
        vm.expectEmit(address(market));
        emit IEnergyMarket.OrderReleased(orderId, alice, interval, 500_000 + 100_000);
        vm.prank(carol); // anyone
        market.releaseOrder(o);
        assertEq(market.balanceOf(alice), 1_000e6, "lock released");
    }

    function test_releaseOrder_failsBeforeScheduleDeadline() public {
        IEnergyMarket.Order memory o = _order(alice, IEnergyMarket.Side.Buy, 0, 1000, 1);
        bytes32 orderId = _place(o);
        uint256 deadline = market.scheduleDeadline(interval);
        vm.warp(deadline - 1);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.ReleaseNotAllowed.selector, orderId, deadline));
        market.releaseOrder(o);
    }

    function test_releaseOrder_scheduledButUnsettledAfterMeterDeadline() public {
        Scenario memory s = _scenario(1500);
        uint256 deadline = market.meterDeadline(interval);
        vm.warp(deadline - 1);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.ReleaseNotAllowed.selector, s.bidId, deadline));
        market.releaseOrder(s.bid);
        vm.warp(deadline);
        market.releaseOrder(s.bid);
        assertEq(market.balanceOf(alice), 1_000e6, "bid lock released");
    }

    function test_releaseOrder_failsForUnknownOrder() public {
        IEnergyMarket.Order memory o = _order(alice, IEnergyMarket.Side.Buy, 0, 1000, 1);
        vm.warp(market.scheduleDeadline(interval));
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.OrderNotOpen.selector, market.hashOrder(o)));
        market.releaseOrder(o);
    }
}
