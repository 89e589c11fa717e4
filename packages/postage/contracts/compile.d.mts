// Types of compile.mjs, for the TypeScript test that recompiles the vault (src/vaultArtifact.test.ts).

export declare const SOURCE_PATH: string;
export declare const ARTIFACT_PATH: string;

export declare const SOLC_SETTINGS: {
  optimizer: { enabled: boolean; runs: number };
  evmVersion: string;
  metadata: { bytecodeHash: string };
};

export interface SolcDiagnostic {
  severity: string;
  message: string;
  formattedMessage?: string;
}

export declare class SolidityCompileError extends Error {
  readonly diagnostics: SolcDiagnostic[];
  constructor(diagnostics: SolcDiagnostic[]);
}

export interface CompiledPostageVault {
  solcVersion: string;
  settings: typeof SOLC_SETTINGS;
  abi: unknown[];
  /** Creation bytecode, 0x-prefixed. */
  bytecode: string;
  warnings: string[];
}

export declare function compilePostageVault(source?: string): CompiledPostageVault;
export declare function renderArtifact(compiled: CompiledPostageVault): string;
