import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CliError } from "./errors.js";
import {
  decodeKeyFile,
  encodeKeyFile,
  generateIdentity,
  identityFromPrivateKey,
  initIdentity,
  loadIdentity,
  readKeyFile,
  writeKeyFile,
} from "./identity.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "xmtp-cli-identity-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function failure(fn: () => unknown): CliError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
  throw new Error("expected a CliError");
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe("private keys", () => {
  it("derives the same address as ethers", () => {
    const wallet = Wallet.createRandom();
    expect(identityFromPrivateKey(wallet.privateKey, "test").address).toBe(wallet.address);
    expect(identityFromPrivateKey(wallet.privateKey.slice(2), "test").address).toBe(wallet.address);
  });

  it.each([
    ["0x1234", "expected 0x followed by 64 hex digits"],
    ["0x" + "zz".repeat(32), "expected 0x followed by 64 hex digits"],
    ["0x" + "00".repeat(32), "out of range"],
    ["0x" + "ff".repeat(32), "out of range"],
  ])("rejects %s", (key, expected) => {
    const error = failure(() => identityFromPrivateKey(key, "XMTP_PRIVATE_KEY"));
    expect(error.kind).toBe("IDENTITY");
    expect(error.message).toContain("XMTP_PRIVATE_KEY");
    expect(error.message).toContain(expected);
  });
});

describe("key file", () => {
  it("is written with mode 0600 in a 0700 directory and reads back to the same identity", () => {
    const path = join(dir, "nested", "identity.json");
    const identity = generateIdentity();
    writeKeyFile(path, identity);
    expect(mode(path)).toBe(0o600);
    expect(mode(join(dir, "nested"))).toBe(0o700);
    expect(readKeyFile(path)).toEqual(identity);
    expect(JSON.parse(readFileSync(path, "utf8")).address).toBe(identity.address);
  });

  it("refuses a file other users can read, and says how to fix it", () => {
    const path = join(dir, "identity.json");
    writeKeyFile(path, generateIdentity());
    chmodSync(path, 0o644);
    const error = failure(() => readKeyFile(path));
    expect(error.kind).toBe("IDENTITY");
    expect(error.message).toContain("mode 0644");
    expect(error.message).toContain(`chmod 600 ${path}`);
  });

  it("accepts a file holding only a hex private key", () => {
    const wallet = Wallet.createRandom();
    const path = join(dir, "plain.key");
    writeFileSync(path, wallet.privateKey + "\n", { mode: 0o600 });
    expect(readKeyFile(path)?.address).toBe(wallet.address);
  });

  it("rejects a file whose stored address does not match its key (edited or corrupted)", () => {
    const identity = generateIdentity();
    const forged = JSON.parse(encodeKeyFile(identity));
    forged.address = Wallet.createRandom().address;
    const error = failure(() => decodeKeyFile(JSON.stringify(forged), "/k"));
    expect(error.message).toContain(`belongs to ${identity.address}`);
  });

  it("rejects JSON that is not a key file", () => {
    expect(failure(() => decodeKeyFile('{"hello":1}', "/k")).message).toContain("not an xmtp-ts key file");
    expect(failure(() => decodeKeyFile("{oops", "/k")).message).toContain("not valid JSON");
  });
});

describe("loadIdentity", () => {
  const env = () => ({ XMTP_HOME: dir });

  it("says to run init when there is no identity anywhere", () => {
    const error = failure(() => loadIdentity(undefined, env()));
    expect(error.kind).toBe("IDENTITY");
    expect(error.message).toContain("xmtp init");
  });

  it("prefers --key-file over XMTP_PRIVATE_KEY over the default file", () => {
    const inDefault = generateIdentity();
    const inEnv = Wallet.createRandom();
    const inOption = generateIdentity();
    writeKeyFile(join(dir, "identity.json"), inDefault);
    writeKeyFile(join(dir, "other.json"), inOption);
    expect(loadIdentity(undefined, env()).identity.address).toBe(inDefault.address);
    expect(loadIdentity(undefined, { ...env(), XMTP_PRIVATE_KEY: inEnv.privateKey }).identity.address).toBe(inEnv.address);
    expect(
      loadIdentity(join(dir, "other.json"), { ...env(), XMTP_PRIVATE_KEY: inEnv.privateKey }).identity.address,
    ).toBe(inOption.address);
  });

  it("names a missing --key-file", () => {
    expect(failure(() => loadIdentity(join(dir, "missing.json"), env())).message).toContain("missing.json does not exist");
  });
});

describe("initIdentity", () => {
  const env = () => ({ XMTP_HOME: dir });
  const keyFile = () => join(dir, "identity.json");

  it("creates and saves a new identity, then loads the same one", () => {
    const first = initIdentity(undefined, env(), false);
    expect(first).toMatchObject({ source: "generated", saved: true, keyFile: keyFile() });
    expect(mode(keyFile())).toBe(0o600);
    const second = initIdentity(undefined, env(), false);
    expect(second).toMatchObject({ source: "key-file", saved: false });
    expect(second.identity.address).toBe(first.identity.address);
  });

  it("saves the key from XMTP_PRIVATE_KEY", () => {
    const wallet = Wallet.createRandom();
    const result = initIdentity(undefined, { ...env(), XMTP_PRIVATE_KEY: wallet.privateKey }, false);
    expect(result).toMatchObject({ source: "environment", saved: true });
    expect(readKeyFile(keyFile())?.address).toBe(wallet.address);
  });

  it("does not overwrite a different identity without --force, and does with it", () => {
    const existing = generateIdentity();
    writeKeyFile(keyFile(), existing);
    const wallet = Wallet.createRandom();
    const error = failure(() => initIdentity(undefined, { ...env(), XMTP_PRIVATE_KEY: wallet.privateKey }, false));
    expect(error.message).toContain(existing.address);
    expect(error.message).toContain("--force");
    expect(readKeyFile(keyFile())?.address).toBe(existing.address);

    initIdentity(undefined, { ...env(), XMTP_PRIVATE_KEY: wallet.privateKey }, true);
    expect(readKeyFile(keyFile())?.address).toBe(wallet.address);
  });

  it("refuses --force without a key to replace the file's with", () => {
    expect(failure(() => initIdentity(undefined, env(), true)).kind).toBe("USAGE");
  });
});
