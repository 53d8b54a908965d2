// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IGridRegistry} from "./IGridRegistry.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IEnergyMarket
/// @notice Escrowed order book, schedule commit, settlement of fills and imbalances for GridBrain.
/// Units: energy in integer Wh; prices in settlement-token base units per kWh; the cost of `e` Wh at `p` is
/// `p * e / 1000`, rounded up when charged and down when paid out. The exact rules are in docs/MARKET_RULES.md and
/// the ABI-level reference in docs/CONTRACTS.md.
interface IEnergyMarket {
    /* TYPES */

    /// @notice Deployment parameters. Times in seconds; see docs/MARKET_RULES.md for the timeline.
    struct MarketConfig {
        address token; // settlement ERC-20 (EIP-2612 permit optional)
        address registry;
        address committee;
        address certificates;
        address admin;
        address operator;
        address guardian;
        uint64 intervalSeconds; // 900
        uint64 gateClosureSeconds; // orders close this long before the interval starts (300)
        uint64 scheduleWindowSeconds; // the schedule can be committed this long after gate closure
        uint64 meterWindowSeconds; // the meter report can be committed this long after the interval ends
        uint128 offerCollateralPerKwh; // imbalance collateral an order (bid or offer) locks per kWh
    }

    enum Side {
        Buy,
        Sell
    }

    /// @notice An order. Its id is the EIP-712 digest of this struct under the market's domain, so the same struct
    /// can later be signed for gasless placement. An owner holds at most one open order per (interval, side).
    struct Order {
        address owner;
        uint64 intervalId;
        Side side;
        uint32 zoneId;
        uint64 quantityWh;
        uint128 limitPricePerKwh; // bid: highest price paid; offer: lowest price accepted
        uint64 nonce; // free for the owner; makes two otherwise equal orders distinct
    }

    /// @notice A fill as settled: the order's fields (checked against the stored order id) and the filled energy.
    struct Fill {
        Order order;
        uint64 filledWh;
    }

    /// @notice The committee's schedule for one interval (EIP-712 signed).
    struct ScheduleReport {
        address market;
        uint64 intervalId;
        uint64 configEpoch;
        bytes32 ordersDigest;
        bytes32 scheduleRoot; // StandardMerkleTree root of leaves (bytes32 orderId, uint64 filledWh)
        uint32 fillCount; // number of leaves: one per order open at gate closure
        uint256[] zonePrices; // index = zone id, token base units per kWh
    }

    /// @notice The committee's meter report for one interval (EIP-712 signed).
    struct MeterReport {
        address market;
        uint64 intervalId;
        uint64 configEpoch;
        bytes32 meterRoot; // StandardMerkleTree root of leaves (address participant, uint64 injectedWh, uint64 consumedWh)
        bytes32 scheduleRoot; // the interval's committed schedule root, with its zone prices: bounds the prices below
        uint256[] zonePrices; // the interval's committed zone prices (index = zone id)
        uint256[] shortPrices; // per zone: charged per kWh missing against the schedule (netted, see commitMeterReport)
        uint256[] longPrices; // per zone: paid per kWh in excess of the schedule (netted, see commitMeterReport)
        // per zone: the surplus (Wh) its meters showed, estimated from the participants without a registered battery
        // (scaled by solar meters): what the committee plans later intervals on (docs/DISPATCH.md). Not settled.
        uint256[] zoneSurplusWh;
    }

    /// @notice An interval's state.
    /// @notice One participant's metered energy in an interval: a leaf of the meter report's tree.
    struct MeterEntry {
        address participant;
        uint64 injectedWh;
        uint64 consumedWh;
    }

    struct IntervalState {
        bytes32 commitment; // ordersDigest before the schedule commit; the schedule commitment after it
        bool scheduled;
        uint32 fillCount;
        uint32 settledCount;
        uint64 boughtWh; // energy of settled buy fills
        uint128 receipts; // charged to buyers and not yet credited to the operator
        uint128 payouts; // paid to sellers and not yet netted against receipts
        bytes32 meterRoot;
    }

    /// @notice State of one (owner, interval, side) slot: no order, an open order, or a settled fill.
    enum PositionStatus {
        None,
        Open,
        Settled
    }

