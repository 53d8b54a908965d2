// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IEnergyCertificate} from "./interfaces/IEnergyCertificate.sol";

/// @title EnergyCertificate
/// @notice ERC-1155 renewable energy certificates, one unit per Wh; see {IEnergyCertificate}.
contract EnergyCertificate is ERC1155, AccessControl, IEnergyCertificate {
    /// @notice Role of the issuer (the EnergyMarket).
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");

    mapping(uint256 id => uint256) private _retired;

    constructor(address admin, string memory uri_) ERC1155(uri_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IEnergyCertificate
    function issue(address to, uint256 id, uint256 amountWh) external onlyRole(ISSUER_ROLE) {
        _mint(to, id, amountWh, "");
        emit CertificateIssued(to, id, amountWh);
    }

    /// @inheritdoc IEnergyCertificate
    function retire(uint256 id, uint256 amountWh, address beneficiary, string calldata claimData) external {
        if (amountWh == 0) revert ZeroRetirement();
        if (beneficiary == address(0)) revert ZeroBeneficiary();
        _burn(msg.sender, id, amountWh);
        _retired[id] += amountWh;
        emit CertificateRetired(msg.sender, id, beneficiary, amountWh, claimData);
    }

    /// @inheritdoc IEnergyCertificate
    function retiredOf(uint256 id) external view returns (uint256) {
        return _retired[id];
    }

    function supportsInterface(
        bytes4 interfaceId
    ) public view override(ERC1155, AccessControl) returns (bool) {
        return
            interfaceId == type(IEnergyCertificate).interfaceId ||
            ERC1155.supportsInterface(interfaceId) ||
            AccessControl.supportsInterface(interfaceId);
    }
}
