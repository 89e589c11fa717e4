// docs/admin.md works word for word: every `curl` example in it is replayed, in the document's order, against the
// real binary (built by `npm run build`) started as the document starts it, and must get the status and the JSON
// body written after it. Only `updatedAt` may differ (it is the time of the change), and must be a timestamp.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { promisify } from "node:util";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeBinary, startNode, type RunningNode } from "../../../../test/support/runningNode.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
const DOC = "docs/admin.md";
const DOC_URL = "http://localhost:5555";
const TOKEN = "0123456789abcdef0123456789abcdef";

interface Example {
  line: number;
  command: string;
  status: number;
  body: string;
}

/** The fenced blocks of a Markdown text with the language, text and first line of each. */
function fencedBlocks(text: string): { lang: string; body: string; line: number; endLine: number }[] {
  const lines = text.split("\n");
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    blocks.push({ lang: open[1], body: body.join("\n"), line: start + 1, endLine: i + 1 });
  }
  return blocks;
}

/** Each `curl` block, the `→ STATUS` line after it and the `json` block after that. */
function examplesOf(text: string): Example[] {
  const lines = text.split("\n");
  const blocks = fencedBlocks(text);
  const examples: Example[] = [];
  blocks.forEach((block, i) => {
    if (block.lang !== "sh" || !block.body.startsWith("curl ")) return;
    const answer = blocks[i + 1];
    if (answer?.lang !== "json") throw new Error(`${DOC}:${block.line}: a curl example needs a json block after it`);
    const between = lines.slice(block.endLine, answer.line - 1).join("\n");
    const status = /^→ (\d{3})$/m.exec(between);
    if (!status) throw new Error(`${DOC}:${block.line}: a curl example needs a "→ STATUS" line before its answer`);
    examples.push({ line: block.line, command: block.body, status: Number(status[1]), body: answer.body });
  });
  return examples;
}

/** The words of a shell command as sh would split them: quotes, `\` line continuations, $VAR in double quotes. */
function shellWords(command: string, vars: Record<string, string>): string[] {
  const words: string[] = [];
  let word: string | undefined;
  const text = command.replace(/\\\n/g, " ");
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === " " || c === "\n" || c === "\t") {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed ' in ${command}`);
      word = (word ?? "") + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new Error(`unclosed " in ${command}`);
      word = (word ?? "") + text.slice(i + 1, end).replace(/\$(\w+)/g, (_, name: string) => vars[name] ?? "");
      i = end;
    } else if (c === "$") {
      const name = /^\w+/.exec(text.slice(i + 1))![0];
      word = (word ?? "") + (vars[name] ?? "");
      i += name.length;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The request a `curl -s [-X METHOD] URL [-H "Name: value"]… [-d BODY]` command makes. */
function requestOf(command: string): { method: string; url: string; headers: Record<string, string>; body?: string } {
  const words = shellWords(command, { XMTP_ADMIN_TOKEN: TOKEN });
  if (words.shift() !== "curl") throw new Error(`not a curl command: ${command}`);
  let method: string | undefined;
  let url: string | undefined;
  let body: string | undefined;
  const headers: Record<string, string> = {};
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word === "-s") continue;
    else if (word === "-X") method = words[++i];
    else if (word === "-H") {
      const header = words[++i];
      const colon = header.indexOf(":");
      headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
    } else if (word === "-d") body = words[++i];
    else if (word.startsWith("-")) throw new Error(`curl option ${word} is not understood by this test: ${command}`);
    else if (url === undefined) url = word;
    else throw new Error(`a second URL in: ${command}`);
  }
  if (!url) throw new Error(`no URL in: ${command}`);
  // curl -d posts (as application/x-www-form-urlencoded) unless -X says otherwise.
  if (body !== undefined) headers["Content-Type"] ??= "application/x-www-form-urlencoded";
  return { method: method ?? (body !== undefined ? "POST" : "GET"), url, headers, body };
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The JSON with every `updatedAt` replaced by a placeholder (after checking it is a timestamp). */
function withoutTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimes);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, field]) => {
        if (key !== "updatedAt") return [key, withoutTimes(field)];
        expect(field).toMatch(ISO_TIME);
        return [key, "<time>"];
      }),
    );
  }
  return value;
}