    /// @notice An owner's position on one side of one interval, with what is locked for it (`positionOf`).
    struct Position {
        PositionStatus status;
        bytes32 orderId; // the open order's id; 0 when None or Settled (the slot then holds the fill record)
        uint64 filledWh; // settled energy (Settled only)
        bool deliverySettled; // the owner's imbalance of the interval is settled, or its delivery locks released
        uint256 collateralLocked; // Settled: the filled part's imbalance collateral, locked until delivery is settled
        uint256 pendingPayout; // Settled sell side: the payout withheld until delivery is settled (0 once paid)
    }

    /// @notice The imbalance prices of one zone in one metered interval (token base units per kWh).
    struct ImbalancePrices {
        uint128 shortPricePerKwh;
        uint128 longPricePerKwh;
    }

    /* EVENTS */

    /// @notice `account` deposited `amount` into its free balance.
    event Deposited(address indexed account, uint256 amount);
    /// @notice `account` withdrew `amount` of its free balance to `to`.
    event Withdrawn(address indexed account, address indexed to, uint256 amount);
    /// @notice An order was placed and its lock taken from the owner's free balance. The public order book.
    event OrderPlaced(
        bytes32 indexed orderId,
        address indexed owner,
        uint64 indexed intervalId,
        Side side,
        uint32 zoneId,
        uint64 quantityWh,
        uint128 limitPricePerKwh,
        uint64 nonce
    );
    /// @notice An order was cancelled by its owner before gate closure; its lock returned. It stays in the digest.
    event OrderCancelled(bytes32 indexed orderId, address indexed owner, uint64 indexed intervalId);
    /// @notice An order of an interval that was not scheduled (or not settled) in time was released.
    event OrderReleased(
        bytes32 indexed orderId,
        address indexed owner,
        uint64 indexed intervalId,
        uint256 amount
    );
    /// @notice The schedule of `intervalId` was committed.
    event ScheduleCommitted(
        uint64 indexed intervalId,
        uint64 configEpoch,
        bytes32 ordersDigest,
        bytes32 scheduleRoot,
        uint32 fillCount,
        uint256[] zonePrices
    );
    /// @notice A fill was settled. `amount` is what the buyer paid or the seller received.
    event FillSettled(
        bytes32 indexed orderId,
        address indexed owner,
        uint64 indexed intervalId,
        Side side,
        uint64 filledWh,
        uint256 amount
    );
    /// @notice The interval's surplus (grid fees and congestion rent) was credited to the operator.
    event GridRevenueCredited(uint64 indexed intervalId, uint256 amount);
    /// @notice The meter report of `intervalId` was committed.
    event MeterReportCommitted(
        uint64 indexed intervalId,
        uint64 configEpoch,
        bytes32 meterRoot,
        uint256[] shortPrices,
        uint256[] longPrices,
        uint256[] zoneSurplusWh
    );
    /// @notice `participant`'s imbalance for `intervalId` was settled. `deviationWh` = metered net − scheduled net
    /// (positive: long). A short charge is taken only from what the participant locked for the interval (its
    /// imbalance collateral and withheld seller payout); `uncovered` is the rest, a debt to the grid billed outside
    /// the market. For a long payment `uncovered` is the part the operator funds could not pay yet: it stays owed
    /// to the participant (`imbalanceOwed`) and is paid by `claimImbalancePayment`.
    event ImbalanceSettled(
        address indexed participant,
        uint64 indexed intervalId,
        int256 deviationWh,
        uint256 charged,
        uint256 paid,
        uint256 uncovered
    );
    /// @notice The imbalance collateral of `participant`'s settled orders (and its withheld seller payout) was
    /// released because the interval was not metered.
    event CollateralReleased(address indexed participant, uint64 indexed intervalId, uint256 amount);
    /// @notice `seller`'s payout for its fill in `intervalId` (withheld since the fill settled) was credited, with
    /// its delivery settled (before any short charge is netted from it).
    event PayoutReleased(address indexed seller, uint64 indexed intervalId, uint256 amount);
    /// @notice `amount` of the long imbalance payments owed to `participant` was paid from the operator funds.
    event ImbalancePaymentClaimed(address indexed participant, uint256 amount);
    /// @notice `energyWh` of renewable energy sold by `seller` and metered as injected entered the interval's pool.
    event CertificatesIssued(
        uint64 indexed intervalId,
        address indexed seller,
        IGridRegistry.Source source,
        uint256 energyWh
    );
    /// @notice `buyer` received `amountWh` certificates of id `certificateId`.
    event CertificatesClaimed(address indexed buyer, uint256 indexed certificateId, uint256 amountWh);
    /// @notice Operator funds (grid revenue, imbalance charges) were deposited or withdrawn.
    event OperatorFundsDeposited(address indexed from, uint256 amount);
    /// @notice Operator funds were withdrawn to `to`.
    event OperatorFundsWithdrawn(address indexed to, uint256 amount);
    /// @notice `amount` of `asset` sent to the market by mistake was recovered to `to`.
    event TokensRecovered(address indexed asset, address indexed to, uint256 amount);
    /// @notice The flexibility market (IFlexibilityMarket) was set, once, by the admin.
    event FlexibilityMarketSet(address flexibilityMarket);

