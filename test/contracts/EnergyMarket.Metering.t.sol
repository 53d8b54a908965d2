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
        emit IEnergyMarket.MeterReportCommitted(interval, 1, r.meterRoot, SHORT, LONG);
        _commitMeter(r);
        IEnergyMarket.IntervalState memory state = market.intervalState(interval);
        assertEq(state.meterRoot, r.meterRoot, "root");
        assertEq(state.shortPricePerKwh, SHORT, "short");
        assertEq(state.longPricePerKwh, LONG, "long");
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
        assertEq(market.balanceOf(alice), before - 40_000, "charged");
        assertEq(market.operatorFunds(), 40_000, "to the operator");
        assertTrue(market.imbalanceSettled(alice, interval), "flag");
    }

    function test_settleImbalance_shortSellerPaysFromCollateral() public {
        _commitDefaultMeter();
        uint256 before = market.balanceOf(bob);
        // scheduled +1500, metered +1200: short 300 Wh = 120_000; collateral 150_000 is released.
        market.settleImbalance(bob, interval, 1200, 0, Merkle.proof(meterLeaves, 1));
        assertEq(market.balanceOf(bob), before + 150_000 - 120_000, "collateral released net of the charge");
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

    function test_settleImbalance_longPaymentCappedByOperatorFunds() public {
        _commitDefaultMeter();
        vm.expectEmit(address(market));
        emit IEnergyMarket.ImbalanceSettled(carol, interval, 500, 0, 0, 25_000);
        market.settleImbalance(carol, interval, 500, 0, Merkle.proof(meterLeaves, 2));
        assertEq(market.balanceOf(carol), 1_000e6, "nothing to pay from");
    }

    function test_settleImbalance_shortChargeCappedByFunds() public {
        _commitDefaultMeter();
        // dave: short 10_000_000 Wh at 400_000/kWh = 4_000e6, holds 1_000e6.
        market.settleImbalance(dave, interval, 0, 10_000_000, Merkle.proof(meterLeaves, 3));
        assertEq(market.balanceOf(dave), 0, "everything taken");
        assertEq(market.operatorFunds(), 1_000e6, "operator got what there was");
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
        _commitMeter(_meterReport(next, Merkle.root(ml), SHORT, LONG));
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
        assertEq(market.balanceOf(alice), aliceBefore - 40_000, "alice short 100 Wh");
        assertEq(market.balanceOf(bob), bobBefore + 150_000 - 120_000, "bob short 300 Wh, collateral back");
        assertEq(market.balanceOf(carol), 1_000e6 + 25_000, "carol long 500 Wh");
        assertEq(market.balanceOf(dave), 0, "dave charged all he holds");
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
        emit IEnergyMarket.CollateralReleased(bob, interval, 150_000);
        market.releaseCollateral(bob, interval);
        assertEq(market.balanceOf(bob), before + 150_000, "collateral of the filled part");
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
