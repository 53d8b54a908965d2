// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IGridRegistry
/// @notice The grid model the oracle clears against and the market reads: zones, lines between zones, grid fees,
/// participants bound to a zone, smart meters and batteries. Only the operator role changes it; every change emits
/// an event, so an indexer can rebuild the registry from events alone.
interface IGridRegistry {
    /// @notice Energy source behind a smart meter. Solar, Wind and Hydro are renewable (certificates are issued).
    enum Source {
        Other,
        Solar,
        Wind,
        Hydro,
        Battery
    }

    struct Line {
        uint64 capacityWh; // energy the line carries per interval, each direction
        uint16 lossBps; // losses in basis points of the energy sent
        bool exists;
    }

    struct Meter {
        address participant;
        Source source;
    }

    struct Battery {
        address owner;
        uint32 zoneId;
        uint64 capacityWh;
        uint64 maxChargeW;
        uint64 maxDischargeW;
        uint16 chargeEfficiencyBps;
        uint16 dischargeEfficiencyBps;
        uint64 minSocWh;
        uint64 maxSocWh;
    }

    /// @notice The grid's role in a zone: the balancing party that supplies at `retailPerKwh` and absorbs at
    /// `feedInPerKwh` whatever the zone's participants do not trade among themselves. `account` (optional) is the
    /// market account through which the grid places its supply offer and offtake bid; it is never metered and
    /// never settled for imbalance.
    struct ZoneGrid {
        address account;
        uint128 retailPerKwh; // token base units per kWh the grid charges to supply
        uint128 feedInPerKwh; // token base units per kWh the grid pays for surplus
    }

    /* EVENTS */

    /// @notice Zone `zoneId` was added.
    event ZoneAdded(uint32 indexed zoneId, string name);
    /// @notice The line between `fromZone` and `toZone` (undirected, stored with fromZone < toZone) was set.
    event LineSet(uint32 indexed fromZone, uint32 indexed toZone, uint64 capacityWh, uint16 lossBps);
    /// @notice The line between the two zones was removed.
    event LineRemoved(uint32 indexed fromZone, uint32 indexed toZone);
    /// @notice The grid fee for energy delivered from `fromZone` to `toZone` was set (token base units per kWh).
    event GridFeeSet(uint32 indexed fromZone, uint32 indexed toZone, uint128 feePerKwh);
    /// @notice `participant` was registered in (or moved to) `zoneId`.
    event ParticipantRegistered(address indexed participant, uint32 indexed zoneId);
    /// @notice `participant` was removed.
    event ParticipantRemoved(address indexed participant);
    /// @notice Smart meter `meter` (its signing key) was registered for `participant` with `source`.
    event MeterRegistered(address indexed meter, address indexed participant, Source source);
    /// @notice Smart meter `meter` was removed.
    event MeterRemoved(address indexed meter, address indexed participant);
    /// @notice Battery `batteryId` was registered or updated.
    event BatterySet(uint32 indexed batteryId, Battery battery);
    /// @notice Battery `batteryId` was removed.
    event BatteryRemoved(uint32 indexed batteryId);
    /// @notice The grid's account and tariffs in `zoneId` were set.
    event ZoneGridSet(
        uint32 indexed zoneId,
        address indexed account,
        uint128 retailPerKwh,
        uint128 feedInPerKwh
    );

    /* ERRORS */