    /* ERRORS */

    /// @notice A constructor parameter is invalid; `field` names it.
    error InvalidParameter(string field);
    /// @notice The amount or quantity must not be zero.
    error ZeroAmount();
    /// @notice `account` has `balance` free and needs `needed`.
    error InsufficientBalance(address account, uint256 balance, uint256 needed);
    /// @notice The operator has `available` and `needed` was asked.
    error InsufficientOperatorFunds(uint256 available, uint256 needed);
    /// @notice Orders for `intervalId` closed at `gateClosure`.
    error GateClosed(uint64 intervalId, uint256 gateClosure);
    /// @notice `owner` already has open order `orderId` on this side of `intervalId`.
    error OrderSlotTaken(address owner, uint64 intervalId, Side side, bytes32 orderId);
    /// @notice `orderId` is not open (never placed, cancelled, released or settled), or its fields were altered.
    error OrderNotOpen(bytes32 orderId);
    /// @notice Only the order's owner may cancel it.
    error NotOrderOwner(bytes32 orderId, address caller);
    /// @notice The order cannot be released yet: the interval is scheduled or its deadline is `deadline`.
    error ReleaseNotAllowed(bytes32 orderId, uint256 deadline);
    /// @notice The report names `market`, not this contract.
    error WrongMarket(address market);
    /// @notice The schedule of `intervalId` can be committed from `opensAt` until `closesAt`.
    error ScheduleWindowClosed(uint64 intervalId, uint256 opensAt, uint256 closesAt);
    /// @notice `intervalId` is already scheduled.
    error AlreadyScheduled(uint64 intervalId);
    /// @notice The report's orders digest `reported` differs from the contract's `expected`.
    error OrdersDigestMismatch(uint64 intervalId, bytes32 expected, bytes32 reported);
    /// @notice `intervalId` has no committed schedule.
    error NotScheduled(uint64 intervalId);
    /// @notice The root and zone prices given do not match the committed schedule of `intervalId`.
    error ScheduleMismatch(uint64 intervalId);
    /// @notice The Merkle proof does not prove the leaf(s).
    error InvalidProof();
    /// @notice A meter report must give one surplus per zone price: `zoneCount` prices, `surplusCount` surpluses.
    error ZoneSurplusLength(uint256 zoneCount, uint256 surplusCount);
    /// @notice Fill of `orderId` is for `orderInterval`, the batch for `batchInterval`.
    error FillIntervalMismatch(bytes32 orderId, uint64 orderInterval, uint64 batchInterval);
    /// @notice Fill of `filledWh` exceeds the order's `quantityWh`.
    error FillExceedsQuantity(bytes32 orderId, uint64 filledWh, uint64 quantityWh);
    /// @notice The report has no price for `zoneId` (`zoneCount` prices).
    error UnknownZonePrice(bytes32 orderId, uint32 zoneId, uint256 zoneCount);
    /// @notice A buy fill at `price` above its limit, or a sell fill below it.
    error PriceOutsideLimit(bytes32 orderId, uint256 price, uint128 limit);
    /// @notice Paying this seller would make the interval's payouts exceed its receipts.
    error BudgetExceeded(uint64 intervalId, uint256 payouts, uint256 receipts);
    /// @notice Fills of `intervalId` could be settled until `meterDeadline`.
    error SettlementClosed(uint64 intervalId, uint256 meterDeadline);
    /// @notice The meter report of `intervalId` can be committed from `opensAt` until `closesAt`.
    error MeterWindowClosed(uint64 intervalId, uint256 opensAt, uint256 closesAt);
    /// @notice `intervalId` is already metered.
    error AlreadyMetered(uint64 intervalId);
    /// @notice `intervalId` has no committed meter report.
    error NotMetered(uint64 intervalId);
    /// @notice `settledCount` of `fillCount` fills of `intervalId` are settled; all are needed before the meter
    /// deadline.
    error FillsPending(uint64 intervalId, uint32 settledCount, uint32 fillCount);
    /// @notice `participant`'s order `orderId` for the interval is still open: settle (or release) it first.
    error FillNotSettled(bytes32 orderId);
    /// @notice `participant`'s imbalance (or collateral) for `intervalId` is already settled.
    error ImbalanceAlreadySettled(address participant, uint64 intervalId);
    /// @notice Collateral can be released without a meter leaf only from `releasableAt`: the meter deadline of an
    /// unmetered interval, or the meter deadline plus COLLATERAL_GRACE_SECONDS of a metered one.
    error CollateralNotReleasable(address participant, uint64 intervalId, uint256 releasableAt);
    /// @notice `amount` of the settlement token was asked; only `recoverable` (held beyond what is owed) can be.
    error ExceedsRecoverable(uint256 amount, uint256 recoverable);
    /// @notice Certificates of `intervalId` can be claimed once its fills are final.
    error CertificatesNotFinal(uint64 intervalId);
    /// @notice `account` is a zone's grid account: the balancing party is never settled for imbalance.
    error GridAccountNotSettled(address account);
    /// @notice Nothing is owed to `participant`, or the operator funds are empty.
    error NothingOwed(address participant);
    /// @notice Only the flexibility market may record flexibility settlements; `caller` is not it.
    error NotFlexibilityMarket(address caller);
    /// @notice The flexibility market is set once; it is already `current`.
    error FlexibilityMarketAlreadySet(address current);

