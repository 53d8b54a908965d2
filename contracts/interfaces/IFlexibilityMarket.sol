// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IFlexibilityMarket
/// @notice Standing flexibility orders of registered batteries (issue 14). The owner of a battery places one order
/// for a window of intervals: the highest zone price at which the battery may charge, the lowest at which it may
/// discharge, and a charging budget locked once. Every schedule the committee commits on EnergyMarket carries, for
/// each order active in the interval, one step leaf in the same schedule tree as the fills; this contract settles
/// an interval's steps in one batch, at the committed zone price, within the order's limits and budget and the
/// battery's registered limits, and keeps the battery's scheduled state of charge.
///
/// Units as on EnergyMarket: energy in integer Wh on the grid side, prices in token base units per kWh; a charge
/// costs `ceil(price * energyWh / 1000)`, a discharge is paid `floor(price * energyWh / 1000)`.
///
/// State-of-charge rule (integer, conservative): charging `c` Wh stores `floor(c * chargeEfficiencyBps / 10000)`;
/// discharging `g` Wh takes `ceil(g * 10000 / dischargeEfficiencyBps)` out of storage. Power: per interval at most
/// `floor(maxChargeW * intervalSeconds / 3600)` Wh charged, likewise discharged; never both in one interval.
/// After each step minSocWh <= soc <= maxSocWh (registered values, read at settlement).
interface IFlexibilityMarket {
    /* TYPES */

    enum Direction {
        Charge,
        Discharge
    }

    /// @notice A standing flexibility order. Its id is the EIP-712 digest of this struct under this contract's
    /// domain (name "GridBrain FlexibilityMarket", version "1"). A battery has at most one order active per interval.
    struct FlexOrder {
        address owner; // the battery's registered owner
        uint32 batteryId;
        uint64 firstInterval; // first interval of the window; its gate must still be open when placed
        uint64 lastInterval; // last interval of the window (inclusive), at most MAX_WINDOW_INTERVALS long
        uint128 maxChargePricePerKwh; // the battery charges only at a zone price <= this
        uint128 minDischargePricePerKwh; // the battery discharges only at a zone price >= this
        uint128 chargeBudget; // tokens locked at placement to pay for charging
        uint64 initialSocWh; // the battery's state of charge at the start of firstInterval, as its owner measures it
        uint64 nonce;
    }

    /// @notice One order's step in one interval, as proven against the committed schedule: the leaf is EnergyMarket's
    /// fill leaf `(flexStepKey(orderId, direction), energyWh)`. A step of 0 Wh is a Charge of 0.
    struct FlexStep {
        FlexOrder order;
        Direction direction;
        uint64 energyWh; // grid side: drawn from the grid (Charge) or delivered to it (Discharge)
    }

    /// @notice What the contract keeps for an order.
    struct OrderState {
        bool placed;
        uint64 endInterval; // the last interval it is active: lastInterval, or earlier after a cancel or change
        uint128 spent; // charged to its budget so far
        bool refunded; // the unspent budget was returned to the owner's balance
    }

    /// @notice What the contract keeps for a battery.
    struct BatteryState {
        bytes32 orderId; // its latest order (0 if none)
        uint64 socWh; // scheduled state of charge at the end of `socInterval`
        uint64 socInterval; // the last interval whose step was settled (0 if none)
    }

    /* EVENTS */

    event FlexOrderPlaced(
        bytes32 indexed orderId,
        address indexed owner,
        uint32 indexed batteryId,
        FlexOrder order
    );
    /// @notice The order stops after `endInterval` (a cancel, or a change from `endInterval + 1`). An order ended
    /// before its first interval was never active: `endInterval` is then `firstInterval - 1`.
    event FlexOrderEnded(bytes32 indexed orderId, uint32 indexed batteryId, uint64 endInterval);
    /// @notice A step was settled; `amount` is what the owner paid (Charge) or was credited (Discharge).
    event FlexStepSettled(
        bytes32 indexed orderId,
        uint32 indexed batteryId,
        uint64 indexed intervalId,
        Direction direction,
        uint64 energyWh,
        uint64 socWh,
        uint256 amount
    );
    /// @notice Every active order of `intervalId` was settled (`steps` of them).
    event FlexIntervalSettled(uint64 indexed intervalId, uint32 steps, uint256 charged, uint256 paid);
    /// @notice `intervalId` had `activeOrders` active orders whose steps were not settled by its meter deadline: the
    /// committee left them out of the schedule, or nobody settled them. The batteries are taken as idle.
    event FlexIntervalMissed(uint64 indexed intervalId, uint32 activeOrders);
    event FlexFundsRefunded(bytes32 indexed orderId, address indexed owner, uint256 amount);
    event Withdrawn(address indexed owner, address indexed to, uint256 amount);

    /* ERRORS */

