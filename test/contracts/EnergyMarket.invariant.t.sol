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
import {EnergyCertificate} from "../../contracts/EnergyCertificate.sol";
import {IGridRegistry} from "../../contracts/interfaces/IGridRegistry.sol";
import {FlexibilityMarket} from "../../contracts/FlexibilityMarket.sol";
import {IFlexibilityMarket} from "../../contracts/interfaces/IFlexibilityMarket.sol";

/// @notice Drives the market through deposits, withdrawals, orders, cancellations, schedule commits with two zone
/// prices and line losses, fill settlement, meter reports, imbalance settlement (single and batched), releases of
/// orders and collateral, certificate claims and committee changes, in random order, keeping ghost books of what
/// every lock should be and what every participant may receive.
/// @notice Drives the market through deposits, withdrawals, operator funding, orders, cancellations, schedule
/// commits with two zone prices and line losses, fill settlement, meter reports, imbalance settlement (single and
/// batched), owed long payments, releases of orders and delivery locks, certificate claims and committee changes, in
/// random order, keeping ghost books of what every lock should be and what every participant may receive. The
/// actors are four prosumers and the grid's account of zone 0 (never metered, never settled for imbalance).
contract MarketHandler is Test {
    EnergyMarket internal market;
    TestToken internal token;
    OracleCommittee internal committee;
    EnergyCertificate internal certificate;
    IGridRegistry internal registry;
    address internal admin;
    address internal operator;
    uint256[] internal keys; // all five member keys, ascending by address
    address[] internal memberAddrs;
    address[] internal actors;
    uint128 internal collateralPerKwh;
    mapping(address actor => uint32) internal _zoneOf; // registered zone, or the grid account's zone
    mapping(address actor => bool) internal _isGrid;

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

    // Metering and delivery.
    mapping(uint64 intervalId => IEnergyMarket.MeterEntry[]) internal _meterEntries;
    mapping(uint64 intervalId => bool) internal _metered;
    /// @dev What a participant's settled fills left locked until its delivery is settled or released: the imbalance
    /// collateral of both sides' filled parts and the seller's withheld payout.
    mapping(uint64 intervalId => mapping(address actor => uint256)) public deliveryLock;
    /// @dev The withheld payout part of `deliveryLock`.
    mapping(uint64 intervalId => mapping(address actor => uint256)) internal _withheldPayout;
    mapping(uint64 intervalId => mapping(address actor => uint256)) public boughtWh;
    mapping(uint64 intervalId => mapping(address actor => uint256)) internal _soldWh;
    /// @dev Renewable energy both sold and metered as injected, per interval and source.
    mapping(uint64 intervalId => mapping(uint8 source => uint256)) public renewableWh;

    // Committee: indices into keys of the current members, and the threshold.
    uint256[] internal _active;
    uint8 internal _threshold;
    uint256[] internal _pendingActive;
    uint8 internal _pendingThreshold;

    uint256 public ghostLocks; // open-order locks + delivery locks (collateral, withheld payouts) of settled fills
    uint256 public ghostPayouts; // withheld payouts (part of ghostLocks)
    /// @dev ghostLocks per actor: what `lockedBalanceOf` must report.
    mapping(address actor => uint256) public ghostLocked;
    uint256 public doubleSettlements;
    uint256 public irrationalFills;
    uint256 public fillResultMismatches; // a fill credited other than price × energy, whatever the settle order
    uint256 public imbalanceMismatches; // a delivery settled other than its lock net of the rule's charge or payment
    uint256 public releaseMismatches; // a release that returned other than the delivery lock
    uint256 public stuckLocks; // a release past its stated bound that reverted
    /// @dev Settlements in which a seller that injected nothing ended the interval with more than its collateral.
    uint256 public nonDeliveringGains;
    /// @dev Σ over settled long deviations of the payment due; Σ paid at once or claimed later.
    uint256 public longDue;
    uint256 public longPaid;
    uint256 public settledFills;
    uint256 public meterReports;
    uint256 public imbalancesSettled;
    uint256 public collateralReleases;
    uint256 public owedClaims;

    // Flexibility (issue 14): bob's battery in zone 0 and dave's in zone 1, standing orders of up to 4 intervals
    // from an initial 5000 Wh in [0, 10000] Wh at 1000 Wh per interval, so that any sequence of steps, settled or
    // missed, stays within the state-of-charge bounds; charges within the budget committed so far, discharges within
    // the interval's budget left after the sellers.
    FlexibilityMarket public flex;
    struct FlexGhost {
        IFlexibilityMarket.FlexOrder order;
        uint64 end;
        uint256 committedSpend; // Σ cost of the charges scheduled so far (settled or not): <= budget
        bool refunded;
    }
    FlexGhost[] internal _flexGhosts;
    mapping(uint32 batteryId => uint32 zoneId) internal _batteryZone;
    mapping(uint64 intervalId => IFlexibilityMarket.FlexStep[]) internal _flexSteps;
    mapping(uint64 intervalId => bool) internal _flexScheduled;
    uint256 public flexStepsSettled;
    uint256 public flexMissed;
    uint256 public flexRefunds;
    uint256 public flexMismatches; // a step credited other than price × energy, rounded down
    uint256 public flexStuck; // a refund past its bound that reverted

    constructor(
        EnergyMarket market_,
        TestToken token_,
        OracleCommittee committee_,
        EnergyCertificate certificate_,
        address admin_,
        address operator_,
        uint256[] memory keys_,
        address[] memory memberAddrs_,
        address[] memory actors_
    ) {
        market = market_;
        token = token_;
        committee = committee_;
        certificate = certificate_;
        registry = market_.registry();
        admin = admin_;
        operator = operator_;
        keys = keys_;
        memberAddrs = memberAddrs_;
        actors = actors_;
        collateralPerKwh = market_.offerCollateralPerKwh();
        for (uint256 i; i < keys_.length; ++i) _active.push(i);
        _threshold = committee_.threshold();
        for (uint256 a; a < actors_.length; ++a) {
            (bool isGrid, uint32 gridZone) = registry.gridZoneOf(actors_[a]);
            (, uint32 zone) = registry.participantZone(actors_[a]);
            _isGrid[actors_[a]] = isGrid;
            _zoneOf[actors_[a]] = isGrid ? gridZone : zone;
        }
    }

    /// @dev Sets the flexibility market and the two batteries (their owners are bob and dave).
    function setFlex(FlexibilityMarket flex_, uint32 bobBattery, uint32 daveBattery) external {
        require(address(flex) == address(0), "set once"); // the campaign calls it too
        flex = flex_;
        _batteryZone[bobBattery] = 0;
        _batteryZone[daveBattery] = 1;
    }

    function flexGhostCount() external view returns (uint256) {
        return _flexGhosts.length;
    }

    /// @dev The budget not yet spent of a placed, unrefunded order.
    function flexUnspent(uint256 k) external view returns (uint256) {
        FlexGhost storage g = _flexGhosts[k];
        if (g.refunded) return 0;
        return g.order.chargeBudget - flex.orderState(flex.hashFlexOrder(g.order)).spent;
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

    /// @dev The time, read from the VM: under via-IR (production profile) `block.timestamp` is not re-read after a
    /// warp within one call.
    function _now() internal view returns (uint256) {
        return vm.getBlockTimestamp();
    }

    function _currentInterval() internal view returns (uint64) {
        return uint64(_now() / 900);
    }

    /* ACTIONS: BALANCES AND ORDERS */

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

    function fundOperator(uint256 amount) external {
        _fundOperator(amount);
    }

    function _fundOperator(uint256 amount) internal {
        amount = bound(amount, 1, 100e6);
        token.mint(operator, amount);
        vm.startPrank(operator);
        token.approve(address(market), amount);
        market.depositOperatorFunds(amount);
        vm.stopPrank();
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
        // Mostly in the owner's zone; one order in four outside it (the solver gives it a zero fill).
        uint32 zoneId = zone % 4 == 3 ? 1 - _zoneOf[who] : _zoneOf[who];
        _place(
            who,
            _currentInterval() + uint64(bound(ahead, 1, 3)),
            buy,
            zoneId,
            qty,
            bound(limit, 1, 1_000_000)
        );
    }

    /// @dev A bid and an ask that cross, in one zone and interval (zone 0: alice buys from bob, or from the grid's
    /// account; zone 1: carol buys from dave), so that schedules with fills do not need rare call sequences.
    function placeCrossing(
        uint256 zoneSeed,
        uint256 ahead,
        uint256 qty,
        uint256 askLimit,
        uint256 bidLimit
    ) external {
        uint32 zoneId = uint32(zoneSeed % 2);
        address buyer = actors[zoneId == 0 ? 0 : 2];
        address seller = actors[zoneId == 0 ? (zoneSeed % 4 == 2 ? 4 : 1) : 3];
        uint64 intervalId = _currentInterval() + uint64(bound(ahead, 1, 3));
        askLimit = bound(askLimit, 1, 1_000_000);
        _place(seller, intervalId, false, zoneId, qty, askLimit);
        _place(buyer, intervalId, true, zoneId, qty >> 16, bound(bidLimit, askLimit, 1_000_000));
    }

    function _place(
        address who,
        uint64 intervalId,
        bool buy,
        uint32 zoneId,
        uint256 qty,
        uint256 limit
    ) internal {
        if (_now() >= market.gateClosure(intervalId)) return;
        IEnergyMarket.Side side = buy ? IEnergyMarket.Side.Buy : IEnergyMarket.Side.Sell;
        if (market.position(who, intervalId, side) != 0) return;
        IEnergyMarket.Order memory o = IEnergyMarket.Order(
            who,
            intervalId,
            side,
            zoneId,
            uint64(bound(qty, 1, 10_000)),
            uint128(limit),
            uint64(ghosts.length)
        );
        uint256 lock = _lockOf(o);
        if (market.balanceOf(who) < lock) return;
        vm.prank(who);
        if (buy) market.placeBid(intervalId, zoneId, o.quantityWh, o.limitPricePerKwh, o.nonce);
        else market.placeOffer(intervalId, zoneId, o.quantityWh, o.limitPricePerKwh, o.nonce);
        ghosts.push(Ghost(o, true, false, 0, false));
        _ordersOf[intervalId].push(ghosts.length - 1);
        ghostLocks += lock;
        ghostLocked[who] += lock;
    }

    function cancel(uint256 seed) external {
        if (ghosts.length == 0) return;
        Ghost storage g = ghosts[seed % ghosts.length];
        if (!g.open || _now() >= market.gateClosure(g.order.intervalId)) return;
        vm.prank(g.order.owner);
        market.cancelOrder(g.order);
        g.open = false;
        ghostLocks -= _lockOf(g.order);
        ghostLocked[g.order.owner] -= _lockOf(g.order);
    }

    function warp(uint256 secondsAhead) external {
        vm.warp(_now() + bound(secondsAhead, 1, 900));
    }

    /// @dev Past meter deadlines, grace periods and committee delays.
    function warpFar(uint256 secondsAhead) external {
        vm.warp(_now() + bound(secondsAhead, 1 hours, 9 days));
    }

    /* ACTIONS: SCHEDULE AND FILLS */

    /// @dev Commits the schedule of the next interval with orders (within three), jumping to its gate closure if it
    /// is not there yet (the committee reports as soon as the window opens): zone 0 at `p0`, between the lowest ask
    /// and the highest bid when they cross, zone 1 at `p0` plus a congestion premium; sellers deliver up to `lossBps`
    /// more than buyers receive (line losses), within what the buyers pay (budget-balanced by construction).
    function commit(uint256 priceSeed, uint256 premiumSeed, uint256 lossSeed, uint256 fillSeed) external {
        uint64 intervalId = _currentInterval() + 1;
        if (_now() >= market.scheduleDeadline(intervalId)) ++intervalId;
        for (uint256 k; k < 2 && _ordersOf[intervalId].length == 0; ++k) ++intervalId;
        uint256 opensAt = market.gateClosure(intervalId);
        if (_now() < opensAt) vm.warp(opensAt);
        if (market.intervalState(intervalId).scheduled) return;
        uint256[] memory prices = new uint256[](2);
        (uint256 lowestAsk, uint256 highestBid) = _spread(intervalId);
        prices[0] =
            lowestAsk <= highestBid
                ? bound(priceSeed, lowestAsk, highestBid)
                : bound(priceSeed, 1, 1_000_000);
        prices[1] = prices[0] + bound(premiumSeed, 0, prices[0] / 2);
        (bytes32 root, uint256 n) = _schedule(
            intervalId,
            prices,
            bound(lossSeed, 0, 3000),
            bound(fillSeed, 0, 100)
        );
        _submit(intervalId, root, n, prices);
    }

    /// @dev The lowest ask and the highest bid of the interval's open zone-0 orders in their owners' zone.
    function _spread(uint64 intervalId) internal view returns (uint256 lowestAsk, uint256 highestBid) {
        lowestAsk = type(uint256).max;
        uint256[] storage ids = _ordersOf[intervalId];
        for (uint256 i; i < ids.length; ++i) {
            Ghost storage g = ghosts[ids[i]];
            if (!g.open || g.order.zoneId != 0 || _zoneOf[g.order.owner] != 0) continue;
            uint256 limit = g.order.limitPricePerKwh;
            if (g.order.side == IEnergyMarket.Side.Sell && limit < lowestAsk) lowestAsk = limit;
            if (g.order.side == IEnergyMarket.Side.Buy && limit > highestBid) highestBid = limit;
        }
    }

    function _eligible(Ghost storage g, uint256[] memory prices) internal view returns (bool) {
        // The solver's rule: an order outside its owner's registered zone gets a zero fill.
        if (g.order.zoneId != _zoneOf[g.order.owner]) return false;
        uint256 price = prices[g.order.zoneId];
        return
            g.order.side == IEnergyMarket.Side.Buy
                ? g.order.limitPricePerKwh >= price
                : g.order.limitPricePerKwh <= price;
    }

    function _schedule(
        uint64 intervalId,
        uint256[] memory prices,
        uint256 lossBps,
        uint256 fillPct
    ) internal returns (bytes32 root, uint256 n) {
        (uint256 bought, uint256 budget) = _fillBuys(
            intervalId,
            prices,
            (_matchable(intervalId, prices) * fillPct) / 100
        );
        budget = _fillSells(intervalId, prices, bought + (bought * lossBps) / 10_000, budget);
        _scheduleFlex(intervalId, prices, budget, fillPct);
        n = _leafOrders[intervalId].length + _flexSteps[intervalId].length;
        root = n == 0 ? bytes32(0) : Merkle.root(_leaves(intervalId));
    }

    /// @dev min(eligible buy quantity, eligible sell quantity).
    function _matchable(uint64 intervalId, uint256[] memory prices) internal view returns (uint256) {
        uint256[] storage ids = _ordersOf[intervalId];
        uint256 buyable;
        uint256 sellable;
        for (uint256 i; i < ids.length; ++i) {
            Ghost storage g = ghosts[ids[i]];
            if (!g.open || !_eligible(g, prices)) continue;
            if (g.order.side == IEnergyMarket.Side.Buy) buyable += g.order.quantityWh;
            else sellable += g.order.quantityWh;
        }
        return buyable < sellable ? buyable : sellable;
    }

    /// @dev Fills eligible bids up to `buyLeft`; returns the energy bought and Σ price × energy (the most the sell
    /// fills may be worth).
    function _fillBuys(
        uint64 intervalId,
        uint256[] memory prices,
        uint256 buyLeft
    ) internal returns (uint256 bought, uint256 budget) {
        uint256[] storage ids = _ordersOf[intervalId];
        for (uint256 i; i < ids.length; ++i) {
            Ghost storage g = ghosts[ids[i]];
            if (!g.open || g.order.side != IEnergyMarket.Side.Buy) continue;
            uint256 fill;
            if (_eligible(g, prices)) {
                fill = buyLeft < g.order.quantityWh ? buyLeft : g.order.quantityWh;
                buyLeft -= fill;
                bought += fill;
                budget += prices[g.order.zoneId] * fill;
            }
            g.filledWh = uint64(fill);
        }
    }

    /// @dev Fills eligible offers up to `sellLeft` (bought plus losses) within `budget`, and lists every open order
    /// as a leaf (cancelled orders get none).
    function _fillSells(
        uint64 intervalId,
        uint256[] memory prices,
        uint256 sellLeft,
        uint256 budget
    ) internal returns (uint256) {
        uint256[] storage ids = _ordersOf[intervalId];
        delete _leafOrders[intervalId];
        for (uint256 i; i < ids.length; ++i) {
            Ghost storage g = ghosts[ids[i]];
            if (!g.open) continue;
            if (g.order.side == IEnergyMarket.Side.Sell) {
                uint256 fill;
                if (_eligible(g, prices)) {
                    uint256 price = prices[g.order.zoneId];
                    fill = sellLeft < g.order.quantityWh ? sellLeft : g.order.quantityWh;
                    if (fill * price > budget) fill = budget / price;
                    sellLeft -= fill;
                    budget -= fill * price;
                }
                g.filledWh = uint64(fill);
            }
            g.scheduled = true;
            _leafOrders[intervalId].push(ids[i]);
        }
        return budget;
    }

    /// @dev One step leaf per flexibility order active in the interval: by `seed`, idle, a charge within the
    /// order's price limit and budget, or a discharge within its limit and the interval's `budget` left (price × Wh).
    function _scheduleFlex(
        uint64 intervalId,
        uint256[] memory prices,
        uint256 budget,
        uint256 seed
    ) internal {
        delete _flexSteps[intervalId];
        for (uint256 k; k < _flexGhosts.length; ++k) {
            FlexGhost storage g = _flexGhosts[k];
            if (intervalId < g.order.firstInterval || intervalId > g.end) continue;
            uint256 price = prices[_batteryZone[g.order.batteryId]];
            uint256 mode = uint256(keccak256(abi.encode(seed, k, intervalId))) % 3;
            IFlexibilityMarket.FlexStep memory step = IFlexibilityMarket.FlexStep(
                g.order,
                IFlexibilityMarket.Direction.Charge,
                0
            );
            if (mode == 1 && price <= g.order.maxChargePricePerKwh) {
                uint256 room = g.order.chargeBudget - g.committedSpend;
                uint256 e = price == 0 ? 1000 : (room * 1000) / price;
                if (e > 1000) e = 1000;
                step.energyWh = uint64(e);
                g.committedSpend += SettlementMath.costUp(price, e);
            } else if (mode == 2 && price != 0 && price >= g.order.minDischargePricePerKwh) {
                uint256 e = budget / price;
                if (e > 1000) e = 1000;
                budget -= e * price;
                step.direction = IFlexibilityMarket.Direction.Discharge;
                step.energyWh = uint64(e);
                if (e == 0) step.direction = IFlexibilityMarket.Direction.Charge;
            }
            _flexSteps[intervalId].push(step);
        }
        _flexScheduled[intervalId] = true;
    }

    function _sigs(bytes32 digest) internal view returns (bytes memory sigs) {
        for (uint256 i; i < _threshold; ++i) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[_active[i]], digest);
            sigs = bytes.concat(sigs, abi.encodePacked(r, s, v));
        }
    }

    function _submit(uint64 intervalId, bytes32 root, uint256 n, uint256[] memory prices) internal {
        IEnergyMarket.ScheduleReport memory report = IEnergyMarket.ScheduleReport(
            address(market),
            intervalId,
            committee.epoch(),
            market.ordersDigest(intervalId),
            root,
            uint32(n),
            prices
        );
        market.commitSchedule(report, _sigs(market.hashScheduleReport(report)));
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
        if (leafOrders.length == 0 || _now() >= market.meterDeadline(intervalId)) return;
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

    /// @dev Settles the whole tree of one interval in one multiproof batch; entries settled in front are skipped,
    /// and every owner's balance and withheld payout move by exactly its fills' result, whichever were settled
    /// before.
    function settleBatch(uint256 intervalSeed) external {
        if (committedIntervals.length == 0) return;
        uint64 intervalId = committedIntervals[intervalSeed % committedIntervals.length];
        uint256[] storage leafOrders = _leafOrders[intervalId];
        uint256 n = leafOrders.length;
        if (n == 0 || _now() >= market.meterDeadline(intervalId)) return;
        IEnergyMarket.Fill[] memory fills = new IEnergyMarket.Fill[](n);
        int256[] memory expected = new int256[](actors.length);
        int256[] memory before = new int256[](actors.length);
        for (uint256 a; a < actors.length; ++a) before[a] = int256(market.balanceOf(actors[a]));
        for (uint256 j; j < n; ++j) {
            Ghost storage g = ghosts[leafOrders[j]];
            fills[j] = IEnergyMarket.Fill(g.order, g.filledWh);
            if (!g.settled) expected[_actorIndex(g.order.owner)] += int256(_creditOf(intervalId, g));
        }
        (bytes32[] memory proof, bool[] memory flags) = Merkle.multiProof(_leaves(intervalId), _range(0, n));
        market.settleFills(intervalId, _rootOf[intervalId], _pricesOf[intervalId], fills, proof, flags);
        for (uint256 a; a < actors.length; ++a) {
            if (int256(market.balanceOf(actors[a])) - before[a] != expected[a]) ++fillResultMismatches;
        }
        for (uint256 j; j < n; ++j) {
            Ghost storage g = ghosts[leafOrders[j]];
            if (!g.settled) _recordSettled(intervalId, g);
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
        if (credit != _creditOf(intervalId, g)) ++fillResultMismatches;
        if (g.order.side == IEnergyMarket.Side.Buy) {
            uint256 charged = _lockOf(g.order) - credit - _keptCollateral(g);
            if (charged > SettlementMath.costUp(g.order.limitPricePerKwh, g.filledWh)) ++irrationalFills;
        } else {
            // Paid at once (grid account) or withheld until the delivery is settled.
            uint256 payout =
                _isGrid[g.order.owner]
                    ? credit + _keptCollateral(g) - _lockOf(g.order)
                    : market.pendingPayout(g.order.owner, intervalId);
            if (payout < SettlementMath.costDown(g.order.limitPricePerKwh, g.filledWh)) ++irrationalFills;
        }
        _recordSettled(intervalId, g);
    }

    /// @dev The seller's payout of a fill: price × energy, rounded down.
    function _payoutOf(uint64 intervalId, Ghost storage g) internal view returns (uint256) {
        if (g.order.side == IEnergyMarket.Side.Buy || g.filledWh == 0) return 0;
        return SettlementMath.costDown(_pricesOf[intervalId][g.order.zoneId], g.filledWh);
    }

    /// @dev The imbalance collateral a settled fill keeps locked: the filled part's (none for the grid's account).
    function _keptCollateral(Ghost storage g) internal view returns (uint256) {
        return _isGrid[g.order.owner] ? 0 : SettlementMath.costUp(collateralPerKwh, g.filledWh);
    }

    /// @dev The free-balance credit a fill's settlement must give: the lock minus the charge and the kept collateral
    /// (buyer), or the collateral of the unfilled part, plus the payout for the grid's account only (seller).
    function _creditOf(uint64 intervalId, Ghost storage g) internal view returns (uint256) {
        uint256 unlocked = _lockOf(g.order) - _keptCollateral(g);
        if (g.order.side == IEnergyMarket.Side.Buy) {
            if (g.filledWh == 0) return unlocked;
            return unlocked - SettlementMath.costUp(_pricesOf[intervalId][g.order.zoneId], g.filledWh);
        }
        return _isGrid[g.order.owner] ? unlocked + _payoutOf(intervalId, g) : unlocked;
    }

    /// @dev Books a settled fill: its order lock leaves, its delivery lock (kept collateral and withheld payout)
    /// stays until the participant's delivery is settled or released.
    function _recordSettled(uint64 intervalId, Ghost storage g) internal {
        g.settled = true;
        g.open = false;
        address owner = g.order.owner;
        uint256 kept = _keptCollateral(g);
        if (g.order.side == IEnergyMarket.Side.Buy) {
            boughtWh[intervalId][owner] += g.filledWh;
        } else {
            _soldWh[intervalId][owner] += g.filledWh;
            uint256 withheld = _isGrid[owner] ? 0 : _payoutOf(intervalId, g);
            if (market.pendingPayout(owner, intervalId) != withheld) ++fillResultMismatches;
            kept += withheld;
            _withheldPayout[intervalId][owner] += withheld;
            ghostPayouts += withheld;
        }
        ghostLocks = ghostLocks - _lockOf(g.order) + kept;
        ghostLocked[owner] = ghostLocked[owner] - _lockOf(g.order) + kept;
        deliveryLock[intervalId][owner] += kept;
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

    /* ACTIONS: METERING, IMBALANCES, RELEASES, CERTIFICATES */

    /// @dev Commits a meter report for a scheduled interval in its meter window (paused or not): every prosumer gets
    /// a leaf around its schedule, except those `omitMask` drops (a lost leaf); the grid's account gets none.
    function meter(uint256 intervalSeed, uint256 omitMask, uint256 energySeed) external {
        if (committedIntervals.length == 0) return;
        _meter(committedIntervals[intervalSeed % committedIntervals.length], omitMask, energySeed);
    }

    /// @dev The imbalance prices are drawn anywhere in the bounds the registry accepts for netted prices, with the
    /// zones' registered tariffs: zone price <= short <= max(retail, zone price), min(feed-in, zone price) <= long
    /// <= zone price (every netting of the zone's deviations lies there; the grid's tariffs are one end).
    function _meter(uint64 intervalId, uint256 omitMask, uint256 energySeed) internal {
        if (_metered[intervalId]) return;
        if (_now() < uint256(intervalId + 1) * 900 || _now() >= market.meterDeadline(intervalId)) return;
        delete _meterEntries[intervalId];
        for (uint256 a; a < actors.length; ++a) {
            if (_isGrid[actors[a]]) continue;
            if ((omitMask >> a) & 1 == 1 && a != 0) continue; // actor 0 always listed: the tree is never empty
            uint256 seed = uint256(keccak256(abi.encode(energySeed, a)));
            _meterEntries[intervalId].push(
                IEnergyMarket.MeterEntry(
                    actors[a],
                    uint64(bound(seed & 0xffffffff, 0, _scheduledSold(intervalId, actors[a]) * 2 + 1000)),
                    uint64(bound(seed >> 128, 0, _scheduledBought(intervalId, actors[a]) * 2 + 1000))
                )
            );
        }
        uint256[] memory prices = _pricesOf[intervalId];
        uint256[] memory shorts = new uint256[](prices.length);
        uint256[] memory longs = new uint256[](prices.length);
        for (uint256 z; z < prices.length; ++z) {
            IGridRegistry.ZoneGrid memory grid = registry.zoneGrid(uint32(z));
            uint256 maxShort = prices[z] > grid.retailPerKwh ? prices[z] : grid.retailPerKwh;
            uint256 minLong = prices[z] < grid.feedInPerKwh ? prices[z] : grid.feedInPerKwh;
            uint256 priceSeed = uint256(keccak256(abi.encode(energySeed, "prices", z)));
            shorts[z] = bound(priceSeed & type(uint128).max, prices[z], maxShort);
            longs[z] = bound(priceSeed >> 128, minLong, prices[z]);
        }
        IEnergyMarket.MeterReport memory report = IEnergyMarket.MeterReport(
            address(market),
            intervalId,
            committee.epoch(),
            Merkle.root(_meterLeaves(intervalId)),
            _rootOf[intervalId],
            prices,
            shorts,
            longs,
            new uint256[](prices.length)
        );
        market.commitMeterReport(report, _sigs(market.hashMeterReport(report)));
        _metered[intervalId] = true;
        ++meterReports;
    }

    function settleImbalance(uint256 intervalSeed, uint256 entrySeed) external {
        uint64 intervalId = _meteredReady(intervalSeed);
        if (intervalId != 0) _settleEntry(intervalId, entrySeed);
    }

    /// @dev Delivers an interval in one step, so that this path does not need deep call sequences to be reached:
    /// jumps to the interval's end if it has not ended, settles its remaining fills (buyers first) and commits its
    /// meter report if needed, then settles one entry's imbalance.
    function settleImbalanceOf(uint256 intervalSeed, uint256 entrySeed, uint256 energySeed) external {
        if (committedIntervals.length == 0) return;
        uint64 intervalId = committedIntervals[intervalSeed % committedIntervals.length];
        if (_now() < market.meterDeadline(intervalId)) {
            uint256 end = uint256(intervalId + 1) * 900;
            if (_now() < end) vm.warp(end);
            uint256[] storage leafOrders = _leafOrders[intervalId];
            for (uint256 pass; pass < 2; ++pass) {
                for (uint256 j; j < leafOrders.length; ++j) {
                    Ghost storage g = ghosts[leafOrders[j]];
                    if (!g.settled && (g.order.side == IEnergyMarket.Side.Buy) == (pass == 0))
                        _settle(intervalId, j);
                }
            }
            if (_nextFlexInterval() == intervalId && _flexScheduled[intervalId]) _settleFlex(intervalId);
            _meter(intervalId, 0, energySeed);
        }
        intervalId = _meteredReady(intervalSeed);
        if (intervalId != 0) _settleEntry(intervalId, entrySeed);
    }

    function _settleEntry(uint64 intervalId, uint256 entrySeed) internal {
        IEnergyMarket.MeterEntry[] storage entries = _meterEntries[intervalId];
        uint256 k = entrySeed % entries.length;
        IEnergyMarket.MeterEntry memory e = entries[k];
        if (market.imbalanceSettled(e.participant, intervalId)) return;
        uint256 before = market.balanceOf(e.participant);
        uint256 owedBefore = market.imbalanceOwed(e.participant);
        market.settleImbalance(
            e.participant,
            intervalId,
            e.injectedWh,
            e.consumedWh,
            Merkle.proof(_meterLeaves(intervalId), k)
        );
        _recordImbalance(
            intervalId,
            e,
            market.balanceOf(e.participant) - before,
            market.imbalanceOwed(e.participant) - owedBefore
        );
    }

    /// @dev The whole meter tree in one batch; participants settled in front (or released) are skipped.
    function settleImbalanceBatch(uint256 intervalSeed) external {
        uint64 intervalId = _meteredReady(intervalSeed);
        if (intervalId == 0) return;
        IEnergyMarket.MeterEntry[] memory entries = _meterEntries[intervalId];
        bool[] memory settledBefore = new bool[](entries.length);
        uint256[] memory balanceBefore = new uint256[](entries.length);
        uint256[] memory owedBefore = new uint256[](entries.length);
        for (uint256 k; k < entries.length; ++k) {
            settledBefore[k] = market.imbalanceSettled(entries[k].participant, intervalId);
            balanceBefore[k] = market.balanceOf(entries[k].participant);
            owedBefore[k] = market.imbalanceOwed(entries[k].participant);
        }
        market.settleImbalances(intervalId, entries, new bytes32[](0), Merkle.allLeavesFlags(entries.length));
        for (uint256 k; k < entries.length; ++k) {
            if (settledBefore[k]) {
                if (market.balanceOf(entries[k].participant) != balanceBefore[k]) ++imbalanceMismatches;
                continue;
            }
            _recordImbalance(
                intervalId,
                entries[k],
                market.balanceOf(entries[k].participant) - balanceBefore[k],
                market.imbalanceOwed(entries[k].participant) - owedBefore[k]
            );
        }
    }

    /// @dev A metered interval whose orders are all closed (settled or released), or 0.
    function _meteredReady(uint256 intervalSeed) internal view returns (uint64) {
        if (committedIntervals.length == 0) return 0;
        uint64 intervalId = committedIntervals[intervalSeed % committedIntervals.length];
        if (!_metered[intervalId]) return 0;
        uint256[] storage ids = _ordersOf[intervalId];
        for (uint256 i; i < ids.length; ++i) if (ghosts[ids[i]].open) return 0;
        return intervalId;
    }

    /// @dev Checks a delivery's settlement against the rule: the participant gets its delivery lock back, net of a
    /// short charge at its zone's short price that reaches no further than the lock, or plus a long payment at its
    /// zone's long price, paid now or owed. Then books it: the lock leaves, renewable energy sold and injected at the
    /// source of delivery time enters the certificate limit.
    function _recordImbalance(
        uint64 intervalId,
        IEnergyMarket.MeterEntry memory e,
        uint256 credit,
        uint256 owedNow
    ) internal {
        address who = e.participant;
        uint256 locked = deliveryLock[intervalId][who];
        uint256 sold = _soldWh[intervalId][who];
        uint256 bought = boughtWh[intervalId][who];
        // A seller that injected nothing must not get back more than its collateral (the payout covers the charge).
        if (
            sold != 0 &&
            e.injectedWh == 0 &&
            bought == 0 &&
            flex.scheduledNetWh(who, intervalId) == 0 &&
            credit > SettlementMath.costUp(collateralPerKwh, sold)
        ) ++nonDeliveringGains;
        IEnergyMarket.ImbalancePrices memory prices = market.imbalancePrices(intervalId, _zoneOf[who]);
        int256 deviation =
            int256(uint256(e.injectedWh)) -
                int256(uint256(e.consumedWh)) -
                int256(sold) +
                int256(bought) -
                flex.scheduledNetWh(who, intervalId);
        if (deviation < 0) {
            uint256 charge = SettlementMath.costUp(prices.shortPricePerKwh, uint256(-deviation));
            uint256 charged = charge < locked ? charge : locked;
            if (credit != locked - charged || owedNow != 0) ++imbalanceMismatches;
        } else if (deviation > 0) {
            uint256 payment = SettlementMath.costDown(prices.longPricePerKwh, uint256(deviation));
            if (credit < locked || credit - locked + owedNow != payment) ++imbalanceMismatches;
            else {
                longDue += payment;
                longPaid += credit - locked;
            }
        } else if (credit != locked || owedNow != 0) {
            ++imbalanceMismatches;
        }
        _releaseLock(intervalId, who);
        IGridRegistry.Source source = registry.sourceAt(who, uint256(intervalId) * 900);
        if (
            source == IGridRegistry.Source.Solar ||
            source == IGridRegistry.Source.Wind ||
            source == IGridRegistry.Source.Hydro
        ) {
            renewableWh[intervalId][uint8(source)] += sold < e.injectedWh ? sold : e.injectedWh;
        }
        ++imbalancesSettled;
    }

    function _releaseLock(uint64 intervalId, address who) internal {
        ghostLocks -= deliveryLock[intervalId][who];
        ghostLocked[who] -= deliveryLock[intervalId][who];
        ghostPayouts -= _withheldPayout[intervalId][who];
        delete deliveryLock[intervalId][who];
        delete _withheldPayout[intervalId][who];
    }

    /// @dev Releases an open order once its interval is past its release deadline (the committee did not schedule
    /// it, or nobody settled its fill in time): it must succeed.
    function releaseOrder(uint256 seed) external {
        if (ghosts.length == 0) return;
        Ghost storage g = ghosts[seed % ghosts.length];
        if (!g.open) return;
        uint64 intervalId = g.order.intervalId;
        uint256 deadline =
            market.intervalState(intervalId).scheduled
                ? market.meterDeadline(intervalId)
                : market.scheduleDeadline(intervalId);
        if (_now() < deadline) return;
        try market.releaseOrder(g.order) {
            g.open = false;
            ghostLocks -= _lockOf(g.order);
            ghostLocked[g.order.owner] -= _lockOf(g.order);
        } catch {
            ++stuckLocks;
        }
    }

    /// @dev Releases a participant's delivery locks (collateral of its settled fills, withheld payout) once past
    /// their bound (meter deadline, jumped to when unmetered; plus the grace period when metered): it must succeed whether or not the
    /// participant has a leaf, and return exactly the lock (an unmetered delivery counts as done).
    function releaseCollateral(uint256 intervalSeed, uint256 actorSeed) external {
        uint256 n = committedIntervals.length;
        if (n == 0) return;
        // The first (interval, actor) from the seeds on that holds a delivery lock.
        uint64 intervalId;
        address who;
        uint256 locked;
        for (uint256 i; i < n * actors.length && locked == 0; ++i) {
            intervalId = committedIntervals[(intervalSeed + i / actors.length) % n];
            who = actors[(actorSeed + i) % actors.length];
            locked = deliveryLock[intervalId][who];
        }
        if (locked == 0) return;
        uint256 bound_ = market.meterDeadline(intervalId);
        if (_metered[intervalId]) {
            bound_ += market.COLLATERAL_GRACE_SECONDS();
            if (_now() < bound_) return;
        } else if (_now() < bound_) {
            // The committee stops reporting: time runs on to the meter deadline.
            vm.warp(bound_);
        }
        // An unsettled order of the same participant would make the release revert: release those first.
        if (_hasOpenOrder(intervalId, who)) return;
        uint256 before = market.balanceOf(who);
        try market.releaseCollateral(who, intervalId) {
            if (market.balanceOf(who) - before != locked) ++releaseMismatches;
            _releaseLock(intervalId, who);
            ++collateralReleases;
        } catch {
            ++stuckLocks;
        }
    }

    /// @dev Claims what is owed for long imbalances to the first actor from `actorSeed` on that is owed anything, as
    /// far as the operator funds go; with no funds, the operator first tops them up by `topUp`.
    function claimOwed(uint256 actorSeed, uint256 topUp) external {
        address who;
        uint256 owed;
        for (uint256 i; i < actors.length && owed == 0; ++i) {
            who = actors[(actorSeed + i) % actors.length];
            owed = market.imbalanceOwed(who);
        }
        if (owed == 0) return;
        if (market.operatorFunds() == 0) _fundOperator(topUp);
        uint256 funds = market.operatorFunds();
        uint256 before = market.balanceOf(who);
        market.claimImbalancePayment(who);
        uint256 paid = market.balanceOf(who) - before;
        if (paid != (owed < funds ? owed : funds)) ++imbalanceMismatches;
        longPaid += paid;
        ++owedClaims;
    }

    function claim(uint256 intervalSeed, uint256 actorSeed, uint256 sourceSeed) external {
        if (committedIntervals.length == 0) return;
        uint64 intervalId = committedIntervals[intervalSeed % committedIntervals.length];
        address who = actors[actorSeed % actors.length];
        IGridRegistry.Source source = IGridRegistry.Source(1 + (sourceSeed % 3));
        try market.claimCertificates(who, intervalId, source) {} catch {}
    }

    /* ACTIONS: FLEXIBILITY */

    function placeFlex(
        uint256 ownerSeed,
        uint256 ahead,
        uint256 len,
        uint256 budget,
        uint256 limits
    ) external {
        bool isBob = ownerSeed % 2 == 0;
        address who = actors[isBob ? 1 : 3];
        uint32 batteryId = isBob ? 0 : 1;
        uint64 first = flex.firstOpenInterval() + uint64(bound(ahead, 0, 3));
        IFlexibilityMarket.FlexOrder memory o = IFlexibilityMarket.FlexOrder(
            who,
            batteryId,
            first,
            first + uint64(bound(len, 0, 3)),
            uint128(bound(limits & 0xffffffff, 0, 1_000_000)),
            uint128(bound(limits >> 128, 0, 1_000_000)),
            uint128(bound(budget, 0, 10e6)),
            5000,
            uint64(_flexGhosts.length)
        );
        token.mint(who, o.chargeBudget);
        vm.startPrank(who);
        token.approve(address(flex), o.chargeBudget);
        try flex.placeFlexOrder(o) {
            _flexGhosts.push(FlexGhost(o, o.lastInterval, 0, false));
        } catch {}
        vm.stopPrank();
    }

    function cancelFlex(uint256 seed) external {
        if (_flexGhosts.length == 0) return;
        FlexGhost storage g = _flexGhosts[seed % _flexGhosts.length];
        vm.prank(g.order.owner);
        try flex.cancelFlexOrder(g.order) {
            g.end = flex.orderState(flex.hashFlexOrder(g.order)).endInterval;
        } catch {}
    }

    /// @dev Settles the flexibility steps of the next interval with active orders (its buyers first, so a discharge
    /// is paid from their receipts), or closes it as missed once past its meter deadline.
    function settleFlex() external {
        uint64 intervalId = _nextFlexInterval();
        if (intervalId == type(uint64).max) return;
        if (_now() >= market.meterDeadline(intervalId)) {
            flex.closeMissedInterval(intervalId);
            ++flexMissed;
        } else if (_flexScheduled[intervalId]) {
            _settleFlex(intervalId);
        }
    }

    function _settleFlex(uint64 intervalId) internal {
        uint256[] storage leafOrders = _leafOrders[intervalId];
        for (uint256 j; j < leafOrders.length; ++j) {
            Ghost storage g = ghosts[leafOrders[j]];
            if (g.order.side == IEnergyMarket.Side.Buy && !g.settled) _settle(intervalId, j);
        }
        IFlexibilityMarket.FlexStep[] memory steps = _flexSteps[intervalId];
        uint256 nf = leafOrders.length;
        (bytes32[] memory proof, bool[] memory flags) = Merkle.multiProof(
            _leaves(intervalId),
            _range(nf, nf + steps.length)
        );
        uint256[] memory before = new uint256[](steps.length);
        for (uint256 k; k < steps.length; ++k) before[k] = flex.balanceOf(steps[k].order.owner);
        flex.settleFlexSteps(intervalId, _rootOf[intervalId], _pricesOf[intervalId], steps, proof, flags);
        for (uint256 k; k < steps.length; ++k) {
            // Each owner has one battery, so its balance moves by its own step's payout only.
            uint256 expected =
                steps[k].direction == IFlexibilityMarket.Direction.Discharge
                    ? SettlementMath.costDown(
                        _pricesOf[intervalId][_batteryZone[steps[k].order.batteryId]],
                        steps[k].energyWh
                    )
                    : 0;
            if (flex.balanceOf(steps[k].order.owner) - before[k] != expected) ++flexMismatches;
        }
        flexStepsSettled += steps.length;
    }

    /// @dev Refunds an order once its last active interval is settled or missed (it must succeed then).
    function refundFlex(uint256 seed) external {
        if (_flexGhosts.length == 0) return;
        FlexGhost storage g = _flexGhosts[seed % _flexGhosts.length];
        if (g.refunded) return;
        bool due = g.end < g.order.firstInterval || flex.nextInterval() > g.end;
        try flex.refundFlexFunds(g.order) {
            g.refunded = true;
            ++flexRefunds;
        } catch {
            if (due) ++flexStuck;
        }
    }

    function withdrawFlex(uint256 ownerSeed, uint256 amount) external {
        address who = actors[ownerSeed % 2 == 0 ? 1 : 3];
        uint256 balance = flex.balanceOf(who);
        if (balance == 0) return;
        vm.prank(who);
        flex.withdraw(bound(amount, 1, balance), who);
    }

    /// @dev The first interval from the cursor on in which a ghost order is active, or the uint64 maximum.
    function _nextFlexInterval() internal view returns (uint64 next) {
        next = type(uint64).max;
        uint64 cursor = flex.nextInterval();
        for (uint256 k; k < _flexGhosts.length; ++k) {
            FlexGhost storage g = _flexGhosts[k];
            if (g.end < g.order.firstInterval || g.end < cursor) continue;
            uint64 from = g.order.firstInterval > cursor ? g.order.firstInterval : cursor;
            if (from < next) next = from;
        }
    }

    /* ACTIONS: COMMITTEE */

    /// @dev Proposes a strict-majority committee of a non-empty subset of the five keys.
    function proposeCommittee(uint256 mask, uint256 kSeed) external {
        mask = bound(mask, 1, 31);
        delete _pendingActive;
        address[] memory next = new address[](_popcount(mask));
        uint256 n;
        for (uint256 i; i < keys.length; ++i) {
            if ((mask >> i) & 1 == 1) {
                _pendingActive.push(i);
                next[n++] = memberAddrs[i];
            }
        }
        _pendingThreshold = uint8(bound(kSeed, n / 2 + 1, n));
        vm.prank(admin);
        committee.proposeCommittee(next, _pendingThreshold);
    }

    function executeCommitteeChange() external {
        (, , uint64 executableAt) = committee.pendingCommittee();
        if (executableAt == 0 || _now() < executableAt) return;
        vm.prank(admin);
        committee.executeCommitteeChange();
        _active = _pendingActive;
        _threshold = _pendingThreshold;
    }

    /* HELPERS */

    function _popcount(uint256 x) internal pure returns (uint256 c) {
        for (; x != 0; x >>= 1) c += x & 1;
    }

    function _actorIndex(address who) internal view returns (uint256) {
        for (uint256 a; a < actors.length; ++a) if (actors[a] == who) return a;
        revert("unknown actor");
    }

    function _hasOpenOrder(uint64 intervalId, address who) internal view returns (bool) {
        uint256[] storage ids = _ordersOf[intervalId];
        for (uint256 i; i < ids.length; ++i) {
            Ghost storage g = ghosts[ids[i]];
            if (g.open && g.order.owner == who) return true;
        }
        return false;
    }

    function _scheduledSold(uint64 intervalId, address who) internal view returns (uint256 wh) {
        uint256[] storage ids = _leafOrders[intervalId];
        for (uint256 i; i < ids.length; ++i) {
            Ghost storage g = ghosts[ids[i]];
            if (g.order.owner == who && g.order.side == IEnergyMarket.Side.Sell) wh += g.filledWh;
        }
    }

    function _scheduledBought(uint64 intervalId, address who) internal view returns (uint256 wh) {
        uint256[] storage ids = _leafOrders[intervalId];
        for (uint256 i; i < ids.length; ++i) {
            Ghost storage g = ghosts[ids[i]];
            if (g.order.owner == who && g.order.side == IEnergyMarket.Side.Buy) wh += g.filledWh;
        }
    }

    function _meterLeaves(uint64 intervalId) internal view returns (bytes32[] memory leaves) {
        IEnergyMarket.MeterEntry[] storage entries = _meterEntries[intervalId];
        leaves = new bytes32[](entries.length);
        for (uint256 k; k < entries.length; ++k) {
            leaves[k] = keccak256(
                bytes.concat(
                    keccak256(
                        abi.encode(entries[k].participant, entries[k].injectedWh, entries[k].consumedWh)
                    )
                )
            );
        }
    }

    /// @dev The schedule tree's leaves: the fills in `_leafOrders` order, then the flexibility steps.
    function _leaves(uint64 intervalId) internal view returns (bytes32[] memory leaves) {
        uint256[] storage leafOrders = _leafOrders[intervalId];
        IFlexibilityMarket.FlexStep[] storage steps = _flexSteps[intervalId];
        uint256 nf = leafOrders.length;
        leaves = new bytes32[](nf + steps.length);
        for (uint256 j; j < nf; ++j) {
            Ghost storage g = ghosts[leafOrders[j]];
            leaves[j] = keccak256(bytes.concat(keccak256(abi.encode(market.hashOrder(g.order), g.filledWh))));
        }
        for (uint256 j; j < steps.length; ++j) {
            bytes32 key = flex.flexStepKey(flex.hashFlexOrder(steps[j].order), steps[j].direction);
            leaves[nf + j] = keccak256(bytes.concat(keccak256(abi.encode(key, steps[j].energyWh))));
        }
    }

    function _range(uint256 from, uint256 to) internal pure returns (uint256[] memory ks) {
        ks = new uint256[](to - from);
        for (uint256 k; k < ks.length; ++k) ks[k] = from + k;
    }

    function _lockOf(IEnergyMarket.Order memory o) internal view returns (uint256) {
        // Both sides lock the imbalance collateral; a bid also locks its highest payment.
        uint256 collateral = SettlementMath.costUp(collateralPerKwh, o.quantityWh);
        return
            o.side == IEnergyMarket.Side.Buy
                ? SettlementMath.costUp(o.limitPricePerKwh, o.quantityWh) + collateral
                : collateral;
    }
}

contract EnergyMarketInvariantTest is MarketBase {
    MarketHandler internal handler;

    function setUp() public override {
        super.setUp();
        address[] memory actors = new address[](5);
        actors[0] = alice;
        actors[1] = bob;
        actors[2] = carol;
        actors[3] = dave;
        actors[4] = gridNorth;
        _fund(gridNorth, 1_000e6);
        handler = new MarketHandler(
            market,
            token,
            committee,
            certificate,
            admin,
            operator,
            memberKeys,
            memberAddrs,
            actors
        );
        // Flexibility: bob's battery in zone 0, dave's in zone 1 (ids 0 and 1).
        FlexibilityMarket flex = new FlexibilityMarket(market, registry, token);
        vm.prank(admin);
        market.setFlexibilityMarket(address(flex));
        vm.startPrank(operator);
        registry.registerBattery(IGridRegistry.Battery(bob, 0, 10_000, 4000, 4000, 9000, 9000, 0, 10_000));
        registry.registerBattery(IGridRegistry.Battery(dave, 1, 10_000, 4000, 4000, 9000, 9000, 0, 10_000));
        vm.stopPrank();
        handler.setFlex(flex, 0, 1);
        targetContract(address(handler));
    }

    /// @dev The handler reaches every stage (a handler call that reverts is dropped silently by the campaign, so a
    /// broken action would go unnoticed): orders (the grid's account among them) → lossy two-zone schedule → fills
    /// with withheld payouts → meter report with a lost leaf → imbalances → certificates → release after the grace
    /// period → committee change → next interval delivered in one step → owed long payment claimed → unmetered
    /// release. Reads the time with vm.getBlockTimestamp(): under via-IR (production profile) `block.timestamp` is
    /// not re-read after a warp within one function.
    function test_handler_reachesEveryStage() public {
        handler.fundOperator(100e6);
        handler.place(1, 1, false, 0, 3000, 1); // bob offers 3 kWh, zone 0
        handler.place(3, 1, false, 1, 2000, 1); // dave offers 2 kWh, zone 1
        handler.place(0, 1, true, 0, 2500, 1_000_000); // alice bids 2.5 kWh, zone 0
        handler.place(2, 1, true, 1, 1000, 1_000_000); // carol bids 1 kWh, zone 1
        handler.place(4, 1, true, 0, 500, 1_000_000); // the grid's account bids 0.5 kWh, zone 0
        uint64 intervalId = uint64(vm.getBlockTimestamp() / 900) + 1;
        vm.warp(market.gateClosure(intervalId));
        handler.commit(200_000, 50_000, 1000, 100); // 10% losses
        assertEq(handler.committedCount(), 1, "schedule committed");
        handler.settleOne(0, 1);
        handler.settleBatch(0);
        assertEq(handler.settledFills(), 5, "fills settled alone and in a batch");
        assertGt(market.pendingPayout(bob, intervalId), 0, "bob's payout withheld");
        vm.warp(uint256(intervalId + 1) * 900);
        handler.meter(0, 1 << 3, 42); // dave's leaf lost
        assertEq(handler.meterReports(), 1, "metered");
        handler.settleImbalance(0, 1);
        handler.settleImbalanceBatch(0);
        assertEq(handler.imbalancesSettled(), 3, "alice, bob, carol settled");
        assertEq(market.pendingPayout(bob, intervalId), 0, "bob paid at delivery");
        handler.claim(0, 0, 0); // alice, solar
        handler.claim(0, 2, 0); // carol, solar
        uint256 solarId = market.certificateId(intervalId, IGridRegistry.Source.Solar);
        assertGt(
            certificate.balanceOf(alice, solarId) + certificate.balanceOf(carol, solarId),
            0,
            "certified"
        );
        handler.releaseCollateral(0, 3); // dave, before the grace period
        assertEq(handler.collateralReleases(), 0, "not before the grace period");
        vm.warp(market.meterDeadline(intervalId) + market.COLLATERAL_GRACE_SECONDS());
        uint256 locks = handler.ghostLocks();
        handler.releaseCollateral(0, 3); // dave, missing from the tree
        assertLt(handler.ghostLocks(), locks, "dave's collateral and payout released");
        assertEq(market.pendingPayout(dave, intervalId), 0, "dave's payout released");
        handler.proposeCommittee(7, 0); // the first three keys, 2-of-3
        handler.warpFar(2 days);
        handler.executeCommitteeChange();
        assertEq(committee.threshold(), 2, "committee changed");

        // Next interval, delivered in one step by the new committee; long participants are owed what the emptied
        // operator funds cannot pay.
        _drainOperatorFunds();
        handler.place(1, 1, false, 0, 1000, 1);
        handler.place(0, 1, true, 0, 1000, 1_000_000);
        vm.warp(market.gateClosure(uint64(vm.getBlockTimestamp() / 900) + 1));
        handler.commit(100_000, 0, 0, 100);
        assertEq(handler.committedCount(), 2, "the new committee signs");
        handler.settleImbalanceOf(1, 0, 42);
        assertEq(handler.meterReports(), 2, "metered in one step");
        handler.settleImbalanceBatch(1);
        assertEq(handler.imbalancesSettled(), 7, "the four prosumers settled");
        assertGt(market.totalImbalanceOwed(), 0, "a long payment owed");
        handler.fundOperator(100e6);
        for (uint256 a; a < 4; ++a) handler.claimOwed(a, 0);
        assertGt(handler.owedClaims(), 0, "owed long payment claimed");

        // Next interval, never metered: the delivery locks come back at the meter deadline.
        handler.place(1, 1, false, 0, 1000, 1);
        handler.place(0, 1, true, 0, 1000, 1_000_000);
        vm.warp(market.gateClosure(uint64(vm.getBlockTimestamp() / 900) + 1));
        handler.commit(100_000, 0, 0, 100);
        handler.settleBatch(2);
        vm.warp(market.meterDeadline(handler.committedIntervals(2)));
        handler.releaseCollateral(2, 1); // bob: collateral and payout
        handler.releaseCollateral(2, 0); // alice: collateral
        assertEq(handler.collateralReleases(), 3, "released unmetered");
        assertEq(handler.stuckLocks(), 0, "nothing stuck");
        invariant_tokenBalanceEqualsBooks();
        invariant_lockedBalancesMatchBooks();
        invariant_withheldPayoutsMatchBooks();
        invariant_longPaymentsPaidOrOwed();
        invariant_deliveriesSettledByTheRule();
        invariant_noNonDeliveringSellerGains();
        invariant_certificatesWithinEnergyBought();
        invariant_certificatesWithinRenewableSoldAndInjected();
    }

    /// @dev The flexibility actions reach every stage: orders of both batteries, a schedule with their steps,
    /// settlement (buyers first), a missed interval, refunds and a withdrawal.
    function test_handler_reachesFlexStages() public {
        handler.place(0, 1, true, 0, 2000, 1_000_000); // alice bids 2 kWh, zone 0
        handler.place(1, 1, false, 0, 3000, 1); // bob offers 3 kWh, zone 0
        uint64 intervalId = uint64(vm.getBlockTimestamp() / 900) + 1;
        handler.placeFlex(0, 0, 1, 1e6, 0); // bob's battery, two intervals
        handler.placeFlex(1, 0, 0, 1e6, 0); // dave's battery, one interval
        assertEq(handler.flexGhostCount(), 2, "both placed");
        vm.warp(market.gateClosure(intervalId));
        handler.commit(200_000, 50_000, 0, 100);
        assertEq(market.intervalState(intervalId).fillCount, 4, "two fills and two steps");
        handler.settleFlex();
        assertEq(handler.flexStepsSettled(), 2, "both steps settled");
        // The next interval has no market order: never scheduled, so its step is missed.
        vm.warp(market.meterDeadline(intervalId + 1));
        handler.settleFlex();
        assertEq(handler.flexMissed(), 1, "missed");
        handler.refundFlex(0);
        handler.refundFlex(1);
        assertEq(handler.flexRefunds(), 2, "both refunded");
        handler.withdrawFlex(0, type(uint256).max);
        invariant_flexTokensEqualBooks();
        invariant_tokenBalanceEqualsBooks();
        invariant_lockedBalancesMatchBooks();
    }

    /// @dev Invariant: the flexibility market holds exactly its owners' balances (discharge earnings, refunds) and
    /// the unspent budgets of its unrefunded orders; every refund past its bound succeeds; every discharge is
    /// credited price × energy, rounded down.
    function invariant_flexTokensEqualBooks() public view {
        FlexibilityMarket flex = handler.flex();
        uint256 sum;
        for (uint256 i; i < handler.actorCount(); ++i) sum += flex.balanceOf(handler.actor(i));
        for (uint256 k; k < handler.flexGhostCount(); ++k) sum += handler.flexUnspent(k);
        assertEq(token.balanceOf(address(flex)), sum, "flex tokens == balances + unspent budgets");
        assertEq(handler.flexStuck(), 0, "a refund past its bound reverted");
        assertEq(handler.flexMismatches(), 0, "a discharge credited other than price x energy");
    }

    /// @dev Leaves the operator funds empty, so that the next long payment stays owed.
    function _drainOperatorFunds() internal {
        uint256 funds = market.operatorFunds() - market.totalImbalanceOwed();
        if (funds == 0) return;
        vm.prank(operator);
        market.withdrawOperatorFunds(funds, operator);
    }

    /// @dev Invariant: the market's token balance == free balances + locks (open orders, kept collateral, withheld
    /// payouts) + intervals' unsettled surplus + operator funds (which owed long payments are claims on) ==
    /// totalOwed (nothing was sent by mistake here).
    function invariant_tokenBalanceEqualsBooks() public view {
        uint256 sum = market.operatorFunds() + handler.ghostLocks();
        for (uint256 i; i < handler.actorCount(); ++i) sum += market.balanceOf(handler.actor(i));
        for (uint256 i; i < handler.committedCount(); ++i) {
            IEnergyMarket.IntervalState memory s = market.intervalState(handler.committedIntervals(i));
            sum += s.receipts - s.payouts;
        }
        assertEq(token.balanceOf(address(market)), sum, "token balance == books");
        assertEq(market.totalOwed(), sum, "totalOwed == books");
        assertGe(token.balanceOf(address(market)), market.totalOwed(), "the market holds what it owes");
    }

    /// @dev Invariant: every actor's `lockedBalanceOf` is its open orders' locks plus the kept collateral and withheld
    /// payouts of its settled fills whose delivery is neither settled nor released; and the market's token balance is
    /// Σ free + Σ locked (both read from the contract) + the intervals' unsettled surplus + the operator funds. The
    /// owed long payments (`imbalanceOwed`) are not added: they are claims on the operator funds, held in them.
    function invariant_lockedBalancesMatchBooks() public view {
        uint256 sum = market.operatorFunds();
        for (uint256 i; i < handler.actorCount(); ++i) {
            address who = handler.actor(i);
            assertEq(
                market.lockedBalanceOf(who),
                handler.ghostLocked(who),
                "lockedBalanceOf == the actor's locks"
            );
            sum += market.balanceOf(who) + market.lockedBalanceOf(who);
        }
        for (uint256 i; i < handler.committedCount(); ++i) {
            IEnergyMarket.IntervalState memory s = market.intervalState(handler.committedIntervals(i));
            sum += s.receipts - s.payouts;
        }
        assertEq(
            token.balanceOf(address(market)),
            sum,
            "token balance == free + locked + surplus + operator funds"
        );
    }

    /// @dev Invariant: the payouts the market withholds are exactly those of settled sell fills whose delivery is
    /// neither settled nor released.
    function invariant_withheldPayoutsMatchBooks() public view {
        uint256 withheld;
        for (uint256 i; i < handler.committedCount(); ++i) {
            uint64 intervalId = handler.committedIntervals(i);
            for (uint256 a; a < handler.actorCount(); ++a)
                withheld += market.pendingPayout(handler.actor(a), intervalId);
        }
        assertEq(withheld, handler.ghostPayouts(), "withheld payouts == books");
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

    /// @dev Invariant: a fill's result is price × energy (credited, or withheld for a seller), whether settled
    /// alone, in a batch, before or after others.
    function invariant_fillResultsIndependentOfSettleOrder() public view {
        assertEq(
            handler.fillResultMismatches(),
            0,
            "a fill credited or withheld other than its price x energy"
        );
    }

    /// @dev Invariant: a delivery returns its lock net of the rule's short charge, which reaches no further than the
    /// lock, or plus the rule's long payment (paid or owed); a claim pays what is owed as far as the funds go.
    function invariant_deliveriesSettledByTheRule() public view {
        assertEq(handler.imbalanceMismatches(), 0, "a delivery settled other than by the rule");
    }

    function invariant_noNonDeliveringSellerGains() public view {
        assertEq(
            handler.nonDeliveringGains(),
            0,
            "a seller that injected nothing got back more than its collateral"
        );
    }

    /// @dev Invariant: long payments do not depend on who settles first: what is due is paid at once or stays owed.
    function invariant_longPaymentsPaidOrOwed() public view {
        uint256 owed;
        for (uint256 i; i < handler.actorCount(); ++i) owed += market.imbalanceOwed(handler.actor(i));
        assertEq(handler.longDue(), handler.longPaid() + owed, "due == paid + owed");
        assertEq(market.totalImbalanceOwed(), owed, "total owed == sum owed");
    }

    /// @dev Invariant: the grid's account is never settled for imbalance, so it never holds a delivery lock.
    function invariant_gridAccountHoldsNoDeliveryLock() public view {
        for (uint256 i; i < handler.committedCount(); ++i) {
            uint64 intervalId = handler.committedIntervals(i);
            assertEq(handler.deliveryLock(intervalId, gridNorth), 0, "grid account's delivery lock");
            assertEq(market.pendingPayout(gridNorth, intervalId), 0, "grid account's withheld payout");
        }
    }

    /// @dev Invariant: per buyer and interval, certificates (all sources) <= energy bought.
    function invariant_certificatesWithinEnergyBought() public view {
        for (uint256 i; i < handler.committedCount(); ++i) {
            uint64 intervalId = handler.committedIntervals(i);
            for (uint256 a; a < handler.actorCount(); ++a) {
                address who = handler.actor(a);
                uint256 held;
                for (uint8 s = 1; s <= 3; ++s) {
                    held += certificate.balanceOf(
                        who,
                        market.certificateId(intervalId, IGridRegistry.Source(s))
                    );
                }
                assertLe(held, handler.boughtWh(intervalId, who), "certificates <= energy bought");
            }
        }
    }

    /// @dev Invariant: per interval and source, certificates issued into the pool and claimed <= renewable energy
    /// both sold and metered as injected.
    function invariant_certificatesWithinRenewableSoldAndInjected() public view {
        for (uint256 i; i < handler.committedCount(); ++i) {
            uint64 intervalId = handler.committedIntervals(i);
            for (uint8 s = 1; s <= 3; ++s) {
                IGridRegistry.Source source = IGridRegistry.Source(s);
                uint256 limit = handler.renewableWh(intervalId, s);
                assertLe(market.issuedWh(intervalId, source), limit, "pool <= renewable sold and injected");
                uint256 claimed;
                for (uint256 a; a < handler.actorCount(); ++a) {
                    claimed += certificate.balanceOf(
                        handler.actor(a),
                        market.certificateId(intervalId, source)
                    );
                }
                assertLe(claimed, limit, "certificates <= renewable sold and injected");
            }
        }
    }

    /// @dev Invariant: every lock (open order; kept collateral and withheld payout of a settled fill) can be
    /// released once past its stated bound, with or without the committee, and returns in full: schedule deadline
    /// (unscheduled), meter deadline (unsettled fill, unmetered interval), meter deadline + COLLATERAL_GRACE_SECONDS
    /// (metered, leaf missing).
    function invariant_locksReturnWithinBound() public view {
        assertEq(handler.stuckLocks(), 0, "a lock past its bound could not be released");
        assertEq(handler.releaseMismatches(), 0, "a release returned other than the delivery lock");
    }
}
