// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {MarketBase} from "./utils/MarketBase.sol";
import {Merkle} from "./utils/Merkle.sol";
import {EnergyMarket} from "../../contracts/EnergyMarket.sol";
import {OracleCommittee} from "../../contracts/OracleCommittee.sol";
import {TestToken} from "../../contracts/mocks/TestToken.sol";
import {IEnergyMarket} from "../../contracts/interfaces/IEnergyMarket.sol";
import {SettlementMath} from "../../contracts/libraries/SettlementMath.sol";

/// @notice Drives the market through deposits, orders, cancellations, commits and settlements in random order,
/// keeping ghost books of what every lock should be.
contract MarketHandler is Test {
    EnergyMarket internal market;
    TestToken internal token;
    uint256[] internal keys;
    address[] internal actors;
    uint128 internal collateralPerKwh;

    struct Ghost {
        IEnergyMarket.Order order;
        bool open;
        bool scheduled; // has a leaf
        uint64 filledWh;
        bool settled;
    }

    Ghost[] public ghosts;
    mapping(uint64 intervalId => uint256[]) internal _ordersOf;
    mapping(uint64 intervalId => bytes32) internal _rootOf;
    mapping(uint64 intervalId => uint256[]) internal _pricesOf;
    mapping(uint64 intervalId => uint256[]) internal _leafOrders; // ghost indices, in leaf order
    uint64[] public committedIntervals;

    uint256 public ghostLocks; // open-order locks + delivery locks (collateral, withheld payouts) of settled fills
    uint256 public doubleSettlements;
    uint256 public irrationalFills;
    uint256 public settledFills;

    constructor(EnergyMarket market_, TestToken token_, uint256[] memory keys_, address[] memory actors_) {
        market = market_;
        token = token_;
        keys = keys_;
        actors = actors_;
        collateralPerKwh = market_.offerCollateralPerKwh();
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function actor(uint256 i) external view returns (address) {
        return actors[i];
    }

    function committedCount() external view returns (uint256) {
        return committedIntervals.length;
    }

    function _currentInterval() internal view returns (uint64) {
        return uint64(block.timestamp / 900);
    }

    /* ACTIONS */

    function deposit(uint256 actorSeed, uint256 amount) external {
        address who = actors[actorSeed % actors.length];
        amount = bound(amount, 1, 1_000e6);
        token.mint(who, amount);
        vm.startPrank(who);
        token.approve(address(market), amount);
        market.deposit(amount);
        vm.stopPrank();
    }

    function withdraw(uint256 actorSeed, uint256 amount) external {
        address who = actors[actorSeed % actors.length];
        uint256 balance = market.balanceOf(who);
        if (balance == 0) return;
        amount = bound(amount, 1, balance);
        vm.prank(who);
        market.withdraw(amount, who);
    }

    function place(
        uint256 actorSeed,
        uint256 ahead,
        bool buy,
        uint256 zone,
        uint256 qty,
        uint256 limit
    ) external {
        address who = actors[actorSeed % actors.length];
        uint64 intervalId = _currentInterval() + uint64(bound(ahead, 1, 3));
        if (block.timestamp >= market.gateClosure(intervalId)) return;
        IEnergyMarket.Side side = buy ? IEnergyMarket.Side.Buy : IEnergyMarket.Side.Sell;
        if (market.position(who, intervalId, side) != 0) return;
        IEnergyMarket.Order memory o = IEnergyMarket.Order(
            who,
            intervalId,
            side,
            uint32(zone % 2),
            uint64(bound(qty, 1, 10_000)),
            uint128(bound(limit, 1, 1_000_000)),
            uint64(ghosts.length)
        );
        uint256 lock = _lockOf(o);
        if (market.balanceOf(who) < lock) return;
        vm.prank(who);
        if (buy) market.placeBid(intervalId, o.zoneId, o.quantityWh, o.limitPricePerKwh, o.nonce);
        else market.placeOffer(intervalId, o.zoneId, o.quantityWh, o.limitPricePerKwh, o.nonce);
        ghosts.push(Ghost(o, true, false, 0, false));
        _ordersOf[intervalId].push(ghosts.length - 1);
        ghostLocks += lock;
    }

    function cancel(uint256 seed) external {
        if (ghosts.length == 0) return;
        Ghost storage g = ghosts[seed % ghosts.length];
        if (!g.open || block.timestamp >= market.gateClosure(g.order.intervalId)) return;
        vm.prank(g.order.owner);
        market.cancelOrder(g.order);
        g.open = false;
        ghostLocks -= _lockOf(g.order);
    }

    function warp(uint256 secondsAhead) external {
        vm.warp(block.timestamp + bound(secondsAhead, 1, 900));
    }

    /// @dev Commits the schedule of the first interval in its commit window, clearing at one price for both zones
    /// (so the batch is budget-balanced by construction).
    function commit(uint256 priceSeed, uint256 fillSeed) external {
        uint64 intervalId = _currentInterval() + 1;
        if (
            block.timestamp < market.gateClosure(intervalId) ||
            block.timestamp >= market.scheduleDeadline(intervalId)
        ) {
            return;
        }
        if (market.intervalState(intervalId).scheduled) return;
        uint256 price = bound(priceSeed, 1, 1_000_000);
        (bytes32 root, uint256 n) = _schedule(intervalId, price, _matched(intervalId, price, fillSeed));
        _submit(intervalId, root, n, price);
    }

    function _matched(uint64 intervalId, uint256 price, uint256 fillSeed) internal view returns (uint256) {
        uint256[] storage ids = _ordersOf[intervalId];
        uint256 buyable;
        uint256 sellable;
        for (uint256 i; i < ids.length; ++i) {
            Ghost storage g = ghosts[ids[i]];
            if (!g.open) continue;
            bool isBuy = g.order.side == IEnergyMarket.Side.Buy;
            if (isBuy && g.order.limitPricePerKwh >= price) buyable += g.order.quantityWh;
            if (!isBuy && g.order.limitPricePerKwh <= price) sellable += g.order.quantityWh;
        }
        return ((buyable < sellable ? buyable : sellable) * bound(fillSeed, 0, 100)) / 100;
    }

    function _schedule(
        uint64 intervalId,
        uint256 price,
        uint256 matched
    ) internal returns (bytes32 root, uint256 n) {
        uint256[] storage ids = _ordersOf[intervalId];
        uint256 buyLeft = matched;
        uint256 sellLeft = matched;
        delete _leafOrders[intervalId];
        for (uint256 i; i < ids.length; ++i) {
            Ghost storage g = ghosts[ids[i]];
            if (!g.open) continue; // cancelled orders get no leaf
            uint256 fill;
            if (g.order.side == IEnergyMarket.Side.Buy && g.order.limitPricePerKwh >= price) {
                fill = buyLeft < g.order.quantityWh ? buyLeft : g.order.quantityWh;
                buyLeft -= fill;
            } else if (g.order.side == IEnergyMarket.Side.Sell && g.order.limitPricePerKwh <= price) {
                fill = sellLeft < g.order.quantityWh ? sellLeft : g.order.quantityWh;
                sellLeft -= fill;
            }
            g.filledWh = uint64(fill);
            g.scheduled = true;
            _leafOrders[intervalId].push(ids[i]);
        }
        n = _leafOrders[intervalId].length;
        root = n == 0 ? bytes32(0) : Merkle.root(_leaves(intervalId));
    }

    function _submit(uint64 intervalId, bytes32 root, uint256 n, uint256 price) internal {
        uint256[] memory prices = new uint256[](2);
        prices[0] = price;
        prices[1] = price;
        IEnergyMarket.ScheduleReport memory report = IEnergyMarket.ScheduleReport(
            address(market),
            intervalId,
            1,
            market.ordersDigest(intervalId),
            root,
            uint32(n),
            prices
        );
        bytes32 digest = market.hashScheduleReport(report);
        bytes memory sigs;
        for (uint256 i; i < 3; ++i) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[i], digest);
            sigs = bytes.concat(sigs, abi.encodePacked(r, s, v));
        }
        market.commitSchedule(report, sigs);
        _rootOf[intervalId] = root;
        _pricesOf[intervalId] = prices;
        committedIntervals.push(intervalId);
    }

    /// @dev Settles one random fill with a single proof (buyers of the interval first if a seller would
    /// otherwise break the budget), then tries to settle it again.
    function settleOne(uint256 intervalSeed, uint256 fillSeed) external {
        if (committedIntervals.length == 0) return;
        uint64 intervalId = committedIntervals[intervalSeed % committedIntervals.length];
        uint256[] storage leafOrders = _leafOrders[intervalId];
        if (leafOrders.length == 0 || block.timestamp >= market.meterDeadline(intervalId)) return;
        uint256 k = fillSeed % leafOrders.length;
        Ghost storage g = ghosts[leafOrders[k]];
        if (g.settled) {
            _tryDoubleSettle(intervalId, k);
            return;
        }
        if (g.order.side == IEnergyMarket.Side.Sell) {
            for (uint256 j; j < leafOrders.length; ++j) {
                Ghost storage b = ghosts[leafOrders[j]];
                if (b.order.side == IEnergyMarket.Side.Buy && !b.settled) _settle(intervalId, j);
            }
        }
        _settle(intervalId, k);
        _tryDoubleSettle(intervalId, k);
    }

    /// @dev Settles every remaining fill of one interval in one multiproof batch.
    function settleBatch(uint256 intervalSeed) external {
        if (committedIntervals.length == 0) return;
        uint64 intervalId = committedIntervals[intervalSeed % committedIntervals.length];
        uint256[] storage leafOrders = _leafOrders[intervalId];
        uint256 n = leafOrders.length;
        if (n == 0 || block.timestamp >= market.meterDeadline(intervalId)) return;
        for (uint256 j; j < n; ++j) if (ghosts[leafOrders[j]].settled) return; // batch = whole tree only
        IEnergyMarket.Fill[] memory fills = new IEnergyMarket.Fill[](n);
        for (uint256 j; j < n; ++j) {
            Ghost storage g = ghosts[leafOrders[j]];
            fills[j] = IEnergyMarket.Fill(g.order, g.filledWh);
        }
        market.settleFills(
            intervalId,
            _rootOf[intervalId],
            _pricesOf[intervalId],
            fills,
            new bytes32[](0),
            Merkle.allLeavesFlags(n)
        );
        for (uint256 j; j < n; ++j) {
            Ghost storage g = ghosts[leafOrders[j]];
            g.settled = true;
            g.open = false;
            ghostLocks = ghostLocks - _lockOf(g.order) + _keepDeliveryLock(g);
            ++settledFills;
        }
    }

    function _settle(uint64 intervalId, uint256 k) internal {
        uint256[] storage leafOrders = _leafOrders[intervalId];
        Ghost storage g = ghosts[leafOrders[k]];
        bytes32[] memory leaves = _leaves(intervalId);
        uint256 before = market.balanceOf(g.order.owner);
        market.claimFill(
            _rootOf[intervalId],
            _pricesOf[intervalId],
            IEnergyMarket.Fill(g.order, g.filledWh),
            Merkle.proof(leaves, k)
        );
        uint256 credit = market.balanceOf(g.order.owner) - before;
        uint256 lock = _lockOf(g.order);
        uint256 kept = SettlementMath.costUp(collateralPerKwh, g.filledWh);
        if (g.order.side == IEnergyMarket.Side.Buy) {
            uint256 charged = lock - credit - kept;
            if (charged > SettlementMath.costUp(g.order.limitPricePerKwh, g.filledWh)) ++irrationalFills;
        } else {
            // The payout is withheld until the delivery is settled; only the unfilled collateral comes back.
            if (credit != lock - kept) ++irrationalFills;
            uint256 payout = market.pendingPayout(g.order.owner, intervalId);
            if (payout < SettlementMath.costDown(g.order.limitPricePerKwh, g.filledWh)) ++irrationalFills;
        }
        g.settled = true;
        g.open = false;
        ghostLocks = ghostLocks - lock + _keepDeliveryLock(g);
        ++settledFills;
    }

    function _tryDoubleSettle(uint64 intervalId, uint256 k) internal {
        Ghost storage g = ghosts[_leafOrders[intervalId][k]];
        bytes32[] memory leaves = _leaves(intervalId);
        try
            market.claimFill(
                _rootOf[intervalId],
                _pricesOf[intervalId],
                IEnergyMarket.Fill(g.order, g.filledWh),
                Merkle.proof(leaves, k)
            )
        {
            ++doubleSettlements;
        } catch {}
    }

    function _leaves(uint64 intervalId) internal view returns (bytes32[] memory leaves) {
        uint256[] storage leafOrders = _leafOrders[intervalId];
        leaves = new bytes32[](leafOrders.length);
        for (uint256 j; j < leafOrders.length; ++j) {
            Ghost storage g = ghosts[leafOrders[j]];
            leaves[j] = keccak256(bytes.concat(keccak256(abi.encode(market.hashOrder(g.order), g.filledWh))));
        }
    }

    function _lockOf(IEnergyMarket.Order memory o) internal view returns (uint256) {
        uint256 collateral = SettlementMath.costUp(collateralPerKwh, o.quantityWh);
        return
            o.side == IEnergyMarket.Side.Buy
                ? SettlementMath.costUp(o.limitPricePerKwh, o.quantityWh) + collateral
                : collateral;
    }

    /// @dev What a settled fill leaves locked until its delivery is settled: the filled part's imbalance collateral
    /// and, for a seller, its withheld payout. Recorded per (owner, interval) for the delivery actions below.
    function _keepDeliveryLock(Ghost storage g) internal returns (uint256 kept) {
        kept = SettlementMath.costUp(collateralPerKwh, g.filledWh);
        if (g.order.side == IEnergyMarket.Side.Sell)
            kept += market.pendingPayout(g.order.owner, g.order.intervalId);
        deliveryLock[g.order.owner][g.order.intervalId] += kept;
    }

    /* DELIVERY ACTIONS: meter reports, imbalance settlement, collateral release, owed long payments */

    mapping(address owner => mapping(uint64 intervalId => uint256)) public deliveryLock;
    mapping(uint64 intervalId => bytes32[]) internal _meterLeaves;
    mapping(uint64 intervalId => IEnergyMarket.MeterEntry[]) internal _meterEntries;
    uint64[] public meteredIntervals;
    uint256 public meterReports;
    uint256 public imbalanceSettlements;
    uint256 public collateralReleases;
    /// @dev Settlements in which a seller that injected nothing ended the interval with more than it put in.
    uint256 public nonDeliveringGains;
    /// @dev Σ over settled long deviations of the payment due; Σ paid at once or claimed later.
    uint256 public longDue;
    uint256 public longPaid;

    /// @dev Commits a meter report for a committed interval in its meter window: random readings for every actor,
    /// the imbalance prices of the rule with the fixture's tariffs (retail 400k, feed-in 50k).
    function commitMeter(uint256 intervalSeed, uint256 readingSeed) external {
        if (committedIntervals.length == 0) return;
        _commitMeter(committedIntervals[intervalSeed % committedIntervals.length], readingSeed);
    }

    function _commitMeter(uint64 intervalId, uint256 readingSeed) internal {
        if (block.timestamp >= market.meterDeadline(intervalId)) return;
        if (market.intervalState(intervalId).meterRoot != 0) return;
        // The report is due after the interval ends: jump there (at most one interval and the gate ahead).
        uint256 end = uint256(intervalId + 1) * 900;
        if (block.timestamp < end) vm.warp(end);
        uint256[] memory prices = _pricesOf[intervalId];
        uint256[] memory shorts = new uint256[](prices.length);
        uint256[] memory longs = new uint256[](prices.length);
        for (uint256 z; z < prices.length; ++z) {
            shorts[z] = prices[z] > 400_000 ? prices[z] : 400_000;
            longs[z] = prices[z] < 50_000 ? prices[z] : 50_000;
        }
        for (uint256 i; i < actors.length; ++i) {
            uint256 r = uint256(keccak256(abi.encode(readingSeed, i)));
            IEnergyMarket.MeterEntry memory e = IEnergyMarket.MeterEntry(
                actors[i],
                uint64(r % 12_000),
                uint64((r >> 64) % 12_000)
            );
            _meterEntries[intervalId].push(e);
            _meterLeaves[intervalId].push(
                keccak256(bytes.concat(keccak256(abi.encode(e.participant, e.injectedWh, e.consumedWh))))
            );
        }
        IEnergyMarket.MeterReport memory report = IEnergyMarket.MeterReport(
            address(market),
            intervalId,
            1,
            Merkle.root(_meterLeaves[intervalId]),
            _rootOf[intervalId],
            prices,
            shorts,
            longs
        );
        bytes32 digest = market.hashMeterReport(report);
        bytes memory sigs;
        for (uint256 i; i < 3; ++i) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[i], digest);
            sigs = bytes.concat(sigs, abi.encodePacked(r, s, v));
        }
        market.commitMeterReport(report, sigs);
        meteredIntervals.push(intervalId);
        ++meterReports;
    }

    /// @dev Settles one actor's imbalance in a metered interval whose fills are all settled.
    /// @dev Settles its remaining fills (buyers first) and commits its meter report if needed, so that this path
    /// does not need deep call sequences to be reached.
    function settleImbalanceOf(uint256 intervalSeed, uint256 actorSeed, uint256 readingSeed) external {
        if (committedIntervals.length == 0) return;
        uint64 intervalId = committedIntervals[intervalSeed % committedIntervals.length];
        if (!_prepareDelivery(intervalId, readingSeed)) return;
        _settleDelivery(intervalId, actorSeed % actors.length);
    }

    /// @dev Settles the interval's remaining fills and commits its meter report; false when it cannot be metered.
    function _prepareDelivery(uint64 intervalId, uint256 readingSeed) internal returns (bool) {
        uint256 deadline = market.meterDeadline(intervalId);
        if (block.timestamp >= deadline && market.intervalState(intervalId).meterRoot == 0) return false;
        if (block.timestamp < deadline) {
            uint256[] storage leafOrders = _leafOrders[intervalId];
            for (uint256 pass; pass < 2; ++pass) {
                for (uint256 j; j < leafOrders.length; ++j) {
                    Ghost storage g = ghosts[leafOrders[j]];
                    if (!g.settled && (g.order.side == IEnergyMarket.Side.Buy) == (pass == 0)) _settle(intervalId, j);
                }
            }
        }
        _commitMeter(intervalId, readingSeed);
        return _allFillsSettled(intervalId);
    }

    function _settleDelivery(uint64 intervalId, uint256 k) internal {
        IEnergyMarket.MeterEntry memory e = _meterEntries[intervalId][k];
        if (market.imbalanceSettled(e.participant, intervalId)) return;
        (, uint64 soldWh) = market.settledFill(e.participant, intervalId, IEnergyMarket.Side.Sell);
        (, uint64 boughtWh) = market.settledFill(e.participant, intervalId, IEnergyMarket.Side.Buy);
        uint256 before = market.balanceOf(e.participant);
        uint256 owedBefore = market.imbalanceOwed(e.participant);
        market.settleImbalance(
            e.participant,
            intervalId,
            e.injectedWh,
            e.consumedWh,
            Merkle.proof(_meterLeaves[intervalId], k)
        );
        uint256 credit = market.balanceOf(e.participant) - before;
        // A seller that injected nothing must not get back more than it locked for its delivery minus the payout.
        if (soldWh != 0 && e.injectedWh == 0 && boughtWh == 0) {
            uint256 collateral = SettlementMath.costUp(collateralPerKwh, soldWh);
            if (credit > collateral) ++nonDeliveringGains;
        }
        int256 deviation =
            int256(uint256(e.injectedWh)) -
                int256(uint256(e.consumedWh)) -
                int256(uint256(soldWh)) +
                int256(uint256(boughtWh));
        if (deviation > 0) {
            // A long participant is charged nothing: what it got beyond its delivery lock was paid at once.
            uint256 owedNow = market.imbalanceOwed(e.participant) - owedBefore;
            uint256 paidNow =
                credit > deliveryLock[e.participant][intervalId]
                    ? credit - deliveryLock[e.participant][intervalId]
                    : 0;
            longDue += paidNow + owedNow;
            longPaid += paidNow;
        }
        ghostLocks -= deliveryLock[e.participant][intervalId];
        delete deliveryLock[e.participant][intervalId];
        ++imbalanceSettlements;
    }

    /// @dev Releases an actor's delivery locks in an unmetered interval after its meter deadline.
    function releaseUnmetered(uint256 intervalSeed, uint256 actorSeed) external {
        if (committedIntervals.length == 0) return;
        uint64 intervalId = committedIntervals[intervalSeed % committedIntervals.length];
        if (market.intervalState(intervalId).meterRoot != 0) return;
        // Time runs out on the committee: jump to the meter deadline.
        uint256 deadline = market.meterDeadline(intervalId);
        if (block.timestamp < deadline) vm.warp(deadline);
        address who = actors[actorSeed % actors.length];
        if (market.imbalanceSettled(who, intervalId) || !_ownFillsSettled(intervalId, who)) return;
        uint256 before = market.balanceOf(who);
        market.releaseCollateral(who, intervalId);
        if (market.balanceOf(who) - before != deliveryLock[who][intervalId]) ++nonDeliveringGains;
        ghostLocks -= deliveryLock[who][intervalId];
        delete deliveryLock[who][intervalId];
        ++collateralReleases;
    }

    /// @dev Claims what is owed to an actor for long imbalances.
    function claimOwed(uint256 actorSeed) external {
        address who = actors[actorSeed % actors.length];
        uint256 owed = market.imbalanceOwed(who);
        if (owed == 0 || market.operatorFunds() == 0) return;
        uint256 before = market.balanceOf(who);
        market.claimImbalancePayment(who);
        longPaid += market.balanceOf(who) - before;
    }

    function _allFillsSettled(uint64 intervalId) internal view returns (bool) {
        uint256[] storage leafOrders = _leafOrders[intervalId];
        for (uint256 j; j < leafOrders.length; ++j) if (!ghosts[leafOrders[j]].settled) return false;
        return true;
    }

    function _ownFillsSettled(uint64 intervalId, address who) internal view returns (bool) {
        uint256[] storage ids = _ordersOf[intervalId];
        for (uint256 j; j < ids.length; ++j) {
            Ghost storage g = ghosts[ids[j]];
            if (g.order.owner == who && !g.settled && g.open) return false;
        }
        return true;
    }
}

