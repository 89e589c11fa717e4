import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CliError } from "./errors.js";
import { GrantBook, grantsFileFor, readGrantsFile, type GrantHolder, type GrantLike } from "./grantsFile.js";

const ME = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
const OTHER = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";
const GRANTOR = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB";

function grantLike(grantee: string, base64: string, expiresInMs = 60_000): GrantLike {
  return { grantor: GRANTOR, grantee, expiresAt: new Date(Date.now() + expiresInMs), chainId: 31337n, vault: OTHER, base64 };
}

/** A client's grant store in miniature: it takes what is not expired, keyed by the base64. */
function holder(): GrantHolder & { held: Map<string, GrantLike>; offer: Map<string, GrantLike> } {
  const held = new Map<string, GrantLike>();
  const offer = new Map<string, GrantLike>();
  return {
    held,
    offer,
    acceptGrant(base64) {
      const grant = offer.get(base64);
      if (!grant || grant.expiresAt.getTime() <= Date.now()) throw new Error("refused");
      held.set(base64, grant);
      return grant;
    },
    grants: () => [...held.values()],
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "xmtp-cli-grants-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("GrantBook", () => {
  it("lives beside the key file", () => {
    expect(grantsFileFor("/home/u/.xmtp/identity.json")).toBe("/home/u/.xmtp/postage-grants.json");
  });

  it("saves the client's grants (0600), restores them into a new client, and leaves other identities' entries alone", () => {
    const path = join(dir, "postage-grants.json");
    const theirs = new GrantBook(path, OTHER);
    const other = holder();
    other.held.set("b3RoZXI=", grantLike(OTHER, "b3RoZXI="));
    theirs.restore(other);
    theirs.save(other);

    const book = new GrantBook(path, ME);
    const first = holder();
    expect(book.restore(first)).toBe(0);
    const mine = grantLike(ME, "bWluZQ==");
    first.held.set(mine.base64, mine);
    expect(book.save(first)).toEqual([mine]);
    expect(book.save(first)).toEqual([]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readGrantsFile(path).map((entry) => [entry.grantee, entry.grant])).toEqual([
      [OTHER, "b3RoZXI="],
      [ME, "bWluZQ=="],
    ]);

    const next = holder();
    next.offer.set(mine.base64, mine);
    expect(new GrantBook(path, ME).restore(next)).toBe(1);
    expect([...next.held.keys()]).toEqual(["bWluZQ=="]);
  });

  it("drops this identity's grants the client no longer takes (expired) at the next save", () => {
    const path = join(dir, "postage-grants.json");
    const book = new GrantBook(path, ME);
    const first = holder();
    first.held.set("b2xk", grantLike(ME, "b2xk"));
    book.save(first);
    const later = new GrantBook(path, ME);
    const next = holder(); // offers nothing: the grant expired
    expect(later.restore(next)).toBe(0);
    expect(later.save(next)).toEqual([]);
    expect(readGrantsFile(path)).toEqual([]);
  });

  it("refuses a file that is not a grants file rather than overwrite it", () => {
    const path = join(dir, "postage-grants.json");
    writeFileSync(path, '{"something":"else"}');
    expect(() => new GrantBook(path, ME).restore(holder())).toThrow(CliError);
    writeFileSync(path, "not json");
    expect(() => readGrantsFile(path)).toThrow(/not valid JSON/);
    expect(readFileSync(path, "utf8")).toBe("not json");
  });
});
