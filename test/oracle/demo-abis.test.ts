/**
 * The README's main command (`bash scripts/run.sh demo`) must run on a fresh checkout, where no
 * `hardhat build` has written ./artifacts: its deploy builds into cache/production-deploy
 * (devnet/local-services.ts, `deployBuildEnv`). Until 2026-12-02 the demo read its ABIs from
 * ./artifacts and stopped right after the deploy with "cannot read the ABI of EnergyMarket" (seen
 * on a fresh clone). This runs the demo's chain connection in a child process whose file system
 * hides ./artifacts, and checks it still has every contract's ABI.
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PROJECT_ROOT } from "../../oracle/src/devnet/local-services.js";

const CHILD = `
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
const hidden = ${JSON.stringify(join(PROJECT_ROOT, "artifacts"))};
const asked = [];
const hide = (name) => {
  const real = fs[name];
  fs[name] = function (path, ...rest) {
    if (String(path).startsWith(hidden)) {
      asked.push(String(path));
      throw Object.assign(new Error("ENOENT: hidden by the test: " + path), { code: "ENOENT" });
    }
    return real.call(this, path, ...rest);
  };
};
for (const name of ["readFileSync", "openSync", "existsSync", "statSync"]) hide(name);
syncBuiltinESMExports();
const { connectDemoChain } = await import(${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, "oracle/src/demo/world.ts")).href)});
const a = "0x00000000000000000000000000000000000000aa";
const chain = connectDemoChain("http://127.0.0.1:9", {
  token: a, registry: a, committee: a, certificates: a, market: a, flexibilityMarket: a,
});
const names = Object.fromEntries(
  Object.entries(chain.abis).map(([k, abi]) => [k, abi.filter((x) => x.type === "function").map((x) => x.name)]),
);
console.log(JSON.stringify({ names, asked }));
`;

function runChild(): Promise<{ names: Record<string, string[]>; asked: string[] }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", CHILD],
      { cwd: PROJECT_ROOT, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`child failed: ${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim().split("\n").at(-1)!));
      },
    );
  });
}

describe("demo: ABIs without a build", () => {
  it("connects the demo's clients with every contract's ABI while ./artifacts is unreadable", async function () {
    this.timeout(90_000);
    const { names, asked } = await runChild();
    expect(asked, "files the demo tried to read under ./artifacts").to.deep.equal([]);
    expect(names["market"]).to.include.members(["placeBid", "placeOffer", "settleImbalance"]);
    expect(names["registry"]).to.include("registerParticipant");
    expect(names["committee"]).to.include("threshold");
    expect(names["certificates"]).to.include("retire");
    expect(names["token"]).to.include.members(["approve", "transfer"]);
  });
});
