/**
 * Revert decoding and explanation (client/errors.ts): a contract's custom error reaches the user by
 * name with its arguments, amounts in token units, whichever contract raised it. The same decoding
 * of a real chain's revert runs in every action's test (e.g. withdraw.test.ts).
 */
import { expect } from "chai";
import {
  BaseError,
  ContractFunctionExecutionError,
  ContractFunctionRevertedError,
  encodeErrorResult,
  parseAbi,
} from "viem";
import { energyCertificateAbi, energyMarketAbi } from "../../../oracle/src/chain/abis.js";
import { decodeError, explainError } from "../../../oracle/src/client/index.js";

const ME = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

/** The error viem throws from simulateContract when `abi` reverts with `data`. */
function reverted(abi: typeof energyMarketAbi | readonly [], data: `0x${string}`): BaseError {
  const cause = new ContractFunctionRevertedError({ abi: abi as never, data, functionName: "withdraw" });
  return new ContractFunctionExecutionError(cause, {
    abi: abi as never,
    functionName: "withdraw",
    args: [1n, ME],
  });
}

describe("decodeError", () => {
  it("returns the custom error's name and arguments when the called contract's ABI has it", () => {
    const data = encodeErrorResult({
      abi: energyMarketAbi,
      errorName: "InsufficientBalance",
      args: [ME, 5n, 7n],
    });
    expect(decodeError(reverted(energyMarketAbi, data))).to.deep.equal({
      name: "InsufficientBalance",
      args: [ME, 5n, 7n],
    });
  });

  it("decodes an error bubbled up from another contract with every contract's errors", () => {
    const data = encodeErrorResult({ abi: energyCertificateAbi, errorName: "ZeroBeneficiary" });
    expect(decodeError(reverted([], data))).to.deep.equal({ name: "ZeroBeneficiary", args: [] });
  });

  it("names an unknown error by its selector", () => {
    const data = encodeErrorResult({
      abi: parseAbi(["error Nobody(uint256)"]),
      errorName: "Nobody",
      args: [1n],
    });
    expect(decodeError(reverted([], data))).to.deep.equal({
      name: `unknown error ${data.slice(0, 10)}`,
      args: [],
    });
  });

  it("returns undefined for anything that is not a revert", () => {
    expect(decodeError(new Error("boom"))).to.equal(undefined);
    expect(decodeError(new BaseError("timeout"))).to.equal(undefined);
  });
});

describe("explainError", () => {
  const token = { decimals: 6, symbol: "gUSD" };

  it("states the balances of InsufficientBalance in token units, with what to do", () => {
    expect(explainError({ name: "InsufficientBalance", args: [ME, 1_500_000n, 2_000_000n] }, token)).to.equal(
      "InsufficientBalance: free balance 1.5 gUSD, needed 2 gUSD (deposit more first)",
    );
  });

  it("says where a flexibility window may start, and what to do about an existing order", () => {
    expect(explainError({ name: "WindowInPast", args: [100n, 103n] })).to.equal(
      "WindowInPast: interval 100 has closed; the first open interval is 103",
    );
    expect(explainError({ name: "FlexOrderExists", args: [2, "0xab"] })).to.equal(
      "FlexOrderExists: battery 2 already has order 0xab in or after this window; change it instead",
    );
  });

  it("prints raw amounts when no market is connected yet", () => {
    expect(explainError({ name: "InsufficientBalance", args: [ME, 1_500_000n, 2_000_000n] })).to.equal(
      "InsufficientBalance: free balance 1500000, needed 2000000 (deposit more first)",
    );
  });

  it("falls back to the error's name and arguments for errors it has no sentence for", () => {
    expect(explainError({ name: "SomethingElse", args: [1n, "x"] }, token)).to.equal("SomethingElse(1, x)");
  });
});
