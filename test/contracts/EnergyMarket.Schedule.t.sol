// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarketBase} from "./utils/MarketBase.sol";
import {IEnergyMarket} from "../../contracts/interfaces/IEnergyMarket.sol";
import {IOracleCommittee} from "../../contracts/interfaces/IOracleCommittee.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @notice commitSchedule, including each signature misuse in its own test.
contract EnergyMarketScheduleTest is MarketBase {
    IEnergyMarket.ScheduleReport internal report;

    function setUp() public override {
        super.setUp();
        _place(_order(alice, IEnergyMarket.Side.Buy, 0, 1000, 300_000));
        _place(_order(bob, IEnergyMarket.Side.Sell, 0, 1000, 100_000));
        report = _report(interval, keccak256("root"), 2, _prices(200_000, 250_000));
        _warpToGateClosure(interval);
    }

    /// @dev The EIP-712 digest of `report` under an arbitrary domain.
    function _digestUnder(uint256 chainId, address verifyingContract) internal view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256("GridBrain"),
                keccak256("1"),
                chainId,
                verifyingContract
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                market.SCHEDULE_REPORT_TYPEHASH(),
                report.market,
                report.intervalId,
                report.configEpoch,
                report.ordersDigest,
                report.scheduleRoot,
                report.fillCount,
                keccak256(abi.encodePacked(report.zonePrices))
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function test_typehashes_matchTheirPreimages() public view {
        assertEq(
            market.ORDER_TYPEHASH(),
            keccak256(
                "Order(address owner,uint64 intervalId,uint8 side,uint32 zoneId,uint64 quantityWh,"
                "uint128 limitPricePerKwh,uint64 nonce)"
            ),
            "order"
        );
        assertEq(
            market.SCHEDULE_REPORT_TYPEHASH(),
            keccak256(
                "ScheduleReport(address market,uint64 intervalId,uint64 configEpoch,bytes32 ordersDigest,"
                "bytes32 scheduleRoot,uint32 fillCount,uint256[] zonePrices)"
            ),
            "schedule"
        );
        assertEq(
            market.METER_REPORT_TYPEHASH(),
            keccak256(
                "MeterReport(address market,uint64 intervalId,uint64 configEpoch,bytes32 meterRoot,"
                "bytes32 scheduleRoot,uint256[] zonePrices,uint256[] shortPrices,uint256[] longPrices,"
                "uint256[] zoneSurplusWh)"
            ),
            "meter report"
        );
        assertEq(
            market.METER_READING_TYPEHASH(),
            keccak256("MeterReading(address meter,uint64 intervalId,uint64 injectedWh,uint64 consumedWh)"),
            "meter reading"
        );
    }

    function test_hashScheduleReport_isEip712Digest() public view {
        assertEq(market.hashScheduleReport(report), _digestUnder(block.chainid, address(market)), "digest");
    }

    function test_hashMeterReading_isEip712Digest() public view {
        bytes32 structHash = keccak256(
            abi.encode(market.METER_READING_TYPEHASH(), alice, uint64(7), uint64(1500), uint64(20))
        );
        bytes32 expected = keccak256(abi.encodePacked("\x19\x01", market.domainSeparator(), structHash));
        assertEq(market.hashMeterReading(alice, 7, 1500, 20), expected, "digest");
        assertEq(
            keccak256(abi.encodePacked("\x19\x01", market.domainSeparator(), bytes32(0))),
            keccak256(
                abi.encodePacked("\x19\x01", _domainSeparator(block.chainid, address(market)), bytes32(0))
            ),
            "domain separator"
        );
    }

    function _domainSeparator(uint256 chainId, address verifyingContract) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    keccak256(
                        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                    ),
                    keccak256("GridBrain"),
                    keccak256("1"),
                    chainId,
                    verifyingContract
                )
            );
    }

    function test_commitSchedule_storesCommitment() public {
        bytes32 digest = report.ordersDigest;
        vm.expectEmit(address(market));
        emit IEnergyMarket.ScheduleCommitted(interval, 1, digest, report.scheduleRoot, 2, report.zonePrices);
        _commit(report);
        IEnergyMarket.IntervalState memory state = market.intervalState(interval);
        assertTrue(state.scheduled, "scheduled");
        assertEq(state.fillCount, 2, "fill count");
        assertEq(
            state.commitment,
            keccak256(abi.encode(report.scheduleRoot, keccak256(abi.encodePacked(report.zonePrices)))),
            "commitment = H(root, H(prices))"
        );
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.AlreadyScheduled.selector, interval));
        market.ordersDigest(interval);
    }

    function test_commitSchedule_acceptsAllFiveSigners() public {
        market.commitSchedule(report, _sign(market.hashScheduleReport(report), _firstKeys(5)));
        assertTrue(market.intervalState(interval).scheduled, "scheduled");
    }

    function test_commitSchedule_failsTwice() public {
        _commit(report);
        bytes memory sigs = _sign(market.hashScheduleReport(report), _firstKeys(3));
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.AlreadyScheduled.selector, interval));
        market.commitSchedule(report, sigs);
    }

    function test_commitSchedule_failsForWrongMarketField() public {
        report.market = address(0xBEEF);
        bytes memory sigs = _sign(market.hashScheduleReport(report), _firstKeys(3));
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.WrongMarket.selector, address(0xBEEF)));
        market.commitSchedule(report, sigs);
    }

    function test_commitSchedule_failsBeforeGateClosure() public {
        uint256 opensAt = market.gateClosure(interval);
        uint256 closesAt = market.scheduleDeadline(interval);
        vm.warp(opensAt - 1);
        bytes memory sigs = _sign(market.hashScheduleReport(report), _firstKeys(3));
        vm.expectRevert(
            abi.encodeWithSelector(IEnergyMarket.ScheduleWindowClosed.selector, interval, opensAt, closesAt)
        );
        market.commitSchedule(report, sigs);
    }

    function test_commitSchedule_failsAfterScheduleDeadline() public {
        uint256 opensAt = market.gateClosure(interval);
        uint256 closesAt = market.scheduleDeadline(interval);
        vm.warp(closesAt);
        bytes memory sigs = _sign(market.hashScheduleReport(report), _firstKeys(3));
        vm.expectRevert(
            abi.encodeWithSelector(IEnergyMarket.ScheduleWindowClosed.selector, interval, opensAt, closesAt)
        );
        market.commitSchedule(report, sigs);
    }

    function test_commitSchedule_failsWhenAnOrderIsLeftOut() public {
        bytes32 actual = report.ordersDigest;
        // A digest over only the first order: the committee left bob's offer out.
        report.ordersDigest = keccak256(
            abi.encode(bytes32(0), market.position(alice, interval, IEnergyMarket.Side.Buy))
        );
        bytes memory sigs = _sign(market.hashScheduleReport(report), _firstKeys(3));
        vm.expectRevert(
            abi.encodeWithSelector(
                IEnergyMarket.OrdersDigestMismatch.selector,
                interval,
                actual,
                report.ordersDigest
            )
        );
        market.commitSchedule(report, sigs);
    }

    function test_commitSchedule_failsWhilePaused() public {
        bytes memory sigs = _sign(market.hashScheduleReport(report), _firstKeys(3));
        vm.prank(guardian);
        market.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        market.commitSchedule(report, sigs);
    }

    /* SIGNATURE MISUSE */

    function test_commitSchedule_failsForSignaturesMadeForAnotherChain() public {
        bytes memory sigs = _sign(_digestUnder(block.chainid + 1, address(market)), _firstKeys(3));
        vm.expectPartialRevert(IOracleCommittee.NotMember.selector);
        market.commitSchedule(report, sigs);
    }

    function test_commitSchedule_failsForSignaturesMadeForAnotherContract() public {
        bytes memory sigs = _sign(_digestUnder(block.chainid, address(0xC0DE)), _firstKeys(3));
        vm.expectPartialRevert(IOracleCommittee.NotMember.selector);
        market.commitSchedule(report, sigs);
    }

    function test_commitSchedule_failsForStaleEpoch() public {
        bytes memory sigs = _sign(market.hashScheduleReport(report), _firstKeys(3));
        // The change was proposed two days earlier (warping back keeps the schedule window open). The time is read
        // with vm.getBlockTimestamp(): under via-IR block.timestamp may hold the value from before setUp's warp.
        uint256 now_ = vm.getBlockTimestamp();
        vm.prank(admin);
        committee.proposeCommittee(memberAddrs, 3);
        vm.warp(now_ + committee.changeDelay());
        vm.prank(admin);
        committee.executeCommitteeChange(); // bumps the epoch to 2
        vm.warp(now_);
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.StaleEpoch.selector, 1, 2));
        market.commitSchedule(report, sigs);
    }

    function test_commitSchedule_failsForWrongInterval() public {
        // Signed as interval + 5's report, submitted as interval + 1's (both empty, same digest): only the
        // signature can catch it.
        uint64 other = interval + 1;
        vm.warp(market.gateClosure(other));
        IEnergyMarket.ScheduleReport memory submitted = _report(
            other,
            report.scheduleRoot,
            0,
            report.zonePrices
        );
        IEnergyMarket.ScheduleReport memory signed = _report(
            other,
            report.scheduleRoot,
            0,
            report.zonePrices
        );
        signed.intervalId = interval + 5;
        bytes memory sigs = _sign(market.hashScheduleReport(signed), _firstKeys(3));
        vm.expectPartialRevert(IOracleCommittee.NotMember.selector);
        market.commitSchedule(submitted, sigs);
    }

    function test_commitSchedule_failsForDuplicateSigner() public {
        uint256[] memory keys = new uint256[](3);
        keys[0] = memberKeys[0];
        keys[1] = memberKeys[1];
        keys[2] = memberKeys[1];
        bytes memory sigs = _sign(market.hashScheduleReport(report), keys);
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.DuplicateSigner.selector, 2, memberAddrs[1]));
        market.commitSchedule(report, sigs);
    }

    function test_commitSchedule_failsForNonMember() public {
        uint256[] memory keys = _firstKeys(3);
        keys[2] = 0xDEAD;
        bytes memory sigs = _sign(market.hashScheduleReport(report), keys);
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.NotMember.selector, 2, vm.addr(0xDEAD)));
        market.commitSchedule(report, sigs);
    }

    function test_commitSchedule_failsBelowThreshold() public {
        bytes memory sigs = _sign(market.hashScheduleReport(report), _firstKeys(2));
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.BelowThreshold.selector, 2, 3));
        market.commitSchedule(report, sigs);
    }

    function test_commitSchedule_failsForMalleableSignature() public {
        bytes32 digest = market.hashScheduleReport(report);
        bytes memory sigs = _sign(digest, _firstKeys(3));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(memberKeys[0], digest);
        uint256 n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
        bytes32 highS = bytes32(n - uint256(s));
        bytes memory flipped = abi.encodePacked(r, highS, v == 27 ? uint8(28) : uint8(27));
        for (uint256 i; i < 65; ++i) sigs[i] = flipped[i];
        vm.expectRevert(abi.encodeWithSelector(IOracleCommittee.MalleableSignature.selector, 0, highS));
        market.commitSchedule(report, sigs);
    }

    function test_commitSchedule_failsForReplayOnAnotherInterval() public {
        // A valid, committed report of an empty interval, replayed for the next empty interval.
        uint64 first = interval + 1;
        uint64 second = interval + 2;
        vm.warp(market.gateClosure(first));
        IEnergyMarket.ScheduleReport memory valid = _report(first, bytes32(0), 0, report.zonePrices);
        bytes memory sigs = _sign(market.hashScheduleReport(valid), _firstKeys(3));
        market.commitSchedule(valid, sigs);
        vm.warp(market.gateClosure(second));
        valid.intervalId = second;
        vm.expectPartialRevert(IOracleCommittee.NotMember.selector);
        market.commitSchedule(valid, sigs);
    }
}