    /* BALANCES */

    /// @notice Moves `amount` settlement tokens from the caller into its free balance; credits what arrived (less than
    /// `amount` for a token that takes a fee on transfer), which `Deposited` reports.
    function deposit(uint256 amount) external;

    /// @notice Like `deposit`, after an EIP-2612 permit (a permit that fails, e.g. front-run, is ignored).
    function depositWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;

    /// @notice Sends `amount` of the caller's free balance to `to`. Works while paused.
    function withdraw(uint256 amount, address to) external;

    /* ORDERS */

    /// @notice Bids for `quantityWh` in `zoneId` during `intervalId`, paying at most `maxPricePerKwh`; locks
    /// `ceil(maxPricePerKwh * quantityWh / 1000)` plus the imbalance collateral
    /// `ceil(offerCollateralPerKwh * quantityWh / 1000)`.
    function placeBid(
        uint64 intervalId,
        uint32 zoneId,
        uint64 quantityWh,
        uint128 maxPricePerKwh,
        uint64 nonce
    ) external returns (bytes32 orderId);

    /// @notice Offers `quantityWh` in `zoneId` during `intervalId` for at least `minPricePerKwh`; locks the
    /// collateral `ceil(offerCollateralPerKwh * quantityWh / 1000)`.
    function placeOffer(
        uint64 intervalId,
        uint32 zoneId,
        uint64 quantityWh,
        uint128 minPricePerKwh,
        uint64 nonce
    ) external returns (bytes32 orderId);

    /// @notice Cancels the caller's open `order` before gate closure and returns its lock.
    function cancelOrder(Order calldata order) external;

    /// @notice Releases an open order's lock when its interval was not scheduled by the schedule deadline, or was
    /// scheduled but the order was not settled by the meter deadline. Anyone may call it. Works while paused.
    function releaseOrder(Order calldata order) external;

    /* SCHEDULE */

    /// @notice Commits an interval's schedule signed by a committee quorum. `signatures` are 65-byte r‖s‖v
    /// signatures of `hashScheduleReport(report)`, concatenated, signers strictly ascending.
    function commitSchedule(ScheduleReport calldata report, bytes calldata signatures) external;

