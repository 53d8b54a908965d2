/**
 * README.md and docs/*.md name files as `code` or as link targets. Each one a reader can open
 * must be in this repository: nothing outside it (`../…`), and no repository path that is gone.
 */
import { expect } from "chai";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../oracle/src/devnet/local-services.js";

const DOCS = [
  "README.md",
  ...readdirSync(join(PROJECT_ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
/** A concrete file path under one of the repository's top-level folders (no placeholders). */
const REPO_PATH = /^(app|bench|bin|contracts|deploy|docs|examples|oracle|scripts|test)\/[\w./-]+\.\w+$/;

function referencedPaths(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/`([^`\s]+)`|\]\(([^)\s]+)\)/g)) {
    const raw = m[1] ?? m[2]!;
    if (/^[a-z]+:\/\//.test(raw)) continue;
    out.push(raw.split("#")[0]!.split(":")[0]!);
  }
  return out;
}

describe("docs: file references", () => {
  for (const doc of DOCS) {
    it(`${doc} names only files inside the repository, and they exist`, () => {
      const paths = referencedPaths(readFileSync(join(PROJECT_ROOT, doc), "utf8"));
      expect(
        paths.filter((p) => p.startsWith("../")),
        "paths outside the repository",
      ).to.deep.equal([]);
      expect(
        paths.filter((p) => REPO_PATH.test(p) && !existsSync(join(PROJECT_ROOT, p))),
        "repository paths that do not exist",
      ).to.deep.equal([]);
    });
  }
});
