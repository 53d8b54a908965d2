// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarketBase} from "./utils/MarketBase.sol";
import {Merkle} from "./utils/Merkle.sol";
import {IEnergyMarket} from "../../contracts/interfaces/IEnergyMarket.sol";
import {IGridRegistry} from "../../contracts/interfaces/IGridRegistry.sol";
import {IEnergyCertificate} from "../../contracts/interfaces/IEnergyCertificate.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @notice commitMeterReport, settleImbalance, releaseCollateral, claimCertificates.
contract EnergyMarketMeteringTest is MarketBase {
    uint128 internal constant SHORT = 400_000;
    uint128 internal constant LONG = 50_000;

    Scenario internal s;
    bytes32[] internal meterLeaves;

    /// @dev alice bought 1500 Wh and consumed 1600; bob sold 1500 Wh and injected 1200 (solar).
    function setUp() public override {
        super.setUp();
        Scenario memory sc = _scenario(1500);
        _settleAll(sc);
        s.bid = sc.bid;
        s.offer = sc.offer;
        meterLeaves.push(_meterLeaf(alice, 0, 1600));
        meterLeaves.push(_meterLeaf(bob, 1200, 0));
        meterLeaves.push(_meterLeaf(carol, 500, 0)); // no orders, long 500 Wh
        meterLeaves.push(_meterLeaf(dave, 0, 10_000_000)); // no orders, short 10 MWh: more than it holds
    }

    function _meterRoot() internal view returns (bytes32) {
        return Merkle.root(meterLeaves);
    }

    function _commitDefaultMeter() internal {
        _warpAfterInterval(interval);
        _commitMeter(_meterReport(interval, _meterRoot(), SHORT, LONG));
    }

    function _fundOperator(uint256 amount) internal {
        token.mint(operator, amount);
        vm.startPrank(operator);
        token.approve(address(market), amount);
        market.depositOperatorFunds(amount);
        vm.stopPrank();
    }

    function test_commitMeterReport_storesRootAndPrices() public {
        _warpAfterInterval(interval);
        IEnergyMarket.MeterReport memory r = _meterReport(interval, _meterRoot(), SHORT, LONG);
        vm.expectEmit(address(market));
        emit IEnergyMarket.MeterReportCommitted(
            interval,
            1,
            r.meterRoot,
            r.shortPrices,
            r.longPrices,
            r.zoneSurplusWh
        );
        _commitMeter(r);
        IEnergyMarket.IntervalState memory state = market.intervalState(interval);
        assertEq(state.meterRoot, r.meterRoot, "root");
        for (uint32 z; z < 2; ++z) {
            IEnergyMarket.ImbalancePrices memory p = market.imbalancePrices(interval, z);
            assertEq(p.shortPricePerKwh, SHORT, "short");
            assertEq(p.longPricePerKwh, LONG, "long");
        }
    }

    function test_commitMeterReport_revertsWithoutOneSurplusPerZone() public {
        _warpAfterInterval(interval);
        IEnergyMarket.MeterReport memory r = _meterReport(interval, _meterRoot(), SHORT, LONG);
        r.zoneSurplusWh = new uint256[](1); // two zones priced
        bytes memory sigs = _sign(market.hashMeterReport(r), _firstKeys(3));
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.ZoneSurplusLength.selector, 2, 1));
        market.commitMeterReport(r, sigs);
    }

    function test_commitMeterReport_acceptsNettedPricesBetweenTheTariffsAndTheZonePrice() public {
        // Zone 0 price 200k, tariffs 400k / 50k: a short may pay from 200k (all of it netted) to 400k (none).
        _warpAfterInterval(interval);
        IEnergyMarket.MeterReport memory r = _meterReport(interval, _meterRoot(), SHORT, LONG);
        r.shortPrices[0] = 200_000;
        r.longPrices[0] = 200_000;
        r.shortPrices[1] = 300_001;
        r.longPrices[1] = 99_999;
        _commitMeter(r);
        assertEq(market.imbalancePrices(interval, 0).shortPricePerKwh, 200_000, "short = zone price");
        assertEq(market.imbalancePrices(interval, 0).longPricePerKwh, 200_000, "long = zone price");
        assertEq(market.imbalancePrices(interval, 1).shortPricePerKwh, 300_001, "short between");
        assertEq(market.imbalancePrices(interval, 1).longPricePerKwh, 99_999, "long between");
    }

    function test_commitMeterReport_failsForAShortPriceBelowTheZonePrice() public {
        // Zone 1 price 250k: a short charged less than the market price would gain by not buying.
        _warpAfterInterval(interval);
        IEnergyMarket.MeterReport memory r = _meterReport(interval, _meterRoot(), SHORT, LONG);
        r.shortPrices[1] = 249_999;
        bytes memory sigs = _sign(market.hashMeterReport(r), _firstKeys(3));
        vm.expectRevert(
            abi.encodeWithSelector(
                IGridRegistry.ImbalancePriceOutOfBounds.selector,
                uint32(1),
                249_999,
                LONG,
                RETAIL_PER_KWH,
                FEED_IN_PER_KWH,
                250_000
            )
        );
        market.commitMeterReport(r, sigs);
    }

    function test_commitMeterReport_failsForAShortPriceAboveRetailAndZonePrice() public {
        // A quorum charging more than the grid would (the whole free balance, in the review's finding).
        _warpAfterInterval(interval);
        IEnergyMarket.MeterReport memory r = _meterReport(interval, _meterRoot(), 1e12, LONG);
        bytes memory sigs = _sign(market.hashMeterReport(r), _firstKeys(3));
        vm.expectRevert(
            abi.encodeWithSelector(
                IGridRegistry.ImbalancePriceOutOfBounds.selector,
                uint32(0),
                1e12,
                LONG,
                RETAIL_PER_KWH,
                FEED_IN_PER_KWH,
                200_000
            )
        );
        market.commitMeterReport(r, sigs);
    }

    function test_commitMeterReport_failsForALongPriceAboveTheZonePrice() public {
        // Zone 0 price 200k: a long paid more than the market price would gain by not selling.
        _warpAfterInterval(interval);
        IEnergyMarket.MeterReport memory r = _meterReport(interval, _meterRoot(), SHORT, LONG);
        r.longPrices[0] = 200_001;
        bytes memory sigs = _sign(market.hashMeterReport(r), _firstKeys(3));
        vm.expectRevert(
            abi.encodeWithSelector(
                IGridRegistry.ImbalancePriceOutOfBounds.selector,
                uint32(0),
                SHORT,
                200_001,
                RETAIL_PER_KWH,
                FEED_IN_PER_KWH,
                200_000
            )
        );
        market.commitMeterReport(r, sigs);
    }

    function test_commitMeterReport_failsForALongPriceBelowFeedIn() public {
        // Zone 0 price 200k above feed-in 50k: a long is paid at least what the grid pays.
        _warpAfterInterval(interval);
        IEnergyMarket.MeterReport memory r = _meterReport(interval, _meterRoot(), SHORT, LONG);
        r.longPrices[0] = FEED_IN_PER_KWH - 1;
        bytes memory sigs = _sign(market.hashMeterReport(r), _firstKeys(3));
        vm.expectRevert(
            abi.encodeWithSelector(
                IGridRegistry.ImbalancePriceOutOfBounds.selector,
                uint32(0),
                SHORT,
                FEED_IN_PER_KWH - 1,
                RETAIL_PER_KWH,
                FEED_IN_PER_KWH,
                200_000
            )
        );
        market.commitMeterReport(r, sigs);
    }

    function test_commitMeterReport_followsTheZonePriceBeyondTheTariffs() public {
        // The zone price 200k is below retail in zone 0: with retail lowered to 150k, short = max(150k, 200k).
        vm.prank(operator);
        registry.setZoneGrid(0, gridNorth, 150_000, 100_000);
        _warpAfterInterval(interval);
        IEnergyMarket.MeterReport memory r = _meterReport(interval, _meterRoot(), SHORT, LONG);
        r.shortPrices[0] = 200_000;
        r.longPrices[0] = 100_000;
        _commitMeter(r);
        assertEq(market.imbalancePrices(interval, 0).shortPricePerKwh, 200_000, "max(retail, zone price)");
        assertEq(market.imbalancePrices(interval, 0).longPricePerKwh, 100_000, "min(feed-in, zone price)");
    }

    function test_commitMeterReport_storesTheWorstPricesForUnzonedParticipants() public {
        // Zone 0 (tariffs 150k / 100k, price 200k): short 200k, long 100k. Zone 1: short 400k, long 50k.
        vm.prank(operator);
        registry.setZoneGrid(0, gridNorth, 150_000, 100_000);
        _warpAfterInterval(interval);
        IEnergyMarket.MeterReport memory r = _meterReport(interval, _meterRoot(), SHORT, LONG);
        r.shortPrices[0] = 200_000;
        r.longPrices[0] = 100_000;
        _commitMeter(r);
        IEnergyMarket.ImbalancePrices memory worst = market.imbalancePrices(interval, type(uint32).max);
        assertEq(worst.shortPricePerKwh, SHORT, "highest short (zone 1)");
        assertEq(worst.longPricePerKwh, LONG, "lowest long (zone 1)");
    }

    function test_commitMeterReport_failsForAWrongPriceCount() public {
        _warpAfterInterval(interval);
        IEnergyMarket.MeterReport memory r = _meterReport(interval, _meterRoot(), SHORT, LONG);
        r.longPrices = new uint256[](1);
        bytes memory sigs = _sign(market.hashMeterReport(r), _firstKeys(3));
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.ImbalancePricesLength.selector, 2, 2, 1));
        market.commitMeterReport(r, sigs);
    }

    function test_commitMeterReport_failsForAnotherSchedule() public {
        _warpAfterInterval(interval);
        IEnergyMarket.MeterReport memory r = _meterReport(interval, _meterRoot(), SHORT, LONG);
        r.zonePrices[0] = 10_000_000; // a zone price that would allow any short price
        bytes memory sigs = _sign(market.hashMeterReport(r), _firstKeys(3));
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.ScheduleMismatch.selector, interval));
        market.commitMeterReport(r, sigs);
    }

    function test_commitMeterReport_failsForWrongMarketField() public {
        _warpAfterInterval(interval);
        IEnergyMarket.MeterReport memory r = _meterReport(interval, _meterRoot(), SHORT, LONG);
        r.market = alice;
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.WrongMarket.selector, alice));
        market.commitMeterReport(r, "");
    }

    function test_commitMeterReport_failsWhenNotScheduled() public {
        IEnergyMarket.MeterReport memory r = _meterReport(interval + 1, _meterRoot(), SHORT, LONG);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.NotScheduled.selector, interval + 1));
        market.commitMeterReport(r, "");
    }

    function test_commitMeterReport_failsBeforeIntervalEnd() public {
        IEnergyMarket.MeterReport memory r = _meterReport(interval, _meterRoot(), SHORT, LONG);
        uint256 opensAt = uint256(interval + 1) * INTERVAL_SECONDS;
        vm.expectRevert(
            abi.encodeWithSelector(
                IEnergyMarket.MeterWindowClosed.selector,
                interval,
                opensAt,
                market.meterDeadline(interval)
            )
        );
        market.commitMeterReport(r, "");
    }

    function test_commitMeterReport_failsAfterMeterDeadline() public {
        IEnergyMarket.MeterReport memory r = _meterReport(interval, _meterRoot(), SHORT, LONG);
        vm.warp(market.meterDeadline(interval));
        vm.expectPartialRevert(IEnergyMarket.MeterWindowClosed.selector);
        market.commitMeterReport(r, "");
    }

    function test_commitMeterReport_failsTwice() public {
        _commitDefaultMeter();
        IEnergyMarket.MeterReport memory r = _meterReport(interval, _meterRoot(), SHORT, LONG);
        bytes memory sigs = _sign(market.hashMeterReport(r), _firstKeys(3));
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.AlreadyMetered.selector, interval));
        market.commitMeterReport(r, sigs);
    }

    function test_commitMeterReport_succeedsWhilePaused() public {
        _warpAfterInterval(interval);
        IEnergyMarket.MeterReport memory r = _meterReport(interval, _meterRoot(), SHORT, LONG);
        bytes memory sigs = _sign(market.hashMeterReport(r), _firstKeys(3));
        vm.prank(guardian);
        market.pause();
        assertTrue(market.paused(), "paused");
        market.commitMeterReport(r, sigs);
        assertEq(
            market.intervalState(interval).meterRoot,
            r.meterRoot,
            "delivered energy metered during a pause"
        );
    }

    function test_settleImbalance_chargesShortBuyer() public {
        _commitDefaultMeter();
        uint256 before = market.balanceOf(alice);
        // scheduled net −1500, metered net −1600: short 100 Wh at 400_000/kWh = 40_000.
        vm.expectEmit(address(market));
        emit IEnergyMarket.ImbalanceSettled(alice, interval, -100, 40_000, 0, 0);
        market.settleImbalance(alice, interval, 0, 1600, Merkle.proof(meterLeaves, 0));
        // Her imbalance collateral of 1500 Wh (150_000) comes back net of the charge.
        assertEq(market.balanceOf(alice), before + 150_000 - 40_000, "charged from her collateral");
        assertEq(market.operatorFunds(), 40_000, "to the operator");
        assertTrue(market.imbalanceSettled(alice, interval), "flag");
    }

    function test_settleImbalance_shortSellerPaysFromCollateral() public {
        _commitDefaultMeter();
        uint256 before = market.balanceOf(bob);
        assertEq(market.pendingPayout(bob, interval), 300_000, "payout withheld until delivery");
        // scheduled +1500, metered +1200: short 300 Wh = 120_000; collateral 150_000 and the payout 300_000
        // (1500 Wh at 200k) are released net of it.
        vm.expectEmit(address(market));
        emit IEnergyMarket.PayoutReleased(bob, interval, 300_000);
        market.settleImbalance(bob, interval, 1200, 0, Merkle.proof(meterLeaves, 1));
        assertEq(market.balanceOf(bob), before + 300_000 + 150_000 - 120_000, "paid after delivery, net");
        assertEq(market.pendingPayout(bob, interval), 0, "payout released");
        // Renewable (solar): min(sold 1500, injected 1200) = 1200 Wh enter the pool.
        assertEq(market.issuedWh(interval, IGridRegistry.Source.Solar), 1200, "certificates issued");
    }

    function test_settleImbalance_issuesNothingForNonRenewableSource() public {
        vm.startPrank(operator);
        registry.removeMeter(makeAddr("bob-meter"));
        registry.registerMeter(makeAddr("bob-battery"), bob, IGridRegistry.Source.Battery);
        vm.stopPrank();
        _commitDefaultMeter();
        market.settleImbalance(bob, interval, 1200, 0, Merkle.proof(meterLeaves, 1));
        assertEq(
            market.issuedWh(interval, IGridRegistry.Source.Battery),
            0,
            "battery energy is not certified"
        );
        assertEq(market.issuedWh(interval, IGridRegistry.Source.Solar), 0, "nothing as solar either");
    }

    function test_settleImbalance_paysLongFromOperatorFunds() public {
        _commitDefaultMeter();
        _fundOperator(1e6);
        // carol: long 500 Wh at 50_000/kWh = 25_000.
        vm.expectEmit(address(market));
        emit IEnergyMarket.ImbalanceSettled(carol, interval, 500, 0, 25_000, 0);
        market.settleImbalance(carol, interval, 500, 0, Merkle.proof(meterLeaves, 2));
        assertEq(market.balanceOf(carol), 1_000e6 + 25_000, "paid");
    }

    function test_settleImbalance_longPaymentUnpaidStaysOwed() public {
        _commitDefaultMeter();
        vm.expectEmit(address(market));
        emit IEnergyMarket.ImbalanceSettled(carol, interval, 500, 0, 0, 25_000);
        market.settleImbalance(carol, interval, 500, 0, Merkle.proof(meterLeaves, 2));
        assertEq(market.balanceOf(carol), 1_000e6, "nothing to pay from yet");
        assertEq(market.imbalanceOwed(carol), 25_000, "owed");
        // alice's short charge refills the operator funds: carol is paid in full, whoever settled first.
        market.settleImbalance(alice, interval, 0, 1600, Merkle.proof(meterLeaves, 0));
        vm.expectEmit(address(market));
        emit IEnergyMarket.ImbalancePaymentClaimed(carol, 25_000);
        market.claimImbalancePayment(carol);
        assertEq(market.balanceOf(carol), 1_000e6 + 25_000, "paid in full");
        assertEq(market.imbalanceOwed(carol), 0, "nothing owed");
        assertEq(market.operatorFunds(), 40_000 - 25_000, "paid from the short charge");
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.NothingOwed.selector, carol));
        market.claimImbalancePayment(carol);
    }

    function test_settleImbalance_longPaidTheSameWhateverTheOrder() public {
        // #15 item 8: settled after alice (funds refilled) or before (owed, then claimed), carol gets 25_000.
        _commitDefaultMeter();
        market.settleImbalance(alice, interval, 0, 1600, Merkle.proof(meterLeaves, 0));
        market.settleImbalance(carol, interval, 500, 0, Merkle.proof(meterLeaves, 2));
        assertEq(market.balanceOf(carol), 1_000e6 + 25_000, "paid at once");
        assertEq(market.imbalanceOwed(carol), 0, "nothing owed");
    }

    function test_withdrawOperatorFunds_leavesWhatIsOwed() public {
        _commitDefaultMeter();
        market.settleImbalance(carol, interval, 500, 0, Merkle.proof(meterLeaves, 2));
        market.settleImbalance(alice, interval, 0, 1600, Merkle.proof(meterLeaves, 0));
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(IEnergyMarket.InsufficientOperatorFunds.selector, 15_000, 40_000)
        );
        market.withdrawOperatorFunds(40_000, operator);
    }

    function test_settleImbalance_shortChargeReachesOnlyTheIntervalLock() public {
        _commitDefaultMeter();
        // dave: no orders in the interval, short 10_000_000 Wh at 400_000/kWh = 4_000e6: nothing of his free
        // balance is reachable (#15 item 4b); the charge is uncovered, billed by the grid outside the market.
        vm.expectEmit(address(market));
        emit IEnergyMarket.ImbalanceSettled(dave, interval, -10_000_000, 0, 0, 4_000e6);
        market.settleImbalance(dave, interval, 0, 10_000_000, Merkle.proof(meterLeaves, 3));
        assertEq(market.balanceOf(dave), 1_000e6, "free balance untouched");
        assertEq(market.operatorFunds(), 0, "nothing collected");
    }

    function test_settleImbalance_failsForTheGridAccount() public {
        // Even a quorum that puts the grid's account in the meter tree cannot settle it for imbalance.
        _warpAfterInterval(interval);
        _commitMeter(_meterReport(interval, _meterLeaf(gridNorth, 0, 0), SHORT, LONG));
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.GridAccountNotSettled.selector, gridNorth));
        market.settleImbalance(gridNorth, interval, 0, 0, new bytes32[](0));
    }

    function test_settleImbalance_failsWhenNotMetered() public {
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.NotMetered.selector, interval));
        market.settleImbalance(alice, interval, 0, 1600, new bytes32[](0));
    }

    function test_settleImbalance_failsTwice() public {
        _commitDefaultMeter();
        market.settleImbalance(alice, interval, 0, 1600, Merkle.proof(meterLeaves, 0));
        vm.expectRevert(
            abi.encodeWithSelector(IEnergyMarket.ImbalanceAlreadySettled.selector, alice, interval)
        );
        market.settleImbalance(alice, interval, 0, 1600, Merkle.proof(meterLeaves, 0));
    }

    function test_settleImbalance_failsForInvalidProof() public {
        _commitDefaultMeter();
        vm.expectRevert(IEnergyMarket.InvalidProof.selector);
        market.settleImbalance(alice, interval, 0, 1500, Merkle.proof(meterLeaves, 0));
    }

    function test_settleImbalance_failsWhileFillsPending() public {
        // A fresh interval with two orders, only the buyer settled.
        uint64 next = interval + 4;
        IEnergyMarket.Order memory bid = IEnergyMarket.Order(
            carol,
            next,
            IEnergyMarket.Side.Buy,
            1,
            1000,
            9,
            0
        );
        IEnergyMarket.Order memory offer = IEnergyMarket.Order(
            dave,
            next,
            IEnergyMarket.Side.Sell,
            1,
            1000,
            1,
            0
        );
        bytes32[] memory leaves = new bytes32[](2);
        leaves[0] = _fillLeaf(_place(bid), 1000);
        leaves[1] = _fillLeaf(_place(offer), 1000);
        uint256[] memory prices = _prices(5, 5);
        vm.warp(market.gateClosure(next));
        _commit(_report(next, Merkle.root(leaves), 2, prices));
        market.claimFill(Merkle.root(leaves), prices, IEnergyMarket.Fill(bid, 1000), Merkle.proof(leaves, 0));
        bytes32[] memory ml = new bytes32[](2);
        ml[0] = _meterLeaf(carol, 0, 1000);
        ml[1] = _meterLeaf(dave, 1000, 0);
        _warpAfterInterval(next);
        // The zone price 5 is below feed-in, so a long is paid the zone price: min(feed-in, 5).
        _commitMeter(_meterReport(next, Merkle.root(ml), SHORT, 5));
        bytes32[] memory carolProof = Merkle.proof(ml, 0);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.FillsPending.selector, next, 1, 2));
        market.settleImbalance(carol, next, 0, 1000, carolProof);
        // After the meter deadline an open order must be released first.
        vm.warp(market.meterDeadline(next));
        bytes32[] memory daveProof = Merkle.proof(ml, 1);
        bytes32 offerId = market.hashOrder(offer);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.FillNotSettled.selector, offerId));
        market.settleImbalance(dave, next, 1000, 0, daveProof);
    }

    function _allEntries() internal view returns (IEnergyMarket.MeterEntry[] memory entries) {
        entries = new IEnergyMarket.MeterEntry[](4);
        entries[0] = IEnergyMarket.MeterEntry(alice, 0, 1600);
        entries[1] = IEnergyMarket.MeterEntry(bob, 1200, 0);
        entries[2] = IEnergyMarket.MeterEntry(carol, 500, 0);
        entries[3] = IEnergyMarket.MeterEntry(dave, 0, 10_000_000);
    }

    function test_settleImbalances_settlesEveryEntryOfTheBatch() public {
        _commitDefaultMeter();
        _fundOperator(1e6);
        uint256 aliceBefore = market.balanceOf(alice);
        uint256 bobBefore = market.balanceOf(bob);
        // The same figures as the single-entry tests above, all in one transaction.
        vm.expectEmit(address(market));
        emit IEnergyMarket.ImbalanceSettled(alice, interval, -100, 40_000, 0, 0);
        market.settleImbalances(interval, _allEntries(), new bytes32[](0), Merkle.allLeavesFlags(4));
        assertEq(market.balanceOf(alice), aliceBefore + 150_000 - 40_000, "alice short 100 Wh");
        assertEq(
            market.balanceOf(bob),
            bobBefore + 450_000 - 120_000,
            "bob short 300 Wh, payout and collateral"
        );
        assertEq(market.balanceOf(carol), 1_000e6 + 25_000, "carol long 500 Wh");
        assertEq(market.balanceOf(dave), 1_000e6, "dave's free balance is out of reach");
        assertEq(market.issuedWh(interval, IGridRegistry.Source.Solar), 1200, "certificates issued");
        for (uint256 i; i < 4; ++i) {
            assertTrue(market.imbalanceSettled(_allEntries()[i].participant, interval), "flag");
        }
    }

    function test_settleImbalances_acceptsAPartialBatch() public {
        _commitDefaultMeter();
        // alice and carol only: a multiproof of leaves 0 and 2 needs the sibling hashes of 1 and 3.
        IEnergyMarket.MeterEntry[] memory entries = new IEnergyMarket.MeterEntry[](2);
        entries[0] = _allEntries()[0];
        entries[1] = _allEntries()[2];
        bytes32[] memory proof = new bytes32[](2);
        proof[0] = meterLeaves[1];
        proof[1] = meterLeaves[3];
        bool[] memory flags = new bool[](3);
        flags[2] = true; // h(L0, L1), h(L2, L3), then the two together
        market.settleImbalances(interval, entries, proof, flags);
        assertTrue(market.imbalanceSettled(alice, interval), "alice");
        assertTrue(market.imbalanceSettled(carol, interval), "carol");
        assertFalse(market.imbalanceSettled(bob, interval), "bob untouched");
    }

    function test_settleImbalances_failsWhenNotMetered() public {
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.NotMetered.selector, interval));
        market.settleImbalances(interval, _allEntries(), new bytes32[](0), Merkle.allLeavesFlags(4));
    }

    function test_settleImbalances_failsForAnEmptyBatch() public {
        _commitDefaultMeter();
        vm.expectRevert(IEnergyMarket.ZeroAmount.selector);
        market.settleImbalances(interval, new IEnergyMarket.MeterEntry[](0), new bytes32[](0), new bool[](0));
    }

    function test_settleImbalances_failsForATamperedEntry() public {
        _commitDefaultMeter();
        IEnergyMarket.MeterEntry[] memory entries = _allEntries();
        entries[3].consumedWh = 0; // dave claims he consumed nothing
        vm.expectRevert(IEnergyMarket.InvalidProof.selector);
        market.settleImbalances(interval, entries, new bytes32[](0), Merkle.allLeavesFlags(4));
    }

    function test_settleImbalances_skipsAnEntrySettledAlready() public {
        _fundOperator(1_000e6);
        _commitDefaultMeter();
        market.settleImbalance(carol, interval, 500, 0, Merkle.proof(meterLeaves, 2));
        uint256 carolBefore = market.balanceOf(carol);
        market.settleImbalances(interval, _allEntries(), new bytes32[](0), Merkle.allLeavesFlags(4));
        assertTrue(market.imbalanceSettled(alice, interval), "the rest of the batch settled");
        assertEq(market.balanceOf(carol), carolBefore, "carol's long imbalance not paid twice");
    }

    function test_settleImbalance_failsWhenSettledAlready() public {
        _commitDefaultMeter();
        market.settleImbalance(carol, interval, 500, 0, Merkle.proof(meterLeaves, 2));
        vm.expectRevert(
            abi.encodeWithSelector(IEnergyMarket.ImbalanceAlreadySettled.selector, carol, interval)
        );
        market.settleImbalance(carol, interval, 500, 0, Merkle.proof(meterLeaves, 2));
    }

    function test_settleImbalances_failsForAParticipantListedTwice() public {
        _commitDefaultMeter();
        IEnergyMarket.MeterEntry[] memory entries = new IEnergyMarket.MeterEntry[](2);
        entries[0] = _allEntries()[0];
        entries[1] = _allEntries()[0];
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = Merkle.proof(meterLeaves, 0)[0];
        bool[] memory flags = new bool[](2);
        // Whatever the proof, alice cannot be settled twice: either it fails to verify or the second entry
        // finds her flag set and is skipped.
        vm.expectRevert();
        market.settleImbalances(interval, entries, proof, flags);
        assertFalse(market.imbalanceSettled(alice, interval), "nothing settled");
    }

    function test_releaseCollateral_afterUnmeteredDeadline() public {
        uint256 before = market.balanceOf(bob);
        vm.warp(market.meterDeadline(interval));
        vm.expectEmit(address(market));
        emit IEnergyMarket.CollateralReleased(bob, interval, 450_000);
        market.releaseCollateral(bob, interval);
        assertEq(market.balanceOf(bob), before + 450_000, "collateral of the filled part and the payout");
        vm.expectRevert(
            abi.encodeWithSelector(IEnergyMarket.ImbalanceAlreadySettled.selector, bob, interval)
        );
        market.releaseCollateral(bob, interval);
    }

    function test_releaseCollateral_failsBeforeDeadline() public {
        uint256 deadline = market.meterDeadline(interval);
        vm.expectRevert(
            abi.encodeWithSelector(IEnergyMarket.CollateralNotReleasable.selector, bob, interval, deadline)
        );
        market.releaseCollateral(bob, interval);
    }

    function test_releaseCollateral_failsWhenMeteredBeforeGraceEnds() public {
        _commitDefaultMeter();
        uint256 releasableAt = market.meterDeadline(interval) + market.COLLATERAL_GRACE_SECONDS();
        vm.warp(releasableAt - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEnergyMarket.CollateralNotReleasable.selector,
                bob,
                interval,
                releasableAt
            )
        );
        market.releaseCollateral(bob, interval);
    }

    function test_releaseCollateral_failsAfterImbalanceSettled() public {
        _commitDefaultMeter();
        market.settleImbalance(bob, interval, 1200, 0, Merkle.proof(meterLeaves, 1));
        vm.warp(market.meterDeadline(interval) + market.COLLATERAL_GRACE_SECONDS());
        vm.expectRevert(
            abi.encodeWithSelector(IEnergyMarket.ImbalanceAlreadySettled.selector, bob, interval)
        );
        market.releaseCollateral(bob, interval);
    }

    function test_claimCertificates_buyerReceivesItsShare() public {
        _commitDefaultMeter();
        market.settleImbalance(bob, interval, 1200, 0, Merkle.proof(meterLeaves, 1));
        uint256 id = market.certificateId(interval, IGridRegistry.Source.Solar);
        vm.expectEmit(address(certificate));
        emit IEnergyCertificate.CertificateIssued(alice, id, 1200);
        market.claimCertificates(alice, interval, IGridRegistry.Source.Solar);
        // alice bought all 1500 Wh; 1200 Wh were renewable, sold and injected.
        assertEq(certificate.balanceOf(alice, id), 1200, "certificates");
        vm.expectRevert(IEnergyMarket.ZeroAmount.selector);
        market.claimCertificates(alice, interval, IGridRegistry.Source.Solar);
    }

    function test_claimCertificates_failsBeforeMetering() public {
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.CertificatesNotFinal.selector, interval));
        market.claimCertificates(alice, interval, IGridRegistry.Source.Solar);
    }

    function test_claimCertificates_nothingForNonBuyer() public {
        _commitDefaultMeter();
        market.settleImbalance(bob, interval, 1200, 0, Merkle.proof(meterLeaves, 1));
        vm.expectRevert(IEnergyMarket.ZeroAmount.selector);
        market.claimCertificates(carol, interval, IGridRegistry.Source.Solar);
    }

    function test_retire_burnsAndNamesBeneficiary() public {
        _commitDefaultMeter();
        market.settleImbalance(bob, interval, 1200, 0, Merkle.proof(meterLeaves, 1));
        market.claimCertificates(alice, interval, IGridRegistry.Source.Solar);
        uint256 id = market.certificateId(interval, IGridRegistry.Source.Solar);
        address beneficiary = makeAddr("school");
        vm.expectEmit(address(certificate));
        emit IEnergyCertificate.CertificateRetired(alice, id, beneficiary, 1000, "2026 report");
        vm.prank(alice);
        certificate.retire(id, 1000, beneficiary, "2026 report");
        assertEq(certificate.balanceOf(alice, id), 200, "burned");
        assertEq(certificate.retiredOf(id), 1000, "retired total");
    }
}
