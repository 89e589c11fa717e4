// Test helpers: the public SDK as a peer to produce and check vectors.
import { createRequire } from "node:module";
import { Wallet, getBytes, type BaseWallet } from "ethers";
import type { SignText } from "../legacyKeys.js";

const require = createRequire(import.meta.url);
// Its ES-module build fails on Node 20 (extensionless imports in @xmtp/proto); the CJS build works.
export const sdk: any = require("@xmtp/xmtp-js");

/** The SDK's own protobuf codecs (@xmtp/proto), to build or read shapes the SDK has no class for. */
export const sdkProto: any = require(require.resolve("@xmtp/proto", { paths: [require.resolve("@xmtp/xmtp-js")] }));

export function signTextWith(wallet: BaseWallet): SignText {
  return async (text) => getBytes(await wallet.signMessage(text));
}

export function bytes(value: Uint8Array | ArrayLike<number>): Uint8Array {
  return Uint8Array.from(value as ArrayLike<number>);
}

export const Long: any = require(require.resolve("long", { paths: [require.resolve("@xmtp/xmtp-js")] }));

interface FakeEnvelope {
  contentTopic: string;
  message: Uint8Array;
}

/** Just enough of the SDK's ApiClient for its key managers (TopicPersistence): newest-first query and publish. */
export class FakeSdkApiClient {
  readonly envelopes: FakeEnvelope[] = [];
  async *queryIterator(params: { contentTopic: string }, _options: unknown): AsyncGenerator<any> {
    for (const env of this.envelopes.filter((e) => e.contentTopic === params.contentTopic).reverse()) yield env;
  }
  async publish(envelopes: FakeEnvelope[]): Promise<void> {
    for (const env of envelopes) this.envelopes.push({ contentTopic: env.contentTopic, message: Uint8Array.from(env.message) });
  }
  setAuthenticator(): void {}
}

/** An SDK identity with its in-memory keystore, plus the same keys read by our code. */
export async function sdkUser(wallet: BaseWallet = Wallet.createRandom()) {
  const bundle = await sdk.PrivateKeyBundleV1.generate(wallet);
  const keystore = await sdk.InMemoryKeystore.create(bundle, sdk.InMemoryPersistence.create());
  const publicBundle = bundle.getPublicKeyBundle();
  const signedBundle = sdk.SignedPublicKeyBundle.fromLegacyBundle(publicBundle);
  return { wallet, address: wallet.address, bundle, keystore, publicBundle, signedBundle };
}

/** The minimum of an SDK Client that its ConversationV2 needs to create and decode messages. */
export function sdkConversationV2(user: Awaited<ReturnType<typeof sdkUser>>, topic: string, peerAddress: string): any {
  const client = {
    address: user.address,
    keystore: user.keystore,
    signedPublicKeyBundle: user.signedBundle,
    publicKeyBundle: user.publicBundle,
    decodeContent: async (bytes: Uint8Array) => ({ content: bytes, contentType: undefined, error: undefined, contentFallback: undefined }),
  };
  return new sdk.ConversationV2(client, topic, peerAddress, new Date(), undefined, undefined);
}