contract EnergyMarketInvariantTest is MarketBase {
    MarketHandler internal handler;

    function setUp() public override {
        super.setUp();
        address[] memory actors = new address[](4);
        actors[0] = alice;
        actors[1] = bob;
        actors[2] = carol;
        actors[3] = dave;
        handler = new MarketHandler(market, token, _firstKeys(3), actors);
        targetContract(address(handler));
    }

    /// @dev Invariant: the market's token balance == free balances + locks + intervals' unsettled surplus +
    /// operator funds.
    function invariant_tokenBalanceEqualsBooks() public view {
        uint256 sum = market.operatorFunds() + handler.ghostLocks();
        for (uint256 i; i < handler.actorCount(); ++i) sum += market.balanceOf(handler.actor(i));
        for (uint256 i; i < handler.committedCount(); ++i) {
            IEnergyMarket.IntervalState memory s = market.intervalState(handler.committedIntervals(i));
            sum += s.receipts - s.payouts;
        }
        assertEq(token.balanceOf(address(market)), sum, "token balance == books");
    }

    function invariant_noFillSettledTwice() public view {
        assertEq(handler.doubleSettlements(), 0, "a settled fill settled again");
    }

    function invariant_intervalPayoutsWithinReceipts() public view {
        for (uint256 i; i < handler.committedCount(); ++i) {
            IEnergyMarket.IntervalState memory s = market.intervalState(handler.committedIntervals(i));
            assertLe(s.payouts, s.receipts, "payouts <= receipts");
        }
    }

    function invariant_noNonDeliveringSellerGains() public view {
        assertEq(
            handler.nonDeliveringGains(),
            0,
            "a seller that injected nothing got back more than its collateral"
        );
    }

    /// @dev Long payments do not depend on who settles first: what is due is paid at once or stays owed.
    function invariant_longPaymentsPaidOrOwed() public view {
        uint256 owed;
        for (uint256 i; i < handler.actorCount(); ++i) owed += market.imbalanceOwed(handler.actor(i));
        assertEq(handler.longDue(), handler.longPaid() + owed, "due == paid + owed");
        assertEq(market.totalImbalanceOwed(), owed, "total owed == sum owed");
    }

    function invariant_everySettledFillRational() public view {
        assertEq(handler.irrationalFills(), 0, "a buyer paid above its limit or a seller got below its ask");
    }
}
