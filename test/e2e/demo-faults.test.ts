/**
 * The demo rides through a fault its committee rides through: oracle node 4 of a 3-of-5
 * committee is killed (SIGKILL) just before the meter readings of interval 2 are posted and stays
 * down. Posting to it fails (`fetch failed`, which used to end the demo); the demo records it,
 * the four live nodes meter and settle, and the run completes with every interval final.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../oracle/src/devnet/local-services.js";

describe("npm run demo with an oracle node killed before readings are posted (e2e)", function () {
  this.timeout(900_000);
  const out = mkdtempSync(join(tmpdir(), "gridbrain-demo-faults-"));
  const reportPath = join(out, "demo.html");
  const deploymentId = `demo-faults-${process.pid}`;
  let exitCode: number | null;
  let output = "";
  let summary: { finalIntervals: number; intervals: number; fundsConserved: boolean; undone: string[] };
  let records: { intervalId: string; final: boolean; problem?: string }[];

  before(async () => {
    exitCode = await new Promise<number | null>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          "oracle/src/demo/main.ts",
          ...["--prosumers", "6", "--zones", "1", "--intervals", "3", "--start-hour", "11"],
          ...["--kill-node", "4@2", "--report", reportPath, "--deployment-id", deploymentId],
        ],
        {
          cwd: PROJECT_ROOT,
          stdio: ["ignore", "pipe", "pipe"],
          env: { ...process.env, RPC_URL: "", REDIS_URL: "" },
        },
      );
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.on("close", resolve);
    });
    const json = JSON.parse(readFileSync(reportPath.replace(/\.html$/, ".json"), "utf8")) as {
      summary: typeof summary;
      records: typeof records;
    };
    summary = json.summary;
    records = json.records;
  });

  after(() => {
    rmSync(join(PROJECT_ROOT, "deploy", "deployments", deploymentId), { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  it("completes with every interval final and funds conserved", () => {
    expect(exitCode, output).to.equal(0);
    for (const r of records) expect(r.final, `interval ${r.intervalId}: ${r.problem ?? ""}`).to.equal(true);
    expect(summary.finalIntervals).to.equal(3);
    expect(summary.fundsConserved, output).to.equal(true);
  });

  it("reports each post of readings to the dead node as not done, and nothing else", () => {
    // Intervals 2 and 3: the node stays down.
    expect(summary.undone, output).to.have.length(2);
    for (const line of summary.undone)
      expect(line).to.match(
        /^interval \d+: post meter readings to http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/,
      );
    expect(new Set(summary.undone.map((l) => l.split(": ")[1])).size, "one node").to.equal(1);
    expect(output).to.contain("could not do             2 actions:");
  });
});
