// The "Install" section of packages/cli/README.md, word for word: its commands, run from the repository's root with
// npm (offline, nothing may be downloaded) into temporary prefixes, give a working `xmtp` on PATH, and its uninstall
// command removes it. The root README shows the same install command. Needs the built CLI (`npm run build`).
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const readme = readFileSync(join(repoRoot, "packages/cli/README.md"), "utf8");
const rootReadme = readFileSync(join(repoRoot, "README.md"), "utf8");

/** The text of the README's "## Install" section. */
function installSection(): string {
  const start = readme.indexOf("\n## Install\n");
  expect(start, 'packages/cli/README.md has a "## Install" section').toBeGreaterThanOrEqual(0);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The lines of the section's ```sh blocks. */
function shellLines(section: string): string[] {
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((match) => match[1].split("\n").filter((line) => line.trim()));
}

const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), name));
  temporary.push(dir);
  return dir;
}

/** Runs one documented line with bash from the repository's root, in an environment of our choosing. */
async function sh(line: string, env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run("bash", ["-c", line], { cwd: repoRoot, env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * An environment with a home and an npm global prefix of their own, npm offline (a request to the registry fails
 * instead of downloading) and set to install folders as copies, and PATH holding only node and npm's directory (and the system's): no `xmtp` on it but
 * the one installed.
 */
function isolatedEnv(home: string, prefix?: string): Record<string, string> {
  const nodeDir = dirname(process.execPath);
  return {
    HOME: home,
    PATH: [join(home, ".local", "bin"), ...(prefix ? [join(prefix, "bin")] : []), nodeDir, "/usr/bin", "/bin"].join(delimiter),
    npm_config_offline: "true",
    // A configuration that would pack the folder and fetch its @xmtp-ts/* dependencies (which fails offline, and
    // online too: they are not on the registry); the documented --install-links=false must win over it.
    npm_config_install_links: "true",
    npm_config_cache: join(home, ".npm"),
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    ...(prefix ? { npm_config_prefix: prefix } : {}),
  };
}

describe("xmtp on PATH, installed as packages/cli/README.md says", () => {
  const lines = shellLines(installSection());
  const install = lines.find((line) => line.startsWith("npm install -g") && !line.includes("--prefix"))!;
  const installHome = lines.find((line) => line.startsWith("npm install -g") && line.includes("--prefix ~/.local"))!;
  const pathLine = lines.find((line) => line.startsWith("export PATH="))!;
  const uninstall = /`(npm uninstall -g [^`]+)`/.exec(installSection())?.[1];

  it("documents an install, an install without root, and an uninstall, and the root README shows the same install", () => {
    expect(install).toBe("npm install -g --install-links=false ./packages/cli");
    expect(installHome).toBe("npm install -g --install-links=false --prefix ~/.local ./packages/cli");
    expect(pathLine).toBe('export PATH="$HOME/.local/bin:$PATH"');
    expect(uninstall).toBe("npm uninstall -g @xmtp-ts/cli");
    expect(lines).toContain("xmtp --help");
    expect(rootReadme).toContain(`\n    ${install}\n    xmtp --help\n`);
  });

  it("gives a working xmtp in npm's global prefix, offline, and removes it again", async () => {
    const home = tempDir("xmtp-install-home-");
    const prefix = tempDir("xmtp-install-prefix-");
    const env = isolatedEnv(home, prefix);
    expect((await sh("command -v xmtp", env)).code).not.toBe(0);

    const installed = await sh(install, env);
    expect(installed.code, installed.stderr).toBe(0);
    expect(existsSync(join(prefix, "bin", "xmtp"))).toBe(true);

    const help = await sh("xmtp --help", env);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^xmtp: chat on an XMTP network from the command line/);
    // From another directory too, and a real command: no identity there, so exit 6 with the hint.
    const whoami = await run("bash", ["-c", "xmtp whoami"], { cwd: home, env }).catch((err) => err);
    expect(whoami.code).toBe(6);
    expect(whoami.stderr).toMatch(/xmtp init/);

    const removed = await sh(uninstall!, env);
    expect(removed.code, removed.stderr).toBe(0);
    expect(existsSync(join(prefix, "bin", "xmtp"))).toBe(false);
    // Uninstalling a link leaves the checkout alone.
    expect(existsSync(join(repoRoot, "packages/cli/bin/xmtp.js"))).toBe(true);
  });

  it("gives a working xmtp under ~/.local without root, with the PATH line", async () => {
    const home = tempDir("xmtp-install-home-");
    const env = isolatedEnv(home);
    const installed = await sh(installHome, env);
    expect(installed.code, installed.stderr).toBe(0);
    const help = await sh(`${pathLine} && xmtp --help`, { ...env, PATH: [dirname(process.execPath), "/usr/bin", "/bin"].join(delimiter) });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain("Usage: xmtp <command>");
  });
});
