import { expect } from "chai";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import {
  canonicalBytes,
  canonicalHash,
  canonicalJson,
  solveDispatch,
} from "../../../../oracle/src/domain/dispatch/index.js";
import { keccak256, toHex } from "viem";

const run = promisify(execFile);
const example = fileURLToPath(new URL("../../../../examples/dispatch-grid.json", import.meta.url));
const script = fileURLToPath(new URL("./print-schedule.ts", import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

async function scheduleFromProcess(): Promise<string> {
  const { stdout } = await run(process.execPath, ["--import", tsx, script, example], {
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  return stdout;
}

describe("canonical schedule", function () {
  this.timeout(60_000);

  describe("when two separate node processes solve the same instance", () => {
    it("they write byte-identical schedules, equal to this process's", async () => {
      const [a, b] = await Promise.all([scheduleFromProcess(), scheduleFromProcess()]);
      const local = Buffer.from(
        canonicalBytes((await solveDispatch(JSON.parse(readFileSync(example, "utf8")))).schedule),
      ).toString("utf8");
      expect(a.length).to.be.greaterThan(1000);
      expect(a).to.equal(b);
      expect(a).to.equal(local);
    });
  });

  describe("canonicalJson", () => {
    it("sorts keys at every depth and drops whitespace", () => {
      expect(canonicalJson({ b: 1, a: [{ d: "x", c: 2 }] })).to.equal('{"a":[{"c":2,"d":"x"}],"b":1}');
    });
    it("refuses non-integer numbers", () => {
      expect(() => canonicalJson({ a: 0.5 })).to.throw(TypeError);
    });
  });

  describe("canonicalHash", () => {
    it("is keccak256 of the canonical bytes", async () => {
      const { schedule } = await solveDispatch(JSON.parse(readFileSync(example, "utf8")));
      expect(canonicalHash(schedule)).to.equal(keccak256(toHex(canonicalBytes(schedule))));
      expect(canonicalHash(schedule)).to.match(/^0x[0-9a-f]{64}$/);
    });
  });
});
