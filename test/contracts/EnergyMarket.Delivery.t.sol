// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {MarketBase} from "./utils/MarketBase.sol";
import {Merkle} from "./utils/Merkle.sol";
import {IEnergyMarket} from "../../contracts/interfaces/IEnergyMarket.sol";

/// @notice Sellers are paid after delivery, imbalance prices by rule, truthful scheduling (docs/MARKET_RULES.md):
/// whole intervals against the grid's account, from order to imbalance settlement.
contract EnergyMarketDeliveryTest is MarketBase {
    uint256 internal constant ZONE_PRICE = 200_000; // between feed-in 50k and retail 400k (MarketBase tariffs)

    function setUp() public override {
        super.setUp();
        _fund(gridNorth, 1e15);
        _fund(alice, 1e15);
        _fund(bob, 1e15);
    }

    /// @dev Runs one interval: `who` and the grid's account trade `scheduledWh` at `price` in zone 0 (`who` on
    /// `side`), `who` is metered (`injectedWh`, `consumedWh`), and its delivery is settled. Returns the change of
    /// `who`'s free balance over the whole interval.
    function _run(
        address who,
        IEnergyMarket.Side side,
        uint64 scheduledWh,
        uint256 price,
        uint64 injectedWh,
        uint64 consumedWh
    ) internal returns (int256 change) {
        // Nothing netted: the whole deviation at the grid's tariffs.
        uint256 shortPrice = price > RETAIL_PER_KWH ? price : RETAIL_PER_KWH;
        uint256 longPrice = price < FEED_IN_PER_KWH ? price : FEED_IN_PER_KWH;
        return _runAt(who, side, scheduledWh, price, injectedWh, consumedWh, shortPrice, longPrice);
    }

    /// @dev `_run` with the meter report's imbalance prices given (a netted pair within the contract's bounds).
    function _runAt(
        address who,
        IEnergyMarket.Side side,
        uint64 scheduledWh,
        uint256 price,
        uint64 injectedWh,
        uint64 consumedWh,
        uint256 shortPrice,
        uint256 longPrice
    ) internal returns (int256 change) {
        uint256 before = market.balanceOf(who);
        uint64 id = _trade(who, side, scheduledWh, price);
        _warpAfterInterval(id);
        // A one-leaf tree: the root is the leaf and the proof is empty.
        _commitMeter(_meterReport(id, _meterLeaf(who, injectedWh, consumedWh), shortPrice, longPrice));
        vm.recordLogs();
        market.settleImbalance(who, id, injectedWh, consumedWh, new bytes32[](0));
        change = int256(market.balanceOf(who)) - int256(before);
        // A short charge beyond the interval's lock is billed by the grid outside the market: it is still a cost.
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] != IEnergyMarket.ImbalanceSettled.selector) continue;
            (int256 deviationWh, , , uint256 uncovered) = abi.decode(
                logs[i].data,
                (int256, uint256, uint256, uint256)
            );
            if (deviationWh < 0) change -= int256(uncovered);
        }
    }

    /// @dev Places, commits and settles the trade of `_run`; returns its interval.
    function _trade(
        address who,
        IEnergyMarket.Side side,
        uint64 scheduledWh,
        uint256 price
    ) internal returns (uint64 id) {
        id = uint64(vm.getBlockTimestamp() / INTERVAL_SECONDS) + 2;
        bool buys = side == IEnergyMarket.Side.Buy;
        IEnergyMarket.Fill[] memory fills = new IEnergyMarket.Fill[](2);
        fills[0] = IEnergyMarket.Fill(
            IEnergyMarket.Order(who, id, side, 0, scheduledWh, buys ? uint128(price) : 1, 7),
            scheduledWh
        );
        fills[1] = IEnergyMarket.Fill(
            IEnergyMarket.Order(
                gridNorth,
                id,
                buys ? IEnergyMarket.Side.Sell : IEnergyMarket.Side.Buy,
                0,
                scheduledWh,
                buys ? 1 : uint128(price),
                7
            ),
            scheduledWh
        );
        bytes32[] memory leaves = new bytes32[](2);
        leaves[0] = _fillLeaf(_place(fills[0].order), scheduledWh);
        leaves[1] = _fillLeaf(_place(fills[1].order), scheduledWh);
        uint256[] memory prices = _prices(price, price);
        vm.warp(market.gateClosure(id));
        _commit(_report(id, Merkle.root(leaves), 2, prices));
        market.settleFills(
            id,
            Merkle.root(leaves),
            prices,
            fills,
            new bytes32[](0),
            Merkle.allLeavesFlags(2)
        );
    }

    /* SELLERS ARE PAID AFTER DELIVERY */

    function test_settleFills_withholdsTheSellerPayoutUntilDelivery() public {
        uint64 id = uint64(vm.getBlockTimestamp() / INTERVAL_SECONDS) + 2;
        IEnergyMarket.Order memory offer = IEnergyMarket.Order(
            bob,
            id,
            IEnergyMarket.Side.Sell,
            0,
            1000,
            1,
            0
        );
        IEnergyMarket.Order memory bid = IEnergyMarket.Order(
            gridNorth,
            id,
            IEnergyMarket.Side.Buy,
            0,
            1000,
            1e9,
            0
        );
        bytes32[] memory leaves = new bytes32[](2);
        leaves[0] = _fillLeaf(_place(offer), 1000);
        leaves[1] = _fillLeaf(_place(bid), 1000);
        uint256 gridBefore = market.balanceOf(gridNorth);
        vm.warp(market.gateClosure(id));
        _commit(_report(id, Merkle.root(leaves), 2, _prices(ZONE_PRICE, ZONE_PRICE)));
        IEnergyMarket.Fill[] memory fills = new IEnergyMarket.Fill[](2);
        fills[0] = IEnergyMarket.Fill(offer, 1000);
        fills[1] = IEnergyMarket.Fill(bid, 1000);
        uint256 bobBefore = market.balanceOf(bob);
        market.settleFills(
            id,
            Merkle.root(leaves),
            _prices(ZONE_PRICE, ZONE_PRICE),
            fills,
            new bytes32[](0),
            Merkle.allLeavesFlags(2)
        );
        assertEq(market.balanceOf(bob), bobBefore, "nothing credited to the seller at fill settlement");
        assertEq(market.pendingPayout(bob, id), 200_000, "payout withheld");
        // The grid's account keeps nothing locked: it is never settled for imbalance.
        assertEq(
            market.balanceOf(gridNorth),
            gridBefore + 100_000 + uint256(1e9) - 200_000,
            "grid's bid: lock back minus the payment, imbalance collateral back at once"
        );
    }

    /// @dev No path lets a seller that injects nothing end a metered interval with more than it started with,
    /// whatever the collateral, price, quantity and its own consumption.
    function testFuzz_settleImbalance_nonDeliveringSellerNeverGains(
        uint64 soldWh,
        uint256 price,
        uint64 consumedWh
    ) public {
        soldWh = uint64(bound(soldWh, 1, 1_000_000));
        price = bound(price, 1, 2_000_000);
        consumedWh = uint64(bound(consumedWh, 0, 1_000_000));
        uint256 before = market.balanceOf(bob);
        _run(bob, IEnergyMarket.Side.Sell, soldWh, price, 0, consumedWh);
        // Its free balance, not counting the uncovered charge the grid bills outside the market.
        assertLe(market.balanceOf(bob), before, "a non-delivering seller gained");
    }

    /// @dev Partial delivery: a seller never earns more than the delivered energy at the zone price.
    function testFuzz_settleImbalance_sellerEarnsAtMostWhatItDelivered(
        uint64 soldWh,
        uint64 injectedWh,
        uint256 price
    ) public {
        soldWh = uint64(bound(soldWh, 1, 1_000_000));
        injectedWh = uint64(bound(injectedWh, 0, soldWh));
        price = bound(price, 1, 2_000_000);
        uint256 before = market.balanceOf(bob);
        _run(bob, IEnergyMarket.Side.Sell, soldWh, price, injectedWh, 0);
        assertLe(
            market.balanceOf(bob),
            before + (price * injectedWh) / 1000,
            "paid beyond the delivered energy"
        );
    }

    /* TRUTHFUL SCHEDULING: each deviation costs the participant against the truthful schedule */

    /// @dev Sold 1000 Wh, delivered 800: loses (retail − price) per kWh missing against selling 800.
    function test_truthful_shortSellerLosesRetailMinusPrice() public {
        int256 deviating = _run(bob, IEnergyMarket.Side.Sell, 1000, ZONE_PRICE, 800, 0);
        int256 truthful = _run(bob, IEnergyMarket.Side.Sell, 800, ZONE_PRICE, 800, 0);
        assertEq(truthful - deviating, int256((RETAIL_PER_KWH - ZONE_PRICE) * 200) / 1000, "retail - price");
    }

    /// @dev Sold 800 Wh, delivered 1000: loses (price − feed-in) per kWh in excess against selling 1000.
    function test_truthful_longSellerLosesPriceMinusFeedIn() public {
        _fundOperatorFunds(1e6);
        int256 deviating = _run(bob, IEnergyMarket.Side.Sell, 800, ZONE_PRICE, 1000, 0);
        int256 truthful = _run(bob, IEnergyMarket.Side.Sell, 1000, ZONE_PRICE, 1000, 0);
        assertEq(
            truthful - deviating,
            int256((ZONE_PRICE - FEED_IN_PER_KWH) * 200) / 1000,
            "price - feed-in"
        );
    }

    /// @dev Bought 1000 Wh, consumed 1200: loses (retail − price) per kWh missing against buying 1200.
    function test_truthful_shortBuyerLosesRetailMinusPrice() public {
        int256 deviating = _run(alice, IEnergyMarket.Side.Buy, 1000, ZONE_PRICE, 0, 1200);
        int256 truthful = _run(alice, IEnergyMarket.Side.Buy, 1200, ZONE_PRICE, 0, 1200);
        assertEq(truthful - deviating, int256((RETAIL_PER_KWH - ZONE_PRICE) * 200) / 1000, "retail - price");
    }

    /// @dev Bought 1000 Wh, consumed 800: loses (price − feed-in) per kWh in excess against buying 800.
    function test_truthful_longBuyerLosesPriceMinusFeedIn() public {
        _fundOperatorFunds(1e6);
        int256 deviating = _run(alice, IEnergyMarket.Side.Buy, 1000, ZONE_PRICE, 0, 800);
        int256 truthful = _run(alice, IEnergyMarket.Side.Buy, 800, ZONE_PRICE, 0, 800);
        assertEq(
            truthful - deviating,
            int256((ZONE_PRICE - FEED_IN_PER_KWH) * 200) / 1000,
            "price - feed-in"
        );
    }

    /// @dev For any schedule and metering, with the zone price between the tariffs, scheduling the metered energy is
    /// at least as good as any other schedule (counting the uncovered part of a short charge, billed by the grid).
    function testFuzz_truthful_deviationNeverPays(
        uint64 scheduledWh,
        uint64 meteredWh,
        uint256 price,
        bool sell
    ) public {
        price = bound(price, FEED_IN_PER_KWH, RETAIL_PER_KWH);
        // Nothing netted: the grid's tariffs (the zone price lies between them).
        _assertDeviationNeverPays(scheduledWh, meteredWh, price, RETAIL_PER_KWH, FEED_IN_PER_KWH, sell);
    }

    /// @dev The same at any imbalance prices the contract accepts (netted: zone price <= short <= retail, feed-in <=
    /// long <= zone price): whatever share of the zone's deviations is netted, and whoever's deviation moves it,
    /// deviating from the truthful schedule never pays.
    function testFuzz_truthful_deviationNeverPaysAtAnyNettedPrices(
        uint64 scheduledWh,
        uint64 meteredWh,
        uint256 price,
        uint256 shortPrice,
        uint256 longPrice,
        bool sell
    ) public {
        price = bound(price, FEED_IN_PER_KWH, RETAIL_PER_KWH);
        shortPrice = bound(shortPrice, price, RETAIL_PER_KWH);
        longPrice = bound(longPrice, FEED_IN_PER_KWH, price);
        _assertDeviationNeverPays(scheduledWh, meteredWh, price, shortPrice, longPrice, sell);
    }

    /// @dev Runs the schedule `scheduledWh` and the truthful one (`meteredWh`) at the given prices and compares.
    function _assertDeviationNeverPays(
        uint64 scheduledWh,
        uint64 meteredWh,
        uint256 price,
        uint256 shortPrice,
        uint256 longPrice,
        bool sell
    ) internal {
        _fundOperatorFunds(1_000e6);
        scheduledWh = uint64(bound(scheduledWh, 10, 100_000));
        meteredWh = uint64(bound(meteredWh, 0, 200_000));
        IEnergyMarket.Side side = sell ? IEnergyMarket.Side.Sell : IEnergyMarket.Side.Buy;
        (uint64 inj, uint64 con) = sell ? (meteredWh, uint64(0)) : (uint64(0), meteredWh);
        address who = sell ? bob : alice;
        int256 deviating = _runAt(who, side, scheduledWh, price, inj, con, shortPrice, longPrice);
        if (meteredWh == 0) return; // nothing to schedule truthfully (an order needs energy)
        int256 truthful = _runAt(who, side, meteredWh, price, inj, con, shortPrice, longPrice);
        // Rounding (payouts down, charges up) may cost the truthful schedule at most 2 base units.
        assertLe(deviating, truthful + 2, "deviating from the truthful schedule paid off");
    }

    /// @dev Fully netted (short = long = zone price): a deviation costs nothing beyond rounding, so a household
    /// whose shortfall a neighbour's surplus covered pays the market price for it, not retail.
    function test_truthful_fullyNettedDeviationCostsOnlyRounding() public {
        _fundOperatorFunds(1e6);
        int256 deviating = _runAt(
            bob,
            IEnergyMarket.Side.Sell,
            1000,
            ZONE_PRICE,
            800,
            0,
            ZONE_PRICE,
            ZONE_PRICE
        );
        int256 truthful = _runAt(
            bob,
            IEnergyMarket.Side.Sell,
            800,
            ZONE_PRICE,
            800,
            0,
            ZONE_PRICE,
            ZONE_PRICE
        );
        // Paid 200,000 for 1000 Wh, charged 40,000 for the 200 Wh short: 160,000, as for selling 800 Wh.
        assertEq(deviating, truthful, "no loss when netted at the zone price");
        assertEq(truthful, int256(ZONE_PRICE * 800) / 1000, "800 Wh at the zone price");
    }

    function _fundOperatorFunds(uint256 amount) internal {
        token.mint(operator, amount);
        vm.startPrank(operator);
        token.approve(address(market), amount);
        market.depositOperatorFunds(amount);
        vm.stopPrank();
    }
}
