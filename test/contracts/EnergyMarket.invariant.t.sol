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

    uint256 public ghostLocks; // open-order locks + collateral of settled offers
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
        uint256 lock =
            buy
                ? SettlementMath.costUp(o.limitPricePerKwh, o.quantityWh)
                : SettlementMath.costUp(collateralPerKwh, o.quantityWh);
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
            ghostLocks = ghostLocks - _lockOf(g.order) + _remainingCollateral(g);
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
        if (g.order.side == IEnergyMarket.Side.Buy) {
            uint256 charged = lock - credit;
            if (charged > SettlementMath.costUp(g.order.limitPricePerKwh, g.filledWh)) ++irrationalFills;
        } else {
            uint256 released = lock - SettlementMath.costUp(collateralPerKwh, g.filledWh);
            uint256 payout = credit - released;
            if (payout < SettlementMath.costDown(g.order.limitPricePerKwh, g.filledWh)) ++irrationalFills;
        }
        g.settled = true;
        g.open = false;
        ghostLocks = ghostLocks - lock + _remainingCollateral(g);
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
        return
            o.side == IEnergyMarket.Side.Buy
                ? SettlementMath.costUp(o.limitPricePerKwh, o.quantityWh)
                : SettlementMath.costUp(collateralPerKwh, o.quantityWh);
    }

    function _remainingCollateral(Ghost storage g) internal view returns (uint256) {
        return
            g.order.side == IEnergyMarket.Side.Sell ? SettlementMath.costUp(collateralPerKwh, g.filledWh) : 0;
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

    function invariant_everySettledFillRational() public view {
        assertEq(handler.irrationalFills(), 0, "a buyer paid above its limit or a seller got below its ask");
    }
}
