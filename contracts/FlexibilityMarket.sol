// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IFlexibilityMarket} from "./interfaces/IFlexibilityMarket.sol";
import {IEnergyMarket} from "./interfaces/IEnergyMarket.sol";
import {IGridRegistry} from "./interfaces/IGridRegistry.sol";
import {SettlementMath} from "./libraries/SettlementMath.sol";
import {MarketHashing} from "./libraries/MarketHashing.sol";

/// @title FlexibilityMarket
/// @notice Standing flexibility orders of registered batteries, settled against the schedules committed on
/// EnergyMarket; see {IFlexibilityMarket} and docs/CONTRACTS.md, "FlexibilityMarket".
contract FlexibilityMarket is IFlexibilityMarket, ReentrancyGuardTransient, EIP712 {
    using SafeERC20 for IERC20;
    using SettlementMath for uint256;

    /* CONSTANTS */

    /// @dev keccak256("FlexOrder(address owner,uint32 batteryId,uint64 firstInterval,uint64 lastInterval,
    /// uint128 maxChargePricePerKwh,uint128 minDischargePricePerKwh,uint128 chargeBudget,uint64 initialSocWh,
    /// uint64 nonce)")
    bytes32 public constant FLEX_ORDER_TYPEHASH =
        0x45f81e4801ffc0c96f0fd807252594730ee3447ec38720affef702e75a5c4035;

    /// @inheritdoc IFlexibilityMarket
    uint64 public constant MAX_WINDOW_INTERVALS = 672; // 7 days of 15-minute intervals

    uint256 private constant _BPS = 10_000;

    /* IMMUTABLES */

    IEnergyMarket public immutable market;
    IGridRegistry public immutable registry;
    IERC20 public immutable token;
    /// @dev The market's interval clock, read from its views at deployment (see the constructor).
    uint64 public immutable intervalSeconds;
    uint64 public immutable gateClosureSeconds;

    /* STORAGE */

    /// @dev What is kept per order; the interface's OrderState.
    mapping(bytes32 orderId => OrderState) private _orders;
    /// @dev What is kept per battery: the interface's BatteryState and, in the same second slot, the end of the
    /// battery's orders for the one-order-per-interval rule. Invariant: every order of the battery that is (or will
    /// be) active in an interval > busyUntil is none; a new window must start after busyUntil.
    mapping(uint32 batteryId => Battery) private _batteries;
    /// @dev Difference array of the active-order count: an order active in [first, end] adds 1 at `first` and −1
    /// at `end + 1`. Invariant: for every interval k >= _nextInterval, activeOrderCount(k) == _carry +
    /// Σ_{_nextInterval <= j <= k} _delta[j]; only entries >= firstOpenInterval() >= _nextInterval ever change.
    mapping(uint64 intervalId => int256) private _delta;
    /// @dev One bit per interval at which some order's window starts (256 intervals per word): lets the cursor
    /// jump over an idle stretch with one read per 256 intervals instead of one per interval.
    mapping(uint256 word => uint256) private _startBits;
    /// @dev Invariant: _nextInterval <= firstOpenInterval(); every interval before it is settled, missed or had no
    /// active order.
    uint64 private _nextInterval;
    /// @dev Σ_{k < _nextInterval} _delta[k]: the orders carried into _nextInterval.
    uint256 private _carry;
    /// @dev Invariant: token.balanceOf(this) == Σ _balances + Σ (chargeBudget − spent) of placed, unrefunded
    /// orders (outside a settlement call).
    mapping(address owner => uint256) private _balances;
    mapping(address participant => mapping(uint64 intervalId => int256)) private _scheduledNetWh;

    struct Battery {
        bytes32 orderId;
        uint64 socWh;
        uint64 socInterval;
        uint64 busyUntil; // the last interval in which one of its orders is (or will be) active
        uint64 busyBefore; // busyUntil before its latest order was placed
    }

    /// @dev Running totals of a settlement batch.
    struct Totals {
        uint256 charged;
        uint256 paid;
    }

    constructor(
        IEnergyMarket market_,
        IGridRegistry registry_,
        IERC20 token_
    ) EIP712("GridBrain FlexibilityMarket", "1") {
        market = market_;
        registry = registry_;
        token = token_;
        // The market's clock, from its own views: gateClosure(k) = k * intervalSeconds − gateClosureSeconds for any
        // k whose start exceeds the gate closure lead (k = 2^32 is far past any realistic lead), so the two
        // contracts can never disagree on when a gate closes.
        uint256 k = 1 << 32;
        uint256 closesAt = market_.gateClosure(uint64(k));
        uint256 period = market_.gateClosure(uint64(k + 1)) - closesAt;
        intervalSeconds = SafeCast.toUint64(period);
        gateClosureSeconds = SafeCast.toUint64(k * period - closesAt);
        _nextInterval = firstOpenInterval();
    }

    /* ORDERS */

    /// @inheritdoc IFlexibilityMarket
    function placeFlexOrder(FlexOrder calldata order) external nonReentrant returns (bytes32 orderId) {
        orderId = _place(order);
        _pullBudget(order);
    }

    /// @inheritdoc IFlexibilityMarket
    function changeFlexOrder(
        FlexOrder calldata current,
        FlexOrder calldata replacement
    ) external nonReentrant returns (bytes32 orderId) {
        if (replacement.batteryId != current.batteryId) {
            revert InvalidFlexOrder("batteryId", "differs from the current order's");
        }
        _end(current);
        orderId = _place(replacement);
        _pullBudget(replacement);
    }

    /// @inheritdoc IFlexibilityMarket
    /// @dev The order's owner, or the battery's registered owner (an owner who sold the battery may be gone, and its
    /// order would block the battery until its window ends).
    function cancelFlexOrder(FlexOrder calldata order) external {
        _end(order);
    }

    /// @dev Checks and records a new order; the budget is pulled by the caller, last.
    function _place(FlexOrder calldata order) private returns (bytes32 orderId) {
        orderId = hashFlexOrder(order);
        IGridRegistry.Battery memory battery = registry.battery(order.batteryId);
        if (order.owner != msg.sender) revert InvalidFlexOrder("owner", "is not the caller");
        if (battery.owner != msg.sender) revert NotBatteryOwner(order.batteryId, msg.sender, battery.owner);
        uint64 firstOpen = firstOpenInterval();
        if (order.firstInterval < firstOpen) revert WindowInPast(order.firstInterval, firstOpen);
        if (order.lastInterval < order.firstInterval) {
            revert InvalidFlexOrder("lastInterval", "is before firstInterval");
        }
        if (order.lastInterval - order.firstInterval >= MAX_WINDOW_INTERVALS) {
            revert InvalidFlexOrder("lastInterval", "window longer than MAX_WINDOW_INTERVALS");
        }
        if (order.initialSocWh < battery.minSocWh || order.initialSocWh > battery.maxSocWh) {
            revert InvalidFlexOrder(
                "initialSocWh",
                "outside the battery's registered state-of-charge bounds"
            );
        }
        Battery storage b = _batteries[order.batteryId];
        if (b.busyUntil >= order.firstInterval || _orders[orderId].placed) {
            revert FlexOrderExists(order.batteryId, b.orderId);
        }

        _orders[orderId] = OrderState({
            placed: true,
            endInterval: order.lastInterval,
            spent: 0,
            refunded: false
        });
        b.orderId = orderId;
        b.busyBefore = b.busyUntil;
        b.busyUntil = order.lastInterval;
        _delta[order.firstInterval] += 1;
        _delta[order.lastInterval + 1] -= 1;
        _startBits[order.firstInterval >> 8] |= 1 << (order.firstInterval & 0xff);
        emit FlexOrderPlaced(orderId, order.owner, order.batteryId, order);
    }

    /// @dev Takes the order's charging budget from its owner (the caller). The token is assumed to move exactly the
    /// amount asked (no fee on transfer): the budget is part of the signed order.
    function _pullBudget(FlexOrder calldata order) private {
        uint256 budget = order.chargeBudget;
        if (budget == 0) return;
        uint256 held = token.balanceOf(msg.sender);
        if (held < budget) revert InsufficientBalance(msg.sender, held, budget);
        token.safeTransferFrom(msg.sender, address(this), budget);
    }

    /// @dev Ends the battery's latest order after the last interval whose gate has closed (or before its first
    /// interval, if that is still open). Only entries at or after firstOpenInterval() move, which the settlement
    /// cursor has not reached.
    function _end(FlexOrder calldata order) private {
        bytes32 orderId = hashFlexOrder(order);
        Battery storage b = _batteries[order.batteryId];
        if (b.orderId != orderId) revert UnknownFlexOrder(orderId);
        if (msg.sender != order.owner) {
            address registered = registry.battery(order.batteryId).owner;
            if (msg.sender != registered) revert NotBatteryOwner(order.batteryId, msg.sender, registered);
        }
        uint64 firstOpen = firstOpenInterval();
        OrderState storage state = _orders[orderId];
        uint64 end = state.endInterval;
        // The new end: the last closed interval, or just before the window for an order that has not started.
        uint64 newEnd = (order.firstInterval > firstOpen ? order.firstInterval : firstOpen) - 1;
        if (end <= newEnd) revert FlexOrderNotActive(orderId, firstOpen);

        state.endInterval = newEnd;
        // An order ended before its window leaves the battery as busy as it was before that order.
        b.busyUntil = newEnd >= order.firstInterval ? newEnd : b.busyBefore;
        _delta[end + 1] += 1;
        _delta[newEnd + 1] -= 1;
        emit FlexOrderEnded(orderId, order.batteryId, newEnd);
    }

    /// @inheritdoc IFlexibilityMarket
    function refundFlexFunds(FlexOrder calldata order) external {
        bytes32 orderId = hashFlexOrder(order);
        OrderState storage state = _orders[orderId];
        if (!state.placed) revert UnknownFlexOrder(orderId);
        if (state.refunded) revert AlreadyRefunded(orderId);
        uint64 end = state.endInterval;
        // An order ended before its window never spent anything; any other waits until its last interval is settled
        // or missed.
        if (end >= order.firstInterval && _nextInterval <= end) revert RefundNotYet(orderId, end);
        // Safe "unchecked": spent <= chargeBudget (the budget check of every charge).
        uint256 amount;
        unchecked {
            amount = order.chargeBudget - state.spent;
        }
        state.refunded = true;
        _balances[order.owner] += amount;
        emit FlexFundsRefunded(orderId, order.owner, amount);
    }

    /// @inheritdoc IFlexibilityMarket
    function withdraw(uint256 amount, address to) external nonReentrant {
        uint256 balance = _balances[msg.sender];
        if (balance < amount) revert InsufficientBalance(msg.sender, balance, amount);
        // Safe "unchecked": amount <= balance.
        unchecked {
            _balances[msg.sender] = balance - amount;
        }
        emit Withdrawn(msg.sender, to, amount);
        token.safeTransfer(to, amount);
    }

    /* SETTLEMENT */

    /// @inheritdoc IFlexibilityMarket
    function settleFlexSteps(
        uint64 intervalId,
        bytes32 scheduleRoot,
        uint256[] calldata zonePrices,
        FlexStep[] calldata steps,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external nonReentrant {
        _requireSchedule(intervalId, scheduleRoot, zonePrices);
        uint256 active = _passTo(intervalId);
        if (steps.length != active) revert FlexStepCount(intervalId, steps.length, active);
        // The cursor moves past the interval: a scheduled interval's gate has closed, so the cursor stays at or
        // before the first open interval (a later revert undoes it).
        _nextInterval = intervalId + 1;
        _carry = active;
        if (active == 0) return;
        // Scoped calls in this order: the legacy (non-IR) code generator runs out of stack slots with the six
        // calldata parameters otherwise.
        bytes32[] memory orderIds = _verifySteps(scheduleRoot, proof, proofFlags, steps);
        _finish(intervalId, active, _settleSteps(intervalId, zonePrices, steps, orderIds));
    }

    /// @dev Emits the interval's totals, sends the charges to the market and has it record the steps.
    function _finish(uint64 intervalId, uint256 active, Totals memory totals) private {
        // Safe cast: a count of orders, each placed by a transaction.
        emit FlexIntervalSettled(intervalId, uint32(active), totals.charged, totals.paid);
        if (totals.charged != 0) token.safeTransfer(address(market), totals.charged);
        // The market adds the steps to the interval's settled leaves, the charges to its receipts, and sends `paid`
        // (budget-checked against the receipts) back here, where it already is in the owners' balances.
        market.recordFlexibility(intervalId, uint32(active), totals.charged, totals.paid);
    }

    /// @dev Reverts unless the interval is scheduled on the market with this root and these zone prices.
    function _requireSchedule(
        uint64 intervalId,
        bytes32 scheduleRoot,
        uint256[] calldata zonePrices
    ) private view {
        IEnergyMarket.IntervalState memory interval = market.intervalState(intervalId);
        if (
            !interval.scheduled ||
            interval.commitment != MarketHashing.scheduleCommitment(scheduleRoot, zonePrices)
        ) {
            revert ScheduleMismatch(intervalId);
        }
    }

    function _settleSteps(
        uint64 intervalId,
        uint256[] calldata zonePrices,
        FlexStep[] calldata steps,
        bytes32[] memory orderIds
    ) private returns (Totals memory totals) {
        for (uint256 k; k < steps.length; ++k)
            _settleStep(intervalId, steps[k], orderIds[k], zonePrices, totals);
    }

    /// @dev Proves every step's leaf of the schedule tree with one multiproof; returns the orders' ids.
    function _verifySteps(
        bytes32 scheduleRoot,
        bytes32[] calldata proof,
        bool[] calldata proofFlags,
        FlexStep[] calldata steps
    ) private view returns (bytes32[] memory orderIds) {
        uint256 count = steps.length;
        orderIds = new bytes32[](count);
        bytes32[] memory leaves = new bytes32[](count);
        for (uint256 k; k < count; ++k) {
            bytes32 orderId = hashFlexOrder(steps[k].order);
            orderIds[k] = orderId;
            leaves[k] = MarketHashing.fillLeaf(flexStepKey(orderId, steps[k].direction), steps[k].energyWh);
        }
        if (!MerkleProof.multiProofVerifyCalldata(proof, proofFlags, scheduleRoot, leaves))
            revert InvalidProof();
    }

    /// @dev Settles one proven step: the order active, the battery once, its registered owner, power and state of
    /// charge, the order's price limit and budget; moves the money and records the scheduled net.
    function _settleStep(
        uint64 intervalId,
        FlexStep calldata step,
        bytes32 orderId,
        uint256[] calldata zonePrices,
        Totals memory totals
    ) private {
        FlexOrder calldata order = step.order;
        OrderState storage state = _orders[orderId];
        if (!state.placed) revert UnknownFlexOrder(orderId);
        if (intervalId < order.firstInterval || intervalId > state.endInterval) {
            revert FlexOrderNotActive(orderId, intervalId);
        }
        Battery storage b = _batteries[order.batteryId];
        // Each step records its interval on the battery: a second step of the battery in this batch finds it.
        if (b.socInterval == intervalId) revert DuplicateFlexStep(order.batteryId);
        // The window starts from the owner's measured state of charge; later intervals continue from the last
        // settled step (a missed interval leaves it unchanged).
        uint64 socWh = b.socInterval < order.firstInterval ? order.initialSocWh : b.socWh;
        uint256 amount;
        if (step.energyWh != 0)
            (socWh, amount) = _stepWithEnergy(intervalId, step, orderId, socWh, zonePrices, totals);
        b.socWh = socWh;
        b.socInterval = intervalId;
        emit FlexStepSettled(
            orderId,
            order.batteryId,
            intervalId,
            step.direction,
            step.energyWh,
            socWh,
            amount
        );
    }

    /// @dev A step that moves energy: the battery's registered owner, power and state of charge, the zone price
    /// against the order's limit and budget; returns the new state of charge and the amount charged or paid.
    function _stepWithEnergy(
        uint64 intervalId,
        FlexStep calldata step,
        bytes32 orderId,
        uint64 socWh,
        uint256[] calldata zonePrices,
        Totals memory totals
    ) private returns (uint64, uint256 amount) {
        FlexOrder calldata order = step.order;
        IGridRegistry.Battery memory battery = registry.battery(order.batteryId);
        if (battery.owner != order.owner) revert BatteryOwnerChanged(order.batteryId, battery.owner);
        if (battery.zoneId >= zonePrices.length) {
            revert UnknownZonePrice(order.batteryId, battery.zoneId, zonePrices.length);
        }
        uint256 price = zonePrices[battery.zoneId];
        int256 energyWh = int256(uint256(step.energyWh));
        if (step.direction == Direction.Charge) {
            socWh = _charge(order, battery, socWh, step.energyWh);
            amount = _spend(order, orderId, price, step.energyWh);
            totals.charged += amount;
            _scheduledNetWh[order.owner][intervalId] -= energyWh;
        } else {
            socWh = _discharge(order, battery, socWh, step.energyWh);
            if (price < order.minDischargePricePerKwh) {
                revert FlexPriceOutsideLimit(orderId, price, order.minDischargePricePerKwh);
            }
            amount = price.costDown(step.energyWh);
            totals.paid += amount;
            _balances[order.owner] += amount;
            _scheduledNetWh[order.owner][intervalId] += energyWh;
        }
        return (socWh, amount);
    }

    /// @dev Checks a charge at `price` against the order's limit and charges it to its budget; returns the cost.
    function _spend(
        FlexOrder calldata order,
        bytes32 orderId,
        uint256 price,
        uint64 energyWh
    ) private returns (uint256 amount) {
        if (price > order.maxChargePricePerKwh)
            revert FlexPriceOutsideLimit(orderId, price, order.maxChargePricePerKwh);
        amount = price.costUp(energyWh);
        OrderState storage state = _orders[orderId];
        uint256 spent = state.spent + amount;
        if (spent > order.chargeBudget) revert FlexBudgetExceeded(orderId, spent, order.chargeBudget);
        // Safe cast: spent <= chargeBudget, a uint128.
        state.spent = uint128(spent);
    }

    /// @dev The state of charge after charging `energyWh` from the grid: floor(c × charge efficiency) is stored.
    function _charge(
        FlexOrder calldata order,
        IGridRegistry.Battery memory battery,
        uint64 socWh,
        uint64 energyWh
    ) private view returns (uint64) {
        uint64 maxWh = _perInterval(battery.maxChargeW);
        if (energyWh > maxWh) revert ExceedsPower(order.batteryId, energyWh, maxWh);
        uint256 after_ = uint256(socWh) + (uint256(energyWh) * battery.chargeEfficiencyBps) / _BPS;
        if (after_ < battery.minSocWh || after_ > battery.maxSocWh) {
            revert SocOutOfBounds(order.batteryId, int256(after_), battery.minSocWh, battery.maxSocWh);
        }
        // Safe cast: after_ <= maxSocWh, a uint64.
        return uint64(after_);
    }

    /// @dev The state of charge after delivering `energyWh` to the grid: ceil(g / discharge efficiency) is taken.
    function _discharge(
        FlexOrder calldata order,
        IGridRegistry.Battery memory battery,
        uint64 socWh,
        uint64 energyWh
    ) private view returns (uint64) {
        uint64 maxWh = _perInterval(battery.maxDischargeW);
        if (energyWh > maxWh) revert ExceedsPower(order.batteryId, energyWh, maxWh);
        // The registry keeps 0 < dischargeEfficiencyBps <= 10000.
        uint256 taken =
            (uint256(energyWh) * _BPS + battery.dischargeEfficiencyBps - 1) / battery.dischargeEfficiencyBps;
        int256 after_ = int256(uint256(socWh)) - int256(taken);
        if (after_ < int256(uint256(battery.minSocWh)) || after_ > int256(uint256(battery.maxSocWh))) {
            revert SocOutOfBounds(order.batteryId, after_, battery.minSocWh, battery.maxSocWh);
        }
        // Safe cast: minSocWh <= after_ <= maxSocWh.
        return uint64(uint256(after_));
    }

    /// @dev Energy in Wh that `watts` moves in one interval, rounded down.
    function _perInterval(uint64 watts) private view returns (uint64) {
        return SafeCast.toUint64((uint256(watts) * intervalSeconds) / 3600);
    }

    /// @inheritdoc IFlexibilityMarket
    function closeMissedInterval(uint64 intervalId) external {
        uint256 deadline = market.meterDeadline(intervalId);
        if (block.timestamp < deadline) revert NotMissedYet(intervalId, deadline);
        uint256 active = _passTo(intervalId);
        // Past its meter deadline the interval's gate has long closed: the cursor stays at or before the first
        // open interval.
        _nextInterval = intervalId + 1;
        _carry = active;
        // Safe cast: a count of orders, each placed by a transaction.
        if (active != 0) emit FlexIntervalMissed(intervalId, uint32(active));
    }

    /// @dev Moves the cursor to `intervalId` over intervals without an active order and returns the number of orders
    /// active in `intervalId`; reverts when an earlier interval still has one (FlexIntervalOutOfOrder).
    function _passTo(uint64 intervalId) private returns (uint256 active) {
        uint64 next = _nextInterval;
        if (intervalId < next) revert FlexIntervalOutOfOrder(intervalId, next);
        int256 carry = int256(_carry);
        while (next < intervalId) {
            int256 count = carry + _delta[next];
            if (count != 0) revert FlexIntervalOutOfOrder(intervalId, next);
            // No order is active in `next`: none is until the next window start (an order active later without
            // starting in between would be active in `next` too), so the count there is its own delta.
            next = _nextStart(next + 1, intervalId);
            carry = 0;
        }
        _nextInterval = next;
        _carry = uint256(carry);
        // Safe cast: the count of active orders is never negative (each −1 follows its +1).
        active = uint256(carry + _delta[intervalId]);
    }

    /// @dev The first interval in [from, to) at which some window starts, or `to`.
    function _nextStart(uint64 from, uint64 to) private view returns (uint64) {
        if (from >= to) return to;
        uint256 word = from >> 8;
        uint256 lastWord = (uint256(to) - 1) >> 8;
        uint256 bits = _startBits[word] & (type(uint256).max << (from & 0xff));
        while (bits == 0) {
            if (word == lastWord) return to;
            bits = _startBits[++word];
        }
        uint256 found = (word << 8) | _lowestBit(bits);
        return found < to ? uint64(found) : to;
    }

    /// @dev Index of the lowest set bit of a non-zero word.
    function _lowestBit(uint256 bits) private pure returns (uint256 index) {
        bits &= ~bits + 1; // isolate it (two's complement)
        for (uint256 shift = 128; shift != 0; shift >>= 1) {
            if (bits >> shift != 0) {
                bits >>= shift;
                index += shift;
            }
        }
    }

    /* VIEWS */

    /// @inheritdoc IFlexibilityMarket
    function nextInterval() external view returns (uint64) {
        return _nextInterval;
    }

    /// @inheritdoc IFlexibilityMarket
    /// @dev Walks from the cursor (skipping idle stretches like the settlement does), or back to it for an earlier
    /// interval: exact for every interval.
    function activeOrderCount(uint64 intervalId) external view returns (uint32) {
        uint64 next = _nextInterval;
        int256 carry = int256(_carry);
        if (intervalId < next) {
            // Σ_{k <= i} = carry − Σ_{i < k < next}; entries before the cursor never change.
            for (uint64 k = intervalId + 1; k < next; ++k) carry -= _delta[k];
            return SafeCast.toUint32(uint256(carry));
        }
        while (next < intervalId) {
            int256 count = carry + _delta[next];
            if (count == 0) {
                next = _nextStart(next + 1, intervalId);
                carry = 0;
            } else {
                carry = count;
                ++next;
            }
        }
        return SafeCast.toUint32(uint256(carry + _delta[intervalId]));
    }

    /// @inheritdoc IFlexibilityMarket
    function firstOpenInterval() public view returns (uint64) {
        // The smallest i with block.timestamp < gateClosure(i) = i × intervalSeconds − gateClosureSeconds.
        return uint64((block.timestamp + gateClosureSeconds) / intervalSeconds + 1);
    }

    /// @inheritdoc IFlexibilityMarket
    function orderState(bytes32 orderId) external view returns (OrderState memory) {
        return _orders[orderId];
    }

    /// @inheritdoc IFlexibilityMarket
    function batteryState(uint32 batteryId) external view returns (BatteryState memory) {
        Battery storage b = _batteries[batteryId];
        return BatteryState(b.orderId, b.socWh, b.socInterval);
    }

    /// @inheritdoc IFlexibilityMarket
    function scheduledNetWh(address participant, uint64 intervalId) external view returns (int256) {
        return _scheduledNetWh[participant][intervalId];
    }

    /// @inheritdoc IFlexibilityMarket
    function balanceOf(address owner) external view returns (uint256) {
        return _balances[owner];
    }

    /// @notice The EIP-712 domain separator (name "GridBrain FlexibilityMarket", version "1", chain id, this contract).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IFlexibilityMarket
    function hashFlexOrder(FlexOrder calldata order) public view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        FLEX_ORDER_TYPEHASH,
                        order.owner,
                        order.batteryId,
                        order.firstInterval,
                        order.lastInterval,
                        order.maxChargePricePerKwh,
                        order.minDischargePricePerKwh,
                        order.chargeBudget,
                        order.initialSocWh,
                        order.nonce
                    )
                )
            );
    }

    /// @inheritdoc IFlexibilityMarket
    function flexStepKey(bytes32 orderId, Direction direction) public pure returns (bytes32) {
        return keccak256(abi.encode(orderId, direction));
    }
}
