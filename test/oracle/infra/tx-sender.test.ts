import { expect } from "chai";
import {
  type Address,
  ContractFunctionRevertedError,
  ExecutionRevertedError,
  type Hex,
  HttpRequestError,
  InsufficientFundsError,
  InternalRpcError,
  LimitExceededRpcError,
  NonceTooLowError,
  type PublicClient,
  RawContractError,
  RpcRequestError,
  SocketClosedError,
  TimeoutError,
  createPublicClient,
  createWalletClient,
  http,
  keccak256,
  parseAbi,
  parseEther,
} from "viem";
import { getTransactionError } from "viem/utils";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { TxSendError, TxSender, classifyTxError } from "../../../oracle/src/infra/tx-sender.js";
import { startRpcProxy } from "../../helpers/rpc-proxy.js";
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
  const url = "http://127.0.0.1:1";
  const body = { method: "eth_sendRawTransaction" };
  /** A JSON-RPC error answer of the node, as viem's transport raises it. */
  const nodeAnswer = (message: string) =>
    new RpcRequestError({ body, url, error: { code: -32000, message } });
  /** A broadcast failure as TxSender sees it: viem's `getTransactionError` over the node's answer. */
  const broadcastFailure = (message: string) => getTransactionError(nodeAnswer(message), { account: null });
  const cases: [string, Error, string][] = [
    ["NonceTooLowError", new NonceTooLowError(), "nonce-too-low"],
    [
      "a node's 'nonce too low' under TransactionExecutionError",
      broadcastFailure("Nonce too low. Expected nonce to be 5 but got 3."),
      "nonce-too-low",
    ],
    // viem files "already known" under NonceTooLowError: the sender then asks whether it is its own.
    ["a node's 'already known'", broadcastFailure("already known"), "nonce-too-low"],
    [
      "a node's 'replacement transaction underpriced'",
      broadcastFailure("replacement transaction underpriced"),
      "underpriced",
    ],
    ["InsufficientFundsError", new InsufficientFundsError(), "insufficient-funds"],
    [
      "a node's 'insufficient funds'",
      broadcastFailure("insufficient funds for gas * price + value"),
      "insufficient-funds",
    ],
    ["ExecutionRevertedError", new ExecutionRevertedError({ message: "custom error 0x12345678" }), "revert"],
    [
      "ContractFunctionRevertedError",
      new ContractFunctionRevertedError({ abi: BOOM_ABI, functionName: "f", data: "0x12345678" }),
      "revert",
    ],
    ["RawContractError", new RawContractError({ data: "0x12345678" }), "revert"],
    [
      "a refused connection (HttpRequestError without a status)",
      new HttpRequestError({ url, body, cause: new Error("connect ECONNREFUSED") }),
      "transient",
    ],
    ["HttpRequestError 429", new HttpRequestError({ url, body, status: 429 }), "transient"],
    ["HttpRequestError 503", new HttpRequestError({ url, body, status: 503 }), "transient"],
    ["HttpRequestError 400", new HttpRequestError({ url, body, status: 400 }), "permanent"],
    ["TimeoutError", new TimeoutError({ url, body }), "transient"],
    ["SocketClosedError", new SocketClosedError({ url }), "transient"],
    ["LimitExceededRpcError", new LimitExceededRpcError(nodeAnswer("rate limited")), "transient"],
    ["InternalRpcError", new InternalRpcError(nodeAnswer("internal error")), "transient"],
    ["an unknown error", new Error("something odd"), "permanent"],
    // Messages outside a node's answer are not read: a plain Error saying so is not a node error.
    ["a plain Error saying 'nonce too low'", new Error("nonce too low"), "permanent"],
  ];
  for (const [what, error, kind] of cases)
    it(`classifies ${what} as ${kind}`, () => {
      expect(classifyTxError(error)).to.equal(kind);
    });
  it("looks through the cause chain", () => {
    expect(classifyTxError(new Error("outer", { cause: new NonceTooLowError() }))).to.equal("nonce-too-low");
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

  describe("when the RPC endpoint answers HTTP 503", () => {
    it("fails as transient after the transport's retries alone (one retry layer)", async () => {
      const proxy = await startRpcProxy(undefined);
      try {
        const s = sender({ transport: http(proxy.url, { retryCount: 2, retryDelay: 1 }) });
        let error: unknown;
        try {
          await s.send({ to: SINK, value: parseEther("1") });
        } catch (e) {
          error = e;
        }
        expect((error as TxSendError).kind).to.equal("transient");
        expect((error as TxSendError).transient).to.equal(true);
        // The first call (the simulation) and the transport's two retries; nothing retries around it.
        expect(proxy.requests, "requests reaching the endpoint").to.equal(3);
      } finally {
        await proxy.close();
      }
    });
  });

  describe("when a broadcast is answered after the transport's timeout", () => {
    it("recognises its own transaction in the re-sent broadcast's 'nonce too low' and sends it once", async () => {
      const proxy = await startRpcProxy(node.url);
      proxy.delayNextSends(1, 1_500);
      try {
        // The transport gives up on the late answer after 500 ms and re-sends the same bytes; the
        // node mined the first copy, so it answers "nonce too low".
        const s = sender({ transport: http(proxy.url, { retryCount: 2, retryDelay: 1, timeout: 500 }) });
        const before = await client.getTransactionCount({ address: account.address });
        const result = await s.send({ to: SINK, value: 7n });
        expect(proxy.rawSends.length, "broadcasts").to.be.greaterThan(1);
        expect(new Set(proxy.rawSends).size, "always the same signed transaction").to.equal(1);
        expect(result.nonce).to.equal(before);
        expect(result.hash).to.equal(keccak256(proxy.rawSends[0]!));
        expect(await client.getTransactionCount({ address: account.address }), "one nonce used").to.equal(
          before + 1,
        );
      } finally {
        await proxy.close();
      }
    });
  });
});
