// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";

/// @notice Builds trees in the layout of @openzeppelin/merkle-tree's StandardMerkleTree (heap array, leaves at the
/// end in reverse order, sorted-pair hashing), so proofs verify with OpenZeppelin's MerkleProof. Leaves are taken
/// in the order given (StandardMerkleTree sorts them first; any order is a valid tree).
library Merkle {
    function tree(bytes32[] memory leaves) internal pure returns (bytes32[] memory nodes) {
        uint256 n = leaves.length;
        nodes = new bytes32[](2 * n - 1);
        for (uint256 k; k < n; ++k) nodes[2 * n - 2 - k] = leaves[k];
        for (uint256 j = n - 1; j > 0; --j) {
            nodes[j - 1] = Hashes.commutativeKeccak256(nodes[2 * j - 1], nodes[2 * j]);
        }
    }

    function root(bytes32[] memory leaves) internal pure returns (bytes32) {
        return tree(leaves)[0];
    }

    /// @notice Proof of `leaves[k]`.
    function proof(bytes32[] memory leaves, uint256 k) internal pure returns (bytes32[] memory out) {
        bytes32[] memory nodes = tree(leaves);
        uint256 j = 2 * leaves.length - 2 - k;
        uint256 depth;
        for (uint256 i = j; i > 0; i = (i - 1) / 2) ++depth;
        out = new bytes32[](depth);
        uint256 d;
        while (j > 0) {
            out[d++] = nodes[j % 2 == 1 ? j + 1 : j - 1];
            j = (j - 1) / 2;
        }
    }

    /// @notice Flags of a multiproof of all leaves, taken in their given order (the proof itself is empty).
    function allLeavesFlags(uint256 n) internal pure returns (bool[] memory flags) {
        flags = new bool[](n - 1);
        for (uint256 i; i < n - 1; ++i) flags[i] = true;
    }

    /// @notice Multiproof of `leaves[ks[0]], leaves[ks[1]], …` (`ks` strictly ascending, which is the order
    /// OpenZeppelin's multiproof takes them in: leaf k sits at heap index 2n − 2 − k), built like
    /// StandardMerkleTree.getMultiProof.
    function multiProof(
        bytes32[] memory leaves,
        uint256[] memory ks
    ) internal pure returns (bytes32[] memory proof, bool[] memory flags) {
        bytes32[] memory nodes = tree(leaves);
        uint256 n = leaves.length;
        uint256[] memory queue = new uint256[](2 * n + ks.length);
        uint256 head;
        uint256 tail;
        for (uint256 i; i < ks.length; ++i) queue[tail++] = 2 * n - 2 - ks[i];
        bytes32[] memory proofBuf = new bytes32[](2 * n);
        bool[] memory flagBuf = new bool[](2 * n);
        uint256 proofLen;
        uint256 flagLen;
        while (head < tail && queue[head] > 0) {
            uint256 j = queue[head++];
            uint256 sibling = j % 2 == 1 ? j + 1 : j - 1;
            if (head < tail && queue[head] == sibling) {
                flagBuf[flagLen++] = true;
                ++head;
            } else {
                flagBuf[flagLen++] = false;
                proofBuf[proofLen++] = nodes[sibling];
            }
            queue[tail++] = (j - 1) / 2;
        }
        proof = new bytes32[](proofLen);
        for (uint256 i; i < proofLen; ++i) proof[i] = proofBuf[i];
        flags = new bool[](flagLen);
        for (uint256 i; i < flagLen; ++i) flags[i] = flagBuf[i];
    }
}