    /// @notice Settles a batch of fills of one interval against its committed schedule with an OpenZeppelin
    /// multiproof (leaves in the order the proof expects). Buy fills are applied before sell fills.
    function settleFills(
        uint64 intervalId,
        bytes32 scheduleRoot,
        uint256[] calldata zonePrices,
        Fill[] calldata fills,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external;

    /// @notice Settles one fill with a single-leaf proof. Anyone may settle anyone's fill.
    function claimFill(
        bytes32 scheduleRoot,
        uint256[] calldata zonePrices,
        Fill calldata fill,
        bytes32[] calldata proof
    ) external;

    /// @notice Credits the interval's surplus to the operator once all fills are settled or the meter deadline has
    /// passed. Also done automatically by the settlement that completes the interval.
    function collectGridRevenue(uint64 intervalId) external;

    /* METERING */

    /// @notice Commits an interval's meter report signed by a committee quorum (same signature rules). The report
    /// carries the interval's committed schedule root and zone prices, and per zone the netted imbalance prices
    /// (docs/MARKET_RULES.md), which must satisfy zone price <= short <= max(retail, zone price) and
    /// min(feed-in, zone price) <= long <= zone price with the zone's tariffs registered at commit time.
    function commitMeterReport(MeterReport calldata report, bytes calldata signatures) external;

    /// @notice Settles `participant`'s deviation between metered and scheduled net energy, releases its offer
    /// collateral and issues certificates for renewable energy it sold and injected. Anyone may call it.
    function settleImbalance(
        address participant,
        uint64 intervalId,
        uint64 injectedWh,
        uint64 consumedWh,
        bytes32[] calldata proof
    ) external;

    /// @notice `settleImbalance` for a batch of participants of one interval, proven together with an OpenZeppelin
    /// multiproof against the meter root (entries in the order the proof expects). Reverts as a whole if any entry
    /// was settled already or appears twice. Anyone may call it.
    function settleImbalances(
        uint64 intervalId,
        MeterEntry[] calldata entries,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external;

    /// @notice Releases `participant`'s imbalance collateral and withheld seller payout without settling an imbalance:
    /// after the meter deadline of an interval that was not metered, or after the meter deadline plus
    /// COLLATERAL_GRACE_SECONDS (7 days) of a metered interval whose tree lacks the participant (or whose leaf nobody
    /// settled). Anyone may call it; the amount goes to the participant's free balance.
    function releaseCollateral(address participant, uint64 intervalId) external;

    /// @notice Pays `participant` what it is owed for long imbalances, as far as the operator funds go; the rest
    /// stays owed. Anyone may call it.
    function claimImbalancePayment(address participant) external;

    /// @notice Mints to `buyer` its share of the certificates of `source` in `intervalId`:
    /// `floor(boughtWh(buyer) * issuedWh(interval, source) / boughtWh(interval))` minus what it already received.
    function claimCertificates(address buyer, uint64 intervalId, IGridRegistry.Source source) external;

    /* FLEXIBILITY (issue 14; the rules are IFlexibilityMarket's) */

    /// @notice Sets the flexibility market, once. Admin role.
    function setFlexibilityMarket(address flexibilityMarket) external;

    /// @notice Called by the flexibility market when it settles an interval's flexibility steps: `steps` leaves of
    /// the interval's schedule are settled (they count toward `fillCount`); `charged` tokens, already transferred to
    /// this contract, join the interval's receipts; `paid` is taken from them (budget-checked like a seller's fill)
    /// and transferred to the flexibility market. Only before the interval's meter deadline.
    function recordFlexibility(uint64 intervalId, uint32 steps, uint256 charged, uint256 paid) external;

    /* OPERATOR */

    /// @notice Adds `amount` to the operator funds (which pay long imbalances).
    function depositOperatorFunds(uint256 amount) external;

    /// @notice Withdraws `amount` of the operator funds to `to`. Operator role.
    function withdrawOperatorFunds(uint256 amount, address to) external;

    /// @notice Sends `amount` of `asset` that reached the market by mistake to `to`. For the settlement token only
    /// the excess of the market's balance over `totalOwed` can be recovered. Operator role.
    function recoverTokens(IERC20 asset, uint256 amount, address to) external;

    /// @notice Stops new orders and commits. Guardian role.
    function pause() external;

    /// @notice Resumes. Guardian role.
    function unpause() external;

    /* VIEWS */

    /// @notice Free balance of `account`: what it can withdraw or lock in a new order.
    function balanceOf(address account) external view returns (uint256);
    /// @notice Funds of `account` the market holds locked: the locks of its open orders (a bid's highest payment and
    /// imbalance collateral, an offer's collateral), the imbalance collateral of its settled fills and its withheld
    /// seller payouts until their delivery is settled or released. Not included: long imbalance payments owed to it
    /// (`imbalanceOwed`, a claim on the operator funds). `balanceOf + lockedBalanceOf` is all the market holds for
    /// the account.
    function lockedBalanceOf(address account) external view returns (uint256);
    /// @notice `owner`'s position on `side` of `intervalId` and what is locked for it. An open order's lock is not
    /// stored (only its id is); it is `orderLock` of the order's fields, and `collateralLocked`/`pendingPayout` are 0.
    /// A settled fill's `collateralLocked` and `pendingPayout` return to the free balance when the owner's delivery
    /// is settled (`settleImbalance`) or released (`releaseCollateral`). A grid account keeps nothing locked.
    function positionOf(address owner, uint64 intervalId, Side side) external view returns (Position memory);
    /// @notice What an order of these fields locks while open: for a bid `ceil(limit * quantityWh / 1000)` plus the
    /// collateral, for an offer the collateral `ceil(offerCollateralPerKwh * quantityWh / 1000)`.
    function orderLock(
        Side side,
        uint64 quantityWh,
        uint128 limitPricePerKwh
    ) external view returns (uint256);
    /// @notice Operator funds.
    function operatorFunds() external view returns (uint256);
    /// @notice The flexibility market (address(0) until set).
    function flexibilityMarket() external view returns (address);
    /// @notice Everything the market owes (free balances, locks, unsettled interval receipts, operator funds): the
    /// settlement tokens received minus those paid out.
    function totalOwed() external view returns (uint256);
    /// @notice The raw position slot of (owner, interval, side): 0 (none), an open order's id, or
    /// `SETTLED_FLAG | filledWh` once settled.
    function position(address owner, uint64 intervalId, Side side) external view returns (bytes32);
    /// @notice Filled energy of the settled order in the slot, and whether the slot holds a settled fill.
    function settledFill(address owner, uint64 intervalId, Side side) external view returns (bool, uint64);
    /// @notice An interval's state.
    function intervalState(uint64 intervalId) external view returns (IntervalState memory);

    /// @notice The imbalance prices of `zoneId` in metered interval `intervalId` (zero before the meter report).
    function imbalancePrices(uint64 intervalId, uint32 zoneId) external view returns (ImbalancePrices memory);

    /// @notice `seller`'s payout for its settled fill in `intervalId`, withheld until its delivery is settled.
    function pendingPayout(address seller, uint64 intervalId) external view returns (uint256);

    /// @notice Long imbalance payments owed to `participant` that the operator funds could not pay yet.
    function imbalanceOwed(address participant) external view returns (uint256);
    /// @notice The running orders digest of `intervalId` (valid until its schedule is committed).
    function ordersDigest(uint64 intervalId) external view returns (bytes32);
    /// @notice EIP-712 digest of `order` under the market's domain: the order id.
    function hashOrder(Order calldata order) external view returns (bytes32);
    /// @notice EIP-712 digest of a schedule report.
    function hashScheduleReport(ScheduleReport calldata report) external view returns (bytes32);
    /// @notice EIP-712 digest of a meter report.
    function hashMeterReport(MeterReport calldata report) external view returns (bytes32);
    /// @notice EIP-712 digest of a smart meter's reading (verified off-chain by the oracle).
    function hashMeterReading(
        address meter,
        uint64 intervalId,
        uint64 injectedWh,
        uint64 consumedWh
    ) external view returns (bytes32);
    /// @notice ERC-1155 id of the certificates of `source` for `intervalId`: `(intervalId << 8) | source`.
    function certificateId(uint64 intervalId, IGridRegistry.Source source) external pure returns (uint256);
    /// @notice Unix time at which orders for `intervalId` close.
    function gateClosure(uint64 intervalId) external view returns (uint256);
    /// @notice Unix time until which the schedule of `intervalId` can be committed.
    function scheduleDeadline(uint64 intervalId) external view returns (uint256);
    /// @notice Unix time until which the meter report of `intervalId` can be committed and its fills settled.
    function meterDeadline(uint64 intervalId) external view returns (uint256);
}
