// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title PostageVault
/// @notice Holds what payers deposit for XMTP postage, one channel per (payer, operator), and pays an operator
///         when it redeems the payer's latest EIP-712 voucher (docs/postage.md §3.6 and §5).
/// @dev A voucher carries the cumulative total the payer owes the operator, so redeeming the newest one settles
///      every envelope before it and older vouchers become worthless. A deposit is bound to one operator: no other
///      operator can redeem it, so one deposit cannot pay two nodes. The payer gets back what was not redeemed only
///      through a withdrawal that waits `withdrawalDelaySeconds`, during which the operator can still redeem.
contract PostageVault {
    struct Voucher {
        address payer;
        address operator;
        uint256 cumulative;
        bytes32 digest;
    }

    /// @dev `deposited` and `redeemed` share one storage slot: a redemption reads and writes a single slot, and the
    ///      slot is never zero when a voucher is redeemed (a deposit came first), so the write is never the
    ///      expensive zero-to-nonzero kind. 2^128 wei is far beyond any real balance; deposit() refuses more.
    struct Channel {
        uint128 deposited;
        uint128 redeemed;
        uint256 unlockAt;
    }

    event Deposited(address indexed payer, address indexed operator, uint256 amount, uint256 deposited);
    event Redeemed(address indexed payer, address indexed operator, uint256 cumulative, uint256 paid);
    event WithdrawalRequested(address indexed payer, address indexed operator, uint256 unlockAt);
    event Withdrawn(address indexed payer, address indexed operator, uint256 amount);

    error ZeroOperator();
    error ZeroDeposit();
    error DepositOverflow(uint256 deposited, uint256 amount);
    error NotOperator(address sender, address operator);
    error CumulativeNotAboveRedeemed(address payer, address operator, uint256 cumulative, uint256 redeemed);
    error CumulativeAboveDeposit(address payer, address operator, uint256 cumulative, uint256 deposited);
    error SignatureLengthInvalid(uint256 length);
    error SignatureVInvalid(uint8 v);
    error SignatureSHigh(bytes32 s);
    error SignatureUnrecoverable();
    error SignerNotPayer(address signer, address payer);
    error BatchEmpty();
    error BatchLengthMismatch(uint256 vouchers, uint256 signatures);
    /// @notice redeemMany refused the whole batch because of the voucher at `index`; `reason` is the ABI-encoded
    ///         error redeem() would have raised for that voucher alone (after the vouchers before it).
    error VoucherRejected(uint256 index, bytes reason);
    error NothingToWithdraw(address payer, address operator);
    error WithdrawalNotRequested(address payer, address operator);
    error WithdrawalLocked(address payer, address operator, uint256 unlockAt, uint256 timestamp);
    error TransferFailed(address to, uint256 amount);

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant VOUCHER_TYPEHASH =
        keccak256("Voucher(address payer,address operator,uint256 cumulative,bytes32 digest)");
    bytes32 private constant NAME_HASH = keccak256("XMTP Postage");
    bytes32 private constant VERSION_HASH = keccak256("1");
    /// @dev Half the secp256k1 group order: a signature with a larger s has a twin (n - s, flipped v) that is
    ///      equally valid, so only the lower one is accepted, as every signature in docs/postage.md §3.
    uint256 private constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    uint256 public immutable withdrawalDelaySeconds;

    // The separator is computed once; it is recomputed only if the chain id changes (a fork), so that vouchers
    // signed for one chain never redeem on the other.
    uint256 private immutable deployedChainId;
    bytes32 private immutable deployedDomainSeparator;

    mapping(address payer => mapping(address operator => Channel)) private channels;

    constructor(uint256 withdrawalDelaySeconds_) {
        withdrawalDelaySeconds = withdrawalDelaySeconds_;
        deployedChainId = block.chainid;
        deployedDomainSeparator = buildDomainSeparator();
    }

    /// @notice Adds msg.value to the caller's channel with `operator`, and cancels a pending withdrawal: a payer
    ///         that tops up wants to keep sending, so the operator may accept its stamps again.
    function deposit(address operator) external payable {
        if (operator == address(0)) revert ZeroOperator();
        if (msg.value == 0) revert ZeroDeposit();
        Channel storage ch = channels[msg.sender][operator];
        uint256 total = uint256(ch.deposited) + msg.value;
        if (total > type(uint128).max) revert DepositOverflow(ch.deposited, msg.value);
        ch.deposited = uint128(total);
        if (ch.unlockAt != 0) ch.unlockAt = 0;
        emit Deposited(msg.sender, operator, msg.value, total);
    }

    /// @notice Pays the caller (the voucher's operator) `cumulative - redeemed` and records `cumulative`.
    function redeem(Voucher calldata voucher, bytes calldata signature) external {
        (uint256 paid, bytes memory failure) = settle(voucher, signature);
        if (failure.length != 0) revertWith(failure);
        pay(msg.sender, paid);
    }

    /// @notice Redeems vouchers of many payers in one transaction; every voucher must name the caller as operator.
    /// @dev All or nothing: one bad voucher reverts the batch with VoucherRejected(index, reason), so the operator
    ///      learns exactly which one to drop and never has to work out which channels were settled. Vouchers are
    ///      applied in order, so a second voucher for a channel must exceed the first. The operator is paid once,
    ///      after every channel is updated.
    function redeemMany(Voucher[] calldata vouchers, bytes[] calldata signatures) external {
        if (vouchers.length == 0) revert BatchEmpty();
        if (vouchers.length != signatures.length) revert BatchLengthMismatch(vouchers.length, signatures.length);
        uint256 total = 0;
        for (uint256 i = 0; i < vouchers.length; i++) {
            (uint256 paid, bytes memory failure) = settle(vouchers[i], signatures[i]);
            if (failure.length != 0) revert VoucherRejected(i, failure);
            total += paid;
        }
        pay(msg.sender, total);
    }

    /// @notice Starts the delay after which the caller may take back what `operator` has not redeemed. Asking
    ///         again restarts the delay, which can only favour the operator.
    function requestWithdrawal(address operator) external {
        Channel storage ch = channels[msg.sender][operator];
        if (ch.deposited == ch.redeemed) revert NothingToWithdraw(msg.sender, operator);
        uint256 unlockAt = block.timestamp + withdrawalDelaySeconds;
        ch.unlockAt = unlockAt;
        emit WithdrawalRequested(msg.sender, operator, unlockAt);
    }

    /// @notice Pays the caller `deposited - redeemed` once the delay is over and closes the withdrawal. The amount
    ///         may be zero if the operator redeemed everything during the delay; the call still ends the withdrawal.
    function withdraw(address operator) external {
        Channel storage ch = channels[msg.sender][operator];
        uint256 unlockAt = ch.unlockAt;
        if (unlockAt == 0) revert WithdrawalNotRequested(msg.sender, operator);
        if (block.timestamp < unlockAt) revert WithdrawalLocked(msg.sender, operator, unlockAt, block.timestamp);
        uint256 amount = ch.deposited - ch.redeemed;
        ch.deposited = ch.redeemed;
        ch.unlockAt = 0;
        emit Withdrawn(msg.sender, operator, amount);
        pay(msg.sender, amount);
    }

    function channel(address payer, address operator)
        external
        view
        returns (uint256 deposited, uint256 redeemed, uint256 unlockAt)
    {
        Channel storage ch = channels[payer][operator];
        return (ch.deposited, ch.redeemed, ch.unlockAt);
    }

    function domainSeparator() public view returns (bytes32) {
        return block.chainid == deployedChainId ? deployedDomainSeparator : buildDomainSeparator();
    }

    /// @dev Checks a voucher and, if it is good, records it and returns what it pays. A bad voucher is returned
    ///      as its encoded error instead of reverting, so redeemMany can wrap it with the voucher's index. Cheap
    ///      checks come first; the signature (ecrecover) last.
    function settle(Voucher calldata voucher, bytes calldata signature)
        private
        returns (uint256 paid, bytes memory failure)
    {
        if (msg.sender != voucher.operator) {
            return (0, abi.encodeWithSelector(NotOperator.selector, msg.sender, voucher.operator));
        }
        Channel storage ch = channels[voucher.payer][voucher.operator];
        uint256 redeemed = ch.redeemed;
        uint256 deposited = ch.deposited;
        uint256 cumulative = voucher.cumulative;
        if (cumulative <= redeemed) {
            return (0, abi.encodeWithSelector(
                CumulativeNotAboveRedeemed.selector, voucher.payer, voucher.operator, cumulative, redeemed
            ));
        }
        if (cumulative > deposited) {
            return (0, abi.encodeWithSelector(
                CumulativeAboveDeposit.selector, voucher.payer, voucher.operator, cumulative, deposited
            ));
        }
        address signer;
        (signer, failure) = recoverSigner(typedDataHash(voucher), signature);
        if (failure.length != 0) return (0, failure);
        if (signer != voucher.payer) {
            return (0, abi.encodeWithSelector(SignerNotPayer.selector, signer, voucher.payer));
        }
        // cumulative <= deposited < 2^128, so the cast keeps every bit.
        ch.redeemed = uint128(cumulative);
        paid = cumulative - redeemed;
        emit Redeemed(voucher.payer, voucher.operator, cumulative, paid);
        return (paid, "");
    }

    function typedDataHash(Voucher calldata voucher) private view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(VOUCHER_TYPEHASH, voucher.payer, voucher.operator, voucher.cumulative, voucher.digest)
        );
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    /// @dev Accepts only 65-byte r || s || v with v 27 or 28 and s in the lower half of the order; ecrecover alone
    ///      would accept the high-s twin and answers address(0) instead of failing.
    function recoverSigner(bytes32 hash, bytes calldata signature)
        private
        pure
        returns (address signer, bytes memory failure)
    {
        if (signature.length != 65) {
            return (address(0), abi.encodeWithSelector(SignatureLengthInvalid.selector, signature.length));
        }
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := calldataload(signature.offset)
            s := calldataload(add(signature.offset, 32))
            v := byte(0, calldataload(add(signature.offset, 64)))
        }
        if (v != 27 && v != 28) return (address(0), abi.encodeWithSelector(SignatureVInvalid.selector, v));
        if (uint256(s) > HALF_ORDER) return (address(0), abi.encodeWithSelector(SignatureSHigh.selector, s));
        signer = ecrecover(hash, v, r, s);
        if (signer == address(0)) return (address(0), abi.encodeWithSelector(SignatureUnrecoverable.selector));
        return (signer, "");
    }

    function buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }

    /// @dev Called last, after every state change (checks-effects-interactions): a re-entering recipient finds the
    ///      channel already settled.
    function pay(address to, uint256 amount) private {
        if (amount == 0) return;
        (bool ok,) = payable(to).call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }

    function revertWith(bytes memory failure) private pure {
        assembly ("memory-safe") {
            revert(add(failure, 32), mload(failure))
        }
    }
}
