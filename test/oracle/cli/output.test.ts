/**
 * cli/output.ts: the one formatter of the contract-facing commands' failures (name, field, message,
 * exit code), and the same shape of a bad flag in `registry` and in the prosumer commands, run as a
 * user would (no chain needed: flags are checked before anything is asked of a node).
 */
import { expect } from "chai";
import { join } from "node:path";
import { ContractFunctionExecutionError, ContractFunctionRevertedError, encodeErrorResult } from "viem";
import { CliError, describeFailure, jsonText } from "../../../oracle/src/cli/output.js";
import { energyMarketAbi } from "../../../oracle/src/chain/abis.js";
import { ClientError, InvalidParameterError } from "../../../oracle/src/client/index.js";
import { PROJECT_ROOT } from "../../../oracle/src/devnet/local-services.js";
import { RegistryFileError } from "../../../oracle/src/domain/registry-plan.js";
import { KeystoreError } from "../../../oracle/src/infra/keystore.js";
import { runCli } from "../../helpers/cli.js";

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

    it("keeps a client error's name and exits 1", () => {
      expect(describeFailure(new ClientError("ProofUnavailable", "no node has the proof"))).to.deep.equal({
        name: "ProofUnavailable",
        message: "no node has the proof",
        code: 1,
      });
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

describe("a bad flag in registry and in the prosumer commands", function () {
  this.timeout(60_000);
  // Nothing listens on port 1: the flags are refused before a node is asked anything.
  const rpc = ["--rpc-url", "http://127.0.0.1:1"];
  const cases = [
    {
      flag: "--registry",
      args: [
        "registry",
        "plan",
        join(PROJECT_ROOT, "examples", "registry.json"),
        ...rpc,
        "--registry",
        "0x1234",
      ],
    },
    { flag: "--market", args: ["balance", "--keystore", "unused.json", ...rpc, "--market", "0x1234"] },
  ];

  for (const { flag, args } of cases)
    describe(`${args[0]} with ${flag} 0x1234`, () => {
      it("prints one line, error: <flag>: <reason>, and exits 2", async () => {
        const result = await runCli(args, { withoutGridbrainEnv: true });
        expect(result.code, result.stderr).to.equal(2);
        expect(result.stdout).to.equal("");
        expect(result.stderr).to.match(
          new RegExp(`^error: ${flag}: must be a 20-byte hex address[^\\n]*\\n$`),
        );
      });

      it("with --json, prints { error: { name, field, message } } naming the flag", async () => {
        const result = await runCli([...args, "--json"], { withoutGridbrainEnv: true });
        expect(result.code, result.stderr).to.equal(2);
        const { error } = JSON.parse(result.stderr) as { error: Record<string, unknown> };
        expect(Object.keys(error)).to.deep.equal(["name", "field", "message"]);
        expect(error).to.include({ name: "InvalidArguments", field: flag });
        expect(error["message"]).to.match(new RegExp(`^${flag}: must be a 20-byte hex address`));
      });
    });
});
