// Frozen known answers: computed once (all three curves agreed) and hard-coded, so a change in any curve, in the
// glue or in the input handling shows up here. Anchors from outside: 2·G is the textbook point, and the signature of
// sha256("Satoshi Nakamoto") by key 1 is the RFC 6979 vector from bitcointalk.org topic 285142 that many libraries
// test against (some quote the high s, dbbd…675c; its low-S form n − s is the one here).
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../bytes.js";
import { curves } from "../../test-support/backends.js";

const PRIVATE_KEYS = {
  one: "0000000000000000000000000000000000000000000000000000000000000001",
  two: "0000000000000000000000000000000000000000000000000000000000000002",
  nMinusOne: "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140",
  alice: "0612862ba1283e195ab6912e26e21b550165e3119a8624b2f3458d9bef4e1ee0",
  bob: "7f09951a2b01cd51c0adad3873e05ce5d16900e2269f9c961886828e78ba0160",
} as const;
type KeyName = keyof typeof PRIVATE_KEYS;

const PUBLIC_KEYS: Record<KeyName, string> = {
  one:
    "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798" +
    "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8",
  two:
    "04c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5" +
    "1ae168fea63dc339a3c58419466ceaeef7f632653266d0e1236431a950cfe52a",
  nMinusOne:
    "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798" +
    "b7c52588d95c3b9aa25b0403f1eef75702e84bb7597aabe663b82f6f04ef2777",
  alice:
    "04b6691c7a98695fa4ab010c39b433d7beb8dffc45cb3aefd8cbd62a2979007289" +
    "28d8bc8bec7a3572c04e582de969413af3b518194d8549e71bc231effd26f11d",
  bob:
    "04759a0678478a8b41d2921900524275da3605ee3bf773a4ece3eb5a5271154b6f" +
    "c48ff7827b1a82b2d1d507aa02990733f2ac290047f3ad4ef409b50203fd66ed",
};

/** privateKey · (public key of peer), full uncompressed point. */
const ECDH_POINTS: { privateKey: KeyName; peer: KeyName; point: string }[] = [
  {
    privateKey: "alice",
    peer: "bob",
    point: "04ced8b2113d0f5a9093e08c5d379b315b9c1ff4c6f565d3af730086189d5cdfe7" + "68b8314af69aaa3263f08089e52649d9f18835eac199e392241f9bf49c5dcb8a",
  },
  {
    privateKey: "bob",
    peer: "alice",
    point: "04ced8b2113d0f5a9093e08c5d379b315b9c1ff4c6f565d3af730086189d5cdfe7" + "68b8314af69aaa3263f08089e52649d9f18835eac199e392241f9bf49c5dcb8a",
  },
  {
    privateKey: "nMinusOne",
    peer: "alice",
    point: "04b6691c7a98695fa4ab010c39b433d7beb8dffc45cb3aefd8cbd62a2979007289" + "d72743741385ca8d3fb1a7d21696bec50c4ae7e6b27ab618e43dce0f02d90b12",
  },
  {
    privateKey: "alice",
    peer: "one",
    point: "04b6691c7a98695fa4ab010c39b433d7beb8dffc45cb3aefd8cbd62a2979007289" + "28d8bc8bec7a3572c04e582de969413af3b518194d8549e71bc231effd26f11d",
  },
  {
    privateKey: "two",
    peer: "bob",
    point: "0411dc7cdff11375a70903e8c0a124db641b410d717d1006b7881720a48a3d72df" + "505fb3924621c11d1a34576633a676fb51ca2c50c54d9ebb6fcf9fc9b33545e0",
  },
];

