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
        committee = new OracleCommittee(admin, addrs, 3);
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

    function test_setCommittee_bumpsEpochAndReplacesMembers() public {
        address[] memory next = new address[](2);
        next[0] = addrs[0];
        next[1] = makeAddr("new");
        vm.expectEmit(address(committee));
        emit IOracleCommittee.CommitteeChanged(2, next, 2);
        vm.prank(admin);
        committee.setCommittee(next, 2);
        assertEq(committee.epoch(), 2, "epoch bumped");
        assertFalse(committee.isMember(addrs[1]), "old member removed");
        assertTrue(committee.isMember(next[1]), "new member added");
    }

    function test_setCommittee_onlyAdmin() public {
        vm.expectRevert();
        committee.setCommittee(addrs, 3);
    }

    function test_setCommittee_failsAbove31Members() public {
        address[] memory many = new address[](32);
        for (uint256 i; i < 32; ++i) many[i] = address(uint160(i + 1));
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.TooManyMembers.selector, 32, 31));
        vm.prank(admin);
        committee.setCommittee(many, 3);
    }

    function test_setCommittee_failsOnBadThreshold() public {
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.InvalidThreshold.selector, 0, 5));
        committee.setCommittee(addrs, 0);
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.InvalidThreshold.selector, 6, 5));
        committee.setCommittee(addrs, 6);
        vm.stopPrank();
    }

    function test_setCommittee_failsOnRepeatedOrZeroMember() public {
        address[] memory twice = new address[](2);
        twice[0] = addrs[0];
        twice[1] = addrs[0];
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.InvalidMember.selector, addrs[0]));
        committee.setCommittee(twice, 1);
        twice[1] = address(0);
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.InvalidMember.selector, address(0)));
        committee.setCommittee(twice, 1);
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
        vm.prank(admin);
        committee.setCommittee(addrs, 3); // same members, new epoch
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.StaleEpoch.selector, 1, 2));
        committee.verify(DIGEST, 1, sigs);
    }
}

contract OracleCommitteeHardeningReproTest is Test {
    function test_constructor_failsOnMinorityThreshold() public {
        address[] memory four = new address[](4);
        for (uint256 i; i < 4; ++i) four[i] = address(uint160(i + 1));
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.InvalidThreshold.selector, 2, 4));
        new OracleCommittee(address(this), four, 2);
    }

    function test_setCommittee_doesNotTakeEffectAtOnce() public {
        address[] memory one = new address[](1);
        one[0] = address(1);
        OracleCommittee c = new OracleCommittee(address(this), one, 1);
        address[] memory next = new address[](1);
        next[0] = address(2);
        c.setCommittee(next, 1);
        assertEq(c.epoch(), 1, "the epoch is unchanged until the delay passed");
        assertTrue(c.isMember(address(1)), "the old member still signs");
    }
}
