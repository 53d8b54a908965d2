// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IOracleCommittee} from "./interfaces/IOracleCommittee.sol";

/// @title OracleCommittee
/// @notice k-of-n committee of oracle nodes; see {IOracleCommittee}.
contract OracleCommittee is AccessControl, IOracleCommittee {
    /// @notice Largest committee.
    uint256 public constant MAX_MEMBERS = 31;

    /* STORAGE */

    // Packed in one slot: read once per verification.
    uint64 private _epoch;
    uint8 private _threshold;

    address[] private _members;

    /// @dev Invariant: `_isMember[a]` iff `a` is in `_members`.
    mapping(address account => bool) private _isMember;

    constructor(address admin, address[] memory initialMembers, uint8 initialThreshold) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setCommittee(initialMembers, initialThreshold);
    }

    /* ADMIN */

    /// @inheritdoc IOracleCommittee
    function setCommittee(
        address[] calldata newMembers,
        uint8 newThreshold
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setCommittee(newMembers, newThreshold);
    }

    function _setCommittee(address[] memory newMembers, uint8 newThreshold) private {
        uint256 count = newMembers.length;
        if (count > MAX_MEMBERS) revert TooManyMembers(count, MAX_MEMBERS);
        if (newThreshold == 0 || newThreshold > count) revert InvalidThreshold(newThreshold, count);
        uint256 oldCount = _members.length;
        for (uint256 i; i < oldCount; ++i) {
            delete _isMember[_members[i]];
        }
        delete _members;
        for (uint256 i; i < count; ++i) {
            address member = newMembers[i];
            if (member == address(0) || _isMember[member]) revert InvalidMember(member);
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
    function isMember(address account) external view returns (bool) {
        return _isMember[account];
    }
}