/** RFC 6979 low-S signatures; the other recovery bit recovers another key (for digest ≡ 0 mod n, the negated signer). */
const SIGNATURES: { label: string; privateKey: KeyName; digest: string; signature: string; recovery: number; otherBitRecovers: string }[] = [
  {
    label: "sha256('Satoshi Nakamoto')",
    privateKey: "one",
    digest: "a0dc65ffca799873cbea0ac274015b9526505daaaed385155425f7337704883e",
    signature: "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8" + "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5",
    recovery: 1,
    otherBitRecovers: "0454d58835e07b996d6378eafa930ae9d2211e767381f1d52aedc67f48c8886f0b" + "b1a329f3733780d19e79fd09ddd109a66d236836c22a8c17681fa0e2e7630f75",
  },
  {
    label: "sha256('abc')",
    privateKey: "alice",
    digest: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    signature: "80390d79addbd27707129e0daf5ef31dc4209b67b1deff273434271d62e8beef" + "733eee36af669731d4cd83335552e2c1c78d5ca442244bf3f4d87e8ac50383ab",
    recovery: 1,
    otherBitRecovers: "04790f774676253df4e783c97feda86a30247fcd64cd56158076626a98d0d657ac" + "d0e104c32887b4a83be250dc5ac4f92fa52d3d879c19a23b5bd1394f76429431",
  },
  {
    label: "zero",
    privateKey: "bob",
    digest: "0000000000000000000000000000000000000000000000000000000000000000",
    signature: "f123f753573ddc1d733b87e64966b8fadf6ea5791841e748e1588d248a7beb21" + "09ac3b5208519d58f2f250cea9d72b70ae65dcbcf040eb48836eea08842f2932",
    recovery: 0,
    otherBitRecovers: "04759a0678478a8b41d2921900524275da3605ee3bf773a4ece3eb5a5271154b6f" + "3b70087d84e57d4d2e2af855fd66f8cc0d53d6ffb80c52b10bf64afcfc029542",
  },
  {
    label: "n (\u2261 0 mod n)",
    privateKey: "alice",
    digest: "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
    signature: "80aacdcc29c870567a99a1e094d87493cc76aad5f5633b9dc76c42db8a41defc" + "3373a9fbe58b54d3cf6b7ca937ac9e4afe48c178b89363f9d107c2326b59493c",
    recovery: 1,
    otherBitRecovers: "04b6691c7a98695fa4ab010c39b433d7beb8dffc45cb3aefd8cbd62a2979007289" + "d72743741385ca8d3fb1a7d21696bec50c4ae7e6b27ab618e43dce0f02d90b12",
  },
  {
    label: "n + 1",
    privateKey: "bob",
    digest: "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364142",
    signature: "2514ed9dec69756e15aea8876bed902c80f2099f3e299c3bf7f90191bdc36811" + "5aafaebf6997164706fbc85e669f95bdb5e671533761d2a3ff02576d15a2d5d0",
    recovery: 1,
    otherBitRecovers: "0446a0d4523652ee3df14e3389196216212f1499a36b7f704168f54def75d00300" + "41c8da77439d11816b68e57c84edb2d9183feb69c77b9870465c075c00d89da7",
  },
  {
    label: "2^256 - 1",
    privateKey: "nMinusOne",
    digest: "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    signature: "a7f83b5963eaf5332c633327cc967be8f4166d3f1e0b77f9761d8f4e42211e9a" + "58aae31be1eb1e496923bbe8ca5e843cfb89f4d986d61d4edfd7d6fc3c9cf62c",
    recovery: 0,
    otherBitRecovers: "043c6c8641fa0c3015b7f005d75cf48beabf945df84b1534349c93ee53e6f4e52d" + "71bc885ba81f1bb425989ca23f8a8c24c4e29c2f4d01b0feee217c42e2d132c2",
  },
];

const key = (name: KeyName) => fromHex(PRIVATE_KEYS[name]);

describe.each(curves)("known answers on the $name curve", (curve) => {
  it("derives the frozen public keys", () => {
    for (const name of Object.keys(PRIVATE_KEYS) as KeyName[]) {
      expect(toHex(curve.publicKey(key(name))), name).toBe(PUBLIC_KEYS[name]);
    }
  });

  it("computes the frozen ECDH points", () => {
    for (const { privateKey, peer, point } of ECDH_POINTS) {
      expect(toHex(curve.ecdhPoint(key(privateKey), fromHex(PUBLIC_KEYS[peer]))), `${privateKey}·${peer}`).toBe(point);
    }
  });

  it("makes the frozen RFC 6979 signatures, recovers their signers and verifies them", () => {
    for (const { label, privateKey, digest, signature, recovery, otherBitRecovers } of SIGNATURES) {
      const signed = curve.signDigest(fromHex(digest), key(privateKey));
      expect({ signature: toHex(signed.bytes), recovery: signed.recovery }, label).toEqual({ signature, recovery });
      expect(toHex(curve.recoverPublicKey(fromHex(digest), fromHex(signature), recovery)), label).toBe(PUBLIC_KEYS[privateKey]);
      expect(toHex(curve.recoverPublicKey(fromHex(digest), fromHex(signature), 1 - recovery)), label).toBe(otherBitRecovers);
      expect(curve.verifyDigest(fromHex(digest), fromHex(signature), fromHex(PUBLIC_KEYS[privateKey])), label).toBe(true);
    }
  });
});