const doc = readFileSync(join(repoRoot, DOC), "utf8");
const examples = examplesOf(doc);

let node: RunningNode;

beforeAll(async () => {
  // As docs/admin.md §1 starts it: allowlist mode, the token in XMTP_ADMIN_TOKEN.
  expect(doc).toContain("export XMTP_ADMIN_TOKEN=$(openssl rand -hex 16)\nnode packages/node/dist/main.js --access-mode allowlist\n");
  node = await startNode({ args: ["--access-mode", "allowlist"], env: { XMTP_ADMIN_TOKEN: TOKEN } });
});
afterAll(() => node?.dispose());

describe(`${DOC}, replayed against the real node`, () => {
  it("has examples of every endpoint and of the errors", () => {
    expect(examples.length).toBeGreaterThanOrEqual(15);
    const requests = examples.map((example) => requestOf(example.command));
    for (const method of ["GET", "POST", "PUT", "DELETE", "PATCH"]) {
      expect(requests.some((request) => request.method === method)).toBe(true);
    }
    for (const status of [200, 400, 401, 404, 405]) expect(examples.some((example) => example.status === status)).toBe(true);
    // Every curl in the document is one of the replayed examples.
    expect(fencedBlocks(doc).filter((block) => block.body.includes("curl ")).length).toBe(examples.length);
  });

  it("answers each example as written, in order", async () => {
    for (const example of examples) {
      const request = requestOf(example.command);
      expect(request.url.startsWith(DOC_URL + "/admin/"), `${DOC}:${example.line}`).toBe(true);
      const response = await fetch(node.url + request.url.slice(DOC_URL.length), {
        method: request.method,
        headers: request.headers,
        body: request.body,
      });
      const text = await response.text();
      const where = `${DOC}:${example.line}: ${request.method} ${request.url} answered ${response.status} ${text}`;
      expect(response.status, where).toBe(example.status);
      expect(response.headers.get("content-type"), where).toBe("application/json");
      expect(withoutTimes(JSON.parse(text)), where).toEqual(withoutTimes(JSON.parse(example.body)));
      // The document shows the answer as the node writes it: the same JSON, the same order of fields.
      expect(JSON.stringify(withoutTimes(JSON.parse(text))), where).toBe(JSON.stringify(withoutTimes(JSON.parse(example.body))));
    }
  });

  it("shows the refusal of a node started without a token, and of an oversized body, as the node words them", async () => {
    const tooBig = await fetch(`${node.url}/admin/v1/authz`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: "a".repeat(64 * 1024 + 1),
    });
    expect(tooBig.status).toBe(413);
    const tooBigBody = (await tooBig.json()) as { code: number; message: string };
    expect(doc).toContain(`| 413 | ${tooBigBody.code} | a body over 64 KiB | \`${tooBigBody.message}\` |`);

    const plain = await startNode({ args: [] });
    try {
      const off = await fetch(`${plain.url}/admin/v1/authz`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(off.status).toBe(404);
      const offBody = (await off.json()) as { code: number; message: string };
      expect(doc).toContain(`| 404 | ${offBody.code} | the node has no admin token | \`${offBody.message}\` |`);
    } finally {
      await plain.dispose();
    }
  });

  it("shows the refusal of `xmtp-node authz` on a mistyped --data-dir as the command prints it (docs/admin.md §5)", async () => {
    const shown = /^ {4}\$ node packages\/node\/dist\/main\.js (authz .*)\n {4}(xmtp-node authz: .*)$/m.exec(doc);
    expect(shown, "the example in docs/admin.md §5").not.toBeNull();
    const [, command, output] = shown!;
    // Run in a temporary directory standing for /srv/xmtp, so the example's path surely does not exist.
    const root = mkdtempSync(join(tmpdir(), "xmtp-admin-doc-"));
    try {
      const args = command.split(" ").map((word) => word.replace("/srv/xmtp", root));
      const result = await promisify(execFile)(process.execPath, [nodeBinary, ...args]).catch((err) => err);
      expect(result.code).toBe(1);
      expect(result.stderr.replaceAll(root, "/srv/xmtp")).toBe(output + "\n");
      expect(existsSync(join(root, "dta"))).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
