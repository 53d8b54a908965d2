// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IEnergyCertificate
/// @notice ERC-1155 certificates of renewable energy (ERC-1888 style): one id per interval and energy source, one
/// unit per Wh. Issued by the market (the issuer role); a holder retires them, which burns them and records a claim
/// for a beneficiary.
interface IEnergyCertificate {
    /// @notice `amountWh` certificates of `id` were issued to `to`.
    event CertificateIssued(address indexed to, uint256 indexed id, uint256 amountWh);
    /// @notice `holder` retired (burned) `amountWh` of `id`, claiming the energy for `beneficiary`.
    event CertificateRetired(
        address indexed holder,
        uint256 indexed id,
        address indexed beneficiary,
        uint256 amountWh,
        string claimData
    );

    /// @notice Nothing to retire.
    error ZeroRetirement();
    /// @notice The beneficiary must not be the zero address.
    error ZeroBeneficiary();

    /// @notice Mints `amountWh` of `id` to `to`. Issuer role.
    function issue(address to, uint256 id, uint256 amountWh) external;

    /// @notice Burns `amountWh` of the caller's `id` and emits a claim naming `beneficiary`.
    function retire(uint256 id, uint256 amountWh, address beneficiary, string calldata claimData) external;

    /// @notice Total retired of `id`.
    function retiredOf(uint256 id) external view returns (uint256);
}
