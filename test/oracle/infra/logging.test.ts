import { expect } from "chai";
import { Writable } from "node:stream";
import { createLogger, jobLogger } from "../../../oracle/src/infra/logging.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split("\n").filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, stream };
}

describe("createLogger", () => {
  it("writes JSON lines with interval, job and tx fields from child loggers (bigints as strings)", () => {
    const { lines, stream } = capture();
    const log = createLogger({ level: "info", destination: stream, base: { node: "oracle-1" } });
    const child = jobLogger(log, {
      intervalId: 2000000n,
      jobId: "31337-0xabc-2000000-solve",
      queue: "solve",
    });
    child.child({ txHash: "0xdead" }).info({ gas: 21000n }, "sent");
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({
      level: "info",
      msg: "sent",
      node: "oracle-1",
      intervalId: "2000000",
      jobId: "31337-0xabc-2000000-solve",
      queue: "solve",
      txHash: "0xdead",
      gas: "21000",
    });
  });
  it("redacts secret paths", () => {
    const { lines, stream } = capture();
    const log = createLogger({ level: "info", destination: stream });
    log.info(
      { keystorePassword: "p4ss", config: { keystorePassword: "p4ss", privateKey: "0xkey" }, password: "x" },
      "cfg",
    );
    const text = JSON.stringify(lines);
    expect(text).not.to.include("p4ss");
    expect(text).not.to.include("0xkey");
    expect((lines[0]!["config"] as Record<string, unknown>)["keystorePassword"]).to.equal("[redacted]");
  });
  it("drops lines below the level", () => {
    const { lines, stream } = capture();
    createLogger({ level: "warn", destination: stream }).info("quiet");
    expect(lines).to.deep.equal([]);
  });
});
