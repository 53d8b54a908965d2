/**
 * scripts/bootstrap.sh and scripts/run.sh, run in a throwaway copy of the repo's layout with a fake
 * `npm` first on PATH, so nothing is installed: only the shell behaviour is under test.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PROJECT_ROOT } from "../../oracle/src/devnet/local-services.js";

describe("scripts/bootstrap.sh and scripts/run.sh", () => {
  let root: string;
  let fakeBin: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "gridbrain-bootstrap-"));
    mkdirSync(join(root, "scripts"));
    for (const f of ["bootstrap.sh", "run.sh"])
      copyFileSync(join(PROJECT_ROOT, "scripts", f), join(root, "scripts", f));
    // An installed, fresh dependency tree: the lock npm writes is newer than package-lock.json.
    writeFileSync(join(root, "package-lock.json"), "{}");
    mkdirSync(join(root, "node_modules"));
    writeFileSync(join(root, "node_modules", ".package-lock.json"), "{}");
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(root, "node_modules", ".package-lock.json"), later, later);
    fakeBin = join(root, "fake-bin");
    mkdirSync(fakeBin);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const fake = (name: string, body: string) => {
    writeFileSync(join(fakeBin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(fakeBin, name), 0o755);
  };
  /** bash -c `script` in `root`, PATH: fakes, this Node, the system. */
  const bash = (script: string, env: Record<string, string> = {}) =>
    spawnSync("bash", ["-c", script], {
      cwd: root,
      encoding: "utf8",
      env: {
        PATH: `${fakeBin}:${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
        HOME: root,
        ...env,
      },
    });
  const OPTIONS = 'set -o | grep -E "^(errexit|nounset|pipefail)\\b" | tr -s " \\t" " "';

  describe("when sourced into an interactive-style shell", () => {
    it("leaves the shell's errexit, nounset and pipefail options as they were", () => {
      const r = bash(`. scripts/bootstrap.sh; echo "status $?"; ${OPTIONS}`);
      expect(r.stdout, r.stderr).to.include("status 0");
      expect(r.stdout).to.include("errexit off").and.include("nounset off").and.include("pipefail off");
    });

    it("returns an error status on failure instead of closing the shell", () => {
      // Node 20 on PATH makes bootstrap install Node 22 with npm, and this npm fails.
      fake("node", 'case "$1" in -p) echo 20 ;; *) echo v20.0.0 ;; esac');
      fake("npm", "exit 7");
      const r = bash(`. scripts/bootstrap.sh; echo "status $?"; echo "shell still open"; ${OPTIONS}`);
      expect(r.stdout, r.stderr).to.include("shell still open");
      expect(r.stdout).to.match(/status [1-9]/);
      expect(r.stdout).to.include("errexit off");
      expect(r.stderr).to.include("bootstrap: failed");
    });
  });

  describe("run.sh", () => {
    beforeEach(() => fake("npm", 'echo "npm $* browser=${GRIDBRAIN_WITH_BROWSER:-no}"'));

    it("does not ask for Chromium for the demo", () => {
      const r = bash("bash scripts/run.sh demo --intervals 1");
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.include("npm run --silent demo -- --intervals 1 browser=no");
    });

    it("asks for Chromium for the test command, which runs the browser test", () => {
      const r = bash("bash scripts/run.sh test");
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.include("npm run --silent test -- browser=1");
    });

    it("names the missing argument", () => {
      const r = bash("bash scripts/run.sh");
      expect(r.status).to.not.equal(0);
      expect(r.stderr).to.include("usage: bash scripts/run.sh <npm-script>");
    });
  });
});
