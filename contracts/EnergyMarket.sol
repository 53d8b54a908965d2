// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IEnergyMarket} from "./interfaces/IEnergyMarket.sol";
import {IGridRegistry} from "./interfaces/IGridRegistry.sol";
import {IOracleCommittee} from "./interfaces/IOracleCommittee.sol";
import {IEnergyCertificate} from "./interfaces/IEnergyCertificate.sol";
import {IFlexibilityMarket} from "./interfaces/IFlexibilityMarket.sol";
import {SettlementMath} from "./libraries/SettlementMath.sol";
import {MarketHashing} from "./libraries/MarketHashing.sol";
import {Positions} from "./libraries/Positions.sol";

/// @title EnergyMarket
/// @notice Escrowed order book, schedule commit, settlement of fills and imbalances; see {IEnergyMarket},
/// docs/MARKET_RULES.md and docs/CONTRACTS.md.
contract EnergyMarket is IEnergyMarket, AccessControl, Pausable, ReentrancyGuardTransient, EIP712 {
    using SafeERC20 for IERC20;
    using SettlementMath for uint256;

    /* CONSTANTS */

    /// @notice Role of the grid operator: withdraws operator funds.
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    /// @notice Role that may pause orders and commits.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    /// @dev The EIP-712 type hashes, public for off-chain tooling; preimages in {MarketHashing}.
    bytes32 public constant ORDER_TYPEHASH = MarketHashing.ORDER_TYPEHASH;
    bytes32 public constant SCHEDULE_REPORT_TYPEHASH = MarketHashing.SCHEDULE_REPORT_TYPEHASH;
    bytes32 public constant METER_REPORT_TYPEHASH = MarketHashing.METER_REPORT_TYPEHASH;
    bytes32 public constant METER_READING_TYPEHASH = MarketHashing.METER_READING_TYPEHASH;

    /// @notice After an interval's meter deadline, keepers have this long to settle its imbalances; then a
    /// participant whose leaf is missing or lost takes its offer collateral back (releaseCollateral).
    uint256 public constant COLLATERAL_GRACE_SECONDS = 7 days;

    /// @dev Key of the imbalance prices that apply to a participant without a registered zone: the highest short and
    /// the lowest long price of the interval's zones, so that being unregistered is never cheaper.
    uint32 private constant _UNZONED = type(uint32).max;

    /* IMMUTABLES */

    IERC20 public immutable token;
    uint8 public immutable tokenDecimals;
    IGridRegistry public immutable registry;
    IOracleCommittee public immutable committee;
    IEnergyCertificate public immutable certificates;
    uint64 public immutable intervalSeconds;
    uint64 public immutable gateClosureSeconds;
    uint64 public immutable scheduleWindowSeconds;
    uint64 public immutable meterWindowSeconds;
    uint128 public immutable offerCollateralPerKwh;
    /// @dev The deployer may set the flexibility market once, like the admin: the deployment sets it right after
    /// both contracts exist, while the admin may be a cold multisig (docs/DEPLOYING.md).
    address private immutable _deployer;

    /* STORAGE */

    /// @dev Invariant: token.balanceOf(this) == Σ free + Σ locked (of _accounts) + Σ (receipts − payouts) of
    /// intervals + _operatorFunds + tokens sent by mistake. `_imbalanceOwed` is a claim on _operatorFunds, not held
    /// apart.
    uint256 private _operatorFunds;
    /// @dev Invariant: _totalOwed == Σ tokens received − Σ tokens paid out == everything the market owes (internal
    /// moves conserve it), and token.balanceOf(this) >= _totalOwed. Only the excess can be recovered.
    uint256 private _totalOwed;
    /// @dev Invariant: locked == Σ locks of the account's open orders + Σ imbalance collateral of its settled fills
    /// whose delivery is neither settled nor released + Σ its _pendingPayouts. Both halves share one slot, so moving
    /// funds between them costs no extra storage access.
    mapping(address account => Account) private _accounts;
    /// @dev Invariant: at most one open order per (owner, interval, side); a slot is 0, an open order's id, or a
    /// settled fill record. A settled record is never overwritten, so a fill settles at most once.
    mapping(address owner => mapping(uint64 intervalId => bytes32[2] bySide)) private _positions;
    /// @dev Invariant: payouts <= receipts for every interval.
    mapping(uint64 intervalId => IntervalState) private _intervals;
    mapping(address participant => mapping(uint64 intervalId => bool)) private _imbalanceSettled;
    mapping(uint64 intervalId => mapping(IGridRegistry.Source => uint256)) private _issuedWh;
    mapping(address buyer => mapping(uint256 certificateId => uint256)) private _claimedWh;
    mapping(uint64 intervalId => mapping(uint32 zoneId => ImbalancePrices)) private _imbalancePrices;
    /// @dev A seller's payout, withheld from its fill settlement until its delivery is settled (docs/MARKET_RULES.md,
    /// "Sellers are paid after delivery"). Invariant: non-zero only for a settled sell fill whose imbalance is not
    /// settled and whose collateral is not released.
    mapping(address seller => mapping(uint64 intervalId => uint256)) private _pendingPayouts;
    /// @dev Long imbalance payments the operator funds could not pay when settled; claimable later, so what a long
    /// participant receives does not depend on the order of settlement.
    mapping(address participant => uint256) private _imbalanceOwed;
    /// @dev Invariant: _totalImbalanceOwed == Σ _imbalanceOwed; the operator withdraws only funds beyond it.
    uint256 private _totalImbalanceOwed;
    /// @dev IFlexibilityMarket: settles battery steps as leaves of the schedules committed here; set once.
    address private _flexibilityMarket;

    /// @dev An account's free and locked funds. uint128 holds 3.4e38 base units, far beyond any token supply that a
    /// deposit could bring (a deposit that would overflow reverts).
    struct Account {
        uint128 free;
        uint128 locked;
    }

    /// @dev Running totals of a batch, kept in memory and written once.
    struct Tally {
        uint256 receipts;
        uint256 payouts;
        uint256 boughtWh;
        uint256 settledCount;
    }

    constructor(MarketConfig memory config) EIP712("GridBrain", "1") {
        if (config.token == address(0)) revert InvalidParameter("token");
        if (config.registry == address(0)) revert InvalidParameter("registry");
        if (config.committee == address(0)) revert InvalidParameter("committee");
        if (config.certificates == address(0)) revert InvalidParameter("certificates");
        if (config.intervalSeconds == 0) revert InvalidParameter("intervalSeconds");
        if (config.scheduleWindowSeconds == 0) revert InvalidParameter("scheduleWindowSeconds");
        if (config.meterWindowSeconds == 0) revert InvalidParameter("meterWindowSeconds");
        token = IERC20(config.token);
        tokenDecimals = IERC20Metadata(config.token).decimals();
        registry = IGridRegistry(config.registry);
        committee = IOracleCommittee(config.committee);
        certificates = IEnergyCertificate(config.certificates);
        intervalSeconds = config.intervalSeconds;
        gateClosureSeconds = config.gateClosureSeconds;
        scheduleWindowSeconds = config.scheduleWindowSeconds;
        meterWindowSeconds = config.meterWindowSeconds;
        offerCollateralPerKwh = config.offerCollateralPerKwh;
        _deployer = msg.sender;
        _grantRole(DEFAULT_ADMIN_ROLE, config.admin);
        _grantRole(OPERATOR_ROLE, config.operator);
        _grantRole(GUARDIAN_ROLE, config.guardian);
    }

    /* BALANCES */

    /// @inheritdoc IEnergyMarket
    function deposit(uint256 amount) external nonReentrant {
        _deposit(amount);
    }

    /// @inheritdoc IEnergyMarket
    function depositWithPermit(
        uint256 amount,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant {
        // A failing permit (front-run by someone submitting the same permit) is ignored: the transfer below
        // succeeds if the allowance is there, and reverts otherwise.
        try
            IERC20Permit(address(token)).permit(msg.sender, address(this), amount, deadline, v, r, s)
        {} catch {}
        _deposit(amount);
    }

    function _deposit(uint256 amount) private {
        if (amount == 0) revert ZeroAmount();
        uint256 received = _pull(amount);
        _accounts[msg.sender].free += SafeCast.toUint128(received);
        emit Deposited(msg.sender, received);
    }

    /// @dev Pulls `amount` from the caller and returns what arrived: a token that takes a fee on transfer credits
    /// less than `amount`, so the books never promise more than the market holds. The transfer comes before the
    /// credit here (measured, not assumed); every caller is nonReentrant.
    function _pull(uint256 amount) private returns (uint256 received) {
        uint256 before = _held();
        token.safeTransferFrom(msg.sender, address(this), amount);
        received = _held() - before;
        if (received == 0) revert ZeroAmount();
        _totalOwed += received;
    }

    /// @inheritdoc IEnergyMarket
    function withdraw(uint256 amount, address to) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        _debitFree(_accounts[msg.sender], amount);
        _totalOwed -= amount;
        emit Withdrawn(msg.sender, to, amount);
        token.safeTransfer(to, amount);
    }

    /* ORDERS */

    /// @inheritdoc IEnergyMarket
    function placeBid(
        uint64 intervalId,
        uint32 zoneId,
        uint64 quantityWh,
        uint128 maxPricePerKwh,
        uint64 nonce
    ) external whenNotPaused returns (bytes32) {
        return _place(intervalId, Side.Buy, zoneId, quantityWh, maxPricePerKwh, nonce);
    }

    /// @inheritdoc IEnergyMarket
    function placeOffer(
        uint64 intervalId,
        uint32 zoneId,
        uint64 quantityWh,
        uint128 minPricePerKwh,
        uint64 nonce
    ) external whenNotPaused returns (bytes32) {
        return _place(intervalId, Side.Sell, zoneId, quantityWh, minPricePerKwh, nonce);
    }

    function _place(
        uint64 intervalId,
        Side side,
        uint32 zoneId,
        uint64 quantityWh,
        uint128 limitPricePerKwh,
        uint64 nonce
    ) private returns (bytes32 orderId) {
        if (quantityWh == 0) revert ZeroAmount();
        _requireGateOpen(intervalId);
        bytes32[2] storage slots = _positions[msg.sender][intervalId];
        // Before gate closure a non-zero slot can only be an open order (fills settle after the commit).
        bytes32 existing = slots[uint8(side)];
        if (existing != 0) revert OrderSlotTaken(msg.sender, intervalId, side, existing);

        orderId = _hashTypedDataV4(
            MarketHashing.orderHash(msg.sender, intervalId, side, zoneId, quantityWh, limitPricePerKwh, nonce)
        );
        // Scoped: the legacy (non-IR) code generator runs out of stack slots with these locals in the function's scope.
        {
            uint256 lock = _lockOf(side, quantityWh, limitPricePerKwh);
            Account storage account = _accounts[msg.sender];
            _debitFree(account, lock);
            // Safe cast: lock <= the free balance < 2^128 (the add is checked).
            account.locked += uint128(lock);
        }
        slots[uint8(side)] = orderId;
        // Before gate closure the commitment is the running orders digest (docs/CONTRACTS.md, "ordersDigest").
        IntervalState storage interval = _intervals[intervalId];
        interval.commitment = MarketHashing.ordersDigestStep(interval.commitment, orderId);
        emit OrderPlaced(orderId, msg.sender, intervalId, side, zoneId, quantityWh, limitPricePerKwh, nonce);
    }

    /// @inheritdoc IEnergyMarket
    function cancelOrder(Order calldata order) external {
        bytes32 orderId = _hashOrder(order);
        if (order.owner != msg.sender) revert NotOrderOwner(orderId, msg.sender);
        _requireGateOpen(order.intervalId);
        _closeOpenOrder(order, orderId);
        // The order stays in the digest: the solver sees this event and gives the order no leaf.
        emit OrderCancelled(orderId, order.owner, order.intervalId);
    }

    /// @inheritdoc IEnergyMarket
    function releaseOrder(Order calldata order) external {
        bytes32 orderId = _hashOrder(order);
        uint256 deadline =
            _intervals[order.intervalId].scheduled
                ? _meterDeadline(order.intervalId)
                : _scheduleDeadline(order.intervalId);
        if (block.timestamp < deadline) revert ReleaseNotAllowed(orderId, deadline);
        uint256 lock = _closeOpenOrder(order, orderId);
        emit OrderReleased(orderId, order.owner, order.intervalId, lock);
    }

    /// @dev Empties the slot of an open order and returns its lock to the owner's free balance.
    function _closeOpenOrder(Order calldata order, bytes32 orderId) private returns (uint256 lock) {
        bytes32[2] storage slots = _positions[order.owner][order.intervalId];
        if (slots[uint8(order.side)] != orderId) revert OrderNotOpen(orderId);
        delete slots[uint8(order.side)];
        lock = _lockOf(order.side, order.quantityWh, order.limitPricePerKwh);
        _move(order.owner, lock, 0, lock);
    }

    /* SCHEDULE */

    /// @inheritdoc IEnergyMarket
    function commitSchedule(
        ScheduleReport calldata report,
        bytes calldata signatures
    ) external whenNotPaused {
        _requireThisMarket(report.market);
        uint64 intervalId = report.intervalId;
        uint256 opensAt = _gateClosure(intervalId);
        uint256 closesAt = _scheduleDeadline(intervalId);
        if (block.timestamp < opensAt || block.timestamp >= closesAt) {
            revert ScheduleWindowClosed(intervalId, opensAt, closesAt);
        }
        IntervalState storage interval = _intervals[intervalId];
        if (interval.scheduled) revert AlreadyScheduled(intervalId);
        bytes32 digest = interval.commitment;
        if (report.ordersDigest != digest)
            revert OrdersDigestMismatch(intervalId, digest, report.ordersDigest);
        _verifySigned(hashScheduleReport(report), report.configEpoch, signatures);

        // The digest is no longer needed (no order can be placed after gate closure): its slot now holds the
        // schedule commitment, which saves a fresh storage slot per interval.
        interval.commitment = MarketHashing.scheduleCommitment(report.scheduleRoot, report.zonePrices);
        interval.scheduled = true;
        interval.fillCount = report.fillCount;
        emit ScheduleCommitted(
            intervalId,
            report.configEpoch,
            digest,
            report.scheduleRoot,
            report.fillCount,
            report.zonePrices
        );
    }

    /// @inheritdoc IEnergyMarket
    function settleFills(
        uint64 intervalId,
        bytes32 scheduleRoot,
        uint256[] calldata zonePrices,
        Fill[] calldata fills,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external nonReentrant {
        IntervalState storage interval = _settleableInterval(intervalId, scheduleRoot, zonePrices);
        bytes32[] memory orderIds = _verifyBatch(intervalId, scheduleRoot, fills, proof, proofFlags);
        Tally memory tally = _loadTally(interval);
        // Buyers first, so that sellers of the same batch are paid from what its buyers were charged.
        uint256 count = fills.length;
        for (uint256 i; i < count; ++i) {
            if (fills[i].order.side == Side.Buy) _settleFill(fills[i], orderIds[i], zonePrices, tally, true);
        }
        for (uint256 i; i < count; ++i) {
            if (fills[i].order.side == Side.Sell) _settleFill(fills[i], orderIds[i], zonePrices, tally, true);
        }
        _storeTally(interval, intervalId, tally);
    }

    /// @inheritdoc IEnergyMarket
    function claimFill(
        bytes32 scheduleRoot,
        uint256[] calldata zonePrices,
        Fill calldata fill,
        bytes32[] calldata proof
    ) external nonReentrant {
        uint64 intervalId = fill.order.intervalId;
        IntervalState storage interval = _settleableInterval(intervalId, scheduleRoot, zonePrices);
        bytes32 orderId = _hashOrder(fill.order);
        if (
            !MerkleProof.verifyCalldata(proof, scheduleRoot, MarketHashing.fillLeaf(orderId, fill.filledWh))
        ) {
            revert InvalidProof();
        }
        Tally memory tally = _loadTally(interval);
        _settleFill(fill, orderId, zonePrices, tally, false);
        _storeTally(interval, intervalId, tally);
    }

    /// @inheritdoc IEnergyMarket
    function collectGridRevenue(uint64 intervalId) external {
        IntervalState storage interval = _scheduledInterval(intervalId);
        _requireFillsSettled(interval, intervalId);
        _creditOperator(interval, intervalId);
    }

    /// @inheritdoc IEnergyMarket
    function recordFlexibility(
        uint64 intervalId,
        uint32 steps,
        uint256 charged,
        uint256 paid
    ) external nonReentrant {
        address flex = _flexibilityMarket;
        if (msg.sender != flex) revert NotFlexibilityMarket(msg.sender);
        IntervalState storage interval = _scheduledInterval(intervalId);
        uint256 deadline = _meterDeadline(intervalId);
        if (block.timestamp >= deadline) revert SettlementClosed(intervalId, deadline);
        Tally memory tally = _loadTally(interval);
        // The flexibility market's charges are receipts like a buyer's payment (the tokens arrived before this
        // call), its discharge payouts are paid from them like a seller's, and its steps are leaves of the schedule.
        tally.receipts += charged;
        uint256 payouts = tally.payouts + paid;
        if (payouts > tally.receipts) revert BudgetExceeded(intervalId, payouts, tally.receipts);
        tally.payouts = payouts;
        tally.settledCount += steps;
        _storeTally(interval, intervalId, tally);
        _totalOwed = _totalOwed + charged - paid;
        if (paid != 0) token.safeTransfer(flex, paid);
    }

    function _settleableInterval(
        uint64 intervalId,
        bytes32 scheduleRoot,
        uint256[] calldata zonePrices
    ) private view returns (IntervalState storage interval) {
        interval = _scheduledInterval(intervalId);
        uint256 deadline = _meterDeadline(intervalId);
        if (block.timestamp >= deadline) revert SettlementClosed(intervalId, deadline);
        _requireSchedule(interval, intervalId, scheduleRoot, zonePrices);
    }

    /// @dev Settles one proven fill: checks the order is open and the fill within its limits, moves the money
    /// between internal balances and marks the slot settled. With `skipSettled` (batches), a fill whose slot already
    /// holds a settled record is skipped: a claimFill in front of a keeper's batch must not sink the batch. The proof
    /// ties the fill to this (owner, interval, side) slot, and a slot is settled at most once, so the record is this
    /// fill's own.
    function _settleFill(
        Fill calldata fill,
        bytes32 orderId,
        uint256[] calldata zonePrices,
        Tally memory tally,
        bool skipSettled
    ) private {
        Order calldata order = fill.order;
        bytes32[2] storage slots = _positions[order.owner][order.intervalId];
        // Scoped: the legacy (non-IR) code generator runs out of stack slots with one more local here.
        {
            bytes32 slot = slots[uint8(order.side)];
            if (slot != orderId) {
                if (skipSettled && Positions.isSettled(slot)) return;
                revert OrderNotOpen(orderId);
            }
        }
        uint64 filledWh = fill.filledWh;
        if (filledWh > order.quantityWh) revert FillExceedsQuantity(orderId, filledWh, order.quantityWh);
        uint256 price;
        if (filledWh != 0) {
            if (order.zoneId >= zonePrices.length)
                revert UnknownZonePrice(orderId, order.zoneId, zonePrices.length);
            price = zonePrices[order.zoneId];
        }

        uint256 amount;
        uint256 credit;
        uint256 openLock = _lockOf(order.side, order.quantityWh, order.limitPricePerKwh);
        // The imbalance collateral of the filled part stays locked until the delivery is settled, except for the
        // grid's account, which is never settled for imbalance (docs/MARKET_RULES.md, "The grid").
        bool isGrid = _isGrid(order.owner);
        // What stays locked for the delivery: the kept collateral, and below a seller's withheld payout.
        uint256 keptLock = isGrid ? 0 : _collateralOf(filledWh);
        if (order.side == Side.Buy) {
            if (price > order.limitPricePerKwh)
                revert PriceOutsideLimit(orderId, price, order.limitPricePerKwh);
            amount = price.costUp(filledWh);
            // Safe "unchecked": price <= limit and filled <= quantity, so the charge is at most the payment lock,
            // and costUp is monotone, so the kept collateral is at most the collateral lock.
            unchecked {
                credit = openLock - amount - keptLock;
                tally.boughtWh += filledWh;
            }
            tally.receipts += amount;
        } else {
            if (filledWh != 0 && price < order.limitPricePerKwh) {
                revert PriceOutsideLimit(orderId, price, order.limitPricePerKwh);
            }
            amount = price.costDown(filledWh);
            uint256 payouts = tally.payouts + amount;
            if (payouts > tally.receipts) revert BudgetExceeded(order.intervalId, payouts, tally.receipts);
            tally.payouts = payouts;
            // The collateral of the unfilled part is released. The payout is withheld with the filled part's
            // collateral until the delivery is settled, so a seller that does not deliver is charged from it first.
            // Safe "unchecked": costUp is monotone and filled <= quantity.
            unchecked {
                credit = openLock - keptLock;
            }
            if (isGrid) credit += amount;
            else if (amount != 0) {
                _pendingPayouts[order.owner][order.intervalId] = amount;
                keptLock += amount;
            }
        }
        slots[uint8(order.side)] = Positions.settledRecord(filledWh);
        _move(order.owner, openLock, keptLock, credit);
        // Safe "unchecked": at most one increment per order.
        unchecked {
            ++tally.settledCount;
        }
        emit FillSettled(orderId, order.owner, order.intervalId, order.side, filledWh, amount);
    }

    /// @dev Checks that every fill is of `intervalId` and that the multiproof proves all their leaves; returns
    /// the order ids.
    function _verifyBatch(
        uint64 intervalId,
        bytes32 scheduleRoot,
        Fill[] calldata fills,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) private view returns (bytes32[] memory orderIds) {
        uint256 count = fills.length;
        if (count == 0) revert ZeroAmount();
        orderIds = new bytes32[](count);
        bytes32[] memory leaves = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            Fill calldata fill = fills[i];
            bytes32 orderId = _hashOrder(fill.order);
            if (fill.order.intervalId != intervalId) {
                revert FillIntervalMismatch(orderId, fill.order.intervalId, intervalId);
            }
            orderIds[i] = orderId;
            leaves[i] = MarketHashing.fillLeaf(orderId, fill.filledWh);
        }
        if (!MerkleProof.multiProofVerifyCalldata(proof, proofFlags, scheduleRoot, leaves))
            revert InvalidProof();
    }

    function _loadTally(IntervalState storage interval) private view returns (Tally memory) {
        return Tally(interval.receipts, interval.payouts, interval.boughtWh, interval.settledCount);
    }

    function _storeTally(IntervalState storage interval, uint64 intervalId, Tally memory tally) private {
        // Checked casts: each fill is within uint64, but their sum is not (2^64 + 100 Wh must not become 100).
        interval.receipts = SafeCast.toUint128(tally.receipts);
        interval.payouts = SafeCast.toUint128(tally.payouts);
        interval.boughtWh = SafeCast.toUint64(tally.boughtWh);
        interval.settledCount = SafeCast.toUint32(tally.settledCount);
        if (tally.settledCount >= interval.fillCount) _creditOperator(interval, intervalId);
    }

    /// @dev Moves the interval's surplus (grid fees and congestion rent) to the operator funds; afterwards
    /// receipts == payouts.
    function _creditOperator(IntervalState storage interval, uint64 intervalId) private {
        uint128 payouts = interval.payouts;
        // Safe "unchecked": payouts <= receipts (budget check on every seller fill).
        uint256 surplus;
        unchecked {
            surplus = interval.receipts - payouts;
        }
        if (surplus == 0) return;
        interval.receipts = payouts;
        _operatorFunds += surplus;
        emit GridRevenueCredited(intervalId, surplus);
    }

    /* METERING */

    /// @inheritdoc IEnergyMarket
    /// @dev Not paused: the pause stops new exposure (orders, schedules); the energy of a scheduled interval has been
    /// delivered, and a pause across its meter window must not cancel its imbalance settlement.
    function commitMeterReport(MeterReport calldata report, bytes calldata signatures) external {
        _requireThisMarket(report.market);
        uint64 intervalId = report.intervalId;
        IntervalState storage interval = _scheduledInterval(intervalId);
        uint256 opensAt = _intervalStart(intervalId) + intervalSeconds;
        uint256 closesAt = _meterDeadline(intervalId);
        if (block.timestamp < opensAt || block.timestamp >= closesAt) {
            revert MeterWindowClosed(intervalId, opensAt, closesAt);
        }
        if (interval.meterRoot != 0) revert AlreadyMetered(intervalId);
        _requireSchedule(interval, intervalId, report.scheduleRoot, report.zonePrices);
        if (report.zoneSurplusWh.length != report.zonePrices.length) {
            revert ZoneSurplusLength(report.zonePrices.length, report.zoneSurplusWh.length);
        }
        _verifySigned(hashMeterReport(report), report.configEpoch, signatures);
        interval.meterRoot = report.meterRoot;
        _storeImbalancePrices(intervalId, report);
        emit MeterReportCommitted(
            intervalId,
            report.configEpoch,
            report.meterRoot,
            report.shortPrices,
            report.longPrices,
            report.zoneSurplusWh
        );
    }

    /// @dev Has the registry check each zone's reported prices against the rule and its tariffs (it reverts with
    /// the offending values), then stores them, and the interval's worst pair for participants without a zone.
    function _storeImbalancePrices(uint64 intervalId, MeterReport calldata report) private {
        (uint128 worstShort, uint128 worstLong) = registry.checkImbalancePrices(
            report.zonePrices,
            report.shortPrices,
            report.longPrices
        );
        uint256 zones = report.zonePrices.length;
        for (uint256 z; z < zones; ++z) {
            // Safe casts: the registry checked long <= zone price <= short < 2^128, and
            // z < zonePrices.length indexes uint32 zone ids.
            _imbalancePrices[intervalId][uint32(z)] = ImbalancePrices(
                uint128(report.shortPrices[z]),
                uint128(report.longPrices[z])
            );
        }
        _imbalancePrices[intervalId][_UNZONED] = ImbalancePrices(worstShort, worstLong);
    }

    /// @inheritdoc IEnergyMarket
    function settleImbalance(
        address participant,
        uint64 intervalId,
        uint64 injectedWh,
        uint64 consumedWh,
        bytes32[] calldata proof
    ) external nonReentrant {
        IntervalState storage interval = _intervals[intervalId];
        bytes32 meterRoot = _meterRootOf(interval, intervalId);
        if (
            !MerkleProof.verifyCalldata(
                proof,
                meterRoot,
                MarketHashing.meterLeaf(participant, injectedWh, consumedWh)
            )
        ) {
            revert InvalidProof();
        }
        _requireFillsSettled(interval, intervalId);
        _settleImbalanceOf(participant, intervalId, injectedWh, consumedWh);
    }

    /// @inheritdoc IEnergyMarket
    function settleImbalances(
        uint64 intervalId,
        MeterEntry[] calldata entries,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external nonReentrant {
        IntervalState storage interval = _intervals[intervalId];
        bytes32 meterRoot = _meterRootOf(interval, intervalId);
        uint256 count = entries.length;
        if (count == 0) revert ZeroAmount();
        bytes32[] memory leaves = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            leaves[i] = MarketHashing.meterLeaf(
                entries[i].participant,
                entries[i].injectedWh,
                entries[i].consumedWh
            );
        }
        if (!MerkleProof.multiProofVerifyCalldata(proof, proofFlags, meterRoot, leaves))
            revert InvalidProof();
        _requireFillsSettled(interval, intervalId);
        for (uint256 i; i < count; ++i) {
            MeterEntry calldata entry = entries[i];
            // Settled in front (or listed twice): skipped, so one settleImbalance cannot sink a keeper's batch.
            if (_imbalanceSettled[entry.participant][intervalId]) continue;
            _settleImbalanceOf(entry.participant, intervalId, entry.injectedWh, entry.consumedWh);
        }
    }

    /// @dev The interval's meter root; reverts when no meter report is committed.
    function _meterRootOf(
        IntervalState storage interval,
        uint64 intervalId
    ) private view returns (bytes32 meterRoot) {
        meterRoot = interval.meterRoot;
        if (meterRoot == 0) revert NotMetered(intervalId);
    }

    /// @dev Imbalances are settled against settled fills only; until the meter deadline every fill must be settled
    /// first (after it, unsettled orders are released and count as not delivered).
    function _requireFillsSettled(IntervalState storage interval, uint64 intervalId) private view {
        if (interval.settledCount < interval.fillCount && block.timestamp < _meterDeadline(intervalId)) {
            revert FillsPending(intervalId, interval.settledCount, interval.fillCount);
        }
    }

    /// @dev Settles one participant's deviation from a verified meter leaf: charge or pay, release the offer
    /// collateral, issue certificates. Reverts when it was settled (or its collateral released) already.
    function _settleImbalanceOf(
        address participant,
        uint64 intervalId,
        uint64 injectedWh,
        uint64 consumedWh
    ) private {
        _markDeliverySettled(participant, intervalId);
        ImbalancePrices memory prices = _imbalancePricesOf(participant, intervalId);
        uint256 boughtWh = _settledEnergy(participant, intervalId, Side.Buy);
        uint256 soldWh = _settledEnergy(participant, intervalId, Side.Sell);
        // deviation = metered net − scheduled net = (injected − consumed) − (sold − bought + flexibility net).
        int256 deviationWh =
            (int256(uint256(injectedWh)) - int256(uint256(consumedWh))) -
                (int256(soldWh) - int256(boughtWh) + _flexNetOf(participant, intervalId));
        _applyImbalance(
            participant,
            intervalId,
            deviationWh,
            _releaseDeliveryLocks(participant, intervalId, boughtWh, soldWh),
            prices
        );
        _issueCertificates(participant, intervalId, soldWh, injectedWh);
    }

    /// @dev The participant's scheduled flexibility net (discharged − charged) in the interval; 0 without a
    /// flexibility market.
    function _flexNetOf(address participant, uint64 intervalId) private view returns (int256) {
        address flex = _flexibilityMarket;
        return
            flex == address(0) ? int256(0) : IFlexibilityMarket(flex).scheduledNetWh(participant, intervalId);
    }

    /// @dev The imbalance prices of `participant`'s zone (the interval's worst for an address without a zone);
    /// reverts for a grid account, which is never settled for imbalance.
    function _imbalancePricesOf(
        address participant,
        uint64 intervalId
    ) private view returns (ImbalancePrices memory) {
        if (_isGrid(participant)) revert GridAccountNotSettled(participant);
        (bool registered, uint32 zoneId) = registry.participantZone(participant);
        return _imbalancePrices[intervalId][registered ? zoneId : _UNZONED];
    }

    /// @dev Takes what `participant` locked for its delivery in `intervalId` (the imbalance collateral of its settled
    /// fills and its withheld seller payout) out of the locks and returns it; emits PayoutReleased for the payout.
    function _releaseDeliveryLocks(
        address participant,
        uint64 intervalId,
        uint256 boughtWh,
        uint256 soldWh
    ) private returns (uint256 locked) {
        // Each side's collateral rounds up on its own, exactly as it was kept at fill settlement.
        locked = _collateralOf(boughtWh) + _collateralOf(soldWh);
        uint256 payout = _pendingPayouts[participant][intervalId];
        if (payout != 0) {
            delete _pendingPayouts[participant][intervalId];
            locked += payout;
            emit PayoutReleased(participant, intervalId, payout);
        }
    }

    /// @dev Credits the participant what it locked for the interval, net of a short charge, which reaches no further
    /// than that (the rest is `uncovered`: a debt to the grid billed outside the market), or plus a long payment
    /// from the operator funds, whose unpaid part stays owed to the participant.
    function _applyImbalance(
        address participant,
        uint64 intervalId,
        int256 deviationWh,
        uint256 locked,
        ImbalancePrices memory prices
    ) private {
        uint256 charged;
        uint256 paid;
        uint256 uncovered;
        uint256 credit = locked;
        if (deviationWh < 0) {
            uint256 charge = uint256(prices.shortPricePerKwh).costUp(uint256(-deviationWh));
            charged = charge < locked ? charge : locked;
            // Safe "unchecked": charged <= charge and charged <= locked.
            unchecked {
                uncovered = charge - charged;
                credit = locked - charged;
            }
            _operatorFunds += charged;
        } else if (deviationWh > 0) {
            uint256 payment = uint256(prices.longPricePerKwh).costDown(uint256(deviationWh));
            uint256 funds = _operatorFunds;
            // Funds already owed to earlier long participants are theirs: pay from what is beyond them.
            uint256 owed = _totalImbalanceOwed;
            uint256 free = funds > owed ? funds - owed : 0;
            paid = payment < free ? payment : free;
            // Safe "unchecked": paid <= payment and paid <= free <= funds.
            unchecked {
                uncovered = payment - paid;
                _operatorFunds = funds - paid;
            }
            credit += paid;
            if (uncovered != 0) {
                _imbalanceOwed[participant] += uncovered;
                _totalImbalanceOwed = owed + uncovered;
            }
        }
        _move(participant, locked, 0, credit);
        emit ImbalanceSettled(participant, intervalId, deviationWh, charged, paid, uncovered);
    }

    /// @inheritdoc IEnergyMarket
    function claimImbalancePayment(address participant) external {
        uint256 owedToParticipant = _imbalanceOwed[participant];
        uint256 funds = _operatorFunds;
        uint256 amount = owedToParticipant < funds ? owedToParticipant : funds;
        if (amount == 0) revert NothingOwed(participant);
        // Safe "unchecked": amount <= owed to the participant <= total owed, and amount <= funds.
        unchecked {
            _imbalanceOwed[participant] = owedToParticipant - amount;
            _totalImbalanceOwed -= amount;
            _operatorFunds = funds - amount;
        }
        _move(participant, 0, 0, amount);
        emit ImbalancePaymentClaimed(participant, amount);
    }

    /// @dev Renewable energy both sold and metered as injected enters the interval's certificate pool, which the
    /// interval's buyers share pro rata to their settled purchases (claimCertificates).
    function _issueCertificates(
        address seller,
        uint64 intervalId,
        uint256 soldWh,
        uint256 injectedWh
    ) private {
        if (soldWh == 0 || injectedWh == 0) return;
        // The source at delivery, not at settlement (which has no deadline): a meter installed after the interval
        // started reads as Other.
        IGridRegistry.Source source = registry.sourceAt(seller, _intervalStart(intervalId));
        if (!_isRenewable(source)) return;
        uint256 energyWh = soldWh < injectedWh ? soldWh : injectedWh;
        _issuedWh[intervalId][source] += energyWh;
        emit CertificatesIssued(intervalId, seller, source, energyWh);
    }

    /// @inheritdoc IEnergyMarket
    function releaseCollateral(address participant, uint64 intervalId) external {
        // Unmetered: from the meter deadline. Metered: from the grace period's end, for a participant whose leaf is
        // missing or lost (a listed one has been settled by then, or releases like an unmetered one).
        uint256 deadline = _meterDeadline(intervalId);
        if (_intervals[intervalId].meterRoot != 0) deadline += COLLATERAL_GRACE_SECONDS;
        if (block.timestamp < deadline) revert CollateralNotReleasable(participant, intervalId, deadline);
        _markDeliverySettled(participant, intervalId);
        // Unmetered: the delivery counts as done, so the withheld payout is released with the collateral. A grid
        // account kept nothing locked (its payout and collateral were credited at fill settlement).
        uint256 amount =
            _isGrid(participant)
                ? 0
                : _releaseDeliveryLocks(
                    participant,
                    intervalId,
                    _settledEnergy(participant, intervalId, Side.Buy),
                    _settledEnergy(participant, intervalId, Side.Sell)
                );
        _move(participant, amount, 0, amount);
        emit CollateralReleased(participant, intervalId, amount);
    }

    /// @inheritdoc IEnergyMarket
    function claimCertificates(
        address buyer,
        uint64 intervalId,
        IGridRegistry.Source source
    ) external nonReentrant {
        IntervalState storage interval = _intervals[intervalId];
        if (
            interval.meterRoot == 0 ||
            (interval.settledCount < interval.fillCount && block.timestamp < _meterDeadline(intervalId))
        ) revert CertificatesNotFinal(intervalId);
        (bool settled, uint64 boughtWh) = Positions.settledFill(_slotOf(buyer, intervalId, Side.Buy));
        if (!settled || boughtWh == 0) revert ZeroAmount();
        // The pools are shared pro rata to purchases, scaled down when they hold more than was bought (a lossy line:
        // sellers' energy is counted before losses, buyers' after), so that the interval never certifies more than
        // was both bought and renewably sold and injected.
        uint256 denominator = interval.boughtWh;
        uint256 claimedAll;
        uint256 id = certificateId(intervalId, source);
        {
            uint256 issuedAll;
            for (uint8 s = uint8(IGridRegistry.Source.Solar); s <= uint8(IGridRegistry.Source.Hydro); ++s) {
                issuedAll += _issuedWh[intervalId][IGridRegistry.Source(s)];
                claimedAll += _claimedWh[buyer][certificateId(intervalId, IGridRegistry.Source(s))];
            }
            if (issuedAll > denominator) denominator = issuedAll;
        }
        uint256 entitled = (uint256(boughtWh) * _issuedWh[intervalId][source]) / denominator;
        uint256 already = _claimedWh[buyer][id];
        if (entitled <= already) revert ZeroAmount();
        uint256 amount = entitled - already;
        // The denominator grows as later sellers' pools fill; the buyer's total stays within its purchase however
        // its claims interleave with them. Safe "unchecked": claimedAll <= boughtWh is kept by this very cap.
        uint256 room;
        unchecked {
            room = boughtWh - claimedAll;
        }
        if (amount > room) amount = room;
        if (amount == 0) revert ZeroAmount();
        _claimedWh[buyer][id] = already + amount;
        emit CertificatesClaimed(buyer, id, amount);
        certificates.issue(buyer, id, amount);
    }

    /* OPERATOR AND GUARDIAN */

    /// @inheritdoc IEnergyMarket
    function depositOperatorFunds(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        uint256 received = _pull(amount);
        _operatorFunds += received;
        emit OperatorFundsDeposited(msg.sender, received);
    }

    /// @inheritdoc IEnergyMarket
    function withdrawOperatorFunds(uint256 amount, address to) external nonReentrant onlyRole(OPERATOR_ROLE) {
        if (amount == 0) revert ZeroAmount();
        uint256 funds = _operatorFunds;
        // Long imbalance payments owed to participants come first.
        uint256 owed = _totalImbalanceOwed;
        uint256 free = funds > owed ? funds - owed : 0;
        if (free < amount) revert InsufficientOperatorFunds(free, amount);
        // Safe "unchecked": amount <= free <= funds.
        unchecked {
            _operatorFunds = funds - amount;
        }
        _totalOwed -= amount;
        emit OperatorFundsWithdrawn(to, amount);
        token.safeTransfer(to, amount);
    }

    /// @inheritdoc IEnergyMarket
    function recoverTokens(
        IERC20 asset,
        uint256 amount,
        address to
    ) external nonReentrant onlyRole(OPERATOR_ROLE) {
        if (amount == 0) revert ZeroAmount();
        if (address(asset) == address(token)) {
            // Only the excess over what the market owes: the users' and operator's money is never recoverable.
            uint256 held = _held();
            uint256 excess = held > _totalOwed ? held - _totalOwed : 0;
            if (amount > excess) revert ExceedsRecoverable(amount, excess);
        }
        emit TokensRecovered(address(asset), to, amount);
        asset.safeTransfer(to, amount);
    }

    /// @inheritdoc IEnergyMarket
    /// @dev The admin, or the deployer (the deployment sets it right after both contracts exist); once.
    function setFlexibilityMarket(address flexibilityMarket_) external {
        if (msg.sender != _deployer) _checkRole(DEFAULT_ADMIN_ROLE);
        address current = _flexibilityMarket;
        if (current != address(0)) revert FlexibilityMarketAlreadySet(current);
        if (flexibilityMarket_ == address(0)) revert InvalidParameter("flexibilityMarket");
        _flexibilityMarket = flexibilityMarket_;
        emit FlexibilityMarketSet(flexibilityMarket_);
    }

    /// @inheritdoc IEnergyMarket
    function pause() external onlyRole(GUARDIAN_ROLE) {
        _pause();
    }

    /// @inheritdoc IEnergyMarket
    function unpause() external onlyRole(GUARDIAN_ROLE) {
        _unpause();
    }

    /* VIEWS */

    /// @inheritdoc IEnergyMarket
    function balanceOf(address account) external view returns (uint256) {
        return _accounts[account].free;
    }

    /// @inheritdoc IEnergyMarket
    function lockedBalanceOf(address account) external view returns (uint256) {
        return _accounts[account].locked;
    }

    /// @inheritdoc IEnergyMarket
    function positionOf(
        address owner,
        uint64 intervalId,
        Side side
    ) external view returns (Position memory p) {
        bytes32 slot = _slotOf(owner, intervalId, side);
        if (slot == 0) return p;
        (bool settled, uint64 filledWh) = Positions.settledFill(slot);
        if (!settled) {
            p.status = PositionStatus.Open;
            p.orderId = slot;
            return p;
        }
        p.status = PositionStatus.Settled;
        p.filledWh = filledWh;
        p.deliverySettled = _imbalanceSettled[owner][intervalId];
        // Kept at fill settlement exactly so (see _settleFill), and released with the delivery.
        if (!p.deliverySettled && !_isGrid(owner)) p.collateralLocked = _collateralOf(filledWh);
        if (side == Side.Sell) p.pendingPayout = _pendingPayouts[owner][intervalId];
    }

    /// @inheritdoc IEnergyMarket
    function orderLock(
        Side side,
        uint64 quantityWh,
        uint128 limitPricePerKwh
    ) external view returns (uint256) {
        return _lockOf(side, quantityWh, limitPricePerKwh);
    }

    /// @inheritdoc IEnergyMarket
    function operatorFunds() external view returns (uint256) {
        return _operatorFunds;
    }

    /// @inheritdoc IEnergyMarket
    function flexibilityMarket() external view returns (address) {
        return _flexibilityMarket;
    }

    /// @inheritdoc IEnergyMarket
    function totalOwed() external view returns (uint256) {
        return _totalOwed;
    }

    /// @inheritdoc IEnergyMarket
    function position(address owner, uint64 intervalId, Side side) external view returns (bytes32) {
        return _slotOf(owner, intervalId, side);
    }

    /// @inheritdoc IEnergyMarket
    function settledFill(address owner, uint64 intervalId, Side side) external view returns (bool, uint64) {
        return Positions.settledFill(_slotOf(owner, intervalId, side));
    }

    /// @inheritdoc IEnergyMarket
    function imbalancePrices(
        uint64 intervalId,
        uint32 zoneId
    ) external view returns (ImbalancePrices memory) {
        return _imbalancePrices[intervalId][zoneId];
    }

    /// @inheritdoc IEnergyMarket
    function pendingPayout(address seller, uint64 intervalId) external view returns (uint256) {
        return _pendingPayouts[seller][intervalId];
    }

    /// @inheritdoc IEnergyMarket
    function imbalanceOwed(address participant) external view returns (uint256) {
        return _imbalanceOwed[participant];
    }

    /// @notice Total of the long imbalance payments owed to participants (`imbalanceOwed`).
    function totalImbalanceOwed() external view returns (uint256) {
        return _totalImbalanceOwed;
    }

    /// @notice Whether `participant`'s imbalance (or unmetered collateral) for `intervalId` is settled.
    function imbalanceSettled(address participant, uint64 intervalId) external view returns (bool) {
        return _imbalanceSettled[participant][intervalId];
    }

    /// @notice Renewable energy of `source` issued into `intervalId`'s certificate pool.
    function issuedWh(uint64 intervalId, IGridRegistry.Source source) external view returns (uint256) {
        return _issuedWh[intervalId][source];
    }

    /// @inheritdoc IEnergyMarket
    function intervalState(uint64 intervalId) external view returns (IntervalState memory) {
        return _intervals[intervalId];
    }

    /// @inheritdoc IEnergyMarket
    function ordersDigest(uint64 intervalId) external view returns (bytes32) {
        IntervalState storage interval = _intervals[intervalId];
        if (interval.scheduled) revert AlreadyScheduled(intervalId);
        return interval.commitment;
    }

    /// @notice The EIP-712 domain separator (name "GridBrain", version "1", chain id, this contract).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IEnergyMarket
    function hashOrder(Order calldata order) external view returns (bytes32) {
        return _hashOrder(order);
    }

    /// @inheritdoc IEnergyMarket
    function hashScheduleReport(ScheduleReport calldata report) public view returns (bytes32) {
        return _hashTypedDataV4(MarketHashing.scheduleReportHash(report));
    }

    /// @inheritdoc IEnergyMarket
    function hashMeterReport(MeterReport calldata report) public view returns (bytes32) {
        return _hashTypedDataV4(MarketHashing.meterReportHash(report));
    }

    /// @inheritdoc IEnergyMarket
    function hashMeterReading(
        address meter,
        uint64 intervalId,
        uint64 injectedWh,
        uint64 consumedWh
    ) external view returns (bytes32) {
        return _hashTypedDataV4(MarketHashing.meterReadingHash(meter, intervalId, injectedWh, consumedWh));
    }

    /// @inheritdoc IEnergyMarket
    function certificateId(uint64 intervalId, IGridRegistry.Source source) public pure returns (uint256) {
        return (uint256(intervalId) << 8) | uint256(uint8(source));
    }

    /// @inheritdoc IEnergyMarket
    function gateClosure(uint64 intervalId) external view returns (uint256) {
        return _gateClosure(intervalId);
    }

    /// @inheritdoc IEnergyMarket
    function scheduleDeadline(uint64 intervalId) external view returns (uint256) {
        return _scheduleDeadline(intervalId);
    }

    /// @inheritdoc IEnergyMarket
    function meterDeadline(uint64 intervalId) external view returns (uint256) {
        return _meterDeadline(intervalId);
    }

    /* INTERNAL */

    // Several helpers below hold one check, external call or storage lookup that more than one function needs: the
    // optimizer inlines what is written at each caller, and one private function measured smaller runtime code
    // (docs/CONTRACTS.md, "Code size").

    /// @dev The position slot of (owner, interval, side), for reading.
    function _slotOf(address owner, uint64 intervalId, Side side) private view returns (bytes32) {
        return _positions[owner][intervalId][uint8(side)];
    }

    function _requireThisMarket(address market) private view {
        if (market != address(this)) revert WrongMarket(market);
    }

    /// @dev The market's token balance.
    function _held() private view returns (uint256) {
        return token.balanceOf(address(this));
    }

    /// @dev Reverts unless the committee of `configEpoch` signed `digest` (k of n).
    function _verifySigned(bytes32 digest, uint64 configEpoch, bytes calldata signatures) private view {
        committee.verify(digest, configEpoch, signatures);
    }

    function _scheduledInterval(uint64 intervalId) private view returns (IntervalState storage interval) {
        interval = _intervals[intervalId];
        if (!interval.scheduled) revert NotScheduled(intervalId);
    }

    function _requireGateOpen(uint64 intervalId) private view {
        uint256 closesAt = _gateClosure(intervalId);
        if (block.timestamp >= closesAt) revert GateClosed(intervalId, closesAt);
    }

    /// @dev Checks that `scheduleRoot` and `zonePrices` are the interval's committed schedule.
    function _requireSchedule(
        IntervalState storage interval,
        uint64 intervalId,
        bytes32 scheduleRoot,
        uint256[] calldata zonePrices
    ) private view {
        if (interval.commitment != MarketHashing.scheduleCommitment(scheduleRoot, zonePrices)) {
            revert ScheduleMismatch(intervalId);
        }
    }

    /// @dev Settles a participant's delivery once: by its meter leaf or by releasing its collateral.
    function _markDeliverySettled(address participant, uint64 intervalId) private {
        if (_imbalanceSettled[participant][intervalId])
            revert ImbalanceAlreadySettled(participant, intervalId);
        _imbalanceSettled[participant][intervalId] = true;
    }

    /// @dev Whether `account` is a zone's grid account: it is never settled for imbalance, and keeps nothing locked
    /// for its deliveries (docs/MARKET_RULES.md, "The grid").
    function _isGrid(address account) private view returns (bool isGrid) {
        (isGrid, ) = registry.gridZoneOf(account);
    }

    function _hashOrder(Order calldata order) private view returns (bytes32) {
        return _hashTypedDataV4(MarketHashing.orderHash(order));
    }

    /// @dev Takes `amount` from the caller's free balance; reverts when it holds less.
    function _debitFree(Account storage account, uint256 amount) private {
        uint256 balance = account.free;
        if (balance < amount) revert InsufficientBalance(msg.sender, balance, amount);
        // Safe "unchecked" and cast: amount <= balance < 2^128.
        unchecked {
            account.free = uint128(balance - amount);
        }
    }

    /// @dev Moves funds of `who`: `lockedOut` leaves its locked funds, `lockedIn` enters them (a seller's withheld
    /// payout, from the interval's receipts), `credit` enters its free balance. Checked: the locked funds never go
    /// below zero, so a release can only return what was locked.
    function _move(address who, uint256 lockedOut, uint256 lockedIn, uint256 credit) private {
        Account storage account = _accounts[who];
        account.locked = SafeCast.toUint128(uint256(account.locked) + lockedIn - lockedOut);
        account.free = SafeCast.toUint128(uint256(account.free) + credit);
    }

    /// @dev The lock rule stays here, over the immutable collateral rate, like the interval clock below: as library
    /// functions taking the immutables as arguments both measured larger runtime code (docs/CONTRACTS.md, "Code size").
    function _lockOf(Side side, uint64 quantityWh, uint128 limitPricePerKwh) private view returns (uint256) {
        // Both sides lock the imbalance collateral; a bid also locks its highest payment.
        uint256 collateral = uint256(offerCollateralPerKwh).costUp(quantityWh);
        return side == Side.Buy ? uint256(limitPricePerKwh).costUp(quantityWh) + collateral : collateral;
    }

    /// @dev The imbalance collateral of `energyWh`: kept at fill settlement exactly so, released with the delivery.
    function _collateralOf(uint256 energyWh) private view returns (uint256) {
        return uint256(offerCollateralPerKwh).costUp(energyWh);
    }

    /// @dev Settled energy on one side; reverts if an order on that side is still open.
    function _settledEnergy(
        address participant,
        uint64 intervalId,
        Side side
    ) private view returns (uint256) {
        bytes32 slot = _slotOf(participant, intervalId, side);
        if (slot == 0) return 0;
        (bool settled, uint64 filledWh) = Positions.settledFill(slot);
        if (!settled) revert FillNotSettled(slot);
        return filledWh;
    }

    function _isRenewable(IGridRegistry.Source source) private pure returns (bool) {
        return
            source == IGridRegistry.Source.Solar ||
            source == IGridRegistry.Source.Wind ||
            source == IGridRegistry.Source.Hydro;
    }

    /* INTERVAL CLOCK (docs/CONTRACTS.md, "Timeline of interval `i`") */

    function _intervalStart(uint64 intervalId) private view returns (uint256) {
        return uint256(intervalId) * intervalSeconds;
    }

    function _gateClosure(uint64 intervalId) private view returns (uint256) {
        uint256 start = _intervalStart(intervalId);
        return start > gateClosureSeconds ? start - gateClosureSeconds : 0;
    }

    function _scheduleDeadline(uint64 intervalId) private view returns (uint256) {
        return _gateClosure(intervalId) + scheduleWindowSeconds;
    }

    function _meterDeadline(uint64 intervalId) private view returns (uint256) {
        return _intervalStart(intervalId) + intervalSeconds + meterWindowSeconds;
    }
}
