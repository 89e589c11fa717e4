// Where a page's thread spent a CPU profile (Chromium's Profiler domain over CDP): self time by kind of code, and
// inclusive time by JavaScript function, which is what names the protocol steps (x3dhSecret, bundle checks...).
// Function names are readable only in a bundle built without minification (BENCH_BROWSER_PROFILE does that).

/**
 * The parts of a CDP Profiler profile read here.
 * @typedef {{ functionName: string; url: string }} CallFrame
 * @typedef {{ id: number; callFrame: CallFrame; children?: number[] }} ProfileNode
 * @typedef {{ nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }} Profile
 */

/** @param {CallFrame} frame */
function kindOf({ url, functionName }) {
  if (url.startsWith("wasm://")) return "WebAssembly (libsecp256k1)";
  if (url) return "JavaScript (the page's bundle)";
  if (functionName === "(garbage collector)" || functionName === "(program)") return functionName;
  return "browser built-ins (fetch, WebCrypto, TextEncoder...)";
}

/**
 * @param {Profile} profile
 * @param {{ top?: number }} [options]
 */
export function printProfileBreakdown(profile, { top = 25 } = {}) {
  /** @type {Map<number, ProfileNode>} */
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  /** @type {Map<number, number>} */
  const parentOf = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  /** @type {Map<number, number>} */
  const selfUs = new Map();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  let busyUs = 0;
  /** @type {Map<string, number>} */
  const byKind = new Map();
  /** @type {Map<string, number>} */
  const inclusive = new Map();
  /** @param {number} id */
  const nodeOf = (id) => {
    const node = byId.get(id);
    if (!node) throw new Error(`profile has no node ${id}`);
    return node;
  };
  for (const [id, us] of selfUs) {
    const frame = nodeOf(id).callFrame;
    if (frame.functionName === "(idle)" || frame.functionName === "(root)") continue;
    busyUs += us;
    byKind.set(kindOf(frame), (byKind.get(kindOf(frame)) ?? 0) + us);
    // Each sample counts once for every distinct JavaScript function on its stack.
    const seen = new Set();
    for (let /** @type {number | undefined} */ at = id; at !== undefined; at = parentOf.get(at)) {
      const { url, functionName } = nodeOf(at).callFrame;
      // Anonymous closures (async glue, callbacks) would lump unrelated work together under one name.
      if (!url || url.startsWith("wasm://") || !functionName || seen.has(functionName)) continue;
      seen.add(functionName);
      inclusive.set(functionName, (inclusive.get(functionName) ?? 0) + us);
    }
  }
  const line = (/** @type {[string, number]} */ [name, us]) => `  ${((100 * us) / busyUs).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`;
  const sorted = (/** @type {Map<string, number>} */ map) => [...map].sort((a, b) => b[1] - a[1]);
  console.log(`busy ${(busyUs / 1000).toFixed(0)} ms; self time by kind of code:`);
  sorted(byKind).forEach((entry) => console.log(line(entry)));
  console.log("inclusive time by JavaScript function (wasm calls included in their callers):");
  sorted(inclusive).slice(0, top).forEach((entry) => console.log(line(entry)));
}
