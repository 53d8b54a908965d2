// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IEnergyMarket} from "../interfaces/IEnergyMarket.sol";

/// @title MarketHashing
/// @notice The EIP-712 struct hashes of the market's signed types and the Merkle leaves and commitments it checks
/// proofs against. Domain-free: EnergyMarket wraps a struct hash into its digest with its own domain separator.
/// Every type has one TypeScript twin in oracle/src/domain/, and test/contracts/eip712.test.ts proves they agree.
library MarketHashing {
    /// @dev keccak256("Order(address owner,uint64 intervalId,uint8 side,uint32 zoneId,uint64 quantityWh,
    /// uint128 limitPricePerKwh,uint64 nonce)")
    bytes32 internal constant ORDER_TYPEHASH =
        0x2622cf588842836f8e88111ab1e440f1ae9faef3e3e26d9caf137c575bde7b67;
    /// @dev keccak256("ScheduleReport(address market,uint64 intervalId,uint64 configEpoch,bytes32 ordersDigest,
    /// bytes32 scheduleRoot,uint32 fillCount,uint256[] zonePrices)")
    bytes32 internal constant SCHEDULE_REPORT_TYPEHASH =
        0x521b8e06476542b7a3e138f39883aef500c23f589ac83dec198acfce3fd208d2;
    /// @dev keccak256("MeterReport(address market,uint64 intervalId,uint64 configEpoch,bytes32 meterRoot,
    /// bytes32 scheduleRoot,uint256[] zonePrices,uint256[] shortPrices,uint256[] longPrices,uint256[] zoneSurplusWh)")
    bytes32 internal constant METER_REPORT_TYPEHASH =
        0x660002c0b9cfbf287c1ae5035fedfa1e493efbd172d7d148c9a359c8b3a2cbda;
    /// @dev keccak256("MeterReading(address meter,uint64 intervalId,uint64 injectedWh,uint64 consumedWh)")
    bytes32 internal constant METER_READING_TYPEHASH =
        0x97975e507c2a54a0d204cdd28fa876e82d595adc7548640ae9200c6f9b99cac2;

    function orderHash(IEnergyMarket.Order calldata order) internal pure returns (bytes32) {
        return
            orderHash(
                order.owner,
                order.intervalId,
                order.side,
                order.zoneId,
                order.quantityWh,
                order.limitPricePerKwh,
                order.nonce
            );
    }

    function orderHash(
        address owner,
        uint64 intervalId,
        IEnergyMarket.Side side,
        uint32 zoneId,
        uint64 quantityWh,
        uint128 limitPricePerKwh,
        uint64 nonce
    ) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    ORDER_TYPEHASH,
                    owner,
                    intervalId,
                    side,
                    zoneId,
                    quantityWh,
                    limitPricePerKwh,
                    nonce
                )
            );
    }

    function scheduleReportHash(
        IEnergyMarket.ScheduleReport calldata report
    ) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    SCHEDULE_REPORT_TYPEHASH,
                    report.market,
                    report.intervalId,
                    report.configEpoch,
                    report.ordersDigest,
                    report.scheduleRoot,
                    report.fillCount,
                    arrayHash(report.zonePrices)
                )
            );
    }

    function meterReportHash(IEnergyMarket.MeterReport calldata report) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    METER_REPORT_TYPEHASH,
                    report.market,
                    report.intervalId,
                    report.configEpoch,
                    report.meterRoot,
                    report.scheduleRoot,
                    arrayHash(report.zonePrices),
                    arrayHash(report.shortPrices),
                    arrayHash(report.longPrices),
                    arrayHash(report.zoneSurplusWh)
                )
            );
    }

    function meterReadingHash(
        address meter,
        uint64 intervalId,
        uint64 injectedWh,
        uint64 consumedWh
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(METER_READING_TYPEHASH, meter, intervalId, injectedWh, consumedWh));
    }

    /// @dev EIP-712 encoding of a `uint256[]` member: the hash of its packed elements.
    function arrayHash(uint256[] calldata values) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(values));
    }

    /// @dev The running orders digest after `orderId` is placed (docs/CONTRACTS.md, "ordersDigest (exact rule)").
    function ordersDigestStep(bytes32 digest, bytes32 orderId) internal pure returns (bytes32) {
        return keccak256(abi.encode(digest, orderId));
    }

    /// @dev What an interval's commitment slot holds once scheduled: the schedule root bound to its zone prices.
    function scheduleCommitment(
        bytes32 scheduleRoot,
        uint256[] calldata zonePrices
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(scheduleRoot, arrayHash(zonePrices)));
    }

    /// @dev StandardMerkleTree leaf of types ["bytes32", "uint64"]: keccak256(keccak256(abi.encode(id, filled))).
    function fillLeaf(bytes32 orderId, uint64 filledWh) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(orderId, filledWh))));
    }

    /// @dev StandardMerkleTree leaf of types ["address", "uint64", "uint64"].
    function meterLeaf(
        address participant,
        uint64 injectedWh,
        uint64 consumedWh
    ) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(participant, injectedWh, consumedWh))));
    }
}
