import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { compilePostageVault, SOURCE_PATH, type CompiledPostageVault } from "../contracts/compile.mjs";
import {
  POSTAGE_VAULT_ABI,
  POSTAGE_VAULT_BYTECODE,
  POSTAGE_VAULT_SOLC_SETTINGS,
  POSTAGE_VAULT_SOLC_VERSION,
} from "./vaultArtifact.js";

const REGENERATE = "run `node packages/postage/contracts/compile.mjs` and commit src/vaultArtifact.ts";

describe("the committed vault artifact", () => {
  let compiled: CompiledPostageVault;
  beforeAll(() => {
    compiled = compilePostageVault();
  });

  it("was made by the pinned compiler with the script's settings", () => {
    expect(compiled.solcVersion, REGENERATE).toBe(POSTAGE_VAULT_SOLC_VERSION);
    expect(compiled.settings, REGENERATE).toEqual(POSTAGE_VAULT_SOLC_SETTINGS);
  });

  it("has the ABI of the current source, byte for byte", () => {
    expect(JSON.stringify(POSTAGE_VAULT_ABI), REGENERATE).toBe(JSON.stringify(compiled.abi));
  });

  it("has the bytecode of the current source, byte for byte", () => {
    expect(POSTAGE_VAULT_BYTECODE, REGENERATE).toBe(compiled.bytecode);
  });

  it("compiles without warnings", () => {
    expect(compiled.warnings).toEqual([]);
  });

  it("would notice an edit of the source, even of a comment", () => {
    // The bytecode ends with the hash of the metadata, which covers the source text.
    const edited = compilePostageVault(readFileSync(SOURCE_PATH, "utf8") + "\n// an edit\n");
    expect(edited.bytecode).not.toBe(POSTAGE_VAULT_BYTECODE);
  });
});
