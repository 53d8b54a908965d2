// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IGridRegistry} from "./interfaces/IGridRegistry.sol";

/// @title GridRegistry
/// @notice The grid model; see {IGridRegistry}. Only OPERATOR_ROLE changes it.
contract GridRegistry is AccessControl, IGridRegistry {
    /// @notice Role of the grid operator.
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");

    uint16 private constant _BPS = 10_000;

    /* STORAGE */

    uint32 private _zoneCount;
    uint32 private _batteryCount;

    mapping(bytes32 pairKey => Line) private _lines;
    mapping(bytes32 directedKey => uint128) private _gridFees;

    struct ParticipantRecord {
        bool registered;
        uint32 zoneId;
        address meter;
    }

    /// @dev Invariant: `_participants[p].meter == m` iff `_meters[m].participant == p` (m != 0).
    mapping(address participant => ParticipantRecord) private _participants;
    mapping(address meter => Meter) private _meters;
    /// @dev When each meter was registered: a meter vouches for its source only from then on (sourceAt).
    mapping(address meter => uint256) private _meterSince;
    mapping(uint32 batteryId => Battery) private _batteries;
    mapping(uint32 zoneId => ZoneGrid) private _zoneGrids;
    /// @dev Invariant: `_gridZonePlusOne[a] == z + 1` iff `_zoneGrids[z].account == a` (a != 0); 0 for others.
    mapping(address account => uint32) private _gridZonePlusOne;

    constructor(address admin, address operator) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(OPERATOR_ROLE, operator);
    }

    /* ZONES, LINES, FEES */

    /// @notice Adds a zone; its id is the current zone count.
    function addZone(string calldata name) external onlyRole(OPERATOR_ROLE) returns (uint32 zoneId) {
        zoneId = _zoneCount;
        _zoneCount = zoneId + 1;
        emit ZoneAdded(zoneId, name);
    }

    /// @notice Sets the line between two zones.
    function setLine(
        uint32 zoneA,
        uint32 zoneB,
        uint64 capacityWh,
        uint16 lossBps
    ) external onlyRole(OPERATOR_ROLE) {
        (uint32 low, uint32 high) = _orderedZones(zoneA, zoneB);
        if (lossBps >= _BPS) revert LossTooHigh(lossBps);
        _lines[_pairKey(low, high)] = Line({capacityWh: capacityWh, lossBps: lossBps, exists: true});
        emit LineSet(low, high, capacityWh, lossBps);
    }

    /// @notice Removes the line between two zones.
    function removeLine(uint32 zoneA, uint32 zoneB) external onlyRole(OPERATOR_ROLE) {
        (uint32 low, uint32 high) = _orderedZones(zoneA, zoneB);
        bytes32 key = _pairKey(low, high);
        if (!_lines[key].exists) revert UnknownLine(low, high);
        delete _lines[key];
        emit LineRemoved(low, high);
    }

    /// @notice Sets the grid fee per kWh for energy delivered from `fromZone` to `toZone` (may be the same zone).
    function setGridFee(uint32 fromZone, uint32 toZone, uint128 feePerKwh) external onlyRole(OPERATOR_ROLE) {
        _requireZone(fromZone);
        _requireZone(toZone);
        _gridFees[_pairKey(fromZone, toZone)] = feePerKwh;
        emit GridFeeSet(fromZone, toZone, feePerKwh);
    }

    /// @notice Sets the grid's account and tariffs in `zoneId` (docs/MARKET_RULES.md, "The grid"). `account` may be
    /// zero (the grid places no orders in the zone); it must not have a meter, since the grid is never metered.
    function setZoneGrid(
        uint32 zoneId,
        address account,
        uint128 retailPerKwh,
        uint128 feedInPerKwh
    ) external onlyRole(OPERATOR_ROLE) {
        _requireZone(zoneId);
        if (feedInPerKwh == 0 || feedInPerKwh > retailPerKwh)
            revert InvalidTariffs(zoneId, retailPerKwh, feedInPerKwh);
        if (account != address(0)) {
            uint32 taken = _gridZonePlusOne[account];
            if ((taken != 0 && taken != zoneId + 1) || _participants[account].meter != address(0))
                revert GridAccountTaken(account, zoneId);
        }
        address previous = _zoneGrids[zoneId].account;
        if (previous != address(0)) delete _gridZonePlusOne[previous];
        if (account != address(0)) _gridZonePlusOne[account] = zoneId + 1;
        _zoneGrids[zoneId] = ZoneGrid({
            account: account,
            retailPerKwh: retailPerKwh,
            feedInPerKwh: feedInPerKwh
        });
        emit ZoneGridSet(zoneId, account, retailPerKwh, feedInPerKwh);
    }

    /* PARTICIPANTS AND METERS */

    /// @notice Registers `participant` in `zoneId`, or moves it there.
    function registerParticipant(address participant, uint32 zoneId) external onlyRole(OPERATOR_ROLE) {
        if (participant == address(0)) revert ZeroAddress();
        _requireZone(zoneId);
        ParticipantRecord storage record = _participants[participant];
        record.registered = true;
        record.zoneId = zoneId;
        emit ParticipantRegistered(participant, zoneId);
    }

    /// @notice Removes `participant` and its meter.
    function removeParticipant(address participant) external onlyRole(OPERATOR_ROLE) {
        ParticipantRecord memory record = _participants[participant];
        if (!record.registered) revert UnknownParticipant(participant);
        if (record.meter != address(0)) {
            delete _meters[record.meter];
            delete _meterSince[record.meter];
            emit MeterRemoved(record.meter, participant);
        }
        delete _participants[participant];
        emit ParticipantRemoved(participant);
    }

    /// @notice Registers smart meter signing key `meter` for `participant` (one meter per participant).
    function registerMeter(
        address meter,
        address participant,
        Source source
    ) external onlyRole(OPERATOR_ROLE) {
        if (meter == address(0)) revert ZeroAddress();
        ParticipantRecord storage record = _participants[participant];
        if (!record.registered) revert UnknownParticipant(participant);
        address existing = _meters[meter].participant;
        if (existing != address(0)) revert MeterAlreadyRegistered(meter, existing);
        if (record.meter != address(0)) revert ParticipantHasMeter(participant, record.meter);
        uint32 gridZone = _gridZonePlusOne[participant];
        if (gridZone != 0) revert GridAccountTaken(participant, gridZone - 1);
        record.meter = meter;
        _meters[meter] = Meter({participant: participant, source: source});
        _meterSince[meter] = block.timestamp;
        emit MeterRegistered(meter, participant, source);
    }

    /// @notice Removes smart meter `meter`.
    function removeMeter(address meter) external onlyRole(OPERATOR_ROLE) {
        address participant = _meters[meter].participant;
        if (participant == address(0)) revert UnknownMeter(meter);
        delete _meters[meter];
        delete _meterSince[meter];
        delete _participants[participant].meter;
        emit MeterRemoved(meter, participant);
    }

    /* BATTERIES */

    /// @notice Registers a battery as a flexible asset; returns its id.
    function registerBattery(
        Battery calldata battery_
    ) external onlyRole(OPERATOR_ROLE) returns (uint32 batteryId) {
        _validateBattery(battery_);
        batteryId = _batteryCount;
        _batteryCount = batteryId + 1;
        _batteries[batteryId] = battery_;
        emit BatterySet(batteryId, battery_);
    }

    /// @notice Updates battery `batteryId`.
    function updateBattery(uint32 batteryId, Battery calldata battery_) external onlyRole(OPERATOR_ROLE) {
        if (_batteries[batteryId].owner == address(0)) revert UnknownBattery(batteryId);
        _validateBattery(battery_);
        _batteries[batteryId] = battery_;
        emit BatterySet(batteryId, battery_);
    }

    /// @notice Removes battery `batteryId`.
    function removeBattery(uint32 batteryId) external onlyRole(OPERATOR_ROLE) {
        if (_batteries[batteryId].owner == address(0)) revert UnknownBattery(batteryId);
        delete _batteries[batteryId];
        emit BatteryRemoved(batteryId);
    }

    /* VIEWS */

    /// @inheritdoc IGridRegistry
    function zoneCount() external view returns (uint32) {
        return _zoneCount;
    }

    /// @inheritdoc IGridRegistry
    function lineBetween(uint32 zoneA, uint32 zoneB) external view returns (Line memory) {
        (uint32 low, uint32 high) = zoneA < zoneB ? (zoneA, zoneB) : (zoneB, zoneA);
        return _lines[_pairKey(low, high)];
    }

    /// @inheritdoc IGridRegistry
    function gridFee(uint32 fromZone, uint32 toZone) external view returns (uint128) {
        return _gridFees[_pairKey(fromZone, toZone)];
    }

    /// @inheritdoc IGridRegistry
    function participantZone(address participant) external view returns (bool registered, uint32 zoneId) {
        ParticipantRecord storage record = _participants[participant];
        return (record.registered, record.zoneId);
    }

    /// @inheritdoc IGridRegistry
    function meterInfo(address meter) external view returns (Meter memory) {
        return _meters[meter];
    }

    /// @inheritdoc IGridRegistry
    function meterOf(address participant) external view returns (address) {
        return _participants[participant].meter;
    }

    /// @inheritdoc IGridRegistry
    function sourceOf(address participant) external view returns (Source) {
        address meter = _participants[participant].meter;
        return meter == address(0) ? Source.Other : _meters[meter].source;
    }

    /// @inheritdoc IGridRegistry
    function sourceAt(address participant, uint256 timestamp) external view returns (Source) {
        address meter = _participants[participant].meter;
        // A meter registered after `timestamp` (a swap, a re-registration) says nothing about what was behind the
        // connection then; the source is unknown, i.e. Other.
        if (meter == address(0) || _meterSince[meter] > timestamp) return Source.Other;
        return _meters[meter].source;
    }

    /// @inheritdoc IGridRegistry
    function battery(uint32 batteryId) external view returns (Battery memory) {
        return _batteries[batteryId];
    }

    /// @inheritdoc IGridRegistry
    function batteryCount() external view returns (uint32) {
        return _batteryCount;
    }

    /// @inheritdoc IGridRegistry
    function zoneGrid(uint32 zoneId) external view returns (ZoneGrid memory) {
        return _zoneGrids[zoneId];
    }

    /// @inheritdoc IGridRegistry
    function gridZoneOf(address account) external view returns (bool isGrid, uint32 zoneId) {
        uint32 plusOne = _gridZonePlusOne[account];
        if (plusOne == 0) return (false, 0);
        // Safe "unchecked": plusOne >= 1.
        unchecked {
            return (true, plusOne - 1);
        }
    }

    /// @inheritdoc IGridRegistry
    function checkImbalancePrices(
        uint256[] calldata zonePrices,
        uint256[] calldata shortPrices,
        uint256[] calldata longPrices
    ) external view returns (uint128 worstShort, uint128 worstLong) {
        uint256 zones = zonePrices.length;
        if (shortPrices.length != zones || longPrices.length != zones) {
            revert ImbalancePricesLength(zones, shortPrices.length, longPrices.length);
        }
        worstLong = type(uint128).max;
        for (uint256 z; z < zones; ++z) {
            // Safe cast: z indexes zone ids (uint32) of the schedule.
            ZoneGrid storage grid = _zoneGrids[uint32(z)];
            uint256 retail = grid.retailPerKwh;
            uint256 feedIn = grid.feedInPerKwh;
            if (retail == 0) revert NoGridTariffs(uint32(z));
            uint256 zonePrice = zonePrices[z];
            uint256 shortPrice = shortPrices[z];
            uint256 longPrice = longPrices[z];
            // Netted imbalance prices (docs/MARKET_RULES.md): the part of a zone's shorts that its longs covered
            // is settled at the zone price, the rest at the grid's tariff. So a short pays at least the zone price
            // (deviating never beats buying) and a long earns at most it (never beats selling), and nobody fares
            // worse than with the grid alone. Which price in the bounds is right needs every meter leaf: the
            // committee computes it, and the settled deviations (ImbalanceSettled) let anyone check it afterwards.
            if (
                shortPrice < zonePrice ||
                shortPrice > (zonePrice > retail ? zonePrice : retail) ||
                shortPrice > type(uint128).max ||
                longPrice < (zonePrice < feedIn ? zonePrice : feedIn) ||
                longPrice > zonePrice
            ) revert ImbalancePriceOutOfBounds(uint32(z), shortPrice, longPrice, retail, feedIn, zonePrice);
            // Safe casts: shortPrice checked just above; longPrice <= zonePrice <= shortPrice.
            if (shortPrice > worstShort) worstShort = uint128(shortPrice);
            if (longPrice < worstLong) worstLong = uint128(longPrice);
        }
    }

    /* INTERNAL */

    function _requireZone(uint32 zoneId) private view {
        if (zoneId >= _zoneCount) revert UnknownZone(zoneId);
    }

    function _orderedZones(uint32 zoneA, uint32 zoneB) private view returns (uint32 low, uint32 high) {
        if (zoneA == zoneB) revert SameZone(zoneA);
        _requireZone(zoneA);
        _requireZone(zoneB);
        return zoneA < zoneB ? (zoneA, zoneB) : (zoneB, zoneA);
    }

    function _pairKey(uint32 a, uint32 b) private pure returns (bytes32) {
        return bytes32((uint256(a) << 32) | uint256(b));
    }

    function _validateBattery(Battery calldata b) private view {
        if (b.owner == address(0)) revert ZeroAddress();
        _requireZone(b.zoneId);
        if (b.capacityWh == 0) revert InvalidBattery("capacityWh");
        if (b.chargeEfficiencyBps == 0 || b.chargeEfficiencyBps > _BPS)
            revert InvalidBattery("chargeEfficiencyBps");
        if (b.dischargeEfficiencyBps == 0 || b.dischargeEfficiencyBps > _BPS) {
            revert InvalidBattery("dischargeEfficiencyBps");
        }
        if (b.maxSocWh > b.capacityWh) revert InvalidBattery("maxSocWh");
        if (b.minSocWh > b.maxSocWh) revert InvalidBattery("minSocWh");
    }
}
