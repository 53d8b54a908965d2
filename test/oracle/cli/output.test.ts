/**
 * cli/output.ts: the one formatter of every command's failures (name, field, message, exit code),
 * commander's refusals reworded to the same shape, and the same shape of a bad flag in every
 * command, run as a user would (no chain needed: flags are checked before anything is asked of a
 * node).
 */
import { expect } from "chai";
import { Command, CommanderError, Option } from "commander";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ContractFunctionExecutionError,
  ContractFunctionRevertedError,
  HttpRequestError,
  TimeoutError,
  encodeErrorResult,
} from "viem";
import {
  CliError,
  describeCommanderError,
  describeFailure,
  jsonText,
} from "../../../oracle/src/cli/output.js";
import { energyMarketAbi } from "../../../oracle/src/chain/abis.js";
import { RpcTimeoutError } from "../../../oracle/src/chain/market.js";
import { ClientError, InvalidParameterError } from "../../../oracle/src/client/index.js";
import { PROJECT_ROOT } from "../../../oracle/src/devnet/local-services.js";
import { RegistryFileError } from "../../../oracle/src/domain/registry-plan.js";
import { ConfigError } from "../../../oracle/src/infra/config.js";
import { KeystoreError, writeKeystore } from "../../../oracle/src/infra/keystore.js";
import { CLOSED_RPC_URL, readOnlyFlags, runCli } from "../../helpers/cli.js";
import { freePort } from "../../helpers/redis.js";

/** Any well-formed address: the commands below fail before they read a contract. */
const MARKET = "0x00000000000000000000000000000000000000aa";
const example = (name: string) => join(PROJECT_ROOT, "examples", name);