    /// @notice A field of the order is invalid; `field` names it and `reason` says why.
    error InvalidFlexOrder(string field, string reason);
    /// @notice `firstInterval` is in the past: its gate closed; the first open interval is `firstOpenInterval`.
    error WindowInPast(uint64 firstInterval, uint64 firstOpenInterval);
    /// @notice The caller is not the battery's registered owner `owner`.
    error NotBatteryOwner(uint32 batteryId, address caller, address owner);
    /// @notice The battery already has order `orderId` active at or after the new window's start: change it instead.
    error FlexOrderExists(uint32 batteryId, bytes32 orderId);
    /// @notice `orderId` was never placed, was altered, or is not the battery's latest order.
    error UnknownFlexOrder(bytes32 orderId);
    /// @notice The order is not active in `intervalId`.
    error FlexOrderNotActive(bytes32 orderId, uint64 intervalId);
    /// @notice Steps settle one interval at a time in order: `expected` is next.
    error FlexIntervalOutOfOrder(uint64 intervalId, uint64 expected);
    /// @notice The batch has `given` steps; `intervalId` has `active` active orders, all settled together.
    error FlexStepCount(uint64 intervalId, uint256 given, uint256 active);
    /// @notice The batch has two steps of `batteryId` (a battery has one active order, hence one step, per interval).
    error DuplicateFlexStep(uint32 batteryId);
    /// @notice The schedule has no price for the battery's registered zone `zoneId` (`zoneCount` prices).
    error UnknownZonePrice(uint32 batteryId, uint32 zoneId, uint256 zoneCount);
    /// @notice The step exceeds the battery's registered power `maxWh` per interval.
    error ExceedsPower(uint32 batteryId, uint64 energyWh, uint64 maxWh);
    /// @notice The step would take the scheduled state of charge outside [minSocWh, maxSocWh].
    error SocOutOfBounds(uint32 batteryId, int256 socWh, uint64 minSocWh, uint64 maxSocWh);
    /// @notice A charge above the order's maximum price or a discharge below its minimum.
    error FlexPriceOutsideLimit(bytes32 orderId, uint256 price, uint128 limit);
    /// @notice Charging would spend more than the order's budget.
    error FlexBudgetExceeded(bytes32 orderId, uint256 spent, uint128 budget);
    /// @notice The battery's registered owner changed since the order was placed; only a 0 Wh step is allowed.
    error BatteryOwnerChanged(uint32 batteryId, address owner);
    /// @notice The interval is not scheduled on EnergyMarket, or the root and prices differ from its commitment.
    error ScheduleMismatch(uint64 intervalId);
    /// @notice The Merkle multiproof does not prove the steps.
    error InvalidProof();
    /// @notice The interval's steps can be declared missed only from `meterDeadline`.
    error NotMissedYet(uint64 intervalId, uint256 meterDeadline);
    /// @notice The order's budget can be refunded once its last active interval `endInterval` is settled or missed.
    error RefundNotYet(bytes32 orderId, uint64 endInterval);
    error AlreadyRefunded(bytes32 orderId);
    error InsufficientBalance(address owner, uint256 balance, uint256 needed);

    /* ORDERS */

    /// @notice Places a standing order for the caller's battery and locks `order.chargeBudget` (transferFrom).
    function placeFlexOrder(FlexOrder calldata order) external returns (bytes32 orderId);

    /// @notice Ends `current` after the last interval whose gate has closed and places `replacement`, whose window
    /// must start at or after the first open interval. The unspent budget of `current` is refundable once it ends.
    function changeFlexOrder(
        FlexOrder calldata current,
        FlexOrder calldata replacement
    ) external returns (bytes32 orderId);

    /// @notice Ends the order after the last interval whose gate has closed (or before its window, if that has not
    /// started). The order's owner, or the battery's current registered owner, may call it.
    function cancelFlexOrder(FlexOrder calldata order) external;

    /// @notice Returns the unspent budget of an ended order to its owner's balance, once every interval it was
    /// active in is settled or missed. Anyone may call it.
    function refundFlexFunds(FlexOrder calldata order) external;

    /// @notice Sends `amount` of the caller's balance (discharge earnings and refunds) to `to`.
    function withdraw(uint256 amount, address to) external;

    /* SETTLEMENT */

    /// @notice Settles every active order's step of `intervalId` against the schedule committed on EnergyMarket
    /// (`scheduleRoot` and `zonePrices` must match its commitment), with one OpenZeppelin multiproof (steps in the
    /// order the proof expects; each battery once). Intervals settle in order; intervals with no active order are
    /// passed over. Anyone may call it, until the interval's meter deadline.
    function settleFlexSteps(
        uint64 intervalId,
        bytes32 scheduleRoot,
        uint256[] calldata zonePrices,
        FlexStep[] calldata steps,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external;

    /// @notice After `intervalId`'s meter deadline, when its steps were not settled, records the interval as missed
    /// (batteries idle, state of charge unchanged) so that later intervals can settle. Anyone may call it.
    function closeMissedInterval(uint64 intervalId) external;

    /* VIEWS */

    function MAX_WINDOW_INTERVALS() external view returns (uint64);
    /// @notice The next interval to settle (every earlier one is settled, missed or had no active order).
    function nextInterval() external view returns (uint64);
    /// @notice The number of orders active in `intervalId` (exact for intervals at or after `nextInterval`).
    function activeOrderCount(uint64 intervalId) external view returns (uint32);
    /// @notice The first interval whose gate is still open: where a new window may start, and from where a change
    /// or cancel takes effect.
    function firstOpenInterval() external view returns (uint64);
    function orderState(bytes32 orderId) external view returns (OrderState memory);
    function batteryState(uint32 batteryId) external view returns (BatteryState memory);
    /// @notice The participant's scheduled net flexibility energy in an interval (discharged − charged, Wh), which
    /// EnergyMarket adds to its scheduled net when settling the participant's imbalance.
    function scheduledNetWh(address participant, uint64 intervalId) external view returns (int256);
    function balanceOf(address owner) external view returns (uint256);
    function hashFlexOrder(FlexOrder calldata order) external view returns (bytes32);
    /// @notice `keccak256(abi.encode(orderId, direction))`: the id under which a step is a leaf of the schedule tree.
    function flexStepKey(bytes32 orderId, Direction direction) external pure returns (bytes32);
}
