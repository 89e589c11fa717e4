// Types of vitePreview.js, written by hand (the tests' tsconfig does not compile JavaScript): keep the two in step.
import type { InlineConfig } from "vite";

export interface PreviewedBuild {
  /** The served build, ending in "/". */
  url: string;
  /** The files the build emitted under assets/ (served at `${url}assets/<name>`). */
  assets: string[];
  /** Stops the server and deletes the build. */
  close(): Promise<void>;
}

/** Builds `config` (its build.outDir replaced by a new temporary directory) and previews it on 127.0.0.1. */
export function buildAndPreview(
  config: InlineConfig,
  options?: { tmpPrefix?: string; headers?: Record<string, string> },
): Promise<PreviewedBuild>;
