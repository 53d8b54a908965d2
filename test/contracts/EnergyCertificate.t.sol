// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {EnergyCertificate} from "../../contracts/EnergyCertificate.sol";
import {IEnergyCertificate} from "../../contracts/interfaces/IEnergyCertificate.sol";
import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";

contract EnergyCertificateTest is Test {
    EnergyCertificate internal certificate;
    address internal admin = makeAddr("admin");
    address internal issuer = makeAddr("issuer");
    address internal holder = makeAddr("holder");

    function setUp() public {
        certificate = new EnergyCertificate(admin, "");
        bytes32 role = certificate.ISSUER_ROLE();
        vm.prank(admin);
        certificate.grantRole(role, issuer);
        vm.prank(issuer);
        certificate.issue(holder, 42, 500);
    }

    function test_issue_onlyIssuer() public {
        vm.expectRevert();
        certificate.issue(holder, 42, 1);
    }

    function test_retire_failsOnZero() public {
        vm.expectRevert(IEnergyCertificate.ZeroRetirement.selector);
        vm.prank(holder);
        certificate.retire(42, 0, holder, "");
    }

    function test_retire_failsOnZeroBeneficiary() public {
        vm.expectRevert(IEnergyCertificate.ZeroBeneficiary.selector);
        vm.prank(holder);
        certificate.retire(42, 1, address(0), "");
    }

    function test_retire_failsAboveBalance() public {
        vm.expectRevert();
        vm.prank(holder);
        certificate.retire(42, 501, holder, "");
    }

    function test_supportsInterface() public view {
        assertTrue(certificate.supportsInterface(type(IERC1155).interfaceId), "ERC-1155");
        assertTrue(certificate.supportsInterface(type(IEnergyCertificate).interfaceId), "certificate");
        assertFalse(certificate.supportsInterface(0xdeadbeef), "other");
    }
}
