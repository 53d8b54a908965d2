// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarketBase} from "./utils/MarketBase.sol";
import {Merkle} from "./utils/Merkle.sol";
import {IEnergyMarket} from "../../contracts/interfaces/IEnergyMarket.sol";
import {EnergyMarket} from "../../contracts/EnergyMarket.sol";
import {IGridRegistry} from "../../contracts/interfaces/IGridRegistry.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

contract EnergyMarketBalancesTest is MarketBase {
    function test_constructor_readsTokenDecimals() public view {
        assertEq(market.tokenDecimals(), 6, "decimals of the settlement token");
    }

    function test_constructor_failsOnZeroParameters() public {
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
            IEnergyMarket.MarketConfig memory bad = _marketConfig(address(token));
            if (i == 0) bad.token = address(0);
            if (i == 1) bad.registry = address(0);
            if (i == 2) bad.committee = address(0);
            if (i == 3) bad.certificates = address(0);
            if (i == 4) bad.intervalSeconds = 0;
            if (i == 5) bad.scheduleWindowSeconds = 0;
            if (i == 6) bad.meterWindowSeconds = 0;
            vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidParameter.selector, fields[i]));
            new EnergyMarket(bad);
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

    /* LOCKED FUNDS AND POSITIONS */

    // _scenario(1500): alice bids 2000 Wh @ <= 300k, bob offers 2000 Wh @ >= 100k, zone 0 price 200k, both filled
    // 1500 Wh; the collateral is 100k per kWh.
    uint256 internal constant BID_LOCK = 600_000 + 200_000; // ceil(300k * 2000 / 1000) + collateral of 2000 Wh
    uint256 internal constant OFFER_LOCK = 200_000;
    uint256 internal constant KEPT = 150_000; // collateral of the filled 1500 Wh
    uint256 internal constant PAYOUT = 300_000; // floor(200k * 1500 / 1000)

    function _assertPosition(
        address owner,
        IEnergyMarket.Side side,
        IEnergyMarket.PositionStatus status,
        bytes32 orderId,
        uint64 filledWh,
        bool deliverySettled,
        uint256 collateralLocked,
        uint256 pendingPayout
    ) internal view {
        IEnergyMarket.Position memory p = market.positionOf(owner, interval, side);
        assertEq(uint8(p.status), uint8(status), "status");
        assertEq(p.orderId, orderId, "orderId");
        assertEq(p.filledWh, filledWh, "filledWh");
        assertEq(p.deliverySettled, deliverySettled, "deliverySettled");
        assertEq(p.collateralLocked, collateralLocked, "collateralLocked");
        assertEq(p.pendingPayout, pendingPayout, "pendingPayout");
    }

    function test_lockedBalanceOf_zeroWithoutOrders() public view {
        assertEq(market.lockedBalanceOf(alice), 0, "nothing locked");
        _assertPosition(alice, IEnergyMarket.Side.Buy, IEnergyMarket.PositionStatus.None, 0, 0, false, 0, 0);
    }

    function test_orderLock_isWhatPlacingLocks() public {
        assertEq(market.orderLock(IEnergyMarket.Side.Buy, 2000, 300_000), BID_LOCK, "bid lock");
        assertEq(market.orderLock(IEnergyMarket.Side.Sell, 2000, 100_000), OFFER_LOCK, "offer lock");
        // Rounded up: 1 Wh at 1 base unit per kWh locks ceil(0.001) = 1 (payment) + ceil(100k / 1000) = 100.
        assertEq(market.orderLock(IEnergyMarket.Side.Buy, 1, 1), 101, "rounded up");
        uint256 free = market.balanceOf(alice);
        _place(_order(alice, IEnergyMarket.Side.Buy, 0, 1, 1));
        assertEq(free - market.balanceOf(alice), 101, "placing took orderLock");
        assertEq(market.lockedBalanceOf(alice), 101, "and locked it");
    }

    function test_lockedBalanceOf_afterPlace_holdsTheOrderLocks() public {
        uint256 aliceFree = market.balanceOf(alice);
        bytes32 bidId = _place(_order(alice, IEnergyMarket.Side.Buy, 0, 2000, 300_000));
        bytes32 offerId = _place(_order(alice, IEnergyMarket.Side.Sell, 0, 1000, 100_000));
        assertEq(market.lockedBalanceOf(alice), BID_LOCK + 100_000, "both open orders locked");
        assertEq(
            market.balanceOf(alice) + market.lockedBalanceOf(alice),
            aliceFree,
            "free + locked conserved"
        );
        _assertPosition(
            alice,
            IEnergyMarket.Side.Buy,
            IEnergyMarket.PositionStatus.Open,
            bidId,
            0,
            false,
            0,
            0
        );
        _assertPosition(
            alice,
            IEnergyMarket.Side.Sell,
            IEnergyMarket.PositionStatus.Open,
            offerId,
            0,
            false,
            0,
            0
        );
    }

    function test_lockedBalanceOf_afterCancel_isZero() public {
        uint256 aliceFree = market.balanceOf(alice);
        IEnergyMarket.Order memory bid = _order(alice, IEnergyMarket.Side.Buy, 0, 2000, 300_000);
        _place(bid);
        vm.prank(alice);
        market.cancelOrder(bid);
        assertEq(market.lockedBalanceOf(alice), 0, "lock returned");
        assertEq(market.balanceOf(alice), aliceFree, "to the free balance");
        _assertPosition(alice, IEnergyMarket.Side.Buy, IEnergyMarket.PositionStatus.None, 0, 0, false, 0, 0);
    }

    function test_lockedBalanceOf_afterReleaseOrder_isZero() public {
        IEnergyMarket.Order memory bid = _order(alice, IEnergyMarket.Side.Buy, 0, 2000, 300_000);
        _place(bid);
        vm.warp(market.scheduleDeadline(interval)); // never scheduled
        market.releaseOrder(bid);
        assertEq(market.lockedBalanceOf(alice), 0, "released");
        _assertPosition(alice, IEnergyMarket.Side.Buy, IEnergyMarket.PositionStatus.None, 0, 0, false, 0, 0);
    }

    function test_lockedBalanceOf_afterCommit_unchanged() public {
        _scenario(1500);
        assertEq(market.lockedBalanceOf(alice), BID_LOCK, "bid still locked until its fill settles");
        assertEq(market.lockedBalanceOf(bob), OFFER_LOCK, "offer still locked until its fill settles");
    }

    function test_positionOf_afterFillSettlement_keepsCollateralAndWithheldPayout() public {
        uint256 aliceFree = market.balanceOf(alice);
        uint256 bobFree = market.balanceOf(bob);
        Scenario memory s = _scenario(1500);
        _settleAll(s);
        assertEq(market.lockedBalanceOf(alice), KEPT, "buyer: the filled part's collateral");
        assertEq(
            market.balanceOf(alice),
            aliceFree - 300_000 - KEPT,
            "buyer paid 300k, the rest of its lock freed"
        );
        assertEq(market.lockedBalanceOf(bob), KEPT + PAYOUT, "seller: collateral and withheld payout");
        assertEq(market.balanceOf(bob), bobFree - KEPT, "seller: the unfilled part's collateral freed");
        _assertPosition(
            alice,
            IEnergyMarket.Side.Buy,
            IEnergyMarket.PositionStatus.Settled,
            0,
            1500,
            false,
            KEPT,
            0
        );
        _assertPosition(
            bob,
            IEnergyMarket.Side.Sell,
            IEnergyMarket.PositionStatus.Settled,
            0,
            1500,
            false,
            KEPT,
            PAYOUT
        );
        assertEq(market.pendingPayout(bob, interval), PAYOUT, "positionOf agrees with pendingPayout");
    }

    function test_positionOf_afterDelivery_releasesEverything() public {
        uint256 bobFree = market.balanceOf(bob);
        Scenario memory s = _scenario(1500);
        _settleAll(s);
        _warpAfterInterval(interval);
        // Bob delivers exactly his schedule: no imbalance, his collateral and payout come back in full.
        _commitMeter(_meterReport(interval, _meterLeaf(bob, 1500, 0), RETAIL_PER_KWH, FEED_IN_PER_KWH));
        market.settleImbalance(bob, interval, 1500, 0, new bytes32[](0));
        assertEq(market.lockedBalanceOf(bob), 0, "nothing locked after delivery");
        assertEq(market.balanceOf(bob), bobFree + PAYOUT, "paid for the delivered energy");
        _assertPosition(
            bob,
            IEnergyMarket.Side.Sell,
            IEnergyMarket.PositionStatus.Settled,
            0,
            1500,
            true,
            0,
            0
        );
        // Alice's leaf is missing: hers stays locked until the grace period ends.
        assertEq(market.lockedBalanceOf(alice), KEPT, "alice still locked");
    }

    function test_positionOf_afterShortDelivery_chargesFromTheLock() public {
        uint256 bobFree = market.balanceOf(bob);
        Scenario memory s = _scenario(1500);
        _settleAll(s);
        _warpAfterInterval(interval);
        // Bob injects 1000 of 1500 Wh: 500 Wh short at the retail price 400k = 200,000 from his 450,000 lock.
        _commitMeter(_meterReport(interval, _meterLeaf(bob, 1000, 0), RETAIL_PER_KWH, FEED_IN_PER_KWH));
        market.settleImbalance(bob, interval, 1000, 0, new bytes32[](0));
        assertEq(market.lockedBalanceOf(bob), 0, "lock released");
        assertEq(market.balanceOf(bob), bobFree - KEPT + (KEPT + PAYOUT - 200_000), "lock net of the charge");
    }

    function test_lockedBalanceOf_afterReleaseCollateral_isZero() public {
        uint256 aliceFree = market.balanceOf(alice);
        uint256 bobFree = market.balanceOf(bob);
        Scenario memory s = _scenario(1500);
        _settleAll(s);
        vm.warp(market.meterDeadline(interval)); // never metered
        market.releaseCollateral(alice, interval);
        market.releaseCollateral(bob, interval);
        assertEq(market.lockedBalanceOf(alice), 0, "buyer released");
        assertEq(market.lockedBalanceOf(bob), 0, "seller released");
        assertEq(market.balanceOf(alice), aliceFree - 300_000, "buyer paid its fill only");
        assertEq(market.balanceOf(bob), bobFree + PAYOUT, "seller paid: unmetered counts as delivered");
        _assertPosition(
            alice,
            IEnergyMarket.Side.Buy,
            IEnergyMarket.PositionStatus.Settled,
            0,
            1500,
            true,
            0,
            0
        );
        _assertPosition(
            bob,
            IEnergyMarket.Side.Sell,
            IEnergyMarket.PositionStatus.Settled,
            0,
            1500,
            true,
            0,
            0
        );
    }

    function test_lockedBalanceOf_gridAccountKeepsNothingLocked() public {
        _fund(gridNorth, 1e9);
        IEnergyMarket.Order memory offer = _order(gridNorth, IEnergyMarket.Side.Sell, 0, 1000, 1);
        IEnergyMarket.Order memory bid = _order(alice, IEnergyMarket.Side.Buy, 0, 1000, 300_000);
        bytes32[] memory leaves = new bytes32[](2);
        leaves[0] = _fillLeaf(_place(offer), 1000);
        leaves[1] = _fillLeaf(_place(bid), 1000);
        IEnergyMarket.Fill[] memory fills = new IEnergyMarket.Fill[](2);
        fills[0] = IEnergyMarket.Fill(offer, 1000);
        fills[1] = IEnergyMarket.Fill(bid, 1000);
        uint256[] memory prices = _prices(200_000, 200_000);
        _warpToGateClosure(interval);
        _commit(_report(interval, Merkle.root(leaves), 2, prices));
        market.settleFills(
            interval,
            Merkle.root(leaves),
            prices,
            fills,
            new bytes32[](0),
            Merkle.allLeavesFlags(2)
        );
        assertEq(market.lockedBalanceOf(gridNorth), 0, "the grid is paid at fill settlement");
        _assertPosition(
            gridNorth,
            IEnergyMarket.Side.Sell,
            IEnergyMarket.PositionStatus.Settled,
            0,
            1000,
            false,
            0,
            0
        );
    }

    /// @dev free + locked of every account, plus the intervals' unsettled surplus and the operator funds, is the
    /// market's token balance, whatever the fills.
    function testFuzz_lockedBalanceOf_booksAddUpToTheTokenBalance(uint64 filledWh) public {
        filledWh = uint64(bound(filledWh, 0, 2000));
        Scenario memory s = _scenario(filledWh);
        _settleAll(s);
        IEnergyMarket.IntervalState memory st = market.intervalState(interval);
        uint256 books = market.operatorFunds() + st.receipts - st.payouts;
        address[4] memory who = [alice, bob, carol, dave];
        for (uint256 i; i < who.length; ++i)
            books += market.balanceOf(who[i]) + market.lockedBalanceOf(who[i]);
        assertEq(
            token.balanceOf(address(market)),
            books,
            "token balance == free + locked + surplus + operator"
        );
    }
}
