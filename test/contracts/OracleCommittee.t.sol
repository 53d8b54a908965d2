// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {OracleCommittee} from "../../contracts/OracleCommittee.sol";
import {IOracleCommittee} from "../../contracts/interfaces/IOracleCommittee.sol";

contract OracleCommitteeTest is Test {
    OracleCommittee internal committee;
    address internal admin = makeAddr("admin");
    uint256[] internal keys;
    address[] internal addrs;
    bytes32 internal constant DIGEST = keccak256("report");
    uint64 internal constant DELAY = 2 days;

    function setUp() public {
        for (uint256 i = 1; i <= 5; ++i) {
            keys.push(i * 7919);
            addrs.push(vm.addr(i * 7919));
        }
        for (uint256 i = 1; i < 5; ++i) {
            for (uint256 j = i; j > 0 && addrs[j] < addrs[j - 1]; --j) {
                (addrs[j], addrs[j - 1]) = (addrs[j - 1], addrs[j]);
                (keys[j], keys[j - 1]) = (keys[j - 1], keys[j]);
            }
        }
        committee = new OracleCommittee(admin, addrs, 3, DELAY);
    }

    function _sig(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function test_constructor_setsEpochOne() public view {
        assertEq(committee.epoch(), 1, "epoch");
        assertEq(committee.threshold(), 3, "threshold");
        assertEq(committee.members().length, 5, "members");
        assertTrue(committee.isMember(addrs[0]), "member");
    }

    function _change(address[] memory next, uint8 k) internal {
        vm.prank(admin);
        committee.proposeCommittee(next, k);
        vm.warp(block.timestamp + DELAY);
        vm.prank(admin);
        committee.executeCommitteeChange();
    }

    function test_executeCommitteeChange_bumpsEpochAndReplacesMembers() public {
        address[] memory next = new address[](3);
        next[0] = addrs[0];
        next[1] = makeAddr("new");
        next[2] = addrs[1];
        vm.prank(admin);
        committee.proposeCommittee(next, 2);
        vm.warp(block.timestamp + DELAY);
        vm.expectEmit(address(committee));
        emit IOracleCommittee.CommitteeChanged(2, next, 2);
        vm.prank(admin);
        committee.executeCommitteeChange();
        assertEq(committee.epoch(), 2, "epoch bumped");
        assertFalse(committee.isMember(addrs[2]), "old member removed");
        assertTrue(committee.isMember(next[1]), "new member added");
        (, , uint64 executableAt) = committee.pendingCommittee();
        assertEq(executableAt, 0, "nothing pending afterwards");
    }

    function test_proposeCommittee_isVisibleAndTakesNoEffect() public {
        address[] memory one = new address[](1);
        one[0] = makeAddr("attacker");
        uint64 executableAt = uint64(block.timestamp) + DELAY;
        vm.expectEmit(address(committee));
        emit IOracleCommittee.CommitteeChangeProposed(2, one, 1, executableAt);
        vm.prank(admin);
        committee.proposeCommittee(one, 1);
        (address[] memory pending, uint8 k, uint64 at) = committee.pendingCommittee();
        assertEq(pending.length, 1, "pending members visible");
        assertEq(pending[0], one[0], "pending member");
        assertEq(k, 1, "pending threshold");
        assertEq(at, executableAt, "executable after the delay");
        assertEq(committee.epoch(), 1, "epoch unchanged");
        assertFalse(committee.isMember(one[0]), "not a member yet");
    }

    function test_executeCommitteeChange_failsBeforeDelay() public {
        vm.prank(admin);
        committee.proposeCommittee(addrs, 3);
        uint64 executableAt = uint64(block.timestamp) + DELAY;
        vm.warp(executableAt - 1);
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.ChangeNotReady.selector, executableAt));
        vm.prank(admin);
        committee.executeCommitteeChange();
    }

    function test_executeCommitteeChange_failsWithoutProposal() public {
        vm.expectRevert(IOracleCommittee.NoPendingChange.selector);
        vm.prank(admin);
        committee.executeCommitteeChange();
    }

    function test_cancelCommitteeChange_clearsPending() public {
        vm.startPrank(admin);
        committee.proposeCommittee(addrs, 3);
        vm.expectEmit(address(committee));
        emit IOracleCommittee.CommitteeChangeCancelled(2);
        committee.cancelCommitteeChange();
        vm.warp(block.timestamp + DELAY);
        vm.expectRevert(IOracleCommittee.NoPendingChange.selector);
        committee.executeCommitteeChange();
        vm.stopPrank();
        assertEq(committee.epoch(), 1, "epoch unchanged");
    }

    function test_proposeCommittee_onlyAdmin() public {
        vm.expectRevert();
        committee.proposeCommittee(addrs, 3);
        vm.expectRevert();
        committee.executeCommitteeChange();
        vm.expectRevert();
        committee.cancelCommitteeChange();
    }

    function test_constructor_failsOnShortDelay() public {
        vm.expectRevert(
            abi.encodeWithSelector(IOracleCommittee.ChangeDelayTooShort.selector, DELAY - 1, DELAY)
        );
        new OracleCommittee(admin, addrs, 3, DELAY - 1);
    }

    function test_proposeCommittee_failsAbove31Members() public {
        address[] memory many = new address[](32);
        for (uint256 i; i < 32; ++i) many[i] = address(uint160(i + 1));
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.TooManyMembers.selector, 32, 31));
        vm.prank(admin);
        committee.proposeCommittee(many, 17);
    }

    function test_proposeCommittee_failsOnBadThreshold() public {
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.InvalidThreshold.selector, 0, 5));
        committee.proposeCommittee(addrs, 0);
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.InvalidThreshold.selector, 2, 5));
        committee.proposeCommittee(addrs, 2);
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.InvalidThreshold.selector, 6, 5));
        committee.proposeCommittee(addrs, 6);
        vm.stopPrank();
    }

    function testFuzz_proposeCommittee_acceptsOnlyStrictMajority(uint256 n, uint256 k) public {
        n = bound(n, 1, 31);
        k = bound(k, 0, 40);
        address[] memory members = new address[](n);
        for (uint256 i; i < n; ++i) members[i] = address(uint160(i + 1));
        bool majority = k * 2 > n && k <= n;
        if (!majority) {
            vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.InvalidThreshold.selector, uint8(k), n));
        }
        vm.prank(admin);
        committee.proposeCommittee(members, uint8(k));
        if (majority) {
            (, uint8 pendingK, ) = committee.pendingCommittee();
            assertEq(pendingK, k, "a strict majority is accepted");
        }
    }

    function test_proposeCommittee_failsOnRepeatedOrZeroMember() public {
        address[] memory twice = new address[](2);
        twice[0] = addrs[0];
        twice[1] = addrs[0];
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.InvalidMember.selector, addrs[0]));
        committee.proposeCommittee(twice, 2);
        twice[1] = address(0);
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.InvalidMember.selector, address(0)));
        committee.proposeCommittee(twice, 2);
        vm.stopPrank();
    }

    function test_verify_acceptsThresholdAscending() public view {
        committee.verify(
            DIGEST,
            1,
            bytes.concat(_sig(keys[0], DIGEST), _sig(keys[2], DIGEST), _sig(keys[4], DIGEST))
        );
    }

    function test_verify_failsOnStaleEpoch() public {
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.StaleEpoch.selector, 0, 1));
        committee.verify(DIGEST, 0, "");
    }

    function test_verify_failsOnRaggedSignatures() public {
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.InvalidSignaturesLength.selector, 64));
        committee.verify(DIGEST, 1, new bytes(64));
    }

    function test_verify_failsBelowThreshold() public {
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.BelowThreshold.selector, 2, 3));
        committee.verify(DIGEST, 1, bytes.concat(_sig(keys[0], DIGEST), _sig(keys[1], DIGEST)));
    }

    function test_verify_failsOnUnrecoverableSignature() public {
        bytes memory bad = bytes.concat(_sig(keys[0], DIGEST), _sig(keys[1], DIGEST), new bytes(65));
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.InvalidSignature.selector, 2));
        committee.verify(DIGEST, 1, bad);
    }

    function test_verify_failsOnMalleableSignature() public {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[1], DIGEST);
        // The other valid signature of the same message: s' = n - s, v flipped.
        uint256 n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
        bytes32 highS = bytes32(n - uint256(s));
        bytes memory sigs = bytes.concat(
            _sig(keys[0], DIGEST),
            abi.encodePacked(r, highS, v == 27 ? uint8(28) : uint8(27)),
            _sig(keys[2], DIGEST)
        );
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.MalleableSignature.selector, 1, highS));
        committee.verify(DIGEST, 1, sigs);
    }

    function test_verify_failsOnNonMember() public {
        uint256 outsider = 0xBAD;
        bytes memory sigs = bytes.concat(
            _sig(keys[0], DIGEST),
            _sig(keys[1], DIGEST),
            _sig(outsider, DIGEST)
        );
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.NotMember.selector, 2, vm.addr(outsider)));
        committee.verify(DIGEST, 1, sigs);
    }

    function test_verify_failsOnDuplicateSigner() public {
        bytes memory sigs = bytes.concat(_sig(keys[0], DIGEST), _sig(keys[1], DIGEST), _sig(keys[1], DIGEST));
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.DuplicateSigner.selector, 2, addrs[1]));
        committee.verify(DIGEST, 1, sigs);
    }

    function test_verify_failsOnDescendingSigners() public {
        bytes memory sigs = bytes.concat(_sig(keys[1], DIGEST), _sig(keys[0], DIGEST), _sig(keys[2], DIGEST));
        vm.expectRevert(
            abi.encodeWithSelector(IOracleCommittee.SignersNotAscending.selector, 1, addrs[1], addrs[0])
        );
        committee.verify(DIGEST, 1, sigs);
    }

    function test_verify_failsAfterMembershipChange() public {
        bytes memory sigs = bytes.concat(_sig(keys[0], DIGEST), _sig(keys[1], DIGEST), _sig(keys[2], DIGEST));
        _change(addrs, 3); // same members, new epoch
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.StaleEpoch.selector, 1, 2));
        committee.verify(DIGEST, 1, sigs);
    }
}

