// Keeps the documentation's cross-references honest. Over the repository's text files (tracked, or new and not
// ignored), it checks that:
//   (a) every section reference `<path>.md` + section sign + N[.M] names an existing file that has a heading numbered
//       N (or N.M): `## 2.` or `### 2.3`;
//   (b) no section sign stands alone. Each one on a line must belong to a run that starts at a `.md` path on that
//       line: the path (optionally closed by a backtick, `]` or `)`), a space, the section, then further sections
//       joined by `,`, `-`, `–`, `and`, `or`, `to`. A path that ends a line may have its section at the start of the
//       next line (after a comment's `//` or `*`). In Markdown files under docs/ a section sign outside such a run
//       refers to the file itself (and (a) checks it there). The pattern itself, written `N` or `N.M` after the
//       sign, is no reference;
//   (c) nothing points at the external protocol notes this repository once cited;
//   (d) every relative Markdown link `](path)` in a .md file resolves to an existing file or directory.
// Every failure lists file:line of each offender.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SECTION = "\u00a7";
const TEXT_FILE = /\.(ts|tsx|js|mjs|cjs|mts|cts|md|proto|html|css|sol|sh|ya?ml)$/;

function repositoryFiles(): string[] {
  const args = ["ls-files", "--cached", "--others", "--exclude-standard", "-z"];
  const listed = execFileSync("git", args, { cwd: root, encoding: "utf8" });
  return [...new Set(listed.split("\0"))]
    .filter((file) => TEXT_FILE.test(file) && !file.split("/").includes("node_modules"))
    .filter((file) => existsSync(join(root, file)) && statSync(join(root, file)).isFile());
}

const files = repositoryFiles().map((file) => ({ file, lines: readFileSync(join(root, file), "utf8").split("\n") }));

