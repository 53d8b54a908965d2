// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarketBase} from "./MarketBase.sol";
import {Merkle} from "./Merkle.sol";
import {FlexibilityMarket} from "../../../contracts/FlexibilityMarket.sol";
import {IEnergyMarket} from "../../../contracts/interfaces/IEnergyMarket.sol";
import {IFlexibilityMarket} from "../../../contracts/interfaces/IFlexibilityMarket.sol";
import {IGridRegistry} from "../../../contracts/interfaces/IGridRegistry.sol";

/// @notice MarketBase plus a FlexibilityMarket set on the market and a battery of bob's in zone 0: 10 kWh, 4 kW
/// both ways (1000 Wh per 15-minute interval), 90% efficient each way, state of charge kept in [1000, 9000] Wh.
abstract contract FlexBase is MarketBase {
    uint64 internal constant MAX_STEP_WH = 1000;
    uint64 internal constant MIN_SOC = 1000;
    uint64 internal constant MAX_SOC = 9000;

    FlexibilityMarket internal flex;
    uint32 internal battery; // bob's, zone 0

    function setUp() public virtual override {
        super.setUp();
        flex = new FlexibilityMarket(market, registry, token);
        vm.prank(admin);
        market.setFlexibilityMarket(address(flex));
        battery = _registerBattery(bob, 0);
    }

    function _registerBattery(address owner, uint32 zoneId) internal returns (uint32 id) {
        vm.prank(operator);
        id = registry.registerBattery(_batterySpec(owner, zoneId));
    }

    function _batterySpec(address owner, uint32 zoneId) internal pure returns (IGridRegistry.Battery memory) {
        return IGridRegistry.Battery(owner, zoneId, 10_000, 4000, 4000, 9000, 9000, MIN_SOC, MAX_SOC);
    }

    /// @dev bob's order for his battery over [first, last]: charges at <= 300k, discharges at >= 150k.
    function _flexOrder(
        uint64 first,
        uint64 last,
        uint128 budget
    ) internal view returns (IFlexibilityMarket.FlexOrder memory) {
        return IFlexibilityMarket.FlexOrder(bob, battery, first, last, 300_000, 150_000, budget, 2000, 0);
    }

    /// @dev Mints the budget to the owner, approves it and places the order.
    function _placeFlex(IFlexibilityMarket.FlexOrder memory o) internal returns (bytes32 orderId) {
        token.mint(o.owner, o.chargeBudget);
        vm.startPrank(o.owner);
        token.approve(address(flex), o.chargeBudget);
        orderId = flex.placeFlexOrder(o);
        vm.stopPrank();
    }

    function _stepLeaf(IFlexibilityMarket.FlexStep memory step) internal view returns (bytes32) {
        return _fillLeaf(flex.flexStepKey(flex.hashFlexOrder(step.order), step.direction), step.energyWh);
    }

    function _charge(
        IFlexibilityMarket.FlexOrder memory o,
        uint64 energyWh
    ) internal pure returns (IFlexibilityMarket.FlexStep memory) {
        return IFlexibilityMarket.FlexStep(o, IFlexibilityMarket.Direction.Charge, energyWh);
    }

    function _discharge(
        IFlexibilityMarket.FlexOrder memory o,
        uint64 energyWh
    ) internal pure returns (IFlexibilityMarket.FlexStep memory) {
        return IFlexibilityMarket.FlexStep(o, IFlexibilityMarket.Direction.Discharge, energyWh);
    }

    function _one(
        IFlexibilityMarket.FlexStep memory s
    ) internal pure returns (IFlexibilityMarket.FlexStep[] memory a) {
        a = new IFlexibilityMarket.FlexStep[](1);
        a[0] = s;
    }

    /// @dev Warps to the interval's gate closure (if before it) and commits a schedule of exactly these leaves.
    function _commitLeaves(
        uint64 intervalId,
        bytes32[] memory leaves,
        uint256[] memory prices
    ) internal returns (bytes32 root) {
        root = Merkle.root(leaves);
        uint256 closesAt = market.gateClosure(intervalId);
        if (block.timestamp < closesAt) vm.warp(closesAt);
        _commit(_report(intervalId, root, uint32(leaves.length), prices));
    }

    /// @dev A schedule whose only leaves are these steps, committed and settled in one batch.
    function _commitAndSettleSteps(
        uint64 intervalId,
        IFlexibilityMarket.FlexStep[] memory steps,
        uint256[] memory prices
    ) internal {
        bytes32[] memory leaves = new bytes32[](steps.length);
        for (uint256 k; k < steps.length; ++k) leaves[k] = _stepLeaf(steps[k]);
        bytes32 root = _commitLeaves(intervalId, leaves, prices);
        flex.settleFlexSteps(intervalId, root, prices, steps, new bytes32[](0), _allFlags(steps.length));
    }

    function _allFlags(uint256 n) internal pure returns (bool[] memory) {
        return n == 0 ? new bool[](0) : Merkle.allLeavesFlags(n);
    }

    /// @dev Settles the steps that are `leaves[ks[0]], leaves[ks[1]], …` of the committed tree.
    function _settleStepsOf(
        uint64 intervalId,
        bytes32[] memory leaves,
        uint256[] memory ks,
        IFlexibilityMarket.FlexStep[] memory steps,
        uint256[] memory prices
    ) internal {
        (bytes32[] memory proof, bool[] memory flags) = Merkle.multiProof(leaves, ks);
        flex.settleFlexSteps(intervalId, Merkle.root(leaves), prices, steps, proof, flags);
    }

    /// @dev Settles the fills that are `leaves[ks[0]], …` of the committed tree.
    function _settleFillsOf(
        uint64 intervalId,
        bytes32[] memory leaves,
        uint256[] memory ks,
        IEnergyMarket.Fill[] memory fills,
        uint256[] memory prices
    ) internal {
        (bytes32[] memory proof, bool[] memory flags) = Merkle.multiProof(leaves, ks);
        market.settleFills(intervalId, Merkle.root(leaves), prices, fills, proof, flags);
    }

    function _ks(uint256 a) internal pure returns (uint256[] memory ks) {
        ks = new uint256[](1);
        ks[0] = a;
    }

    function _unspent(IFlexibilityMarket.FlexOrder memory o) internal view returns (uint256) {
        IFlexibilityMarket.OrderState memory s = flex.orderState(flex.hashFlexOrder(o));
        return s.refunded ? 0 : o.chargeBudget - s.spent;
    }
}
