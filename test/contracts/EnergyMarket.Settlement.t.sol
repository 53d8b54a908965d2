// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarketBase} from "./utils/MarketBase.sol";
import {Merkle} from "./utils/Merkle.sol";
import {IEnergyMarket} from "../../contracts/interfaces/IEnergyMarket.sol";

/// @notice settleFills, claimFill, collectGridRevenue.
contract EnergyMarketSettlementTest is MarketBase {
    function test_settleFills_movesMoneyAndReleasesLocks() public {
        Scenario memory s = _scenario(1500);
        vm.expectEmit(address(market));
        emit IEnergyMarket.FillSettled(s.bidId, alice, interval, IEnergyMarket.Side.Buy, 1500, 300_000);
        vm.expectEmit(address(market));
        emit IEnergyMarket.FillSettled(s.offerId, bob, interval, IEnergyMarket.Side.Sell, 1500, 300_000);
        _settleAll(s);
        // alice: locked ceil(300_000 * 2000 / 1000) = 600_000, pays 200_000 * 1.5 = 300_000.
        assertEq(market.balanceOf(alice), 1_000e6 - 300_000, "buyer paid its zone price");
        // bob: collateral 200_000 locked; 500 Wh unfilled releases 50_000; 150_000 stays for the imbalance.
        assertEq(
            market.balanceOf(bob),
            1_000e6 - 200_000 + 50_000 + 300_000,
            "seller paid, unfilled collateral back"
        );
        (bool settled, uint64 filled) = market.settledFill(alice, interval, IEnergyMarket.Side.Buy);
        assertTrue(settled, "settled");
        assertEq(filled, 1500, "filled");
        IEnergyMarket.IntervalState memory state = market.intervalState(interval);
        assertEq(state.settledCount, 2, "count");
        assertEq(state.boughtWh, 1500, "bought");
        assertEq(state.receipts, state.payouts, "no surplus in a single zone");
    }

    function test_settleFills_appliesBuyersBeforeSellersWhateverTheOrder() public {
        Scenario memory s = _scenario(1500);
        // Sell first in calldata: the leaves must then be in that order too.
        bytes32[] memory leaves = new bytes32[](2);
        leaves[0] = s.leaves[1];
        leaves[1] = s.leaves[0];
        IEnergyMarket.Fill[] memory fills = new IEnergyMarket.Fill[](2);
        fills[0] = s.fills[1];
        fills[1] = s.fills[0];
        // Same tree (sorted-pair hashing), so the committed root still proves both.
        market.settleFills(interval, s.root, s.prices, fills, new bytes32[](0), Merkle.allLeavesFlags(2));
        assertEq(market.intervalState(interval).settledCount, 2, "both settled");
    }

    function test_settleFills_creditsGridRevenueAcrossZones() public {
        // alice buys in zone 0 at 300k; dave sells in zone 1 at 200k; the difference is the operator's.
        IEnergyMarket.Order memory bid = _order(alice, IEnergyMarket.Side.Buy, 0, 1000, 400_000);
        IEnergyMarket.Order memory offer = _order(dave, IEnergyMarket.Side.Sell, 1, 1000, 150_000);
        bytes32[] memory leaves = new bytes32[](2);
        leaves[0] = _fillLeaf(_place(bid), 1000);
        leaves[1] = _fillLeaf(_place(offer), 1000);
        uint256[] memory prices = _prices(300_000, 200_000);
        _warpToGateClosure(interval);
        _commit(_report(interval, Merkle.root(leaves), 2, prices));
        IEnergyMarket.Fill[] memory fills = new IEnergyMarket.Fill[](2);
        fills[0] = IEnergyMarket.Fill(bid, 1000);
        fills[1] = IEnergyMarket.Fill(offer, 1000);
        vm.expectEmit(address(market));
        emit IEnergyMarket.GridRevenueCredited(interval, 100_000);
        market.settleFills(
            interval,
            Merkle.root(leaves),
            prices,
            fills,
            new bytes32[](0),
            Merkle.allLeavesFlags(2)
        );
        assertEq(market.operatorFunds(), 100_000, "grid fee + congestion rent");
    }

    function test_settleFills_roundsChargeUpAndPayoutDown() public {
        IEnergyMarket.Order memory bid = _order(alice, IEnergyMarket.Side.Buy, 0, 1000, 1000);
        IEnergyMarket.Order memory offer = _order(bob, IEnergyMarket.Side.Sell, 0, 1000, 1);
        bytes32[] memory leaves = new bytes32[](2);
        leaves[0] = _fillLeaf(_place(bid), 333);
        leaves[1] = _fillLeaf(_place(offer), 333);
        uint256[] memory prices = _prices(7, 7);
        _warpToGateClosure(interval);
        _commit(_report(interval, Merkle.root(leaves), 2, prices));
        IEnergyMarket.Fill[] memory fills = new IEnergyMarket.Fill[](2);
        fills[0] = IEnergyMarket.Fill(bid, 333);
        fills[1] = IEnergyMarket.Fill(offer, 333);
        vm.expectEmit(address(market));
        emit IEnergyMarket.FillSettled(
            market.hashOrder(bid),
            alice,
            interval,
            IEnergyMarket.Side.Buy,
            333,
            3
        );
        vm.expectEmit(address(market));
        emit IEnergyMarket.FillSettled(
            market.hashOrder(offer),
            bob,
            interval,
            IEnergyMarket.Side.Sell,
            333,
            2
        );
        // 7 * 333 / 1000 = 2.331: buyer charged 3, seller paid 2, 1 unit to the operator.
        market.settleFills(
            interval,
            Merkle.root(leaves),
            prices,
            fills,
            new bytes32[](0),
            Merkle.allLeavesFlags(2)
        );
        assertEq(market.operatorFunds(), 1, "rounding dust");
    }

    function test_settleFills_failsWhenNotScheduled() public {
        Scenario memory s = _scenario(1500);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.NotScheduled.selector, interval + 1));
        market.settleFills(
            interval + 1,
            s.root,
            s.prices,
            s.fills,
            new bytes32[](0),
            Merkle.allLeavesFlags(2)
        );
    }

    function test_settleFills_failsAfterMeterDeadline() public {
        Scenario memory s = _scenario(1500);
        uint256 deadline = market.meterDeadline(interval);
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.SettlementClosed.selector, interval, deadline));
        _settleAll(s);
    }

    function test_settleFills_failsForOtherPrices() public {
        Scenario memory s = _scenario(1500);
        s.prices[0] = 1;
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.ScheduleMismatch.selector, interval));
        _settleAll(s);
    }

    function test_settleFills_failsForEmptyBatch() public {
        Scenario memory s = _scenario(1500);
        vm.expectRevert(IEnergyMarket.ZeroAmount.selector);
        market.settleFills(
            interval,
            s.root,
            s.prices,
            new IEnergyMarket.Fill[](0),
            new bytes32[](0),
            new bool[](0)
        );
    }

    function test_settleFills_failsForFillOfAnotherInterval() public {
        Scenario memory s = _scenario(1500);
        s.fills[1].order.intervalId = interval + 1;
        bytes32 orderId = market.hashOrder(s.fills[1].order);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEnergyMarket.FillIntervalMismatch.selector,
                orderId,
                interval + 1,
                interval
            )
        );
        _settleAll(s);
    }

    function test_settleFills_failsForAlteredFill() public {
        Scenario memory s = _scenario(1500);
        s.fills[0].filledWh = 1400;
        vm.expectRevert(IEnergyMarket.InvalidProof.selector);
        _settleAll(s);
    }

    function test_settleFills_settlesNothingTwice() public {
        Scenario memory s = _scenario(1500);
        _settleAll(s);
        uint256 aliceBefore = market.balanceOf(alice);
        uint256 bobBefore = market.balanceOf(bob);
        _settleAll(s); // every entry already settled: skipped
        assertEq(market.balanceOf(alice), aliceBefore, "buyer not charged twice");
        assertEq(market.balanceOf(bob), bobBefore, "seller not paid twice");
        assertEq(market.intervalState(interval).settledCount, 2, "settled count unchanged");
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.OrderNotOpen.selector, s.bidId));
        market.claimFill(s.root, s.prices, s.fills[0], Merkle.proof(s.leaves, 0));
    }

    function test_claimFill_settlesAnyonesFill() public {
        Scenario memory s = _scenario(1500);
        vm.prank(carol);
        market.claimFill(s.root, s.prices, s.fills[0], Merkle.proof(s.leaves, 0));
        assertEq(market.balanceOf(alice), 1_000e6 - 300_000, "buyer settled by someone else");
    }

    function test_claimFill_sellerAfterBuyer() public {
        Scenario memory s = _scenario(1500);
        market.claimFill(s.root, s.prices, s.fills[0], Merkle.proof(s.leaves, 0));
        market.claimFill(s.root, s.prices, s.fills[1], Merkle.proof(s.leaves, 1));
        assertEq(market.intervalState(interval).settledCount, 2, "both");
    }

    function test_claimFill_failsForSellerBeforeBuyer() public {
        Scenario memory s = _scenario(1500);
        bytes32[] memory proof = Merkle.proof(s.leaves, 1);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.BudgetExceeded.selector, interval, 300_000, 0));
        market.claimFill(s.root, s.prices, s.fills[1], proof);
    }

    function test_claimFill_failsForInvalidProof() public {
        Scenario memory s = _scenario(1500);
        vm.expectRevert(IEnergyMarket.InvalidProof.selector);
        market.claimFill(s.root, s.prices, s.fills[0], new bytes32[](0));
    }

    function test_claimFill_zeroFillReleasesWholeLock() public {
        Scenario memory s = _scenario(0);
        market.claimFill(s.root, s.prices, s.fills[1], Merkle.proof(s.leaves, 1));
        assertEq(market.balanceOf(bob), 1_000e6, "offer collateral back");
    }

    /// @dev Commits a one-leaf schedule for `o` filled `filledWh` and returns what claimFill needs.
    function _single(
        IEnergyMarket.Order memory o,
        uint64 filledWh,
        uint256[] memory prices
    ) internal returns (bytes32 root) {
        _place(o);
        bytes32[] memory leaves = new bytes32[](1);
        leaves[0] = _fillLeaf(market.hashOrder(o), filledWh);
        root = leaves[0];
        _warpToGateClosure(interval);
        _commit(_report(interval, root, 1, prices));
    }

    function test_claimFill_failsAboveQuantity() public {
        IEnergyMarket.Order memory o = _order(alice, IEnergyMarket.Side.Buy, 0, 1000, 300_000);
        uint256[] memory prices = _prices(1, 1);
        bytes32 root = _single(o, 1001, prices);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEnergyMarket.FillExceedsQuantity.selector,
                market.hashOrder(o),
                1001,
                1000
            )
        );
        market.claimFill(root, prices, IEnergyMarket.Fill(o, 1001), new bytes32[](0));
    }

    function test_claimFill_failsForBuyAboveLimit() public {
        IEnergyMarket.Order memory o = _order(alice, IEnergyMarket.Side.Buy, 0, 1000, 300_000);
        uint256[] memory prices = _prices(300_001, 1);
        bytes32 root = _single(o, 1000, prices);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEnergyMarket.PriceOutsideLimit.selector,
                market.hashOrder(o),
                300_001,
                300_000
            )
        );
        market.claimFill(root, prices, IEnergyMarket.Fill(o, 1000), new bytes32[](0));
    }

    function test_claimFill_failsForSellBelowLimit() public {
        IEnergyMarket.Order memory o = _order(bob, IEnergyMarket.Side.Sell, 0, 1000, 100_000);
        uint256[] memory prices = _prices(99_999, 1);
        bytes32 root = _single(o, 1000, prices);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEnergyMarket.PriceOutsideLimit.selector,
                market.hashOrder(o),
                99_999,
                100_000
            )
        );
        market.claimFill(root, prices, IEnergyMarket.Fill(o, 1000), new bytes32[](0));
    }

    function test_claimFill_failsForZoneWithoutPrice() public {
        IEnergyMarket.Order memory o = _order(alice, IEnergyMarket.Side.Buy, 7, 1000, 300_000);
        uint256[] memory prices = _prices(1, 1);
        bytes32 root = _single(o, 1000, prices);
        vm.expectRevert(
            abi.encodeWithSelector(IEnergyMarket.UnknownZonePrice.selector, market.hashOrder(o), 7, 2)
        );
        market.claimFill(root, prices, IEnergyMarket.Fill(o, 1000), new bytes32[](0));
    }

    function test_collectGridRevenue_failsWhileFillsPending() public {
        _scenario(1500);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.FillsPending.selector, interval, 0, 2));
        market.collectGridRevenue(interval);
    }

    function test_collectGridRevenue_failsWhenNotScheduled() public {
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.NotScheduled.selector, interval));
        market.collectGridRevenue(interval);
    }

    function test_collectGridRevenue_afterMeterDeadlineWithPendingFills() public {
        // Only the buyer is settled; after the meter deadline the surplus (here all of it) goes to the operator.
        Scenario memory s = _scenario(1500);
        market.claimFill(s.root, s.prices, s.fills[0], Merkle.proof(s.leaves, 0));
        vm.warp(market.meterDeadline(interval));
        market.collectGridRevenue(interval);
        assertEq(market.operatorFunds(), 300_000, "unmatched receipts credited");
        market.releaseOrder(s.offer);
        assertEq(market.balanceOf(bob), 1_000e6, "seller's collateral released");
    }
}
