// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FlexBase} from "./utils/FlexBase.sol";
import {Merkle} from "./utils/Merkle.sol";
import {EnergyMarket} from "../../contracts/EnergyMarket.sol";
import {IEnergyMarket} from "../../contracts/interfaces/IEnergyMarket.sol";
import {IFlexibilityMarket} from "../../contracts/interfaces/IFlexibilityMarket.sol";
import {IGridRegistry} from "../../contracts/interfaces/IGridRegistry.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

/// @notice FlexibilityMarket: placing, changing and cancelling standing orders, settling their steps against the
/// market's schedules, missed intervals, refunds, and EnergyMarket's side (recordFlexibility, the flexibility net in
/// the imbalance).
contract FlexibilityMarketTest is FlexBase {
    uint128 internal constant BUDGET = 1_000_000;

    /* placeFlexOrder */

    function test_placeFlexOrder_locksTheBudgetAndCountsTheWindow() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval + 2, BUDGET);
        bytes32 expectedId = flex.hashFlexOrder(o);
        token.mint(bob, BUDGET);
        vm.prank(bob);
        token.approve(address(flex), BUDGET);
        vm.expectEmit(address(flex));
        emit IFlexibilityMarket.FlexOrderPlaced(expectedId, bob, battery, o);
        vm.prank(bob);
        bytes32 id = flex.placeFlexOrder(o);
        assertEq(id, expectedId, "order id");
        assertEq(token.balanceOf(address(flex)), BUDGET, "budget locked");
        assertEq(flex.activeOrderCount(interval - 1), 0, "before the window");
        assertEq(flex.activeOrderCount(interval), 1, "first interval");
        assertEq(flex.activeOrderCount(interval + 2), 1, "last interval");
        assertEq(flex.activeOrderCount(interval + 3), 0, "after the window");
        assertEq(flex.batteryState(battery).orderId, id, "battery's latest order");
    }

    function test_placeFlexOrder_failsOutsideTheBatterysLimits() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval + 2, BUDGET);
        o.initialSocWh = MAX_SOC + 1;
        vm.expectRevert(
            abi.encodeWithSelector(
                IFlexibilityMarket.InvalidFlexOrder.selector,
                "initialSocWh",
                "outside the battery's registered state-of-charge bounds"
            )
        );
        vm.prank(bob);
        flex.placeFlexOrder(o);
    }

    function test_placeFlexOrder_failsForAWindowLongerThanTheMaximum() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(
            interval,
            interval + flex.MAX_WINDOW_INTERVALS(),
            0
        );
        vm.expectRevert(
            abi.encodeWithSelector(
                IFlexibilityMarket.InvalidFlexOrder.selector,
                "lastInterval",
                "window longer than MAX_WINDOW_INTERVALS"
            )
        );
        vm.prank(bob);
        flex.placeFlexOrder(o);
    }

    function test_placeFlexOrder_failsForAWindowInThePast() public {
        uint64 firstOpen = flex.firstOpenInterval();
        assertEq(firstOpen, interval - 1, "the fixture's first open interval");
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(firstOpen - 1, interval, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IFlexibilityMarket.WindowInPast.selector, firstOpen - 1, firstOpen)
        );
        vm.prank(bob);
        flex.placeFlexOrder(o);
    }

    function test_placeFlexOrder_failsForNotTheBatterysOwner() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval, 0);
        o.owner = alice;
        vm.expectRevert(
            abi.encodeWithSelector(IFlexibilityMarket.NotBatteryOwner.selector, battery, alice, bob)
        );
        vm.prank(alice);
        flex.placeFlexOrder(o);
    }

    function test_placeFlexOrder_failsForInsufficientFunds() public {
        // bob deposited every token he had into the market.
        vm.expectRevert(
            abi.encodeWithSelector(IFlexibilityMarket.InsufficientBalance.selector, bob, 0, BUDGET)
        );
        vm.prank(bob);
        flex.placeFlexOrder(_flexOrder(interval, interval, BUDGET));
    }

    function test_placeFlexOrder_failsForInsufficientAllowance() public {
        token.mint(bob, BUDGET);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(flex), 0, BUDGET)
        );
        vm.prank(bob);
        flex.placeFlexOrder(_flexOrder(interval, interval, BUDGET));
    }

    function test_placeFlexOrder_failsWhileTheBatteryHasAnOrderThen() public {
        bytes32 id = _placeFlex(_flexOrder(interval, interval + 2, 0));
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval + 2, interval + 4, 0);
        o.nonce = 1;
        vm.expectRevert(abi.encodeWithSelector(IFlexibilityMarket.FlexOrderExists.selector, battery, id));
        vm.prank(bob);
        flex.placeFlexOrder(o);
        // After the first window ends a new one can start.
        o.firstInterval = interval + 3;
        _placeFlex(o);
        assertEq(flex.activeOrderCount(interval + 3), 1, "the second order");
    }

    /* changeFlexOrder and cancelFlexOrder */

    function test_cancelFlexOrder_beforeItsWindowEndsItUnusedAndRefundable() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval + 2, BUDGET);
        bytes32 id = _placeFlex(o);
        vm.expectEmit(address(flex));
        emit IFlexibilityMarket.FlexOrderEnded(id, battery, interval - 1);
        vm.prank(bob);
        flex.cancelFlexOrder(o);
        assertEq(flex.activeOrderCount(interval), 0, "never active");
        flex.refundFlexFunds(o);
        assertEq(flex.balanceOf(bob), BUDGET, "whole budget back");
        // The battery is free for an earlier window than the cancelled one's.
        IFlexibilityMarket.FlexOrder memory next = _flexOrder(interval - 1, interval, 0);
        _placeFlex(next);
        assertEq(flex.activeOrderCount(interval - 1), 1, "the new order");
    }

    function test_cancelFlexOrder_failsForAnAlteredOrder() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval + 2, 0);
        _placeFlex(o);
        o.maxChargePricePerKwh += 1;
        vm.expectRevert(
            abi.encodeWithSelector(IFlexibilityMarket.UnknownFlexOrder.selector, flex.hashFlexOrder(o))
        );
        vm.prank(bob);
        flex.cancelFlexOrder(o);
    }

    function test_cancelFlexOrder_failsOnceEnded() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval + 2, 0);
        bytes32 id = _placeFlex(o);
        vm.startPrank(bob);
        flex.cancelFlexOrder(o);
        vm.expectRevert(
            abi.encodeWithSelector(
                IFlexibilityMarket.FlexOrderNotActive.selector,
                id,
                flex.firstOpenInterval()
            )
        );
        flex.cancelFlexOrder(o);
        vm.stopPrank();
    }

    function test_cancelFlexOrder_failsForAStranger() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval + 2, 0);
        _placeFlex(o);
        vm.expectRevert(
            abi.encodeWithSelector(IFlexibilityMarket.NotBatteryOwner.selector, battery, carol, bob)
        );
        vm.prank(carol);
        flex.cancelFlexOrder(o);
    }

    /// @dev A change made after interval's gate closed ends the order after interval; the replacement runs from
    /// the first open interval, with its own initial state of charge.
    function test_changeFlexOrder_takesEffectFromTheFirstOpenInterval() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval + 3, BUDGET);
        bytes32 id = _placeFlex(o);
        vm.warp(market.gateClosure(interval) + 1);
        assertEq(flex.firstOpenInterval(), interval + 1, "first open");
        IFlexibilityMarket.FlexOrder memory r = _flexOrder(interval + 1, interval + 3, BUDGET / 2);
        r.initialSocWh = 5000;
        r.nonce = 1;
        token.mint(bob, r.chargeBudget);
        vm.startPrank(bob);
        token.approve(address(flex), r.chargeBudget);
        vm.expectEmit(address(flex));
        emit IFlexibilityMarket.FlexOrderEnded(id, battery, interval);
        bytes32 rid = flex.changeFlexOrder(o, r);
        vm.stopPrank();

        assertEq(flex.orderState(id).endInterval, interval, "old order ends at the last closed interval");
        assertEq(flex.activeOrderCount(interval), 1, "old order still active in the closed interval");
        assertEq(flex.activeOrderCount(interval + 1), 1, "only the replacement from the first open interval");
        assertEq(flex.activeOrderCount(interval + 3), 1, "replacement to its end");
        assertEq(flex.batteryState(battery).orderId, rid, "latest order");

        // The closed interval settles the old order's step, the next one the replacement's.
        _commitAndSettleSteps(interval, _one(_charge(o, 1000)), _prices(200_000, 200_000));
        assertEq(flex.batteryState(battery).socWh, 2900, "old order: 2000 + 900");
        IFlexibilityMarket.FlexStep memory step = _charge(r, 1000);
        vm.expectRevert(
            abi.encodeWithSelector(IFlexibilityMarket.FlexOrderNotActive.selector, id, interval + 1)
        );
        this.commitAndSettleExternal(interval + 1, _one(_discharge(o, 900)), _prices(200_000, 200_000));
        _commitAndSettleSteps(interval + 1, _one(step), _prices(200_000, 200_000));
        assertEq(flex.batteryState(battery).socWh, 5900, "replacement: 5000 + 900");
        assertEq(flex.orderState(rid).spent, 200_000, "charged to the replacement's budget");
        // The old order's unspent budget is refundable now that its last interval is settled.
        flex.refundFlexFunds(o);
        assertEq(flex.balanceOf(bob), BUDGET - 200_000, "old order's unspent budget");
    }

    /// @dev Interval 1 of the happy path: charge 1000 Wh at 200k (200,000 charged), alice sells 1000 Wh at 200k.
    function _happyFirstInterval(
        IFlexibilityMarket.FlexOrder memory o,
        bytes32 id,
        IEnergyMarket.Order memory offer
    ) internal {
        bytes32[] memory leaves = new bytes32[](2);
        leaves[0] = _fillLeaf(market.hashOrder(offer), 1000);
        leaves[1] = _stepLeaf(_charge(o, 1000));
        uint256[] memory p = _prices(200_000, 200_000);
        _commitLeaves(interval, leaves, p);
        vm.expectEmit(address(flex));
        emit IFlexibilityMarket.FlexStepSettled(
            id,
            battery,
            interval,
            IFlexibilityMarket.Direction.Charge,
            1000,
            2900,
            200_000
        );
        vm.expectEmit(address(flex));
        emit IFlexibilityMarket.FlexIntervalSettled(interval, 1, 200_000, 0);
        // The charge first: it is what the seller is paid from.
        _settleStepsOf(interval, leaves, _ks(1), _one(_charge(o, 1000)), p);
        IEnergyMarket.Fill[] memory fills = new IEnergyMarket.Fill[](1);
        fills[0] = IEnergyMarket.Fill(offer, 1000);
        _settleFillsOf(interval, leaves, _ks(0), fills, p);
        IEnergyMarket.IntervalState memory s = market.intervalState(interval);
        assertEq(s.settledCount, 2, "fill and step settled");
        assertEq(s.receipts, 200_000, "receipts: the charge");
        assertEq(s.payouts, 200_000, "payouts: the seller");
        assertEq(market.pendingPayout(alice, interval), 200_000, "seller's payout withheld until delivery");
        assertEq(flex.scheduledNetWh(bob, interval), -1000, "scheduled net");
    }

    /// @dev Interval 3: alice buys 900 Wh at 250k (225,000), the battery discharges 900 Wh (225,000 paid).
    function _happyThirdInterval(
        IFlexibilityMarket.FlexOrder memory o,
        IEnergyMarket.Order memory bid
    ) internal {
        bytes32[] memory leaves = new bytes32[](2);
        leaves[0] = _fillLeaf(market.hashOrder(bid), 900);
        leaves[1] = _stepLeaf(_discharge(o, 900));
        uint256[] memory p = _prices(250_000, 250_000);
        _commitLeaves(interval + 2, leaves, p);
        IEnergyMarket.Fill[] memory fills = new IEnergyMarket.Fill[](1);
        fills[0] = IEnergyMarket.Fill(bid, 900);
        _settleFillsOf(interval + 2, leaves, _ks(0), fills, p);
        _settleStepsOf(interval + 2, leaves, _ks(1), _one(_discharge(o, 900)), p);
        IEnergyMarket.IntervalState memory s = market.intervalState(interval + 2);
        assertEq(s.settledCount, 2, "fill and step settled");
        assertEq(s.receipts, 225_000, "receipts: the buyer");
        assertEq(s.payouts, 225_000, "payouts: the discharge");
        assertEq(flex.scheduledNetWh(bob, interval + 2), 900, "scheduled net");
    }

    /// @dev For expectRevert on a whole commit-and-settle sequence (the commit's state is reverted with it).
    function commitAndSettleExternal(
        uint64 intervalId,
        IFlexibilityMarket.FlexStep[] memory steps,
        uint256[] memory prices
    ) external {
        _commitAndSettleSteps(intervalId, steps, prices);
    }

    /* settleFlexSteps: the happy path */

    /// @dev bob's battery charges 1000 Wh from alice's offer, then 800 Wh alone, then discharges 900 Wh to alice's
    /// bid; every token accounted for, to the unit.
    function test_settleFlexSteps_chargeThenDischargeOverThreeIntervals() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval + 2, BUDGET);
        bytes32 id = _placeFlex(o);
        IEnergyMarket.Order memory offer = _order(alice, IEnergyMarket.Side.Sell, 0, 1000, 100_000);
        IEnergyMarket.Order memory bid = _order(alice, IEnergyMarket.Side.Buy, 0, 900, 300_000);
        bid.intervalId = interval + 2;
        _place(offer);
        _place(bid);
        uint256 owedBefore = market.totalOwed();
        uint256 operatorBefore = market.operatorFunds();

        _happyFirstInterval(o, id, offer);
        // Interval 2: charge 800 Wh at 100k alone: 80,000 charged, all of it grid revenue.
        _commitAndSettleSteps(interval + 1, _one(_charge(o, 800)), _prices(100_000, 100_000));
        assertEq(flex.batteryState(battery).socWh, 2900 + 720, "2900 + floor(800 x 0.9)");
        assertEq(market.operatorFunds() - operatorBefore, 80_000, "surplus credited to the operator");
        _happyThirdInterval(o, bid);

        IFlexibilityMarket.BatteryState memory b = flex.batteryState(battery);
        assertEq(b.socWh, 3620 - 1000, "3620 - ceil(900 / 0.9)");
        assertEq(b.socInterval, interval + 2, "last settled interval");
        assertEq(flex.orderState(id).spent, 280_000, "spent");
        assertEq(flex.balanceOf(bob), 225_000, "discharge earnings");
        assertEq(flex.nextInterval(), interval + 3, "cursor");
        assertEq(market.totalOwed(), owedBefore + 200_000 + 80_000 - 225_000, "totalOwed");
        assertEq(token.balanceOf(address(market)), market.totalOwed(), "market holds what it owes");
        assertEq(token.balanceOf(address(flex)), 225_000 + BUDGET - 280_000, "flex holds balances + unspent");

        flex.refundFlexFunds(o);
        vm.prank(bob);
        flex.withdraw(945_000, bob);
        assertEq(token.balanceOf(bob), 945_000, "budget - spent + earnings");
        assertEq(token.balanceOf(address(flex)), 0, "nothing left behind");
    }

    function test_settleFlexSteps_passesAnIntervalWithoutOrdersWithoutTheMarket() public {
        _placeFlex(_flexOrder(interval + 1, interval + 1, 0));
        bytes32[] memory leaves = new bytes32[](1);
        leaves[0] = _fillLeaf(_place(_order(alice, IEnergyMarket.Side.Buy, 0, 1000, 300_000)), 0);
        uint256[] memory p = _prices(200_000, 200_000);
        bytes32 root = _commitLeaves(interval, leaves, p);
        flex.settleFlexSteps(
            interval,
            root,
            p,
            new IFlexibilityMarket.FlexStep[](0),
            new bytes32[](0),
            new bool[](0)
        );
        assertEq(flex.nextInterval(), interval + 1, "cursor past it");
        assertEq(market.intervalState(interval).settledCount, 0, "no leaf recorded on the market");
    }

    /// @dev A year without orders costs the first settlement after it one read per 256 intervals, not per interval.
    function test_settleFlexSteps_jumpsAnIdleStretch() public {
        uint64 later = interval + 35_040;
        vm.warp(market.gateClosure(later) - 1000);
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(later, later, 0);
        _placeFlex(o);
        IFlexibilityMarket.FlexStep[] memory steps = _one(_charge(o, 0));
        bytes32[] memory leaves = new bytes32[](1);
        leaves[0] = _stepLeaf(steps[0]);
        uint256[] memory p = _prices(200_000, 200_000);
        bytes32 root = _commitLeaves(later, leaves, p);
        uint256 gasBefore = gasleft();
        flex.settleFlexSteps(later, root, p, steps, new bytes32[](0), new bool[](0));
        uint256 used = gasBefore - gasleft();
        assertLt(used, 600_000, "bounded walk over 35,040 idle intervals");
        assertEq(flex.nextInterval(), later + 1, "cursor");
    }

    /* settleFlexSteps: every check */

    function test_settleFlexSteps_failsOutOfOrder() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval + 1, 0);
        _placeFlex(o);
        IFlexibilityMarket.FlexStep[] memory steps = _one(_charge(o, 0));
        bytes32[] memory leaves = new bytes32[](1);
        leaves[0] = _stepLeaf(steps[0]);
        uint256[] memory p = _prices(200_000, 200_000);
        bytes32 root = _commitLeaves(interval + 1, leaves, p);
        vm.expectRevert(
            abi.encodeWithSelector(IFlexibilityMarket.FlexIntervalOutOfOrder.selector, interval + 1, interval)
        );
        flex.settleFlexSteps(interval + 1, root, p, steps, new bytes32[](0), new bool[](0));
    }

    function test_settleFlexSteps_failsForAWrongCount() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval, 0);
        _placeFlex(o);
        bytes32[] memory leaves = new bytes32[](1);
        leaves[0] = _stepLeaf(_charge(o, 0));
        uint256[] memory p = _prices(200_000, 200_000);
        bytes32 root = _commitLeaves(interval, leaves, p);
        vm.expectRevert(abi.encodeWithSelector(IFlexibilityMarket.FlexStepCount.selector, interval, 0, 1));
        flex.settleFlexSteps(
            interval,
            root,
            p,
            new IFlexibilityMarket.FlexStep[](0),
            new bytes32[](0),
            new bool[](0)
        );
    }

    function test_settleFlexSteps_failsForABatteryTwice() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval, 0);
        _placeFlex(o);
        IFlexibilityMarket.FlexOrder memory o2 = _flexOrder(interval, interval, 0);
        o2.batteryId = _registerBattery(bob, 0);
        _placeFlex(o2);
        // A committee that gives one battery two leaves and the other none.
        IFlexibilityMarket.FlexStep[] memory steps = new IFlexibilityMarket.FlexStep[](2);
        steps[0] = _charge(o, 0);
        steps[1] = _charge(o, 0);
        vm.expectRevert(abi.encodeWithSelector(IFlexibilityMarket.DuplicateFlexStep.selector, battery));
        this.commitAndSettleExternal(interval, steps, _prices(200_000, 200_000));
    }

    function test_settleFlexSteps_failsAboveThePower() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval, BUDGET);
        _placeFlex(o);
        vm.expectRevert(
            abi.encodeWithSelector(
                IFlexibilityMarket.ExceedsPower.selector,
                battery,
                MAX_STEP_WH + 1,
                MAX_STEP_WH
            )
        );
        this.commitAndSettleExternal(interval, _one(_charge(o, MAX_STEP_WH + 1)), _prices(200_000, 200_000));
    }

    function test_settleFlexSteps_failsBelowTheMinimumStateOfCharge() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval, 0);
        _placeFlex(o);
        // 2000 − ceil(1000 / 0.9) = 2000 − 1112 = 888 < 1000.
        vm.expectRevert(
            abi.encodeWithSelector(
                IFlexibilityMarket.SocOutOfBounds.selector,
                battery,
                int256(888),
                MIN_SOC,
                MAX_SOC
            )
        );
        this.commitAndSettleExternal(interval, _one(_discharge(o, 1000)), _prices(200_000, 200_000));
    }

    function test_settleFlexSteps_failsAboveTheMaximumStateOfCharge() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval, BUDGET);
        o.initialSocWh = MAX_SOC - 100;
        _placeFlex(o);
        vm.expectRevert(
            abi.encodeWithSelector(
                IFlexibilityMarket.SocOutOfBounds.selector,
                battery,
                int256(uint256(MAX_SOC - 100 + 180)),
                MIN_SOC,
                MAX_SOC
            )
        );
        this.commitAndSettleExternal(interval, _one(_charge(o, 200)), _prices(200_000, 200_000));
    }

    function test_settleFlexSteps_failsForAChargeAboveTheLimit() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval, BUDGET);
        bytes32 id = _placeFlex(o);
        vm.expectRevert(
            abi.encodeWithSelector(IFlexibilityMarket.FlexPriceOutsideLimit.selector, id, 300_001, 300_000)
        );
        this.commitAndSettleExternal(interval, _one(_charge(o, 100)), _prices(300_001, 1));
    }

    function test_settleFlexSteps_failsForADischargeBelowTheLimit() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval, 0);
        bytes32 id = _placeFlex(o);
        vm.expectRevert(
            abi.encodeWithSelector(IFlexibilityMarket.FlexPriceOutsideLimit.selector, id, 149_999, 150_000)
        );
        this.commitAndSettleExternal(interval, _one(_discharge(o, 100)), _prices(149_999, 1));
    }

    function test_settleFlexSteps_failsOverTheBudget() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval, 100_000);
        bytes32 id = _placeFlex(o);
        vm.expectRevert(
            abi.encodeWithSelector(IFlexibilityMarket.FlexBudgetExceeded.selector, id, 200_000, 100_000)
        );
        this.commitAndSettleExternal(interval, _one(_charge(o, 1000)), _prices(200_000, 1));
    }

    function test_settleFlexSteps_onlyIdleOnceTheOwnerChanged() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval + 1, BUDGET);
        _placeFlex(o);
        vm.prank(operator);
        registry.updateBattery(battery, _batterySpec(carol, 0));
        vm.expectRevert(
            abi.encodeWithSelector(IFlexibilityMarket.BatteryOwnerChanged.selector, battery, carol)
        );
        this.commitAndSettleExternal(interval, _one(_charge(o, 100)), _prices(200_000, 1));
        // A 0 Wh step still settles, so the interval (and its fills) can complete.
        _commitAndSettleSteps(interval, _one(_charge(o, 0)), _prices(200_000, 1));
        assertEq(market.intervalState(interval).settledCount, 1, "step recorded");
        // The new owner ends the old owner's order.
        vm.prank(carol);
        flex.cancelFlexOrder(o);
        assertEq(
            flex.orderState(flex.hashFlexOrder(o)).endInterval,
            interval,
            "ended after the closed interval"
        );
    }

    function test_settleFlexSteps_failsForAScheduleMismatch() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval, 0);
        _placeFlex(o);
        IFlexibilityMarket.FlexStep[] memory steps = _one(_charge(o, 0));
        bytes32[] memory leaves = new bytes32[](1);
        leaves[0] = _stepLeaf(steps[0]);
        bytes32 root = _commitLeaves(interval, leaves, _prices(200_000, 1));
        vm.expectRevert(abi.encodeWithSelector(IFlexibilityMarket.ScheduleMismatch.selector, interval));
        flex.settleFlexSteps(interval, root, _prices(200_001, 1), steps, new bytes32[](0), new bool[](0));
    }

    function test_settleFlexSteps_failsForAnInvalidProof() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval, BUDGET);
        _placeFlex(o);
        bytes32[] memory leaves = new bytes32[](1);
        leaves[0] = _stepLeaf(_charge(o, 500));
        uint256[] memory p = _prices(200_000, 1);
        bytes32 root = _commitLeaves(interval, leaves, p);
        vm.expectRevert(IFlexibilityMarket.InvalidProof.selector);
        flex.settleFlexSteps(interval, root, p, _one(_charge(o, 600)), new bytes32[](0), new bool[](0));
    }

    function test_settleFlexSteps_failsForAnOrderNotActive() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval, 0);
        _placeFlex(o);
        IFlexibilityMarket.FlexOrder memory later = _flexOrder(interval + 1, interval + 1, 0);
        later.batteryId = _registerBattery(bob, 0);
        bytes32 laterId = _placeFlex(later);
        vm.expectRevert(
            abi.encodeWithSelector(IFlexibilityMarket.FlexOrderNotActive.selector, laterId, interval)
        );
        this.commitAndSettleExternal(interval, _one(_charge(later, 0)), _prices(200_000, 1));
    }

    function test_settleFlexSteps_failsForAnOrderNeverPlaced() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval, 0);
        _placeFlex(o);
        o.nonce = 99;
        vm.expectRevert(
            abi.encodeWithSelector(IFlexibilityMarket.UnknownFlexOrder.selector, flex.hashFlexOrder(o))
        );
        this.commitAndSettleExternal(interval, _one(_charge(o, 0)), _prices(200_000, 1));
    }

    function test_settleFlexSteps_failsWithoutAPriceForTheBatterysZone() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval, 0);
        o.owner = dave;
        o.batteryId = _registerBattery(dave, 1);
        _placeFlex(o);
        uint256[] memory p = new uint256[](1);
        p[0] = 200_000;
        vm.expectRevert(
            abi.encodeWithSelector(IFlexibilityMarket.UnknownZonePrice.selector, o.batteryId, uint32(1), 1)
        );
        this.commitAndSettleExternal(interval, _one(_discharge(o, 100)), p);
    }

    /* closeMissedInterval */

    function test_closeMissedInterval_failsBeforeTheMeterDeadline() public {
        _placeFlex(_flexOrder(interval, interval, 0));
        uint256 deadline = market.meterDeadline(interval);
        vm.warp(deadline - 1);
        vm.expectRevert(abi.encodeWithSelector(IFlexibilityMarket.NotMissedYet.selector, interval, deadline));
        flex.closeMissedInterval(interval);
    }

    /// @dev The committee's schedule of `interval` has the step but nobody settles it: the interval's fills never
    /// complete, and after its meter deadline the interval is closed as missed; the next one then settles, the
    /// battery's state of charge unchanged by the missed one.
    function test_closeMissedInterval_thenLaterIntervalsSettle() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval + 1, BUDGET);
        _placeFlex(o);
        uint256[] memory p = _prices(200_000, 1);
        bytes32[] memory leaves0 = new bytes32[](1);
        leaves0[0] = _stepLeaf(_charge(o, 1000));
        _commitLeaves(interval, leaves0, p);
        IFlexibilityMarket.FlexStep[] memory steps1 = _one(_charge(o, 500));
        bytes32[] memory leaves1 = new bytes32[](1);
        leaves1[0] = _stepLeaf(steps1[0]);
        bytes32 root1 = _commitLeaves(interval + 1, leaves1, p);

        vm.warp(market.meterDeadline(interval));
        IEnergyMarket.IntervalState memory s = market.intervalState(interval);
        assertLt(s.settledCount, s.fillCount, "the interval's leaves never completed");
        vm.expectEmit(address(flex));
        emit IFlexibilityMarket.FlexIntervalMissed(interval, 1);
        flex.closeMissedInterval(interval);
        assertEq(flex.nextInterval(), interval + 1, "cursor");

        flex.settleFlexSteps(interval + 1, root1, p, steps1, new bytes32[](0), new bool[](0));
        assertEq(flex.batteryState(battery).socWh, 2000 + 450, "from the initial state of charge");
        assertEq(flex.orderState(flex.hashFlexOrder(o)).spent, 100_000, "only the settled interval charged");
    }

    /* refundFlexFunds and withdraw */

    function test_refundFlexFunds_failsBeforeTheWindowIsSettled() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval + 1, BUDGET);
        bytes32 id = _placeFlex(o);
        vm.expectRevert(abi.encodeWithSelector(IFlexibilityMarket.RefundNotYet.selector, id, interval + 1));
        flex.refundFlexFunds(o);
    }

    function test_refundFlexFunds_failsTwice() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval + 1, BUDGET);
        bytes32 id = _placeFlex(o);
        vm.prank(bob);
        flex.cancelFlexOrder(o);
        flex.refundFlexFunds(o);
        vm.expectRevert(abi.encodeWithSelector(IFlexibilityMarket.AlreadyRefunded.selector, id));
        flex.refundFlexFunds(o);
    }

    function test_withdraw_failsAboveTheBalance() public {
        vm.expectRevert(abi.encodeWithSelector(IFlexibilityMarket.InsufficientBalance.selector, bob, 0, 1));
        vm.prank(bob);
        flex.withdraw(1, bob);
    }

    /// @dev A cancelled, a changed, a missed and a fully settled order: each one's budget comes back to its owner
    /// (less what its settled steps charged), and the contract ends holding nothing.
    function test_refundFlexFunds_noFundsStuckWhateverTheOrdersFate() public {
        IFlexibilityMarket.FlexOrder memory cancelled = _flexOrder(interval, interval + 1, 100_000);
        IFlexibilityMarket.FlexOrder memory changed = _flexOrder(interval, interval + 1, 200_000);
        changed.batteryId = _registerBattery(bob, 0);
        IFlexibilityMarket.FlexOrder memory missed = _flexOrder(interval, interval, 300_000);
        missed.batteryId = _registerBattery(bob, 0);
        IFlexibilityMarket.FlexOrder memory settled = _flexOrder(interval + 1, interval + 1, 400_000);
        settled.batteryId = _registerBattery(bob, 0);
        _placeFlex(cancelled);
        _placeFlex(changed);
        _placeFlex(missed);
        _placeFlex(settled);
        vm.prank(bob);
        flex.cancelFlexOrder(cancelled);

        uint256[] memory p = _prices(200_000, 1);
        // Interval: the changed and the missed orders' steps, committed, never settled.
        bytes32[] memory leaves0 = new bytes32[](2);
        leaves0[0] = _stepLeaf(_charge(changed, 0));
        leaves0[1] = _stepLeaf(_charge(missed, 0));
        _commitLeaves(interval, leaves0, p);
        vm.warp(block.timestamp + 1);
        IFlexibilityMarket.FlexOrder memory replacement = _flexOrder(interval + 1, interval + 1, 50_000);
        replacement.batteryId = changed.batteryId;
        token.mint(bob, replacement.chargeBudget);
        vm.startPrank(bob);
        token.approve(address(flex), replacement.chargeBudget);
        flex.changeFlexOrder(changed, replacement);
        vm.stopPrank();
        // Next interval: the replacement idles, the settled order charges 500 Wh (100,000).
        IFlexibilityMarket.FlexStep[] memory steps1 = new IFlexibilityMarket.FlexStep[](2);
        steps1[0] = _charge(replacement, 0);
        steps1[1] = _charge(settled, 500);
        bytes32[] memory leaves1 = new bytes32[](2);
        leaves1[0] = _stepLeaf(steps1[0]);
        leaves1[1] = _stepLeaf(steps1[1]);
        bytes32 root1 = _commitLeaves(interval + 1, leaves1, p);

        vm.warp(market.meterDeadline(interval));
        flex.closeMissedInterval(interval);
        flex.settleFlexSteps(interval + 1, root1, p, steps1, new bytes32[](0), Merkle.allLeavesFlags(2));

        uint256 balance = flex.balanceOf(bob);
        flex.refundFlexFunds(cancelled);
        assertEq(flex.balanceOf(bob) - balance, 100_000, "cancelled: whole budget");
        flex.refundFlexFunds(changed);
        assertEq(flex.balanceOf(bob) - balance, 300_000, "changed: whole budget");
        flex.refundFlexFunds(missed);
        assertEq(flex.balanceOf(bob) - balance, 600_000, "missed: whole budget");
        flex.refundFlexFunds(replacement);
        flex.refundFlexFunds(settled);
        assertEq(flex.balanceOf(bob) - balance, 650_000 + 300_000, "settled: budget less 100,000 charged");
        vm.prank(bob);
        flex.withdraw(950_000, bob);
        assertEq(token.balanceOf(address(flex)), 0, "nothing stuck");
        assertEq(token.balanceOf(bob), 950_000, "every budget back but the settled charge");
    }

    /* EnergyMarket */

    /// @dev bob's battery charges 1000 Wh; his meter shows 1300 Wh consumed: the deviation is −300 Wh against the
    /// scheduled net of −1000 (not −1300 against 0). Until the step is settled the imbalance waits.
    function test_settleImbalance_countsTheFlexibilityNet() public {
        IFlexibilityMarket.FlexOrder memory o = _flexOrder(interval, interval, BUDGET);
        _placeFlex(o);
        IEnergyMarket.Order memory offer = _order(alice, IEnergyMarket.Side.Sell, 0, 1000, 100_000);
        bytes32[] memory leaves = new bytes32[](2);
        leaves[0] = _fillLeaf(_place(offer), 1000);
        leaves[1] = _stepLeaf(_charge(o, 1000));
        uint256[] memory p = _prices(200_000, 200_000);
        _commitLeaves(interval, leaves, p);
        bytes32[] memory meterLeaves = new bytes32[](2);
        meterLeaves[0] = _meterLeaf(bob, 0, 1300);
        meterLeaves[1] = _meterLeaf(alice, 1000, 0);
        _warpAfterInterval(interval);
        _commitMeter(_meterReport(interval, Merkle.root(meterLeaves), 400_000, 50_000));

        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.FillsPending.selector, interval, 0, 2));
        market.settleImbalance(bob, interval, 0, 1300, Merkle.proof(meterLeaves, 0));

        _settleStepsOf(interval, leaves, _ks(1), _one(_charge(o, 1000)), p);
        IEnergyMarket.Fill[] memory fills = new IEnergyMarket.Fill[](1);
        fills[0] = IEnergyMarket.Fill(offer, 1000);
        _settleFillsOf(interval, leaves, _ks(0), fills, p);
        // Short 300 Wh at 400k = 120,000; bob locked nothing in the market for the interval: all uncovered.
        vm.expectEmit(address(market));
        emit IEnergyMarket.ImbalanceSettled(bob, interval, -300, 0, 0, 120_000);
        market.settleImbalance(bob, interval, 0, 1300, Merkle.proof(meterLeaves, 0));
        // alice sold 1000 and injected 1000: no deviation.
        vm.expectEmit(address(market));
        emit IEnergyMarket.ImbalanceSettled(alice, interval, 0, 0, 0, 0);
        market.settleImbalance(alice, interval, 1000, 0, Merkle.proof(meterLeaves, 1));
    }

    function test_recordFlexibility_failsForAnyoneButTheFlexibilityMarket() public {
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.NotFlexibilityMarket.selector, alice));
        vm.prank(alice);
        market.recordFlexibility(interval, 1, 0, 0);
    }

    function test_setFlexibilityMarket_failsTwice() public {
        vm.expectRevert(
            abi.encodeWithSelector(IEnergyMarket.FlexibilityMarketAlreadySet.selector, address(flex))
        );
        vm.prank(admin);
        market.setFlexibilityMarket(alice);
    }

    function test_setFlexibilityMarket_byTheDeployerOrTheAdminOnly() public {
        EnergyMarket fresh = new EnergyMarket(_marketConfig(address(token)));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                alice,
                bytes32(0)
            )
        );
        vm.prank(alice);
        fresh.setFlexibilityMarket(alice);
        // This test contract deployed it.
        vm.expectEmit(address(fresh));
        emit IEnergyMarket.FlexibilityMarketSet(bob);
        fresh.setFlexibilityMarket(bob);
        assertEq(fresh.flexibilityMarket(), bob, "set");
    }
}
