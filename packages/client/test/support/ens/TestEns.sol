// SPDX-License-Identifier: MIT
// A small ENS for tests: a registry (records of owner and resolver per namehash node) and a resolver with
// addr(bytes32), name(bytes32) and text(bytes32,string) (ENSIP-5 text records, e.g. "avatar"). Written for this repository's tests; it follows the ENS interfaces (EIP-137,
// EIP-181 reverse records, EIP-165), not any deployed implementation.
pragma solidity ^0.8.20;

contract TestEnsRegistry {
    struct Record {
        address owner;
        address resolver;
    }

    // Immutable, so it lives in the runtime code: a copy of the code at another address (anvil_setCode) keeps it.
    address private immutable rootOwner;
    mapping(bytes32 => Record) private records;

    error NotOwner(bytes32 node, address caller);

    constructor() {
        rootOwner = msg.sender;
    }

    function owner(bytes32 node) public view returns (address) {
        if (node == bytes32(0)) return rootOwner;
        return records[node].owner;
    }

    function resolver(bytes32 node) external view returns (address) {
        return records[node].resolver;
    }

    function setSubnodeOwner(bytes32 node, bytes32 label, address newOwner) external returns (bytes32) {
        if (owner(node) != msg.sender) revert NotOwner(node, msg.sender);
        bytes32 subnode = keccak256(abi.encodePacked(node, label));
        records[subnode].owner = newOwner;
        return subnode;
    }

    function setResolver(bytes32 node, address newResolver) external {
        if (owner(node) != msg.sender) revert NotOwner(node, msg.sender);
        records[node].resolver = newResolver;
    }
}

contract TestEnsResolver {
    TestEnsRegistry private immutable registry;
    mapping(bytes32 => address) private addresses;
    mapping(bytes32 => string) private names;
    mapping(bytes32 => mapping(string => string)) private texts;

    error NotOwner(bytes32 node, address caller);

    constructor(TestEnsRegistry registry_) {
        registry = registry_;
    }

    modifier onlyOwner(bytes32 node) {
        if (registry.owner(node) != msg.sender) revert NotOwner(node, msg.sender);
        _;
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == 0x01ffc9a7 || // EIP-165 itself
            interfaceId == 0x3b3b57de || // addr(bytes32)
            interfaceId == 0x691f3431 || // name(bytes32)
            interfaceId == 0x59d1d43c; // text(bytes32,string)
    }

    function addr(bytes32 node) external view returns (address) {
        return addresses[node];
    }

    function setAddr(bytes32 node, address value) external onlyOwner(node) {
        addresses[node] = value;
    }

    function name(bytes32 node) external view returns (string memory) {
        return names[node];
    }

    function setName(bytes32 node, string calldata value) external onlyOwner(node) {
        names[node] = value;
    }

    function text(bytes32 node, string calldata key) external view returns (string memory) {
        return texts[node][key];
    }

    function setText(bytes32 node, string calldata key, string calldata value) external onlyOwner(node) {
        texts[node][key] = value;
    }
}