    /// @notice `zoneId` is not a registered zone.
    error UnknownZone(uint32 zoneId);
    /// @notice A line must join two different zones.
    error SameZone(uint32 zoneId);
    /// @notice There is no line between the two zones.
    error UnknownLine(uint32 fromZone, uint32 toZone);
    /// @notice A line's loss must be below 100%.
    error LossTooHigh(uint16 lossBps);
    /// @notice `participant` is not registered.
    error UnknownParticipant(address participant);
    /// @notice The zero address cannot be a participant, meter or battery owner.
    error ZeroAddress();
    /// @notice `meter` is already registered (to `participant`).
    error MeterAlreadyRegistered(address meter, address participant);
    /// @notice `meter` is not registered.
    error UnknownMeter(address meter);
    /// @notice `participant` already has meter `meter`; one meter per participant.
    error ParticipantHasMeter(address participant, address meter);
    /// @notice A battery field is out of range; `field` names it.
    error InvalidBattery(string field);
    /// @notice `batteryId` is not a registered battery.
    error UnknownBattery(uint32 batteryId);
    /// @notice A zone's tariffs need 0 < feedInPerKwh <= retailPerKwh.
    error InvalidTariffs(uint32 zoneId, uint128 retailPerKwh, uint128 feedInPerKwh);
    /// @notice `account` is already the grid account of `zoneId`, or is a participant with a meter.
    error GridAccountTaken(address account, uint32 zoneId);
    /// @notice A meter report's price arrays must have one entry per zone price of the schedule.
    error ImbalancePricesLength(uint256 zoneCount, uint256 shortCount, uint256 longCount);
    /// @notice A reported imbalance price breaks the bounds zone price <= short <= max(retail, zone price) and
    /// min(feed-in, zone price) <= long <= zone price, with the zone's registered tariffs.
    error ImbalancePriceOutOfBounds(
        uint32 zoneId,
        uint256 shortPrice,
        uint256 longPrice,
        uint256 retailPerKwh,
        uint256 feedInPerKwh,
        uint256 zonePrice
    );
    /// @notice Zone `zoneId` has no registered grid tariffs, so its imbalance prices cannot be bounded.
    error NoGridTariffs(uint32 zoneId);

    /* VIEWS */

    /// @notice Number of zones; zone ids are 0 .. zoneCount-1.
    function zoneCount() external view returns (uint32);
    /// @notice The line between two zones (order of the arguments does not matter).
    function lineBetween(uint32 zoneA, uint32 zoneB) external view returns (Line memory);
    /// @notice Grid fee per kWh for energy delivered from `fromZone` to `toZone`.
    function gridFee(uint32 fromZone, uint32 toZone) external view returns (uint128);
    /// @notice Whether `participant` is registered, and its zone.
    function participantZone(address participant) external view returns (bool registered, uint32 zoneId);
    /// @notice The meter registered under signing key `meter`.
    function meterInfo(address meter) external view returns (Meter memory);
    /// @notice The meter of `participant` (zero if none).
    function meterOf(address participant) external view returns (address);
    /// @notice The energy source of `participant`'s meter (`Source.Other` if it has none).
    function sourceOf(address participant) external view returns (Source);
    /// @notice `participant`'s energy source at `timestamp`: its current meter's source if that meter was registered
    /// at or before `timestamp`, Other otherwise (no meter, or a meter installed later). The market reads it at the
    /// start of an interval, so a meter swapped after delivery cannot change the interval's certificates.
    function sourceAt(address participant, uint256 timestamp) external view returns (Source);
    /// @notice Battery `batteryId`.
    function battery(uint32 batteryId) external view returns (Battery memory);
    /// @notice Number of battery ids handed out; ids are 0 .. batteryCount-1 (removed ones read as empty).
    function batteryCount() external view returns (uint32);
    /// @notice The grid's account and tariffs in `zoneId` (all zero until set).
    function zoneGrid(uint32 zoneId) external view returns (ZoneGrid memory);
    /// @notice Whether `account` is the grid account of a zone, and which.
    function gridZoneOf(address account) external view returns (bool isGrid, uint32 zoneId);
    /// @notice Checks an interval's imbalance prices, per zone (index = zone id), against the bounds
    /// zone price <= short <= max(retail, zone price) and min(feed-in, zone price) <= long <= zone price with the zones'
    /// current tariffs; reverts `ImbalancePricesLength`, `NoGridTariffs` or `ImbalancePriceOutOfBounds`. Returns the
    /// highest short and the lowest long price (the uint128 maximum when there are no zones).
    function checkImbalancePrices(
        uint256[] calldata zonePrices,
        uint256[] calldata shortPrices,
        uint256[] calldata longPrices
    ) external view returns (uint128 worstShort, uint128 worstLong);
}
