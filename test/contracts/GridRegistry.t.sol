// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {GridRegistry} from "../../contracts/GridRegistry.sol";
import {IGridRegistry} from "../../contracts/interfaces/IGridRegistry.sol";

contract GridRegistryTest is Test {
    GridRegistry internal registry;
    address internal admin = makeAddr("admin");
    address internal operator = makeAddr("operator");
    address internal alice = makeAddr("alice");
    address internal meter = makeAddr("meter");

    function setUp() public {
        registry = new GridRegistry(admin, operator);
        vm.startPrank(operator);
        registry.addZone("north");
        registry.addZone("south");
        vm.stopPrank();
    }

    function _battery() internal view returns (IGridRegistry.Battery memory) {
        return IGridRegistry.Battery(alice, 0, 10_000, 5_000, 5_000, 9_500, 9_500, 1_000, 9_000);
    }

    function test_addZone_assignsSequentialIds() public {
        vm.expectEmit(address(registry));
        emit IGridRegistry.ZoneAdded(2, "east");
        vm.prank(operator);
        assertEq(registry.addZone("east"), 2, "id");
        assertEq(registry.zoneCount(), 3, "count");
    }

    function test_addZone_onlyOperator() public {
        vm.expectRevert();
        registry.addZone("x");
    }

    function test_setLine_storesUndirected() public {
        vm.expectEmit(address(registry));
        emit IGridRegistry.LineSet(0, 1, 50_000, 200);
        vm.prank(operator);
        registry.setLine(1, 0, 50_000, 200);
        IGridRegistry.Line memory line = registry.lineBetween(0, 1);
        assertEq(line.capacityWh, 50_000, "capacity");
        assertEq(line.lossBps, 200, "loss");
        assertTrue(registry.lineBetween(1, 0).exists, "either order");
    }

    function test_setLine_failsForSameZone() public {
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.SameZone.selector, 1));
        vm.prank(operator);
        registry.setLine(1, 1, 1, 0);
    }

    function test_setLine_failsForUnknownZone() public {
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.UnknownZone.selector, 9));
        vm.prank(operator);
        registry.setLine(0, 9, 1, 0);
    }

    function test_setLine_failsForTotalLoss() public {
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.LossTooHigh.selector, 10_000));
        vm.prank(operator);
        registry.setLine(0, 1, 1, 10_000);
    }

    function test_removeLine() public {
        vm.startPrank(operator);
        registry.setLine(0, 1, 1, 0);
        vm.expectEmit(address(registry));
        emit IGridRegistry.LineRemoved(0, 1);
        registry.removeLine(1, 0);
        assertFalse(registry.lineBetween(0, 1).exists, "removed");
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.UnknownLine.selector, 0, 1));
        registry.removeLine(0, 1);
        vm.stopPrank();
    }

    function test_setGridFee_isDirected() public {
        vm.prank(operator);
        registry.setGridFee(0, 1, 12_000);
        assertEq(registry.gridFee(0, 1), 12_000, "0 -> 1");
        assertEq(registry.gridFee(1, 0), 0, "1 -> 0 unset");
    }

    function test_setGridFee_failsForUnknownZone() public {
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.UnknownZone.selector, 5));
        vm.prank(operator);
        registry.setGridFee(5, 0, 1);
    }

    function test_registerParticipant_andMove() public {
        vm.startPrank(operator);
        registry.registerParticipant(alice, 0);
        vm.expectEmit(address(registry));
        emit IGridRegistry.ParticipantRegistered(alice, 1);
        registry.registerParticipant(alice, 1);
        vm.stopPrank();
        (bool registered, uint32 zone) = registry.participantZone(alice);
        assertTrue(registered, "registered");
        assertEq(zone, 1, "moved");
    }

    function test_registerParticipant_failsForZeroAddressOrUnknownZone() public {
        vm.startPrank(operator);
        vm.expectRevert(IGridRegistry.ZeroAddress.selector);
        registry.registerParticipant(address(0), 0);
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.UnknownZone.selector, 2));
        registry.registerParticipant(alice, 2);
        vm.stopPrank();
    }

    function test_registerMeter_bindsSourceToParticipant() public {
        vm.startPrank(operator);
        registry.registerParticipant(alice, 0);
        vm.expectEmit(address(registry));
        emit IGridRegistry.MeterRegistered(meter, alice, IGridRegistry.Source.Solar);
        registry.registerMeter(meter, alice, IGridRegistry.Source.Solar);
        vm.stopPrank();
        assertEq(registry.meterOf(alice), meter, "meter of participant");
        assertEq(registry.meterInfo(meter).participant, alice, "participant of meter");
        assertEq(uint8(registry.sourceOf(alice)), uint8(IGridRegistry.Source.Solar), "source");
        assertEq(uint8(registry.sourceOf(makeAddr("none"))), uint8(IGridRegistry.Source.Other), "no meter");
    }

    function test_registerMeter_failures() public {
        address bob = makeAddr("bob");
        vm.startPrank(operator);
        vm.expectRevert(IGridRegistry.ZeroAddress.selector);
        registry.registerMeter(address(0), alice, IGridRegistry.Source.Solar);
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.UnknownParticipant.selector, alice));
        registry.registerMeter(meter, alice, IGridRegistry.Source.Solar);
        registry.registerParticipant(alice, 0);
        registry.registerParticipant(bob, 0);
        registry.registerMeter(meter, alice, IGridRegistry.Source.Solar);
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.MeterAlreadyRegistered.selector, meter, alice));
        registry.registerMeter(meter, bob, IGridRegistry.Source.Wind);
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.ParticipantHasMeter.selector, alice, meter));
        registry.registerMeter(makeAddr("meter2"), alice, IGridRegistry.Source.Wind);
        vm.stopPrank();
    }

    function test_removeMeter() public {
        vm.startPrank(operator);
        registry.registerParticipant(alice, 0);
        registry.registerMeter(meter, alice, IGridRegistry.Source.Solar);
        vm.expectEmit(address(registry));
        emit IGridRegistry.MeterRemoved(meter, alice);
        registry.removeMeter(meter);
        assertEq(registry.meterOf(alice), address(0), "unbound");
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.UnknownMeter.selector, meter));
        registry.removeMeter(meter);
        vm.stopPrank();
    }

    function test_removeParticipant_removesItsMeter() public {
        vm.startPrank(operator);
        registry.registerParticipant(alice, 0);
        registry.registerMeter(meter, alice, IGridRegistry.Source.Solar);
        registry.removeParticipant(alice);
        (bool registered, ) = registry.participantZone(alice);
        assertFalse(registered, "removed");
        assertEq(registry.meterInfo(meter).participant, address(0), "meter removed");
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.UnknownParticipant.selector, alice));
        registry.removeParticipant(alice);
        registry.registerParticipant(alice, 0);
        registry.removeParticipant(alice); // without a meter
        vm.stopPrank();
    }

    function test_registerBattery_updateAndRemove() public {
        vm.startPrank(operator);
        uint32 id = registry.registerBattery(_battery());
        assertEq(id, 0, "first id");
        assertEq(registry.batteryCount(), 1, "count");
        IGridRegistry.Battery memory b = _battery();
        b.capacityWh = 20_000;
        registry.updateBattery(id, b);
        assertEq(registry.battery(id).capacityWh, 20_000, "updated");
        vm.expectEmit(address(registry));
        emit IGridRegistry.BatteryRemoved(id);
        registry.removeBattery(id);
        assertEq(registry.battery(id).owner, address(0), "removed");
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.UnknownBattery.selector, id));
        registry.removeBattery(id);
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.UnknownBattery.selector, id));
        registry.updateBattery(id, b);
        vm.stopPrank();
    }

    function test_registerBattery_validatesEachField() public {
        vm.startPrank(operator);
        IGridRegistry.Battery memory b = _battery();
        b.owner = address(0);
        vm.expectRevert(IGridRegistry.ZeroAddress.selector);
        registry.registerBattery(b);
        b = _battery();
        b.capacityWh = 0;
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.InvalidBattery.selector, "capacityWh"));
        registry.registerBattery(b);
        b = _battery();
        b.chargeEfficiencyBps = 10_001;
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.InvalidBattery.selector, "chargeEfficiencyBps"));
        registry.registerBattery(b);
        b = _battery();
        b.dischargeEfficiencyBps = 0;
        vm.expectRevert(
            abi.encodeWithSelector(IGridRegistry.InvalidBattery.selector, "dischargeEfficiencyBps")
        );
        registry.registerBattery(b);
        b = _battery();
        b.maxSocWh = 10_001;
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.InvalidBattery.selector, "maxSocWh"));
        registry.registerBattery(b);
        b = _battery();
        b.minSocWh = 9_001;
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.InvalidBattery.selector, "minSocWh"));
        registry.registerBattery(b);
        vm.stopPrank();
    }

    /* ZONE GRID */

    function test_setZoneGrid_storesAccountAndTariffs() public {
        address grid = makeAddr("grid");
        vm.expectEmit(address(registry));
        emit IGridRegistry.ZoneGridSet(1, grid, 300_000, 70_000);
        vm.prank(operator);
        registry.setZoneGrid(1, grid, 300_000, 70_000);
        IGridRegistry.ZoneGrid memory g = registry.zoneGrid(1);
        assertEq(g.account, grid, "account");
        assertEq(g.retailPerKwh, 300_000, "retail");
        assertEq(g.feedInPerKwh, 70_000, "feed-in");
        (bool isGrid, uint32 zoneId) = registry.gridZoneOf(grid);
        assertTrue(isGrid, "is grid");
        assertEq(zoneId, 1, "zone");
        (isGrid, ) = registry.gridZoneOf(alice);
        assertFalse(isGrid, "alice is not the grid");
    }

    function test_setZoneGrid_replacesThePreviousAccount() public {
        address first = makeAddr("grid-1");
        address second = makeAddr("grid-2");
        vm.startPrank(operator);
        registry.setZoneGrid(0, first, 300_000, 70_000);
        registry.setZoneGrid(0, second, 310_000, 60_000);
        vm.stopPrank();
        (bool isGrid, ) = registry.gridZoneOf(first);
        assertFalse(isGrid, "first account no longer the grid");
        (isGrid, ) = registry.gridZoneOf(second);
        assertTrue(isGrid, "second is");
    }

    function test_setZoneGrid_failsForInvalidTariffs() public {
        vm.startPrank(operator);
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.InvalidTariffs.selector, 0, 70_000, 300_000));
        registry.setZoneGrid(0, address(0), 70_000, 300_000);
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.InvalidTariffs.selector, 0, 300_000, 0));
        registry.setZoneGrid(0, address(0), 300_000, 0);
        vm.stopPrank();
    }

    function test_setZoneGrid_failsForAnAccountOfAnotherZoneOrWithAMeter() public {
        address grid = makeAddr("grid");
        vm.startPrank(operator);
        registry.setZoneGrid(0, grid, 300_000, 70_000);
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.GridAccountTaken.selector, grid, 1));
        registry.setZoneGrid(1, grid, 300_000, 70_000);
        registry.registerParticipant(alice, 0);
        registry.registerMeter(meter, alice, IGridRegistry.Source.Solar);
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.GridAccountTaken.selector, alice, 1));
        registry.setZoneGrid(1, alice, 300_000, 70_000);
        vm.stopPrank();
    }

    function test_registerMeter_failsForAGridAccount() public {
        address grid = makeAddr("grid");
        vm.startPrank(operator);
        registry.setZoneGrid(1, grid, 300_000, 70_000);
        registry.registerParticipant(grid, 1);
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.GridAccountTaken.selector, grid, 1));
        registry.registerMeter(meter, grid, IGridRegistry.Source.Other);
        vm.stopPrank();
    }

    function test_setZoneGrid_failsForUnknownZoneOrNonOperator() public {
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.UnknownZone.selector, 5));
        registry.setZoneGrid(5, address(0), 300_000, 70_000);
        vm.expectRevert();
        registry.setZoneGrid(0, address(0), 300_000, 70_000);
    }

    function _arr(uint256 a, uint256 b) internal pure returns (uint256[] memory x) {
        x = new uint256[](2);
        x[0] = a;
        x[1] = b;
    }

    function test_checkImbalancePrices_returnsTheWorstPair() public {
        vm.startPrank(operator);
        registry.setZoneGrid(0, address(0), 300_000, 70_000);
        registry.setZoneGrid(1, address(0), 250_000, 80_000);
        vm.stopPrank();
        (uint128 worstShort, uint128 worstLong) = registry.checkImbalancePrices(
            _arr(100_000, 100_000),
            _arr(300_000, 250_000),
            _arr(70_000, 80_000)
        );
        assertEq(worstShort, 300_000, "highest short");
        assertEq(worstLong, 70_000, "lowest long");
    }

    function test_checkImbalancePrices_failsForAZoneWithoutTariffs() public {
        vm.prank(operator);
        registry.setZoneGrid(0, address(0), 300_000, 70_000);
        vm.expectRevert(abi.encodeWithSelector(IGridRegistry.NoGridTariffs.selector, 1));
        registry.checkImbalancePrices(_arr(100_000, 100_000), _arr(300_000, 300_000), _arr(70_000, 70_000));
    }
}
