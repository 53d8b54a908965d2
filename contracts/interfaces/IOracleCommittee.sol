// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IOracleCommittee
/// @notice The k-of-n committee of oracle nodes. Verifies that at least `threshold` distinct current members signed
/// an EIP-712 digest. Every membership or threshold change bumps `epoch`, which signed reports carry, so a report
/// signed under an old membership is rejected. The threshold is a strict majority (k > n/2). A membership change is
/// proposed, visible (`pendingCommittee`, `CommitteeChangeProposed`) for `changeDelay` seconds, then executed: users
/// who distrust the new committee have that long to settle, release and withdraw.
interface IOracleCommittee {
    /* EVENTS */

    /// @notice A change to `members` / `threshold` was proposed; it becomes `epoch` when executed at or after
    /// `executableAt`.
    event CommitteeChangeProposed(
        uint64 indexed epoch,
        address[] members,
        uint8 threshold,
        uint64 executableAt
    );
    /// @notice The pending change that would have become `epoch` was cancelled.
    event CommitteeChangeCancelled(uint64 indexed epoch);

    /// @notice The membership or threshold changed; reports must now carry `epoch`.
    event CommitteeChanged(uint64 indexed epoch, address[] members, uint8 threshold);

    /* ERRORS */

    /// @notice More than `max` members.
    error TooManyMembers(uint256 count, uint256 max);
    /// @notice Threshold must be a strict majority of the members: memberCount / 2 < threshold <= memberCount.
    error InvalidThreshold(uint8 threshold, uint256 memberCount);
    /// @notice The change delay `delay` is below the minimum `minimum`.
    error ChangeDelayTooShort(uint64 delay, uint64 minimum);
    /// @notice No committee change is pending.
    error NoPendingChange();
    /// @notice The pending change can be executed from `executableAt`.
    error ChangeNotReady(uint64 executableAt);
    /// @notice The member list has the zero address or a repeated member.
    error InvalidMember(address member);
    /// @notice The report was signed for `reportEpoch`; the committee is at `currentEpoch`.
    error StaleEpoch(uint64 reportEpoch, uint64 currentEpoch);
    /// @notice The signatures blob is not a whole number of 65-byte signatures.
    error InvalidSignaturesLength(uint256 length);
    /// @notice `count` signatures were given; `threshold` are needed.
    error BelowThreshold(uint256 count, uint8 threshold);
    /// @notice Signature `index` does not recover to any address.
    error InvalidSignature(uint256 index);
    /// @notice Signature `index` has an `s` in the upper half of the curve order (malleable form).
    error MalleableSignature(uint256 index, bytes32 s);
    /// @notice Signature `index` recovers to `signer`, which is not a current member.
    error NotMember(uint256 index, address signer);
    /// @notice Signature `index` is by `signer`, who already signed.
    error DuplicateSigner(uint256 index, address signer);
    /// @notice Signature `index` is by `signer`, which is below the previous signer `previous`: signers must be
    /// strictly ascending.
    error SignersNotAscending(uint256 index, address previous, address signer);

    /* FUNCTIONS */

    /// @notice Proposes a new membership and threshold, executable after `changeDelay`; replaces a pending proposal.
    /// Admin only.
    function proposeCommittee(address[] calldata members, uint8 threshold) external;

    /// @notice Cancels the pending change. Admin only.
    function cancelCommitteeChange() external;

    /// @notice Installs the pending membership and threshold and bumps the epoch, once `changeDelay` has passed
    /// since the proposal. Admin only.
    function executeCommitteeChange() external;

    /// @notice Seconds between a proposal and its execution (at least two days; fixed at deployment).
    function changeDelay() external view returns (uint64);

    /// @notice The pending change; `executableAt` is 0 when none is pending.
    function pendingCommittee()
        external
        view
        returns (address[] memory members, uint8 threshold, uint64 executableAt);

    /// @notice Reverts unless `signatures` (concatenated 65-byte r‖s‖v signatures, signers strictly ascending)
    /// holds at least `threshold` signatures of `digest` by distinct current members and `reportEpoch` is current.
    function verify(bytes32 digest, uint64 reportEpoch, bytes calldata signatures) external view;

    /// @notice Current epoch (starts at 1 with the constructor's membership).
    function epoch() external view returns (uint64);
    /// @notice Current threshold.
    function threshold() external view returns (uint8);
    /// @notice Current members, in the order they were set.
    function members() external view returns (address[] memory);
    /// @notice Whether `account` is a current member.
    function isMember(address account) external view returns (bool);
}
