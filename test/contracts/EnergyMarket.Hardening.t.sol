// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarketBase} from "./utils/MarketBase.sol";
import {Merkle} from "./utils/Merkle.sol";
import {EnergyMarket} from "../../contracts/EnergyMarket.sol";
import {IEnergyMarket} from "../../contracts/interfaces/IEnergyMarket.sol";
import {IGridRegistry} from "../../contracts/interfaces/IGridRegistry.sol";
import {TestToken} from "../../contracts/mocks/TestToken.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @dev A token that burns 1% of every transfer (fee-on-transfer).
contract FeeToken is ERC20 {
    constructor() ERC20("Fee", "FEE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = value / 100;
            super._update(from, address(0), fee);
            value -= fee;
        }
        super._update(from, to, value);
    }
}

/// @notice Reproductions of the findings of issue #15 (contract hardening), one test per finding.
contract EnergyMarketHardeningTest is MarketBase {
    uint128 internal constant SHORT = 400_000;
    uint128 internal constant LONG = 50_000;

    /// @dev alice bids 900 Wh in zone 1 at 250k; bob offers 1000 Wh in zone 0 at 200k: the line between the zones
    /// loses 10%, so bob's 1000 Wh sold arrive as alice's 900 Wh bought. Settles both fills.
    function _lossyScenario()
        internal
        returns (IEnergyMarket.Fill[] memory fills, bytes32 root, uint256[] memory prices)
    {
        fills = new IEnergyMarket.Fill[](2);
        fills[0] = IEnergyMarket.Fill(_order(alice, IEnergyMarket.Side.Buy, 1, 900, 250_000), 900);
        fills[1] = IEnergyMarket.Fill(_order(bob, IEnergyMarket.Side.Sell, 0, 1000, 200_000), 1000);
        prices = _prices(200_000, 250_000);
        (, root) = _placeAndCommit(fills, prices);
        _settleFills(fills, root, prices);
    }

    /* 1. Certificates beyond energy bought */

    function test_claimCertificates_neverExceedsEnergyBought() public {
        _lossyScenario();
        bytes32[] memory meter = new bytes32[](2);
        meter[0] = _meterLeaf(alice, 0, 900);
        meter[1] = _meterLeaf(bob, 1000, 0);
        _warpAfterInterval(interval);
        _commitMeter(_meterReport(interval, Merkle.root(meter), SHORT, LONG));
        market.settleImbalance(bob, interval, 1000, 0, Merkle.proof(meter, 1));
        market.claimCertificates(alice, interval, IGridRegistry.Source.Solar);
        uint256 id = market.certificateId(interval, IGridRegistry.Source.Solar);
        assertLe(certificate.balanceOf(alice, id), 900, "certificates <= 900 Wh bought");
        assertEq(certificate.balanceOf(alice, id), 900, "the whole purchase is certified");
    }

    /* 2. Certificate source read at settlement time */

    function test_settleImbalance_certificateSourceFixedAtDelivery() public {
        // carol sells 1000 Wh with a non-renewable ("Other") meter; alice buys them.
        vm.prank(operator);
        registry.registerMeter(makeAddr("carol-meter"), carol, IGridRegistry.Source.Other);
        IEnergyMarket.Fill[] memory fills = new IEnergyMarket.Fill[](2);
        fills[0] = IEnergyMarket.Fill(_order(alice, IEnergyMarket.Side.Buy, 0, 1000, 300_000), 1000);
        fills[1] = IEnergyMarket.Fill(_order(carol, IEnergyMarket.Side.Sell, 0, 1000, 100_000), 1000);
        uint256[] memory prices = _prices(200_000, 200_000);
        (, bytes32 root) = _placeAndCommit(fills, prices);
        _settleFills(fills, root, prices);
        bytes32[] memory meter = new bytes32[](2);
        meter[0] = _meterLeaf(alice, 0, 1000);
        meter[1] = _meterLeaf(carol, 1000, 0);
        _warpAfterInterval(interval);
        _commitMeter(_meterReport(interval, Merkle.root(meter), SHORT, LONG));
        // A day later carol's meter is swapped for a solar one, then her imbalance is settled.
        vm.warp(vm.getBlockTimestamp() + 1 days);
        vm.startPrank(operator);
        registry.removeMeter(makeAddr("carol-meter"));
        registry.registerMeter(makeAddr("carol-solar"), carol, IGridRegistry.Source.Solar);
        vm.stopPrank();
        market.settleImbalance(carol, interval, 1000, 0, Merkle.proof(meter, 1));
        assertEq(
            market.issuedWh(interval, IGridRegistry.Source.Solar),
            0,
            "no solar certificates for other energy"
        );
    }

    /* 3. Collateral locked forever */

    function test_releaseCollateral_returnsAfterGraceWhenMissingFromMeterTree() public {
        Scenario memory sc = _scenario(1500);
        _settleAll(sc);
        // The meter tree lists alice only: bob's leaf is lost.
        bytes32[] memory meter = new bytes32[](2);
        meter[0] = _meterLeaf(alice, 0, 1500);
        meter[1] = _meterLeaf(carol, 0, 0);
        _warpAfterInterval(interval);
        _commitMeter(_meterReport(interval, Merkle.root(meter), SHORT, LONG));
        uint256 before = market.balanceOf(bob);
        // Sellers are paid after delivery: the release also returns bob's withheld payout.
        uint256 withheld = market.pendingPayout(bob, interval);
        assertGt(withheld, 0, "bob's payout is withheld until his delivery settles");
        vm.warp(market.meterDeadline(interval) + 365 days);
        market.releaseCollateral(bob, interval);
        assertEq(
            market.balanceOf(bob) - before,
            150_000 + withheld,
            "1500 Wh of collateral at 100k/kWh and the withheld payout returned"
        );
    }

    /* 6. A front-run sinks a keeper's batch */

    function test_settleFills_skipsFillSettledInFront() public {
        Scenario memory sc = _scenario(1500);
        bytes32[] memory leaves = new bytes32[](2);
        leaves[0] = _fillLeaf(sc.bidId, 1500);
        leaves[1] = _fillLeaf(sc.offerId, 1500);
        market.claimFill(sc.root, sc.prices, sc.fills[0], Merkle.proof(leaves, 0));
        _settleAll(sc);
        assertEq(market.intervalState(interval).settledCount, 2, "the batch settled the other fill");
    }

    function test_settleImbalances_skipsParticipantSettledInFront() public {
        Scenario memory sc = _scenario(1500);
        _settleAll(sc);
        bytes32[] memory meter = new bytes32[](2);
        meter[0] = _meterLeaf(alice, 0, 1500);
        meter[1] = _meterLeaf(bob, 1500, 0);
        _warpAfterInterval(interval);
        _commitMeter(_meterReport(interval, Merkle.root(meter), SHORT, LONG));
        market.settleImbalance(alice, interval, 0, 1500, Merkle.proof(meter, 0));
        IEnergyMarket.MeterEntry[] memory entries = new IEnergyMarket.MeterEntry[](2);
        entries[0] = IEnergyMarket.MeterEntry(alice, 0, 1500);
        entries[1] = IEnergyMarket.MeterEntry(bob, 1500, 0);
        market.settleImbalances(interval, entries, new bytes32[](0), Merkle.allLeavesFlags(2));
        assertTrue(market.imbalanceSettled(bob, interval), "the batch settled bob");
    }

    /* 7. Fee-on-transfer tokens */

    function test_deposit_creditsWhatArrived() public {
        (FeeToken fee, EnergyMarket feeMarket) = _feeMarket();
        fee.mint(alice, 2_000e6);
        vm.startPrank(alice);
        fee.approve(address(feeMarket), type(uint256).max);
        feeMarket.deposit(2_000e6);
        vm.stopPrank();
        assertEq(feeMarket.balanceOf(alice), fee.balanceOf(address(feeMarket)), "credited == held");
    }

    /* 9. Unchecked narrowing of interval tallies */

    function test_settleFills_failsWhenBoughtEnergyOverflows() public {
        uint64 big = uint64(1 << 63) + 50;
        // Bids lock their imbalance collateral too (100k/kWh): ~9.2e20 base units each at this quantity.
        _fund(alice, 1e22);
        _fund(carol, 1e22);
        IEnergyMarket.Fill[] memory fills = new IEnergyMarket.Fill[](2);
        fills[0] = IEnergyMarket.Fill(_order(alice, IEnergyMarket.Side.Buy, 0, big, 1), big);
        fills[1] = IEnergyMarket.Fill(_order(carol, IEnergyMarket.Side.Buy, 0, big, 1), big);
        uint256[] memory prices = _prices(1, 1);
        (, bytes32 root) = _placeAndCommit(fills, prices);
        vm.expectRevert(
            abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 64, uint256(big) * 2)
        );
        _settleFills(fills, root, prices);
    }

    /* 10. Guardian pause across the meter window */

    function test_commitMeterReport_succeedsAfterPauseAcrossMeterWindow() public {
        Scenario memory sc = _scenario(1500);
        _settleAll(sc);
        _warpAfterInterval(interval);
        vm.prank(guardian);
        market.pause();
        vm.warp(market.meterDeadline(interval) - 1);
        bytes32[] memory meter = new bytes32[](2);
        meter[0] = _meterLeaf(alice, 0, 1500);
        meter[1] = _meterLeaf(bob, 1200, 0);
        _commitMeter(_meterReport(interval, Merkle.root(meter), SHORT, LONG));
        vm.prank(guardian);
        market.unpause();
        market.settleImbalance(bob, interval, 1200, 0, Merkle.proof(meter, 1));
        assertTrue(market.imbalanceSettled(bob, interval), "bob's short delivery settled");
    }

    /* 10. Recovery of tokens sent by mistake */

    function test_recoverTokens_recoversOnlyTheExcess() public {
        token.mint(address(market), 5e6); // sent by mistake, credited to nobody
        uint256 owed = market.totalOwed();
        assertEq(token.balanceOf(address(market)), owed + 5e6, "excess over what is owed");
        vm.prank(operator);
        market.recoverTokens(token, 5e6, operator);
        assertEq(token.balanceOf(operator), 5e6, "excess recovered");
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.ExceedsRecoverable.selector, 1, 0));
        vm.prank(operator);
        market.recoverTokens(token, 1, operator);
        assertEq(token.balanceOf(address(market)), owed, "what is owed stays");
    }

    function test_recoverTokens_recoversAnotherAsset() public {
        TestToken other = new TestToken();
        other.mint(address(market), 7e6);
        vm.prank(operator);
        market.recoverTokens(other, 7e6, operator);
        assertEq(other.balanceOf(operator), 7e6, "other asset recovered in full");
    }

    function test_recoverTokens_onlyOperator() public {
        token.mint(address(market), 5e6);
        vm.expectRevert();
        vm.prank(admin);
        market.recoverTokens(token, 5e6, admin);
    }

    /* 1. Certificates across several sources */

    /// @dev alice buys 1350 Wh in zone 1; bob (solar) sells 1000 and dave (wind) 500 Wh in zone 0: 1500 Wh sold
    /// before losses.
    function _twoSellerScenario() internal returns (bytes32[] memory meter) {
        IEnergyMarket.Fill[] memory fills = new IEnergyMarket.Fill[](3);
        fills[0] = IEnergyMarket.Fill(_order(alice, IEnergyMarket.Side.Buy, 1, 1350, 300_000), 1350);
        fills[1] = IEnergyMarket.Fill(_order(bob, IEnergyMarket.Side.Sell, 0, 1000, 100_000), 1000);
        fills[2] = IEnergyMarket.Fill(_order(dave, IEnergyMarket.Side.Sell, 0, 500, 100_000), 500);
        uint256[] memory prices = _prices(200_000, 250_000);
        (, bytes32 root) = _placeAndCommit(fills, prices);
        _settleFills(fills, root, prices);
        meter = new bytes32[](3);
        meter[0] = _meterLeaf(alice, 0, 1350);
        meter[1] = _meterLeaf(bob, 1000, 0);
        meter[2] = _meterLeaf(dave, 500, 0);
        _warpAfterInterval(interval);
        _commitMeter(_meterReport(interval, Merkle.root(meter), SHORT, LONG));
    }

    function test_claimCertificates_sharesScaledPoolsWithinPurchase() public {
        bytes32[] memory meter = _twoSellerScenario();
        market.settleImbalance(bob, interval, 1000, 0, Merkle.proof(meter, 1));
        market.settleImbalance(dave, interval, 500, 0, Merkle.proof(meter, 2));
        market.claimCertificates(alice, interval, IGridRegistry.Source.Solar);
        market.claimCertificates(alice, interval, IGridRegistry.Source.Wind);
        uint256 solar = certificate.balanceOf(
            alice,
            market.certificateId(interval, IGridRegistry.Source.Solar)
        );
        uint256 wind = certificate.balanceOf(
            alice,
            market.certificateId(interval, IGridRegistry.Source.Wind)
        );
        assertEq(solar, 900, "solar: 1350 * 1000 / 1500");
        assertEq(wind, 450, "wind: 1350 * 500 / 1500");
    }

    function test_claimCertificates_capsBuyerAcrossSourcesWhateverTheTiming() public {
        bytes32[] memory meter = _twoSellerScenario();
        market.settleImbalance(bob, interval, 1000, 0, Merkle.proof(meter, 1));
        market.claimCertificates(alice, interval, IGridRegistry.Source.Solar); // 1000 of 1350 before wind exists
        market.settleImbalance(dave, interval, 500, 0, Merkle.proof(meter, 2));
        market.claimCertificates(alice, interval, IGridRegistry.Source.Wind);
        uint256 solar = certificate.balanceOf(
            alice,
            market.certificateId(interval, IGridRegistry.Source.Solar)
        );
        uint256 wind = certificate.balanceOf(
            alice,
            market.certificateId(interval, IGridRegistry.Source.Wind)
        );
        assertEq(solar, 1000, "solar claimed first");
        assertEq(solar + wind, 1350, "total == energy bought");
        vm.expectRevert(IEnergyMarket.ZeroAmount.selector);
        market.claimCertificates(alice, interval, IGridRegistry.Source.Solar);
    }

    /* Fuzzed variants */

    /// @dev One buyer in zone 1 and two renewable sellers in zone 0, any quantities (losses or not), any metered
    /// injection, settled and claimed in any order: the buyer never holds more than it bought and no pool pays out
    /// more than was sold and injected.
    function testFuzz_claimCertificates_withinBoughtAndIssued(
        uint64 bought,
        uint64 sold1,
        uint64 sold2,
        uint64 injected1,
        uint64 injected2,
        bool solarFirst,
        bool claimBetween
    ) public {
        _sold[0] = uint64(bound(bought, 1, 100_000));
        _sold[1] = uint64(bound(sold1, 1, 100_000));
        _sold[2] = uint64(bound(sold2, 1, 100_000));
        _injected[1] = uint64(bound(injected1, 0, 200_000));
        _injected[2] = uint64(bound(injected2, 0, 200_000));
        bytes32[] memory meter = _fuzzMarket();

        IGridRegistry.Source first = solarFirst ? IGridRegistry.Source.Solar : IGridRegistry.Source.Wind;
        _settleLeaf(meter, solarFirst ? 1 : 2);
        if (claimBetween) _tryClaim(first);
        _settleLeaf(meter, solarFirst ? 2 : 1);
        _tryClaim(solarFirst ? IGridRegistry.Source.Wind : IGridRegistry.Source.Solar);
        _tryClaim(first);

        uint256 solar = certificate.balanceOf(
            alice,
            market.certificateId(interval, IGridRegistry.Source.Solar)
        );
        uint256 wind = certificate.balanceOf(
            alice,
            market.certificateId(interval, IGridRegistry.Source.Wind)
        );
        assertLe(solar + wind, _sold[0], "certificates <= energy bought");
        assertLe(solar, _sold[1] < _injected[1] ? _sold[1] : _injected[1], "solar <= sold and injected");
        assertLe(wind, _sold[2] < _injected[2] ? _sold[2] : _injected[2], "wind <= sold and injected");
    }

    uint64[3] internal _sold; // [0]: alice's purchase, [1]: bob's sale, [2]: dave's sale

    /// @dev Places, commits and settles the fuzz case's three orders (prices make any quantities budget-balanced)
    /// and commits its meter report; returns the meter leaves (alice, bob, dave).
    function _fuzzMarket() internal returns (bytes32[] memory meter) {
        IEnergyMarket.Fill[] memory fills = new IEnergyMarket.Fill[](3);
        fills[0] = IEnergyMarket.Fill(
            _order(alice, IEnergyMarket.Side.Buy, 1, _sold[0], 1_000_000),
            _sold[0]
        );
        fills[1] = IEnergyMarket.Fill(_order(bob, IEnergyMarket.Side.Sell, 0, _sold[1], 1), _sold[1]);
        fills[2] = IEnergyMarket.Fill(_order(dave, IEnergyMarket.Side.Sell, 0, _sold[2], 1), _sold[2]);
        uint256[] memory prices = _prices(1, 1_000_000);
        (, bytes32 root) = _placeAndCommit(fills, prices);
        _settleFills(fills, root, prices);
        meter = new bytes32[](3);
        meter[0] = _meterLeaf(alice, 0, _sold[0]);
        meter[1] = _meterLeaf(bob, _injected[1], 0);
        meter[2] = _meterLeaf(dave, _injected[2], 0);
        _warpAfterInterval(interval);
        // Zone prices 1 and 1,000,000 lie outside the tariffs: the prices the bounds leave are the rule's.
        _commitMeter(_gridRuleMeterReport(interval, Merkle.root(meter)));
    }

    uint64[3] internal _injected; // by meter leaf index

    function _settleLeaf(bytes32[] memory meter, uint256 k) internal {
        market.settleImbalance(k == 1 ? bob : dave, interval, _injected[k], 0, Merkle.proof(meter, k));
    }

    function _tryClaim(IGridRegistry.Source source) internal {
        try market.claimCertificates(alice, interval, source) {} catch (bytes memory reason) {
            assertEq(bytes4(reason), IEnergyMarket.ZeroAmount.selector, "only 'nothing to claim' may fail");
        }
    }

    function _feeMarket() internal returns (FeeToken fee, EnergyMarket feeMarket) {
        fee = new FeeToken();
        feeMarket = new EnergyMarket(_marketConfig(address(fee)));
    }

    function testFuzz_deposit_creditsWhatArrived(uint256 amount, uint256 withdrawn) public {
        amount = bound(amount, 1, 1e30);
        (FeeToken fee, EnergyMarket feeMarket) = _feeMarket();
        fee.mint(alice, amount);
        vm.startPrank(alice);
        fee.approve(address(feeMarket), amount);
        feeMarket.deposit(amount);
        uint256 credited = feeMarket.balanceOf(alice);
        assertEq(credited, fee.balanceOf(address(feeMarket)), "credited == held");
        withdrawn = bound(withdrawn, 1, credited);
        feeMarket.withdraw(withdrawn, alice);
        vm.stopPrank();
        assertEq(feeMarket.totalOwed(), fee.balanceOf(address(feeMarket)), "owed == held after a withdrawal");
    }

    function testFuzz_recoverTokens_neverReachesWhatIsOwed(uint256 stray, uint256 asked) public {
        stray = bound(stray, 0, 1e30);
        asked = bound(asked, 1, 1e30);
        token.mint(address(market), stray);
        uint256 owed = market.totalOwed();
        vm.prank(operator);
        if (asked > stray) {
            vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.ExceedsRecoverable.selector, asked, stray));
            market.recoverTokens(token, asked, operator);
        } else {
            market.recoverTokens(token, asked, operator);
        }
        assertGe(token.balanceOf(address(market)), owed, "what is owed stays in the market");
    }

    /// @dev Any subset of the fills claimed in front, then the keeper's batch: each owner ends with the same balance
    /// as if the batch had settled everything, at any prices and quantities.
    function testFuzz_settleFills_resultIndependentOfFrontRuns(
        uint64 qty,
        uint64 filled,
        uint128 price,
        uint256 frontMask
    ) public {
        qty = uint64(bound(qty, 1, 100_000));
        filled = uint64(bound(filled, 0, qty));
        price = uint128(bound(price, 1, 1_000_000));
        (IEnergyMarket.Fill[] memory fills, bytes32[] memory leaves, uint256[] memory prices) = _pairAt(
            qty,
            filled,
            price
        );
        bytes32 root = Merkle.root(leaves);
        uint256 aliceBefore = market.balanceOf(alice);
        uint256 bobBefore = market.balanceOf(bob);
        if (frontMask & 1 == 1) market.claimFill(root, prices, fills[0], Merkle.proof(leaves, 0));
        if (frontMask & 3 == 3) market.claimFill(root, prices, fills[1], Merkle.proof(leaves, 1));
        market.settleFills(interval, root, prices, fills, new bytes32[](0), Merkle.allLeavesFlags(2));
        _assertPairSettledOnce(qty, filled, price, aliceBefore, bobBefore);
        assertEq(market.intervalState(interval).settledCount, 2, "both settled once");
    }

    /// @dev The balances after `_pairAt`'s fills settled, whoever settled them (split out: stack depth).
    function _assertPairSettledOnce(
        uint64 qty,
        uint64 filled,
        uint128 price,
        uint256 aliceBefore,
        uint256 bobBefore
    ) internal view {
        // Both sides get back the imbalance collateral of the unfilled part (the filled part's stays locked until
        // the delivery settles). Buyer: payment lock released minus price × energy (rounded up). Seller: its payout
        // price × energy (rounded down) is withheld until delivery, once.
        uint256 charged = (uint256(price) * filled + 999) / 1000;
        uint256 released =
            (uint256(COLLATERAL_PER_KWH) * qty + 999) / 1000 -
                (uint256(COLLATERAL_PER_KWH) * filled + 999) / 1000;
        assertEq(
            market.balanceOf(alice),
            aliceBefore + (uint256(price) * qty + 999) / 1000 - charged + released,
            "buyer charged price x energy once"
        );
        assertEq(market.balanceOf(bob), bobBefore + released, "seller credited its unfilled collateral once");
        assertEq(
            market.pendingPayout(bob, interval),
            (uint256(price) * filled) / 1000,
            "seller's payout of price x energy withheld once"
        );
    }

    /// @dev alice bids and bob offers `qty` at `price` in zone 0, both filled `filled`; schedule committed.
    function _pairAt(
        uint64 qty,
        uint64 filled,
        uint128 price
    ) internal returns (IEnergyMarket.Fill[] memory fills, bytes32[] memory leaves, uint256[] memory prices) {
        fills = new IEnergyMarket.Fill[](2);
        fills[0] = IEnergyMarket.Fill(_order(alice, IEnergyMarket.Side.Buy, 0, qty, price), filled);
        fills[1] = IEnergyMarket.Fill(_order(bob, IEnergyMarket.Side.Sell, 0, qty, price), filled);
        prices = _prices(price, price);
        (leaves, ) = _placeAndCommit(fills, prices);
    }

    /// @dev The collateral of a seller missing from the meter tree returns exactly at its bound, never before.
    function testFuzz_releaseCollateral_returnsExactlyAtItsBound(uint256 delay, bool metered) public {
        Scenario memory sc = _scenario(1500);
        _settleAll(sc);
        if (metered) {
            bytes32[] memory meter = new bytes32[](2);
            meter[0] = _meterLeaf(alice, 0, 1500);
            meter[1] = _meterLeaf(carol, 0, 0);
            _warpAfterInterval(interval);
            _commitMeter(_meterReport(interval, Merkle.root(meter), SHORT, LONG));
        }
        uint256 releasableAt =
            market.meterDeadline(interval) + (metered ? market.COLLATERAL_GRACE_SECONDS() : 0);
        uint256 at = bound(delay, vm.getBlockTimestamp(), releasableAt + 400 days);
        vm.warp(at);
        if (at < releasableAt) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IEnergyMarket.CollateralNotReleasable.selector,
                    bob,
                    interval,
                    releasableAt
                )
            );
            market.releaseCollateral(bob, interval);
        } else {
            uint256 before = market.balanceOf(bob);
            uint256 withheld = market.pendingPayout(bob, interval);
            market.releaseCollateral(bob, interval);
            assertEq(
                market.balanceOf(bob) - before,
                150_000 + withheld,
                "collateral and withheld payout returned"
            );
        }
    }
}