contract OracleCommitteeHardeningTest is Test {
    /// @dev Finding 5 of #15: a 2-of-4 committee lets two disjoint pairs sign conflicting reports.
    function test_constructor_failsOnMinorityThreshold() public {
        address[] memory four = new address[](4);
        for (uint256 i; i < 4; ++i) four[i] = address(uint160(i + 1));
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.InvalidThreshold.selector, 2, 4));
        new OracleCommittee(address(this), four, 2, 2 days);
    }

    /// @dev Finding 4 of #15: a proposal changes nothing until the delay has passed.
    function test_proposeCommittee_doesNotTakeEffectAtOnce() public {
        address[] memory one = new address[](1);
        one[0] = address(1);
        OracleCommittee c = new OracleCommittee(address(this), one, 1, 2 days);
        address[] memory next = new address[](1);
        next[0] = address(2);
        c.proposeCommittee(next, 1);
        vm.warp(block.timestamp + 2 days - 1);
        assertEq(c.epoch(), 1, "the epoch is unchanged until the delay passed");
        assertTrue(c.isMember(address(1)), "the old member still signs");
        vm.expectRevert(
            abi.encodeWithSelector(
                IOracleCommittee.ChangeNotReady.selector,
                uint64(vm.getBlockTimestamp() + 1)
            )
        );
        c.executeCommitteeChange();
    }
}
