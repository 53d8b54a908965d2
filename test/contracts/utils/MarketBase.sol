// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {EnergyMarket} from "../../../contracts/EnergyMarket.sol";
import {GridRegistry} from "../../../contracts/GridRegistry.sol";
import {OracleCommittee} from "../../../contracts/OracleCommittee.sol";
import {EnergyCertificate} from "../../../contracts/EnergyCertificate.sol";
import {TestToken} from "../../../contracts/mocks/TestToken.sol";
import {IEnergyMarket} from "../../../contracts/interfaces/IEnergyMarket.sol";
import {IGridRegistry} from "../../../contracts/interfaces/IGridRegistry.sol";
import {Merkle} from "./Merkle.sol";

/// @notice Shared fixture: a deployed market with a 3-of-5 committee, two zones, and funded prosumers.
abstract contract MarketBase is Test {
    uint64 internal constant INTERVAL_SECONDS = 900;
    uint64 internal constant GATE_CLOSURE_SECONDS = 300;
    uint64 internal constant SCHEDULE_WINDOW_SECONDS = 300;
    uint64 internal constant METER_WINDOW_SECONDS = 86_400;
    uint128 internal constant COLLATERAL_PER_KWH = 100_000; // 0.10 token per kWh
    uint128 internal constant RETAIL_PER_KWH = 400_000; // the grid's tariffs in both zones
    uint128 internal constant FEED_IN_PER_KWH = 50_000;
    uint256 internal constant START_TIME = 1_800_000_000;
    uint64 internal constant COMMITTEE_CHANGE_DELAY = 2 days;

    TestToken internal token;
    GridRegistry internal registry;
    OracleCommittee internal committee;
    EnergyCertificate internal certificate;
    EnergyMarket internal market;

    address internal admin = makeAddr("admin");
    address internal operator = makeAddr("operator");
    address internal guardian = makeAddr("guardian");
    address internal alice = makeAddr("alice"); // buyer, zone 0
    address internal bob = makeAddr("bob"); // seller, zone 0, solar
    address internal carol = makeAddr("carol"); // buyer, zone 1
    address internal dave = makeAddr("dave"); // seller, zone 1, wind
    address internal gridNorth = makeAddr("grid-north"); // the grid's account in zone 0
    address internal gridSouth = makeAddr("grid-south"); // the grid's account in zone 1

    /// @dev The committed schedule root and zone prices per interval (recorded by `_commit`), for meter reports.
    mapping(uint64 intervalId => bytes32) internal committedRoot;
    mapping(uint64 intervalId => uint256[]) internal committedPrices;

    /// @dev Committee keys sorted by address ascending.
    uint256[] internal memberKeys;
    address[] internal memberAddrs;

    uint64 internal interval; // an interval whose gate is still open at START_TIME

    function setUp() public virtual {
        vm.warp(START_TIME);
        token = new TestToken();
        registry = new GridRegistry(admin, operator);
        _setMembers(5);
        committee = new OracleCommittee(admin, memberAddrs, 3, COMMITTEE_CHANGE_DELAY);
        certificate = new EnergyCertificate(admin, "https://gridbrain.example/certificates/{id}.json");
        market = new EnergyMarket(_marketConfig(address(token)));
        bytes32 issuerRole = certificate.ISSUER_ROLE();
        vm.prank(admin);
        certificate.grantRole(issuerRole, address(market));

        vm.startPrank(operator);
        registry.addZone("north");
        registry.addZone("south");
        registry.registerParticipant(alice, 0);
        registry.registerParticipant(bob, 0);
        registry.registerParticipant(carol, 1);
        registry.registerParticipant(dave, 1);
        registry.registerMeter(makeAddr("bob-meter"), bob, IGridRegistry.Source.Solar);
        registry.registerMeter(makeAddr("dave-meter"), dave, IGridRegistry.Source.Wind);
        registry.setZoneGrid(0, gridNorth, RETAIL_PER_KWH, FEED_IN_PER_KWH);
        registry.setZoneGrid(1, gridSouth, RETAIL_PER_KWH, FEED_IN_PER_KWH);
        vm.stopPrank();

        _fund(alice, 1_000e6);
        _fund(bob, 1_000e6);
        _fund(carol, 1_000e6);
        _fund(dave, 1_000e6);

        interval = uint64(START_TIME / INTERVAL_SECONDS) + 2;
    }

    /* HELPERS */

    /// @dev The fixture's market configuration with `asset` as the settlement token: the committee, registry,
    /// certificates, roles and timeline of setUp's market, for tests that deploy a market of their own.
    function _marketConfig(address asset) internal view returns (IEnergyMarket.MarketConfig memory) {
        return
            IEnergyMarket.MarketConfig({
                token: asset,
                registry: address(registry),
                committee: address(committee),
                certificates: address(certificate),
                admin: admin,
                operator: operator,
                guardian: guardian,
                intervalSeconds: INTERVAL_SECONDS,
                gateClosureSeconds: GATE_CLOSURE_SECONDS,
                scheduleWindowSeconds: SCHEDULE_WINDOW_SECONDS,
                meterWindowSeconds: METER_WINDOW_SECONDS,
                offerCollateralPerKwh: COLLATERAL_PER_KWH
            });
    }

    function _setMembers(uint256 count) internal {
        delete memberKeys;
        delete memberAddrs;
        for (uint256 i = 1; i <= count; ++i) {
            memberKeys.push(0xC0FFEE + i);
            memberAddrs.push(vm.addr(0xC0FFEE + i));
        }
        // Insertion sort by address.
        for (uint256 i = 1; i < count; ++i) {
            for (uint256 j = i; j > 0 && memberAddrs[j] < memberAddrs[j - 1]; --j) {
                (memberAddrs[j], memberAddrs[j - 1]) = (memberAddrs[j - 1], memberAddrs[j]);
                (memberKeys[j], memberKeys[j - 1]) = (memberKeys[j - 1], memberKeys[j]);
            }
        }
    }

    function _fund(address who, uint256 amount) internal {
        token.mint(who, amount);
        vm.startPrank(who);
        token.approve(address(market), type(uint256).max);
        market.deposit(amount);
        vm.stopPrank();
    }

    function _order(
        address owner,
        IEnergyMarket.Side side,
        uint32 zoneId,
        uint64 quantityWh,
        uint128 limit
    ) internal view returns (IEnergyMarket.Order memory) {
        return IEnergyMarket.Order(owner, interval, side, zoneId, quantityWh, limit, 0);
    }

    function _place(IEnergyMarket.Order memory o) internal returns (bytes32 orderId) {
        vm.prank(o.owner);
        orderId =
            o.side == IEnergyMarket.Side.Buy
                ? market.placeBid(o.intervalId, o.zoneId, o.quantityWh, o.limitPricePerKwh, o.nonce)
                : market.placeOffer(o.intervalId, o.zoneId, o.quantityWh, o.limitPricePerKwh, o.nonce);
    }

    function _sign(bytes32 digest, uint256[] memory keys) internal pure returns (bytes memory sigs) {
        for (uint256 i; i < keys.length; ++i) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[i], digest);
            sigs = bytes.concat(sigs, abi.encodePacked(r, s, v));
        }
    }

    function _firstKeys(uint256 k) internal view returns (uint256[] memory keys) {
        keys = new uint256[](k);
        for (uint256 i; i < k; ++i) keys[i] = memberKeys[i];
    }

    function _fillLeaf(bytes32 orderId, uint64 filledWh) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(orderId, filledWh))));
    }

    function _meterLeaf(address p, uint64 injectedWh, uint64 consumedWh) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(p, injectedWh, consumedWh))));
    }

    function _prices(uint256 zone0, uint256 zone1) internal pure returns (uint256[] memory prices) {
        prices = new uint256[](2);
        prices[0] = zone0;
        prices[1] = zone1;
    }

    function _report(
        uint64 intervalId,
        bytes32 root,
        uint32 fillCount,
        uint256[] memory prices
    ) internal view returns (IEnergyMarket.ScheduleReport memory) {
        return
            IEnergyMarket.ScheduleReport({
                market: address(market),
                intervalId: intervalId,
                configEpoch: committee.epoch(),
                ordersDigest: market.ordersDigest(intervalId),
                scheduleRoot: root,
                fillCount: fillCount,
                zonePrices: prices
            });
    }

    function _warpToGateClosure(uint64 intervalId) internal {
        vm.warp(market.gateClosure(intervalId));
    }

    function _commit(IEnergyMarket.ScheduleReport memory report) internal {
        market.commitSchedule(report, _sign(market.hashScheduleReport(report), _firstKeys(3)));
        committedRoot[report.intervalId] = report.scheduleRoot;
        committedPrices[report.intervalId] = report.zonePrices;
    }

    /// @dev A meter report of `intervalId` with the same imbalance prices in every zone of its schedule.
    /// @dev A meter report with every zone's imbalance prices at the grid's tariffs (nothing netted):
    /// short = max(retail, zone price), long = min(feed-in, zone price), with MarketBase's tariffs.
    function _gridRuleMeterReport(
        uint64 intervalId,
        bytes32 root
    ) internal view returns (IEnergyMarket.MeterReport memory r) {
        r = _meterReport(intervalId, root, RETAIL_PER_KWH, FEED_IN_PER_KWH);
        for (uint256 z; z < r.zonePrices.length; ++z) {
            uint256 p = r.zonePrices[z];
            if (p > RETAIL_PER_KWH) r.shortPrices[z] = p;
            if (p < FEED_IN_PER_KWH) r.longPrices[z] = p;
        }
    }

    function _meterReport(
        uint64 intervalId,
        bytes32 root,
        uint256 shortPrice,
        uint256 longPrice
    ) internal view returns (IEnergyMarket.MeterReport memory) {
        uint256 zones = committedPrices[intervalId].length;
        if (zones == 0) zones = 2; // not scheduled: any shape, the commit reverts first
        uint256[] memory shorts = new uint256[](zones);
        uint256[] memory longs = new uint256[](zones);
        uint256[] memory surplus = new uint256[](zones);
        for (uint256 z; z < zones; ++z) {
            shorts[z] = shortPrice;
            longs[z] = longPrice;
            surplus[z] = 1_000 * z + 7; // distinct per zone, so the event test sees the order kept
        }
        return
            IEnergyMarket.MeterReport(
                address(market),
                intervalId,
                committee.epoch(),
                root,
                committedRoot[intervalId],
                committedPrices[intervalId],
                shorts,
                longs,
                surplus
            );
    }

    function _commitMeter(IEnergyMarket.MeterReport memory report) internal {
        market.commitMeterReport(report, _sign(market.hashMeterReport(report), _firstKeys(3)));
    }

    function _warpAfterInterval(uint64 intervalId) internal {
        vm.warp(uint256(intervalId + 1) * INTERVAL_SECONDS);
    }

    /// @dev Places every fill's order, warps to gate closure and commits the schedule of exactly these fills at
    /// `prices`; returns their leaves (in `fills` order) and the schedule root.
    function _placeAndCommit(
        IEnergyMarket.Fill[] memory fills,
        uint256[] memory prices
    ) internal returns (bytes32[] memory leaves, bytes32 root) {
        leaves = new bytes32[](fills.length);
        for (uint256 i; i < fills.length; ++i)
            leaves[i] = _fillLeaf(_place(fills[i].order), fills[i].filledWh);
        root = Merkle.root(leaves);
        _warpToGateClosure(interval);
        _commit(_report(interval, root, uint32(fills.length), prices));
    }

    /// @dev Settles `fills` of a schedule committed by `_placeAndCommit` in one batch.
    function _settleFills(IEnergyMarket.Fill[] memory fills, bytes32 root, uint256[] memory prices) internal {
        market.settleFills(
            interval,
            root,
            prices,
            fills,
            new bytes32[](0),
            Merkle.allLeavesFlags(fills.length)
        );
    }

    /// @dev A standard scenario: alice bids 2 kWh @ ≤ 300k, bob offers 2 kWh @ ≥ 100k (zone 0, price 200k),
    /// schedule committed with both filled 1500 Wh. Returns the orders and the fill leaves.
    struct Scenario {
        IEnergyMarket.Order bid;
        IEnergyMarket.Order offer;
        bytes32 bidId;
        bytes32 offerId;
        bytes32[] leaves;
        uint256[] prices;
        bytes32 root;
        IEnergyMarket.Fill[] fills;
    }

    function _scenario(uint64 filledWh) internal returns (Scenario memory s) {
        s.bid = _order(alice, IEnergyMarket.Side.Buy, 0, 2000, 300_000);
        s.offer = _order(bob, IEnergyMarket.Side.Sell, 0, 2000, 100_000);
        s.bidId = _place(s.bid);
        s.offerId = _place(s.offer);
        s.leaves = new bytes32[](2);
        s.leaves[0] = _fillLeaf(s.bidId, filledWh);
        s.leaves[1] = _fillLeaf(s.offerId, filledWh);
        s.prices = _prices(200_000, 250_000);
        s.root = Merkle.root(s.leaves);
        s.fills = new IEnergyMarket.Fill[](2);
        s.fills[0] = IEnergyMarket.Fill(s.bid, filledWh);
        s.fills[1] = IEnergyMarket.Fill(s.offer, filledWh);
        _warpToGateClosure(interval);
        _commit(_report(interval, s.root, 2, s.prices));
    }

    function _settleAll(Scenario memory s) internal {
        market.settleFills(interval, s.root, s.prices, s.fills, new bytes32[](0), Merkle.allLeavesFlags(2));
    }
}
