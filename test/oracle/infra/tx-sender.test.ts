import { expect } from "chai";
import {
  type Address,
  type Hex,
  type PublicClient,
  createPublicClient,
  createWalletClient,
  http,
  parseAbi,
  parseEther,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { TxSendError, TxSender, classifyTxError } from "../../../oracle/src/infra/tx-sender.js";
import {
  HARDHAT_KEYS,
  REVERTER_RUNTIME,
  type HardhatNode,
  deployCode,
  startHardhatNode,
} from "./hardhat-node.js";

const BOOM_ABI = parseAbi(["error Boom(uint256 code)"]);
const SINK: Address = "0x000000000000000000000000000000000000dEaD";

describe("classifyTxError", () => {
  const cases: [string, Error, string][] = [
    ["nonce too low", new Error("Nonce too low. Expected nonce to be 5 but got 3."), "nonce-too-low"],
    ["replacement underpriced", new Error("replacement transaction underpriced"), "underpriced"],
    ["already known", new Error("already known"), "already-known"],
    ["insufficient funds", new Error("insufficient funds for gas * price + value"), "insufficient-funds"],
    ["a revert", new Error("execution reverted: custom error 0x12345678"), "revert"],
    [
      "a refused connection",
      Object.assign(new Error("fetch failed"), { cause: new Error("connect ECONNREFUSED") }),
      "transient",
    ],
    [
      "HTTP 429",
      Object.assign(new Error("HTTP request failed."), { name: "HttpRequestError", status: 429 }),
      "transient",
    ],
    ["an unknown error", new Error("something odd"), "permanent"],
  ];
  for (const [what, error, kind] of cases)
    it(`classifies ${what} as ${kind}`, () => {
      expect(classifyTxError(error)).to.equal(kind);
    });
  it("looks through the cause chain", () => {
    expect(classifyTxError(new Error("outer", { cause: new Error("nonce too low") }))).to.equal(
      "nonce-too-low",
    );
  });
});

describe("TxSender", function () {
  this.timeout(60_000);
  let node: HardhatNode;
  let client: PublicClient;
  const account = privateKeyToAccount(HARDHAT_KEYS[1]);
  const senders: TxSender[] = [];

  before(async () => {
    node = await startHardhatNode();
    client = createPublicClient({ chain: hardhat, transport: http(node.url) }) as PublicClient;
  });
  afterEach(async () => {
    await node.rpc("evm_setAutomine", [true]);
    await Promise.all(senders.splice(0).map((s) => s.close()));
  });
  after(async () => {
    await node.stop();
  });

  function sender(options: Partial<ConstructorParameters<typeof TxSender>[0]> = {}): TxSender {
    const s = new TxSender({
      account,
      chain: hardhat,
      transport: http(node.url),
      pollIntervalMs: 20,
      ...options,
    });
    senders.push(s);
    return s;
  }

  describe("when 20 sends from one key run in parallel", () => {
    it("lands all of them with 20 consecutive distinct nonces", async () => {
      const s = sender();
      const before = await client.getTransactionCount({ address: account.address, blockTag: "pending" });
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => s.send({ to: SINK, value: BigInt(i + 1) })),
      );
      const nonces = results.map((r) => r.nonce).sort((a, b) => a - b);
      expect(nonces).to.deep.equal(Array.from({ length: 20 }, (_, i) => before + i));
      expect(results.every((r) => r.receipt.status === "success")).to.equal(true);
      expect(await client.getTransactionCount({ address: account.address })).to.equal(before + 20);
    });
  });

  describe("when the same key sent a transaction elsewhere", () => {
    it("resyncs the nonce after 'nonce too low' and lands the transaction", async () => {
      const s = sender();
      const first = await s.send({ to: SINK, value: 1n });
      // Another process with the same key uses the nonce this sender has cached as next.
      const other = createWalletClient({ account, chain: hardhat, transport: http(node.url) });
      const foreign = await other.sendTransaction({ to: SINK, value: 2n, nonce: first.nonce + 1 });
      await client.waitForTransactionReceipt({ hash: foreign });
      let resyncs = 0;
      s.on("nonce-resync", () => resyncs++);
      const second = await s.send({ to: SINK, value: 3n });
      expect(resyncs).to.be.greaterThan(0);
      expect(second.nonce).to.equal(first.nonce + 2);
      expect(second.receipt.status).to.equal("success");
    });
  });

  describe("when a transaction is stuck in the mempool", () => {
    it("replaces it with fees bumped by at least 12.5 % and returns the mined replacement", async () => {
      await node.rpc("evm_setAutomine", [false]);
      const s = sender({ bumpAfterMs: 100 });
      const replaced = new Promise<{ hash: Hex; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }>(
        (resolve) => s.once("replaced", resolve),
      );
      const pending = s.send({ to: SINK, value: 5n });
      const first = await new Promise<{ hash: Hex }>((resolve) => s.once("sent", resolve));
      const original = await client.getTransaction({ hash: first.hash });
      const replacement = await replaced;
      await node.rpc("evm_mine");
      const result = await pending;
      expect(result.hash).to.equal(replacement.hash);
      expect(result.broadcast[0]).to.equal(first.hash);
      expect(replacement.maxFeePerGas * 1000n).to.be.at.least(original.maxFeePerGas! * 1125n);
      expect(replacement.maxPriorityFeePerGas * 1000n).to.be.at.least(original.maxPriorityFeePerGas! * 1125n);
      expect(await client.getTransactionCount({ address: account.address })).to.equal(result.nonce + 1);
    });

    it("classifies a same-fee replacement as 'replacement underpriced'", async () => {
      await node.rpc("evm_setAutomine", [false]);
      const other = createWalletClient({ account, chain: hardhat, transport: http(node.url) });
      const nonce = await client.getTransactionCount({ address: account.address, blockTag: "pending" });
      const fees = { maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n };
      await other.sendTransaction({ to: SINK, value: 1n, nonce, ...fees });
      let error: unknown;
      try {
        await other.sendTransaction({ to: SINK, value: 2n, nonce, ...fees });
      } catch (e) {
        error = e;
      }
      expect(classifyTxError(error)).to.equal("underpriced");
      await node.rpc("evm_mine");
    });
  });

  describe("when the call reverts", () => {
    it("fails permanently with the decoded custom error, without sending", async () => {
      const deployer = createWalletClient({ account, chain: hardhat, transport: http(node.url) });
      const hash = await deployer.sendTransaction({ data: deployCode(REVERTER_RUNTIME) });
      const reverter = (await client.waitForTransactionReceipt({ hash })).contractAddress!;
      const s = sender();
      const nonceBefore = await client.getTransactionCount({ address: account.address, blockTag: "pending" });
      let error: unknown;
      try {
        await s.send({ to: reverter, data: "0x", abi: BOOM_ABI });
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(TxSendError);
      const e = error as TxSendError;
      expect(e.kind).to.equal("revert");
      expect(e.transient).to.equal(false);
      expect(e.errorName).to.equal("Boom");
      expect(e.errorArgs).to.deep.equal([42n]);
      expect(await client.getTransactionCount({ address: account.address, blockTag: "pending" })).to.equal(
        nonceBefore,
      );
    });
  });

  describe("when the RPC endpoint is down", () => {
    it("retries, then fails as transient", async () => {
      const s = sender({
        transport: http("http://127.0.0.1:1", { retryCount: 0 }),
        rpcRetries: 2,
        rpcRetryDelayMs: 1,
      });
      let error: unknown;
      try {
        await s.send({ to: SINK, value: parseEther("1") });
      } catch (e) {
        error = e;
      }
      expect((error as TxSendError).kind).to.equal("transient");
      expect((error as TxSendError).transient).to.equal(true);
    });
  });
});
