/**
 * `gridbrain devnet` input: the participants file and the flags are refused, naming the field,
 * before anything starts. The bring-up itself is test/e2e/devnet.test.ts.
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../../oracle/src/devnet/local-services.js";
import {
  DevnetFlagsSchema,
  defaultParticipants,
  parseParticipantsFile,
} from "../../../oracle/src/devnet/devnet.js";

const A = "0x00000000000000000000000000000000000A11cE";
const B = "0x0000000000000000000000000000000000000B0b";
const M = "0x0000000000000000000000000000000000000e7e";

const parse = (value: unknown, zones = 2) => parseParticipantsFile(JSON.stringify(value), zones, "p.json");
const flags = (extra: Record<string, string> = {}) =>
  DevnetFlagsSchema.safeParse({
    committeeSize: "3",
    zones: "2",
    dir: "out/devnet",
    rpcPort: "8545",
    deploymentId: "devnet",
    ...extra,
  });

describe("devnet input", () => {
  describe("parseParticipantsFile", () => {
    it("reads participants with their defaults", () => {
      expect(
        parse({
          participants: [
            { address: A, zone: 1, meter: M, source: "wind" },
            { address: B, zone: 0 },
          ],
        }),
      ).to.deep.equal([
        { address: A, zone: 1, meter: M, source: "wind", tokens: "10000" },
        { address: B, zone: 0, source: "other", tokens: "10000" },
      ]);
    });

    describe("when an entry is wrong", () => {
      const cases: [string, unknown, string][] = [
        [
          "a zone that does not exist",
          { participants: [{ address: A, zone: 2 }] },
          "participants.0.zone: 2 does not exist",
        ],
        [
          "a bad address",
          { participants: [{ address: "0x12", zone: 0 }] },
          "participants.0.address: must be a 0x-prefixed 20-byte hex address",
        ],
        [
          "an unknown source",
          { participants: [{ address: A, zone: 0, source: "coal" }] },
          "participants.0.source: must be one of",
        ],
        [
          "tokens finer than 6 decimals",
          { participants: [{ address: A, zone: 0, tokens: "1.0000001" }] },
          "participants.0.tokens: must be a decimal amount",
        ],
        ["an unknown field", { participants: [{ address: A, zone: 0, key: "0x" }] }, "participants.0"],
        [
          "a participant listed twice",
          {
            participants: [
              { address: A, zone: 0 },
              { address: A, zone: 1 },
            ],
          },
          "participants.1.address: 0x00000000000000000000000000000000000A11cE is listed twice",
        ],
        [
          "a meter shared",
          {
            participants: [
              { address: A, zone: 0, meter: M },
              { address: B, zone: 1, meter: M },
            ],
          },
          "participants.1.meter:",
        ],
        ["no participants", { participants: [] }, "participants: must list at least one participant"],
      ];
      for (const [what, value, message] of cases)
        it(`refuses ${what}, naming the field`, () => {
          expect(() => parse(value)).to.throw(`p.json: ${message}`);
        });
      it("refuses a file that is not JSON", () => {
        expect(() => parseParticipantsFile("{", 2, "p.json")).to.throw(/^p\.json: not JSON/);
      });
    });
  });

  describe("defaultParticipants", () => {
    it("spreads four dev participants with meters and keys over the zones", () => {
      const ps = defaultParticipants(2);
      expect(ps.map((p) => [p.zone, p.source])).to.deep.equal([
        [0, "solar"],
        [1, "other"],
        [0, "solar"],
        [1, "other"],
      ]);
      for (const p of ps) expect(p.privateKey).to.match(/^0x[0-9a-f]{64}$/);
    });
  });

  describe("DevnetFlagsSchema", () => {
    it("defaults the threshold to the smallest strict majority", () => {
      const r = flags({ committeeSize: "5" });
      expect(r.success && r.data.threshold).to.equal(3);
    });
    it("refuses a threshold that is not a strict majority, naming it", () => {
      const r = flags({ threshold: "1" });
      expect(r.success).to.equal(false);
      expect(r.error?.issues[0]?.path).to.deep.equal(["threshold"]);
      expect(r.error?.issues[0]?.message).to.include("must be a strict majority of the committee: 2..3");
    });
  });

  describe("gridbrain devnet up with a bad participants file", function () {
    this.timeout(60_000);
    it("exits 2 naming the field, before starting anything", async () => {
      const dir = mkdtempSync(join(tmpdir(), "gridbrain-devnet-input-"));
      const file = join(dir, "p.json");
      writeFileSync(file, JSON.stringify({ participants: [{ address: A, zone: 5 }] }));
      const result = await new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          [
            join(PROJECT_ROOT, "bin", "gridbrain.mjs"),
            "devnet",
            "up",
            "--participants",
            file,
            "--dir",
            join(dir, "d"),
          ],
          { cwd: PROJECT_ROOT },
          (error, _stdout, stderr) =>
            resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stderr }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
      expect(result.code).to.equal(2);
      expect(result.stderr).to.include(
        `${file}: participants.0.zone: 5 does not exist (zones 0..1; see --zones)`,
      );
    });
  });
});
