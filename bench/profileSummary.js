// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): where the time went, by area and by function.
// Used by `node bench/run.js --cpu-prof`; also runnable alone: `node bench/profileSummary.js FILE.cpuprofile`.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";

/**
 * The parts of a V8 .cpuprofile read here.
 * @typedef {{ functionName: string; url: string; lineNumber: number }} CallFrame
 * @typedef {{ id: number; callFrame: CallFrame; children?: number[] }} ProfileNode
 * @typedef {{ nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }} CpuProfile
 */

/**
 * A coarse owner for a frame: our package file, a dependency, Node internals, or V8's pseudo-frames.
 * @param {string} url
 * @param {string} functionName
 * @param {string | undefined} repoRoot
 */
function areaOf(url, functionName, repoRoot) {
  if (!url) {
    if (functionName === "(garbage collector)") return "(garbage collector)";
    if (functionName === "(idle)") return "(idle)";
    if (functionName === "(program)") return "(program: native, unattributed)";
    return `(native) ${functionName || "anonymous"}`;
  }
  if (url.startsWith("node:")) {
    const parts = url.slice(5).split("/");
    return `node internals: ${parts[0] === "internal" && parts.length > 1 ? `internal/${parts[1]}` : parts[0]}`;
  }
  const path = url.startsWith("file://") ? fileURLToPath(url) : url;
  const nodeModules = path.lastIndexOf("node_modules/");
  if (nodeModules >= 0) {
    const rest = path.slice(nodeModules + "node_modules/".length).split("/");
    return `dependency: ${rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (repoRoot && path.startsWith(repoRoot)) return path.slice(repoRoot.length + 1);
  return path;
}

/**
 * @param {string} file
 * @param {{ repoRoot?: string; top?: number }} [options]
 */
export function summarizeProfile(file, { repoRoot, top = 25 } = {}) {
  /** @type {CpuProfile} */
  const profile = JSON.parse(readFileSync(file, "utf8"));
  /** @type {Map<number, ProfileNode>} */
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  /** @type {Map<number, number>} */
  const parentOf = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

  // Self time per node from the samples and their time deltas (microseconds).
  /** @type {Map<number, number>} */
  const selfUs = new Map();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idleUs = [...selfUs].filter(([id]) => byId.get(id)?.callFrame.functionName === "(idle)").reduce((a, [, t]) => a + t, 0);
  const busyUs = totalUs - idleUs;

  const keyOf = (/** @type {ProfileNode} */ node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const area = areaOf(url, functionName, repoRoot);
    return { area, fn: `${functionName || "(anonymous)"}  ${area}${url ? `:${lineNumber + 1}` : ""}` };
  };

  /** @type {Map<string, number>} */
  const selfByArea = new Map();
  /** @type {Map<string, number>} */
  const selfByFunction = new Map();
  // Inclusive time per function: each sample counts once for every distinct function on its stack.
  /** @type {Map<string, number>} */
  const inclusiveByFunction = new Map();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === "(idle)") continue;
    const { area, fn } = keyOf(node);
    selfByArea.set(area, (selfByArea.get(area) ?? 0) + us);
    selfByFunction.set(fn, (selfByFunction.get(fn) ?? 0) + us);
    const seen = new Set();
    for (let /** @type {number | undefined} */ at = id; at !== undefined; at = parentOf.get(at)) {
      const key = keyOf(/** @type {ProfileNode} */ (byId.get(at))).fn;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusiveByFunction.set(key, (inclusiveByFunction.get(key) ?? 0) + us);
    }
  }

  const pct = (/** @type {number} */ us) => `${((100 * us) / busyUs).toFixed(1).padStart(5)}%`;
  /**
   * @param {string} title
   * @param {Map<string, number>} map
   * @param {(key: string) => boolean} [filter]
   */
  const list = (title, map, filter = () => true) => {
    console.log(title);
    [...map]
      .filter(([key]) => filter(key))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .forEach(([key, us]) => console.log(`  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`));
  };
  console.log(
    `profiled ${(totalUs / 1e6).toFixed(1)} s, busy ${(busyUs / 1e6).toFixed(1)} s ` +
      `(${((100 * busyUs) / totalUs).toFixed(0)}%); percentages are of busy time\n`,
  );
  list("self time by area:", selfByArea);
  console.log("");
  list("self time by function:", selfByFunction);
  console.log("");
  list(
    "inclusive time of the node's own functions (packages/*):",
    inclusiveByFunction,
    (key) => key.includes("packages/"),
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: node bench/profileSummary.js FILE.cpuprofile");
    process.exit(2);
  }
  summarizeProfile(file, { repoRoot: resolve(fileURLToPath(import.meta.url), "../..") });
}
