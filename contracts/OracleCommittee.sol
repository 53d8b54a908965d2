// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IOracleCommittee} from "./interfaces/IOracleCommittee.sol";

/// @title OracleCommittee
/// @notice k-of-n committee of oracle nodes (strict majority); membership changes wait out a timelock. See
/// {IOracleCommittee}.
contract OracleCommittee is AccessControl, IOracleCommittee {
    /// @notice Largest committee.
    uint256 public constant MAX_MEMBERS = 31;
    /// @notice Shortest allowed change delay: two days, longer than a meter window (one day at most in our
    /// deployments) plus time to react, so that every user can settle, release and withdraw before a new committee
    /// can sign anything (docs/CONTRACTS.md, "Trust model").
    uint64 public constant MIN_CHANGE_DELAY = 2 days;

    /* IMMUTABLES */

    /// @inheritdoc IOracleCommittee
    uint64 public immutable changeDelay;

    /* STORAGE */

    // Packed in one slot: read once per verification.
    uint64 private _epoch;
    uint8 private _threshold;

    address[] private _members;

    /// @dev Invariant: `_isMember[a]` iff `a` is in `_members`.
    mapping(address account => bool) private _isMember;

    /// @dev The proposed membership; `_pendingAt` is when it may be executed, 0 when nothing is pending.
    address[] private _pendingMembers;
    uint8 private _pendingThreshold;
    uint64 private _pendingAt;

    /// @dev The initial committee takes effect at once: nobody has funds in a market that does not exist yet.
    constructor(address admin, address[] memory initialMembers, uint8 initialThreshold, uint64 changeDelay_) {
        if (changeDelay_ < MIN_CHANGE_DELAY) revert ChangeDelayTooShort(changeDelay_, MIN_CHANGE_DELAY);
        changeDelay = changeDelay_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _validate(initialMembers, initialThreshold);
        _setCommittee(initialMembers, initialThreshold);
    }

    /* ADMIN */

    /// @inheritdoc IOracleCommittee
    function proposeCommittee(
        address[] calldata newMembers,
        uint8 newThreshold
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _validate(newMembers, newThreshold);
        uint64 executableAt = uint64(block.timestamp) + changeDelay;
        // A new proposal replaces a pending one and restarts the delay.
        _pendingMembers = newMembers;
        _pendingThreshold = newThreshold;
        _pendingAt = executableAt;
        emit CommitteeChangeProposed(_epoch + 1, newMembers, newThreshold, executableAt);
    }

    /// @inheritdoc IOracleCommittee
    function cancelCommitteeChange() external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_pendingAt == 0) revert NoPendingChange();
        _clearPending();
        emit CommitteeChangeCancelled(_epoch + 1);
    }

    /// @inheritdoc IOracleCommittee
    function executeCommitteeChange() external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint64 executableAt = _pendingAt;
        if (executableAt == 0) revert NoPendingChange();
        if (block.timestamp < executableAt) revert ChangeNotReady(executableAt);
        address[] memory newMembers = _pendingMembers;
        uint8 newThreshold = _pendingThreshold;
        _clearPending();
        _setCommittee(newMembers, newThreshold);
    }

    function _clearPending() private {
        delete _pendingMembers;
        delete _pendingThreshold;
        delete _pendingAt;
    }

    /// @dev Size, strict majority (k > n/2: two disjoint groups of k cannot both exist), no zero or repeated member.
    function _validate(address[] memory newMembers, uint8 newThreshold) private pure {
        uint256 count = newMembers.length;
        if (count > MAX_MEMBERS) revert TooManyMembers(count, MAX_MEMBERS);
        if (uint256(newThreshold) * 2 <= count || newThreshold > count) {
            revert InvalidThreshold(newThreshold, count);
        }
        for (uint256 i; i < count; ++i) {
            address member = newMembers[i];
            if (member == address(0)) revert InvalidMember(member);
            for (uint256 j; j < i; ++j) {
                if (newMembers[j] == member) revert InvalidMember(member);
            }
        }
    }

    function _setCommittee(address[] memory newMembers, uint8 newThreshold) private {
        uint256 count = newMembers.length;
        uint256 oldCount = _members.length;
        for (uint256 i; i < oldCount; ++i) {
            delete _isMember[_members[i]];
        }
        delete _members;
        for (uint256 i; i < count; ++i) {
            address member = newMembers[i];
            _isMember[member] = true;
            _members.push(member);
        }
        _threshold = newThreshold;
        uint64 newEpoch = _epoch + 1;
        _epoch = newEpoch;
        emit CommitteeChanged(newEpoch, newMembers, newThreshold);
    }

    /* VERIFICATION */

    /// @inheritdoc IOracleCommittee
    function verify(bytes32 digest, uint64 reportEpoch, bytes calldata signatures) external view {
        uint64 currentEpoch = _epoch;
        if (reportEpoch != currentEpoch) revert StaleEpoch(reportEpoch, currentEpoch);
        uint256 length = signatures.length;
        if (length % 65 != 0) revert InvalidSignaturesLength(length);
        uint256 count = length / 65;
        uint8 required = _threshold;
        if (count < required) revert BelowThreshold(count, required);

        address previous;
        for (uint256 i; i < count; ++i) {
            (address signer, ECDSA.RecoverError err, bytes32 errArg) = ECDSA.tryRecoverCalldata(
                digest,
                signatures[i * 65:(i + 1) * 65]
            );
            if (err == ECDSA.RecoverError.InvalidSignatureS) revert MalleableSignature(i, errArg);
            if (err != ECDSA.RecoverError.NoError) revert InvalidSignature(i);
            // Membership first: a signature over another digest (other chain, contract, interval or report)
            // recovers to an unrelated address and is reported as such.
            if (!_isMember[signer]) revert NotMember(i, signer);
            if (signer == previous) revert DuplicateSigner(i, signer);
            if (signer < previous) revert SignersNotAscending(i, previous, signer);
            previous = signer;
        }
    }

    /* VIEWS */

    /// @inheritdoc IOracleCommittee
    function epoch() external view returns (uint64) {
        return _epoch;
    }

    /// @inheritdoc IOracleCommittee
    function threshold() external view returns (uint8) {
        return _threshold;
    }

    /// @inheritdoc IOracleCommittee
    function members() external view returns (address[] memory) {
        return _members;
    }

    /// @inheritdoc IOracleCommittee
    function pendingCommittee()
        external
        view
        returns (address[] memory pendingMembers, uint8 pendingThreshold, uint64 executableAt)
    {
        return (_pendingMembers, _pendingThreshold, _pendingAt);
    }

    /// @inheritdoc IOracleCommittee
    function isMember(address account) external view returns (bool) {
        return _isMember[account];
    }
}