describe("describeFailure", () => {
  describe("when the input is bad", () => {
    it("names the field and exits 2, whichever layer refused it", () => {
      expect(describeFailure(CliError.input("--market", "must be a 20-byte hex address"))).to.deep.equal({
        name: "InvalidArguments",
        field: "--market",
        message: "--market: must be a 20-byte hex address",
        code: 2,
      });
      expect(describeFailure(new InvalidParameterError("amount", "must be greater than zero"))).to.deep.equal(
        {
          name: "InvalidArguments",
          field: "amount",
          message: "amount: must be greater than zero",
          code: 2,
        },
      );
      expect(describeFailure(new RegistryFileError("lines.0.between", "zone 3 is not listed"))).to.deep.equal(
        {
          name: "RegistryFileError",
          field: "lines.0.between",
          message: "lines.0.between: zone 3 is not listed",
          code: 2,
        },
      );
    });

    it("names the first bad setting of the oracle's configuration, with every one in the message", () => {
      const error = new ConfigError([
        { field: "confirmations", source: "flag", origin: "--confirmations", reason: "must be <= 64" },
        { field: "rpcUrl", source: "env", origin: "GRIDBRAIN_RPC_URL", reason: "must be a URL" },
      ]);
      expect(describeFailure(error)).to.deep.equal({
        name: "ConfigError",
        field: "confirmations",
        message: "confirmations (--confirmations): must be <= 64; rpcUrl (GRIDBRAIN_RPC_URL): must be a URL",
        code: 2,
      });
    });

    it("names every issue a schema found by the field the user wrote, the first as the field", () => {
      const error = CliError.issues(
        [
          { path: ["nodeUrl"], message: "give either --node-url or --config" },
          { path: [], message: "unknown key" },
        ],
        (path) => `--${path.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
      );
      expect(describeFailure(error)).to.deep.equal({
        name: "InvalidArguments",
        field: "--node-url",
        message: "--node-url: give either --node-url or --config; (root): unknown key",
        code: 2,
      });
    });

    it("treats a keystore that cannot be unlocked as bad input", () => {
      expect(describeFailure(new KeystoreError("Wrong keystore password"))).to.include({
        name: "KeystoreError",
        code: 2,
      });
    });
  });

  describe("when the chain or the client fails", () => {
    it("explains a revert by its custom error, in token units when known, and exits 1", () => {
      const data = encodeErrorResult({
        abi: energyMarketAbi,
        errorName: "InsufficientBalance",
        args: ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", 10_000_000n, 12_500_000n],
      });
      const revert = new ContractFunctionExecutionError(
        new ContractFunctionRevertedError({ abi: energyMarketAbi, data, functionName: "withdraw" }),
        { abi: energyMarketAbi, functionName: "withdraw", args: [] },
      );
      const failure = describeFailure(revert, { decimals: 6, symbol: "gUSD" });
      expect(failure).to.deep.equal({
        name: "InsufficientBalance",
        message: "InsufficientBalance: free balance 10 gUSD, needed 12.5 gUSD (deposit more first)",
        code: 1,
      });
    });

    describe("when the JSON-RPC node cannot be reached", () => {
      /** What viem throws for a read when fetch fails: the socket's error under fetch's under viem's. */
      const unreachable = (url: string, socket: Error) =>
        new ContractFunctionExecutionError(
          new HttpRequestError({
            url,
            cause: new TypeError("fetch failed", { cause: socket }),
            details: "fetch failed",
          }),
          { abi: energyMarketAbi, functionName: "intervalState", args: [1n] },
        );
      const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });

      it("says rpc: cannot reach <url>: <the socket's error>, and exits 1", () => {
        expect(describeFailure(unreachable("http://127.0.0.1:1", refused))).to.deep.equal({
          name: "RpcUnreachable",
          message: "rpc: cannot reach http://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1",
          code: 1,
        });
      });

      it("leaves the URL's credentials out", () => {
        const { message } = describeFailure(unreachable("https://user:s3cret@rpc.example:8545/v1", refused));
        expect(message).to.not.include("s3cret");
        expect(message).to.match(/^rpc: cannot reach https:\/\/rpc\.example:8545\/v1: /);
      });

      it("lists every address tried when each was refused (localhost: ::1, then 127.0.0.1)", () => {
        const both = Object.assign(
          new AggregateError([
            new Error("connect ECONNREFUSED ::1:8545"),
            new Error("connect ECONNREFUSED 127.0.0.1:8545"),
          ]),
          { code: "ECONNREFUSED" },
        );
        expect(describeFailure(unreachable("http://localhost:8545", both)).message).to.equal(
          "rpc: cannot reach http://localhost:8545: connect ECONNREFUSED ::1:8545; connect ECONNREFUSED 127.0.0.1:8545",
        );
      });

      it("names the node and its HTTP status when it answered with an error", () => {
        const answered = new HttpRequestError({
          url: "http://127.0.0.1:8545",
          status: 503,
          details: "Service Unavailable",
        });
        expect(describeFailure(answered)).to.deep.equal({
          name: "RpcHttpError",
          message: "rpc: http://127.0.0.1:8545 answered HTTP 503: Service Unavailable",
          code: 1,
        });
      });
    });

    describe("when the JSON-RPC node does not answer in time", () => {
      /** What a read through createChainClients throws once every attempt timed out. */
      const timedOut = (url: string, timeoutMs: number) =>
        new ContractFunctionExecutionError(
          new RpcTimeoutError({ body: { method: "eth_call" }, url, timeoutMs }),
          { abi: energyMarketAbi, functionName: "intervalState", args: [1n] },
        );

      it("says rpc: <url> did not answer within <ms> ms, and exits 1", () => {
        expect(describeFailure(timedOut("http://127.0.0.1:8545", 2_500))).to.deep.equal({
          name: "RpcTimeout",
          message: "rpc: http://127.0.0.1:8545 did not answer within 2500 ms",
          code: 1,
        });
      });

      it("leaves the URL's credentials out", () => {
        const { message } = describeFailure(timedOut("https://user:s3cret@rpc.example/v1", 20_000));
        expect(message).to.equal("rpc: https://rpc.example/v1 did not answer within 20000 ms");
      });

      it("says in time when the transport did not say how long it waited (viem's own TimeoutError)", () => {
        const failure = describeFailure(new TimeoutError({ body: {}, url: "http://127.0.0.1:8545" }));
        expect(failure).to.deep.equal({
          name: "RpcTimeout",
          message: "rpc: http://127.0.0.1:8545 did not answer in time",
          code: 1,
        });
      });
    });

    it("keeps a client error's name and exits 1", () => {
      expect(describeFailure(new ClientError("ProofUnavailable", "no node has the proof"))).to.deep.equal({
        name: "ProofUnavailable",
        message: "no node has the proof",
        code: 1,
      });
    });
  });
});

describe("describeCommanderError", () => {
  /** Commander's own error for `argv`, from a command shaped like ours. */
  function refusal(argv: string[]): CommanderError {
    const program = new Command().exitOverride().configureOutput({ outputError: () => {} });
    program
      .command("solve")
      .argument("<instance>")
      .requiredOption("--password-file <file>")
      .option("--rpc-url <url>")
      .addOption(new Option("--method <method>").choices(["auto", "lp"]))
      .action(() => {});
    try {
      program.parse(argv, { from: "user" });
    } catch (error) {
      if (error instanceof CommanderError) return error;
      throw error;
    }
    throw new Error(`commander accepted ${argv.join(" ")}`);
  }
  const cases: [string, string[], string, string][] = [
    [
      "an unknown option",
      ["solve", "x", "--password-file", "p", "--nope"],
      "--nope",
      "--nope: unknown option",
    ],
    [
      "a misspelt option, with commander's suggestion",
      ["solve", "x", "--password-file", "p", "--rpc-ur", "u"],
      "--rpc-ur",
      "--rpc-ur: unknown option (Did you mean --rpc-url?)",
    ],
    ["a missing argument", ["solve", "--password-file", "p"], "<instance>", "<instance>: is required"],
    ["a missing required option", ["solve", "x"], "--password-file", "--password-file: is required"],
    [
      "an option without its value",
      ["solve", "x", "--password-file"],
      "--password-file",
      "--password-file: needs a value (--password-file <file>)",
    ],
    [
      "a value outside the choices",
      ["solve", "x", "--password-file", "p", "--method", "simplex"],
      "--method",
      '--method: must be one of auto, lp, got "simplex"',
    ],
    [
      "an unknown command",
      ["slove"],
      "<command>",
      "<command>: unknown command 'slove' (Did you mean solve?)",
    ],
  ];
  for (const [what, argv, field, message] of cases)
    it(`names the field of ${what} first and exits 2`, () => {
      expect(describeCommanderError(refusal(argv))).to.deep.equal({
        name: "InvalidArguments",
        field,
        message,
        code: 2,
      });
    });
});

describe("jsonText", () => {
  it("writes bigints as decimal strings, exactly, beyond 2^53", () => {
    expect(JSON.parse(jsonText({ amount: 2n ** 64n + 1n, nested: [1n] }))).to.deep.equal({
      amount: "18446744073709551617",
      nested: ["1"],
    });
  });
});

describe("a bad flag in every command", function () {
  this.timeout(120_000);
  // Nothing listens at CLOSED_RPC_URL: the flags are refused before a node is asked anything.
  const rpc = ["--rpc-url", CLOSED_RPC_URL];
  const readOnly = readOnlyFlags();
  const HEX = "must be a 20-byte hex address";
  /** The command, the flag it refuses, the reason it gives, and whether the command has --json. */
  const cases: { args: string[]; flag: string; reason: string; json: boolean }[] = [
    {
      args: ["registry", "plan", example("registry.json"), ...rpc, "--registry", "0x1234"],
      flag: "--registry",
      reason: HEX,
      json: true,
    },
    {
      args: ["balance", "--keystore", "unused.json", ...rpc, "--market", "0x1234"],
      flag: "--market",
      reason: HEX,
      json: true,
    },
    {
      args: ["flex", "show", "--keystore", "unused.json", ...rpc, "--market", "0x1234"],
      flag: "--market",
      reason: HEX,
      json: true,
    },
    {
      args: ["verify", "1", ...readOnly, "--site-latitude-deg", "95"],
      flag: "--site-latitude-deg",
      reason: "must be <= 90",
      json: true,
    },
    {
      args: ["balance", "--keystore", "unused.json", ...rpc, "--market", MARKET, "--rpc-timeout-ms", "99"],
      flag: "--rpc-timeout-ms",
      reason: "must be >= 100",
      json: true,
    },
    {
      args: [
        "registry",
        "plan",
        example("registry.json"),
        ...rpc,
        "--registry",
        MARKET,
        "--rpc-timeout-ms",
        "1e3",
      ],
      flag: "--rpc-timeout-ms",
      reason: 'must be a whole number of milliseconds, 100..600000, got "1e3"',
      json: true,
    },
    {
      args: ["verify", "1", ...readOnly, "--rpc-timeout-ms", "99"],
      flag: "--rpc-timeout-ms",
      reason: "must be >= 100",
      json: true,
    },
    {
      args: ["market", "status", ...readOnly, "--interval", "soon"],
      flag: "--interval",
      reason: 'must be a non-negative integer, got "soon"',
      json: false,
    },
    {
      args: ["oracle", "serve", "--keystore-password", "hunter2"],
      flag: "--keystore-password",
      reason: "unknown option",
      json: false,
    },
    {
      args: ["dispatch", "solve", example("dispatch-two-zones.json"), "--method", "simplex"],
      flag: "--method",
      reason: 'must be one of auto, lp, merit, got "simplex"',
      json: false,
    },
    {
      args: [
        ...["meter", "import", example("meter-readings.csv")],
        ...["--node-url", "http://127.0.0.1:1", "--interval-seconds", "0"],
      ],
      flag: "--interval-seconds",
      reason: "must be a positive integer number of seconds",
      json: true,
    },
    {
      args: ["devnet", "up", "--committee-size", "20", "--dir", "out/never-started"],
      flag: "--committee-size",
      reason: "must be at most 19",
      json: false,
    },
    {
      args: ["keystore", "new", "unused.json", "--password-file", "p", "--scrypt-n", "1000"],
      flag: "--scrypt-n",
      reason: 'must be a power of two, got "1000"',
      json: false,
    },
  ];
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  for (const { args, flag, reason, json } of cases)
    describe(`${args.slice(0, 2).join(" ")} with a bad ${flag}`, () => {
      it(`prints one line, error: ${flag}: <reason>, and exits 2`, async () => {
        const result = await runCli(args, { withoutGridbrainEnv: true });
        expect(result.code, result.stderr).to.equal(2);
        expect(result.stdout).to.equal("");
        expect(result.stderr).to.match(new RegExp(`^error: ${escape(flag)}: ${escape(reason)}[^\\n]*\\n$`));
      });

      if (json)
        it("with --json, prints { error: { name, field, message } } naming the flag", async () => {
          const result = await runCli([...args, "--json"], { withoutGridbrainEnv: true });
          expect(result.code, result.stderr).to.equal(2);
          expect(result.stdout).to.equal("");
          const { error } = JSON.parse(result.stderr) as { error: Record<string, unknown> };
          expect(Object.keys(error)).to.deep.equal(["name", "field", "message"]);
          expect(error).to.include({ name: "InvalidArguments", field: flag });
          expect(error["message"]).to.match(new RegExp(`^${escape(flag)}: ${escape(reason)}`));
        });
    });
});

describe("a failure that is not bad input", function () {
  this.timeout(60_000);
  // A port nothing listens on: the connection is refused. (Not CLOSED_RPC_URL's port 1: fetch
  // refuses that one itself, as a "bad port", before trying to connect.)
  let rpcUrl: string;
  let port: number;
  before(async () => {
    port = await freePort();
    rpcUrl = `http://127.0.0.1:${port}`;
  });

  it("verify against an RPC nobody answers at: error: rpc: cannot reach <url>: <cause>, exit 1", async () => {
    const result = await runCli(["verify", "1", ...readOnlyFlags(rpcUrl)], { withoutGridbrainEnv: true });
    expect(result.code, result.stderr).to.equal(1);
    expect(result.stdout).to.equal("");
    // viem requests the URL normalised by WHATWG URL: with a path of "/".
    expect(result.stderr).to.equal(
      `error: rpc: cannot reach ${rpcUrl}/: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
  });

  it("verify against a node that does not answer: exit 1, { error: { name, message } } without a field", async () => {
    const result = await runCli(["verify", "1", ...readOnlyFlags(rpcUrl), "--json"], {
      withoutGridbrainEnv: true,
    });
    expect(result.code, result.stderr).to.equal(1);
    expect(result.stdout).to.equal("");
    const { error } = JSON.parse(result.stderr) as { error: Record<string, unknown> };
    expect(Object.keys(error)).to.deep.equal(["name", "message"]);
    expect(error).to.deep.equal({
      name: "RpcUnreachable",
      message: `rpc: cannot reach ${rpcUrl}/: connect ECONNREFUSED 127.0.0.1:${port}`,
    });
  });
});

describe("a node that accepts the request and never answers", function () {
  this.timeout(60_000);
  let server: Server;
  let rpcUrl: string;
  before(async () => {
    // Reads the request and leaves it open: what a stuck or overloaded node does.
    server = createServer(() => {});
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    rpcUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });
  // The shortest wait the flag accepts: with the transport's 5 retries a run takes ~6 × 100 ms plus
  // its backoff (~4.7 s).
  const flags = () => [...readOnlyFlags(rpcUrl), "--rpc-timeout-ms", "100"];

  it("verify: error: rpc: <url> did not answer within <ms> ms, exit 1", async () => {
    const result = await runCli(["verify", "1", ...flags()], { withoutGridbrainEnv: true });
    expect(result.code, result.stderr).to.equal(1);
    expect(result.stdout).to.equal("");
    expect(result.stderr).to.equal(`error: rpc: ${rpcUrl}/ did not answer within 100 ms\n`);
  });

  it("a prosumer command (balance): error: --rpc-url: no JSON-RPC node answered at <url> within <ms> ms, exit 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gridbrain-stuck-"));
    try {
      const keystore = join(dir, "key.json");
      await writeKeystore({ path: keystore, password: "unused", options: { scryptN: 2 ** 12 } });
      const result = await runCli(
        [
          "balance",
          "--keystore",
          keystore,
          "--rpc-url",
          rpcUrl,
          "--market",
          MARKET,
          "--rpc-timeout-ms",
          "100",
        ],
        { withoutGridbrainEnv: true },
      );
      expect(result.code, result.stderr).to.equal(2);
      expect(result.stdout).to.equal("");
      expect(result.stderr).to.equal(
        `error: --rpc-url: no JSON-RPC node answered at ${rpcUrl} within 100 ms (--rpc-timeout-ms)\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("registry plan: error: --rpc-url: no JSON-RPC node answered at <url> within <ms> ms, exit 2", async () => {
    const result = await runCli(
      [
        "registry",
        "plan",
        example("registry.json"),
        "--rpc-url",
        rpcUrl,
        "--registry",
        MARKET,
        "--rpc-timeout-ms",
        "100",
      ],
      { withoutGridbrainEnv: true },
    );
    expect(result.code, result.stderr).to.equal(2);
    expect(result.stdout).to.equal("");
    expect(result.stderr).to.equal(
      `error: --rpc-url: no JSON-RPC node answered at ${rpcUrl} within 100 ms (--rpc-timeout-ms)\n`,
    );
  });

  it("verify --json: { error: { name: RpcTimeout, message } } without a field, exit 1", async () => {
    const result = await runCli(["verify", "1", ...flags(), "--json"], { withoutGridbrainEnv: true });
    expect(result.code, result.stderr).to.equal(1);
    expect(result.stdout).to.equal("");
    const { error } = JSON.parse(result.stderr) as { error: Record<string, unknown> };
    expect(error).to.deep.equal({
      name: "RpcTimeout",
      message: `rpc: ${rpcUrl}/ did not answer within 100 ms`,
    });
  });
});

describe("dispatch solve with an invalid instance", function () {
  this.timeout(60_000);
  it("lists every bad field of the file, the first one first, and exits 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gridbrain-dispatch-"));
    const file = join(dir, "instance.json");
    writeFileSync(file, JSON.stringify({ horizon: [] }));
    try {
      const result = await runCli(["dispatch", "solve", file], { withoutGridbrainEnv: true });
      expect(result.code, result.stderr).to.equal(2);
      expect(result.stdout).to.equal("");
      expect(result.stderr).to.match(/^error: horizon: [^\n]*; zones: Required; orders: Required\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
