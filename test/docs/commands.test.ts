/**
 * The commands README.md and docs/INTEGRATING.md tell a reader to type. Every command found in
 * their code blocks and inline code must be classified below (a new one fails the first test until
 * it is), and the ones a fresh machine runs in under a minute are run here:
 *
 * - `npx gridbrain --help` (every documented top-level command is listed), `keystore --help`;
 * - `npx gridbrain dispatch solve examples/dispatch-two-zones.json --explain`;
 * - `npx gridbrain verify <interval>` and `market status` with no configuration: a usage error
 *   naming the missing fields (exit 2);
 * - against a Hardhat node of the test's own (its URL in place of 127.0.0.1:8545):
 *   `npm run local:deploy`, INTEGRATING.md's `market status` with the deployed addresses, and the
 *   `curl` calls that move chain time (the block timestamp moves by 900 s). Measured on the
 *   loaded 2-core machine: local:deploy 144 s with the node's start and the compile (the only
 *   one above a minute there), the others 0.5–15 s.
 *
 * Skipped here, each with its reason in SKIPPED below: the setup and test runners (`bash
 * scripts/run.sh …`, `. scripts/bootstrap.sh`: minutes, and bootstrap would reinstall the shared
 * node_modules; test/scripts/bootstrap.test.ts covers their shell behaviour), the commands
 * that need a running committee or a keystore (covered by the e2e and CLI tests named there),
 * `devnet up/down` and `examples/devnet-trade.ts` (1–3 minutes; test/e2e/devnet.test.ts runs
 * them), builds, benchmarks, lint and the web app (minutes, or a server that does not end).
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { appDeploymentId, settingsFromEnv } from "../../app/vite.config.js";
import { PROJECT_ROOT, startHardhatNode, type LocalService } from "../../oracle/src/devnet/local-services.js";

const DOCS = ["README.md", "docs/INTEGRATING.md"] as const;
const COMMAND = /^(?:npx |npm |bash |\. scripts\/|GRIDBRAIN_WITH_BROWSER=1 |curl )/;

/** Commands in fenced code blocks (one per line, any indentation) and in inline code. */
function documentedCommands(text: string): string[] {
  const found = new Set<string>();
  let fence: string | undefined; // the open block's language, "" when none
  const prose: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("```")) {
      fence = fence === undefined ? line.slice(3) : undefined;
      continue;
    }
    if (fence === undefined) prose.push(raw);
    else if (["", "bash", "sh"].includes(fence) && COMMAND.test(line)) found.add(line);
  }
  // In a Markdown table a `|` inside code is written `\|`.
  for (const m of prose.join("\n").matchAll(/`([^`\n]+)`/g)) {
    const code = m[1]!.trim().replaceAll("\\|", "|");
    if (COMMAND.test(code)) found.add(code);
  }
  return [...found];
}

/** Run here: a pattern for each documented command this file runs (the `it`s below). */
const RUN: readonly RegExp[] = [
  /^npx gridbrain dispatch solve examples\/dispatch-two-zones\.json --explain$/,
  /^npx gridbrain verify <interval>$/,
  /^npx gridbrain market status/,
  /^npx gridbrain keystore new\|import\|address$/,
  /^npx gridbrain deposit\|withdraw\|bid\|offer\|cancel\|orders\|balance\|certificates\|retire /,
  /^npm run local:deploy$/,
  /^curl -s -X POST http:\/\/127\.0\.0\.1:8545 .*"method":"evm_(increaseTime|mine)"/,
];

/** Not run here, with the reason. */
const SKIPPED: readonly { pattern: RegExp; reason: string }[] = [
  {
    pattern: /^bash scripts\/run\.sh (demo|test)/,
    reason: "minutes; the demo is run by test/e2e/demo.test.ts, the suites are what `test` runs",
  },
  {
    pattern: /^(GRIDBRAIN_WITH_BROWSER=1 )?\. scripts\/bootstrap\.sh/,
    reason: "would run npm ci over the shared node_modules; test/scripts/bootstrap.test.ts covers it",
  },
  { pattern: /^npx gridbrain devnet (up|down)/, reason: "1–3 minutes; test/e2e/devnet.test.ts runs both" },
  {
    pattern: /^npx tsx examples\/devnet-trade\.ts/,
    reason: "needs a devnet; test/e2e/devnet.test.ts runs it",
  },
  {
    pattern: /^npx gridbrain oracle serve/,
    reason: "a long-running node; the e2e tests start it (test/e2e/harness.ts)",
  },
  {
    pattern: /^npx gridbrain meter import/,
    reason: "needs a node; test/oracle/cli/meter.test.ts imports examples/meter-readings.csv",
  },
  {
    pattern: /^npx gridbrain flex /,
    reason: "needs a keystore and a registered battery; test/oracle/cli/flex.test.ts runs each subcommand",
  },
  {
    pattern: /^npx gridbrain claim /,
    reason: "needs a committed interval; test/e2e/pull-settlement.test.ts",
  },
  {
    pattern: /^npx hardhat ignition deploy deploy\/modules\/GridBrain\.ts --network <net>/,
    reason: "needs a network of the reader's and an existing token",
  },
  {
    pattern: /^npm run build(:cli)?$/,
    reason:
      "rewrites dist/ (and, for build, artifacts/ and oracle/src/chain/abis.ts), which the other tests use while it runs",
  },
  { pattern: /^npm run app/, reason: "a dev server that does not end / a Vite build" },
  {
    pattern:
      /^npm run (lint|check:abis|bench|bench:chaos|bench:invariants|bench:value|test:browser|test:chaos)$/,
    reason:
      "minutes (lint type-checks everything and runs check:abis, which needs a fresh build; benchmarks; test suites of their own)",
  },
  { pattern: /^npm test$/, reason: "the whole test suite" },
  {
    pattern: /^npm ci$/,
    reason: "installs the dependencies (bootstrap runs it); not over the shared node_modules",
  },
  { pattern: /^bash \.ci\/run$/, reason: "CI's entry point: the test command" },
  {
    pattern: /^npx (hardhat node|anvil --disable-code-size-limit)$/,
    reason: "a chain that runs until stopped; the test below starts Hardhat's node itself",
  },
  { pattern: /^npx hardhat (test|…)/, reason: "test runners / any Hardhat task" },
  { pattern: /^npx gridbrain …$/, reason: "a placeholder, not a command" },
];

function run(
  command: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "bash",
      ["-c", command],
      { cwd: PROJECT_ROOT, env: { ...process.env, NO_COLOR: "1", ...env }, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const commands = DOCS.flatMap((doc) =>
  documentedCommands(readFileSync(join(PROJECT_ROOT, doc), "utf8")).map((command) => ({ doc, command })),
);
const documented = (pattern: RegExp): string[] =>
  commands.filter((c) => pattern.test(c.command)).map((c) => c.command);

describe("README.md and docs/INTEGRATING.md commands", function () {
  this.timeout(180_000);

  it("are each run here or skipped with a reason", () => {
    const unclassified = commands.filter(
      ({ command }) => !RUN.some((p) => p.test(command)) && !SKIPPED.some((s) => s.pattern.test(command)),
    );
    expect(unclassified, "add each to RUN (and run it) or to SKIPPED with the reason").to.deep.equal([]);
    for (const pattern of RUN)
      expect(documented(pattern), `${pattern} matches no documented command`).to.not.be.empty;
  });

  it("npx gridbrain --help lists every documented top-level command", async () => {
    const help = await run("npx gridbrain --help");
    expect(help.code, help.stderr).to.equal(0);
    const names = new Set<string>();
    for (const { command } of commands) {
      const m = /^npx gridbrain ([a-z|]+)/.exec(command);
      for (const name of m?.[1]!.split("|") ?? []) names.add(name);
    }
    expect([...names]).to.include.members(["devnet", "deposit", "claim", "meter", "verify", "market"]);
    for (const name of names) expect(help.stdout, name).to.match(new RegExp(`^  ${name}\\b`, "m"));
    const keystore = await run("npx gridbrain keystore --help");
    for (const sub of ["new", "import", "address"])
      expect(keystore.stdout).to.match(new RegExp(`^  ${sub}\\b`, "m"));
  });

  it("npx gridbrain dispatch solve examples/dispatch-two-zones.json --explain solves the example", async () => {
    const [command] = documented(RUN[0]!);
    const result = await run(command!);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^welfare: 21\.200 token units$/m);
  });

  it("verify and market status without configuration name every missing field (exit 2)", async () => {
    for (const command of ["npx gridbrain verify 1", "npx gridbrain market status"]) {
      const result = await run(command, {
        GRIDBRAIN_RPC_URL: "",
        GRIDBRAIN_CHAIN_ID: "",
        GRIDBRAIN_MARKET_ADDRESS: "",
        GRIDBRAIN_REGISTRY_ADDRESS: "",
      });
      expect(result.code, command).to.equal(2);
      for (const flag of ["--rpc-url", "--chain-id", "--market-address", "--registry-address"])
        expect(result.stderr, command).to.include(`${flag}: is required`);
      expect(result.stderr, command).to.not.match(/nan/i);
    }
  });

  describe("against a Hardhat node", () => {
    let node: LocalService;
    const local = (command: string) => command.replaceAll("http://127.0.0.1:8545", node.url);
    before(async () => {
      node = await startHardhatNode();
    });
    after(async () => {
      await node.stop();
      rmSync(join(PROJECT_ROOT, "deploy", "deployments", "chain-31337"), { recursive: true, force: true });
    });

    it("npm run local:deploy deploys the suite, and market status reads it", async () => {
      const deploy = await run("npm run local:deploy", { GRIDBRAIN_RPC_URL: node.url });
      expect(deploy.code, deploy.stdout + deploy.stderr).to.equal(0);
      const addresses = JSON.parse(
        readFileSync(
          join(PROJECT_ROOT, "deploy", "deployments", "chain-31337", "deployed_addresses.json"),
          "utf8",
        ),
      ) as Record<string, string>;
      const [status] = documented(/^npx gridbrain market status --rpc-url/);
      const result = await run(
        local(status!)
          .replace("<market>", addresses["LocalGridBrain#EnergyMarket"]!)
          .replace("<registry>", addresses["LocalGridBrain#GridRegistry"]!),
      );
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.match(/^chain time \d+, current interval \d+/);
      expect(result.stdout).to.match(/: open; fills 0\/0/);
      // app/README.md's next step, `npm run app`, reads this deployment by default (the demo's
      // deployment, if one ran, can have the same addresses: compare the id too).
      expect(appDeploymentId({}), "the web app's default deployment").to.equal("chain-31337");
      const app = settingsFromEnv({ GRIDBRAIN_RPC_URL: node.url });
      expect(app.market, "the web app's default market").to.equal(addresses["LocalGridBrain#EnergyMarket"]);
      expect(app.registry, "the web app's default registry").to.equal(
        addresses["LocalGridBrain#GridRegistry"],
      );
    });

    it("the curl calls of INTEGRATING.md move chain time by 900 s", async () => {
      const timestamp = async () => {
        const res = await fetch(node.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: 1,
            method: "eth_getBlockByNumber",
            params: ["latest", false],
          }),
        });
        return BigInt(((await res.json()) as { result: { timestamp: string } }).result.timestamp);
      };
      const before = await timestamp();
      const calls = documented(RUN[6]!);
      expect(calls).to.have.length(2);
      for (const call of calls) expect((await run(local(call))).code, call).to.equal(0);
      // At least the 900 s asked for; the wall clock may add a second or two between the blocks.
      const moved = (await timestamp()) - before;
      expect(moved >= 900n && moved < 960n, `moved ${moved} s`).to.equal(true);
    });
  });
});
