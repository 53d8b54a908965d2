import { expect } from "chai";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../oracle/src/demo/local-services.js";

interface RecordJson {
  intervalId: string;
  final: boolean;
  problem?: string;
  zones: { bought: string; sold: string; gridSupply: string; gridOfftake: string }[];
  certificatesWh: string;
  certificatesIssuedWh: string;
  renewableDeliveredWh: string;
  buyers: number;
}

describe("npm run demo (small neighbourhood, real chain, Redis and 3-of-5 oracle node processes)", function () {
  this.timeout(900_000);
  const out = mkdtempSync(join(tmpdir(), "gridbrain-demo-test-"));
  const reportPath = join(out, "demo.html");
  let exitCode: number | null;
  let output = "";
  let records: RecordJson[];
  let summary: { finalIntervals: number; intervals: number; fundsConserved: boolean };

  before(async () => {
    exitCode = await new Promise<number | null>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          "oracle/src/demo/main.ts",
          "--prosumers",
          "8",
          "--zones",
          "2",
          "--intervals",
          "4",
          "--start-hour",
          "11",
          "--report",
          reportPath,
          "--deployment-id",
          `demo-e2e-${process.pid}`,
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
      records: RecordJson[];
      summary: typeof summary;
    };
    records = json.records;
    summary = json.summary;
  });

  after(() => {
    rmSync(join(PROJECT_ROOT, "deploy", "deployments", `demo-e2e-${process.pid}`), {
      recursive: true,
      force: true,
    });
    rmSync(out, { recursive: true, force: true });
  });

  it("exits 0 with every interval final", () => {
    expect(exitCode, output).to.equal(0);
    expect(records, "one record per interval").to.have.length(4);
    for (const r of records) expect(r.final, `interval ${r.intervalId}: ${r.problem ?? ""}`).to.equal(true);
    expect(summary.finalIntervals).to.equal(summary.intervals);
  });

  it("conserves funds to the token unit", () => {
    expect(summary.fundsConserved, output).to.equal(true);
  });

  it("trades energy at midday (the run is not vacuous)", () => {
    const bought = records.reduce((s, r) => s + r.zones.reduce((t, z) => t + BigInt(z.bought), 0n), 0n);
    expect(bought > 0n, "households bought energy").to.equal(true);
  });

  it("issues certificates equal to the renewable energy sold and delivered, and buyers claim them", () => {
    let issuedTotal = 0n;
    for (const r of records) {
      const issued = BigInt(r.certificatesIssuedWh);
      const claimed = BigInt(r.certificatesWh);
      issuedTotal += issued;
      expect(issued, `interval ${r.intervalId}: issued vs min(sold, injected) of solar sellers`).to.equal(
        BigInt(r.renewableDeliveredWh),
      );
      // Pro-rata claims round down: at most one Wh of dust per buyer stays unclaimed.
      expect(claimed <= issued, `interval ${r.intervalId}: claimed ${claimed} <= issued ${issued}`).to.equal(
        true,
      );
      expect(issued - claimed <= BigInt(r.buyers), `interval ${r.intervalId}: dust`).to.equal(true);
    }
    expect(issuedTotal > 0n, "some renewable energy was certified").to.equal(true);
  });

  it("writes a self-contained HTML report with charts", () => {
    expect(existsSync(reportPath)).to.equal(true);
    const html = readFileSync(reportPath, "utf8");
    expect(html).to.contain("<svg");
    expect(html).to.contain("Zone prices");
    expect(html).not.to.match(/<script|https?:\/\/(?!gridbrain)/);
  });
});