/** A `.md` path as it appears in text: relative parts allowed, no spaces. */
const DOC_PATH = String.raw`(?:\.{1,2}\/)*[A-Za-z0-9_][A-Za-z0-9_.\/-]*\.md`;
const SECTION_REF = String.raw`${SECTION}\s?(\d+(?:\.\d+)*)`;
/** The form written out as a pattern in prose (`§N`, `§N.M`): not a reference. */
const PLACEHOLDER = String.raw`${SECTION}N(?:\.M)?(?![A-Za-z0-9])`;
const TOKEN = new RegExp(String.raw`(${DOC_PATH})(?![A-Za-z0-9_])|(${PLACEHOLDER})|${SECTION_REF}|${SECTION}`, "g");
/** What may stand between a path and its first section, and between two sections of one run. */
const AFTER_PATH = /^[`\])]*\s$/;
const BETWEEN_SECTIONS = /^\s*(?:,|-|–|\band\b|\bor\b|\bto\b)?\s*$/;
/** A path that ends its line, for a reference wrapped onto the next line. */
const TRAILING_PATH = new RegExp(String.raw`(${DOC_PATH})[\`\])]*\s*$`);
/** A comment's or list's lead-in before the first word of a line (then the `AFTER_PATH` space is implied). */
const LINE_START = /^\s*(?:\/\/+|\/?\*+|#+|-)?\s*$/;

interface SectionRef {
  file: string;
  line: number;
  /** Repository-relative path of the document meant. */
  doc: string;
  section: string;
}

/** The repository-relative document a path written in `file` means: from the root first, then from the file. */
function resolveDoc(path: string, file: string): string {
  const fromRoot = normalize(path);
  if (!fromRoot.startsWith("..") && existsSync(join(root, fromRoot))) return fromRoot;
  const fromFile = relative(root, resolve(root, dirname(file), path));
  return existsSync(join(root, fromFile)) ? fromFile : fromRoot;
}

function scanSections(): { refs: SectionRef[]; bare: string[] } {
  const refs: SectionRef[] = [];
  const bare: string[] = [];
  for (const { file, lines } of files) {
    const selfReferring = file.startsWith("docs/") && file.endsWith(".md");
    lines.forEach((text, i) => {
      if (!text.includes(SECTION)) return;
      const where = `${file}:${i + 1}`;
      // A line that starts with a section may continue a reference whose path ended the line before.
      const carried = i > 0 ? TRAILING_PATH.exec(lines[i - 1]) : null;
      let doc: string | undefined = carried ? resolveDoc(carried[1], file) : undefined;
      let previousEnd = 0;
      let previousKind: "path" | "section" | "carried" | undefined = carried ? "carried" : undefined;
      for (const match of text.matchAll(TOKEN)) {
        const gap = text.slice(previousEnd, match.index);
        previousEnd = match.index + match[0].length;
        if (match[1] !== undefined) {
          doc = resolveDoc(match[1], file);
          previousKind = "path";
          continue;
        }
        const chained: boolean =
          doc !== undefined &&
          ((previousKind === "path" && AFTER_PATH.test(gap)) ||
            (previousKind === "carried" && LINE_START.test(gap)) ||
            (previousKind === "section" && BETWEEN_SECTIONS.test(gap)));
        if (match[2] !== undefined) continue;
        if (match[3] === undefined) {
          bare.push(`${where}: a section sign without a section number`);
          previousKind = undefined;
          continue;
        }
        if (chained) refs.push({ file, line: i + 1, doc: doc!, section: match[3] });
        else if (selfReferring) {
          doc = file;
          refs.push({ file, line: i + 1, doc: file, section: match[3] });
        } else {
          const section = `${SECTION}${match[3]}`;
          bare.push(`${where}: ${section} names no document (write docs/<file>.md ${section})`);
        }
        previousKind = chained || selfReferring ? "section" : undefined;
      }
    });
  }
  return { refs, bare };
}

const headingCache = new Map<string, Set<string> | undefined>();

/** The section numbers of a Markdown file's headings (`## 2. Title` → 2, `### 2.3 Title` → 2.3). */
function sectionsOf(doc: string): Set<string> | undefined {
  if (!headingCache.has(doc)) {
    const path = join(root, doc);
    if (!existsSync(path) || !statSync(path).isFile()) headingCache.set(doc, undefined);
    else {
      const numbers = new Set<string>();
      for (const line of readFileSync(path, "utf8").split("\n")) {
        const heading = /^#{1,6}\s+(\d+(?:\.\d+)*)\.?\s/.exec(line);
        if (heading) numbers.add(heading[1]);
      }
      headingCache.set(doc, numbers);
    }
  }
  return headingCache.get(doc);
}

/** Code blocks in Markdown hold examples, not links. */
function outsideCodeBlocks(lines: string[]): [string, number][] {
  const out: [string, number][] = [];
  let fenced = false;
  lines.forEach((line, i) => {
    if (/^\s*```/.test(line)) fenced = !fenced;
    else if (!fenced) out.push([line.replace(/`[^`]*`/g, ""), i]);
  });
  return out;
}

describe("documentation references", () => {
  const { refs, bare } = scanSections();

  it("finds the section references it checks", () => {
    expect(refs.length).toBeGreaterThan(50);
    expect(files.some(({ file }) => file === "docs/protocol/api.md")).toBe(true);
  });

  it("every `<doc>.md` section reference names an existing document and one of its numbered headings", () => {
    const broken = refs.flatMap(({ file, line, doc, section }) => {
      const sections = sectionsOf(doc);
      if (!sections) return [`${file}:${line}: ${doc} does not exist`];
      if (sections.size === 0) {
        return [`${file}:${line}: ${doc} has no numbered sections (cite a heading by name instead of ${SECTION}${section})`];
      }
      return sections.has(section) ? [] : [`${file}:${line}: ${doc} has no section ${section}`];
    });
    expect(broken, broken.join("\n")).toEqual([]);
  });

  it("no section sign stands without the document it refers to", () => {
    expect(bare, bare.join("\n")).toEqual([]);
  });

  it("nothing refers to the external protocol notes", () => {
    const external = [["shared", "docs"].join("/"), ["xmtp", "wire", "protocol"].join("-"), ["wire", "doc"].join(" ")];
    const offenders = files.flatMap(({ file, lines }) =>
      lines.flatMap((text, i) =>
        external
          .filter((needle) => text.toLowerCase().includes(needle))
          .map((needle) => `${file}:${i + 1}: mentions "${needle}"`),
      ),
    );
    expect(offenders, offenders.join("\n")).toEqual([]);
  });

  it("every relative Markdown link resolves", () => {
    const broken: string[] = [];
    for (const { file, lines } of files) {
      if (!file.endsWith(".md")) continue;
      for (const [text, i] of outsideCodeBlocks(lines)) {
        for (const match of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
          const target = match[1];
          if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("#")) continue;
          const path = decodeURIComponent(target.replace(/[?#].*$/, ""));
          const resolved = path.startsWith("/") ? join(root, path) : resolve(root, dirname(file), path);
          if (!existsSync(resolved)) broken.push(`${file}:${i + 1}: ${target} does not exist`);
        }
      }
    }
    expect(broken, broken.join("\n")).toEqual([]);
  });
});
