// Samples a process's resident memory (VmRSS in /proc/<pid>/status, Linux) while a fault is injected, so a test can
// assert the promise "memory stays under a bound" rather than merely "no crash".
import { readFileSync } from "node:fs";

export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS line in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

export interface RssSampler {
  /** The highest RSS seen so far, in bytes. */
  peak(): number;
  /** Stops sampling; returns the peak. */
  stop(): number;
}

export function sampleRss(pid: number, intervalMs = 50): RssSampler {
  let peak = residentBytes(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, residentBytes(pid));
    } catch {
      // The process is gone: the test's own liveness assertion reports that.
    }
  }, intervalMs);
  return {
    peak: () => peak,
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}

export const MiB = 1024 * 1024;
