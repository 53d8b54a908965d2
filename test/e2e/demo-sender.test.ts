/**
 * The demo's transactions through a stalled chain (a real Hardhat node): each lands exactly once.
 *
 *   - the node answers `eth_sendRawTransaction` 12 s late (it mined the transaction at once):
 *     viem's default 10 s timeout made the demo re-send a mined transaction and die on
 *     "nonce too low";
 *   - the same with a 3 s timeout, so the transport re-sends the broadcast: the same signed bytes,
 *     answered "nonce too low" (the node mined the first copy), which the sender takes as its own;
 *   - the node process is frozen (SIGSTOP) for 12 s while a transaction is being sent.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Abi, type Address, type Hex, createWalletClient, http } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import type { SuiteAddresses } from "../../oracle/src/devnet/deploy.js";
import {
  type HardhatNodeService,
  PROJECT_ROOT,
  startHardhatNode,
} from "../../oracle/src/devnet/local-services.js";
import { DEV_MNEMONIC, connectDemoChain } from "../../oracle/src/demo/world.js";
import { type RpcProxy, startRpcProxy } from "../helpers/rpc-proxy.js";

const STALL_MS = 12_000;

describe("demo sender through a stalled chain (e2e, Hardhat node)", function () {
  this.timeout(180_000);
  let node: HardhatNodeService;
  let proxy: RpcProxy;
  let token: Address;
  let abi: Abi;
  const account = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 7 });

  before(async () => {
    node = await startHardhatNode();
    proxy = await startRpcProxy(node.url);
    const artifact = JSON.parse(
      readFileSync(
        join(PROJECT_ROOT, "artifacts", "contracts", "mocks", "TestToken.sol", "TestToken.json"),
        "utf8",
      ),
    ) as { abi: Abi; bytecode: Hex };
    abi = artifact.abi;
    const deployer = createWalletClient({
      account: mnemonicToAccount(DEV_MNEMONIC),
      chain: hardhat,
      transport: http(node.url),
    });
    const chain = connectDemoChain(node.url, {} as SuiteAddresses);
    const hash = await deployer.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode });
    const receipt = await chain.publicClient.waitForTransactionReceipt({ hash });
    token = receipt.contractAddress!;
  });
  after(async () => {
    node?.resume();
    await proxy?.close();
    await node?.stop();
  });

  /** Mints `amount` through `chain` and checks it landed once: one nonce used, the balance up by `amount`. */
  const mintOnce = async (
    chain: ReturnType<typeof connectDemoChain>,
    amount: bigint,
    during?: () => Promise<void>,
  ) => {
    const balanceOf = () =>
      chain.publicClient.readContract({
        address: token,
        abi,
        functionName: "balanceOf",
        args: [account.address],
      }) as Promise<bigint>;
    const [nonceBefore, balanceBefore] = await Promise.all([
      chain.publicClient.getTransactionCount({ address: account.address }),
      balanceOf(),
    ]);
    // The fault starts as the send does (a synchronous first step) and lasts while it runs.
    const fault = during?.();
    const hash = await chain.send(account, token, abi, "mint", [account.address, amount]);
    await fault;
    const receipt = await chain.publicClient.getTransactionReceipt({ hash });
    expect(receipt.status, "mined").to.equal("success");
    expect(
      await chain.publicClient.getTransactionCount({ address: account.address }),
      "one nonce used",
    ).to.equal(nonceBefore + 1);
    expect(await balanceOf(), "minted once").to.equal(balanceBefore + amount);
  };

  describe("when the call reverts", () => {
    it("fails naming the call and the decoded custom error, and uses no nonce", async () => {
      const chain = connectDemoChain(node.url, {} as SuiteAddresses);
      const nonceBefore = await chain.publicClient.getTransactionCount({ address: account.address });
      let error: unknown;
      try {
        await chain.send(account, token, abi, "transfer", [token, 10n ** 30n]);
      } catch (e) {
        error = e;
      }
      expect(String(error)).to.contain(`transfer from ${account.address} failed`);
      expect(String(error)).to.contain("ERC20InsufficientBalance");
      expect(
        await chain.publicClient.getTransactionCount({ address: account.address }),
        "no nonce used",
      ).to.equal(nonceBefore);
    });
  });

  describe("when the node answers a broadcast 12 s late", () => {
    it("waits for the answer and the transaction lands exactly once", async () => {
      proxy.delayNextSends(1, STALL_MS);
      await mintOnce(connectDemoChain(proxy.url, {} as SuiteAddresses), 1_000n);
    });
  });

  describe("when the broadcast times out (3 s) while the node is 12 s late", () => {
    it("re-sends the same signed transaction and it lands exactly once", async () => {
      proxy.delayNextSends(1, STALL_MS);
      const sendsBefore = proxy.rawSends.length;
      await mintOnce(connectDemoChain(proxy.url, {} as SuiteAddresses, { rpcTimeoutMs: 3_000 }), 2_000n);
      const sends = proxy.rawSends.slice(sendsBefore);
      expect(sends.length, "broadcasts (the first, then the transport's re-send)").to.be.greaterThan(1);
      expect(new Set(sends).size, "always the same signed transaction").to.equal(1);
    });
  });

  describe("when the chain process is frozen for 12 s during a send", () => {
    it("rides through and the transaction lands exactly once", async () => {
      const chain = connectDemoChain(node.url, {} as SuiteAddresses);
      try {
        await mintOnce(chain, 3_000n, async () => {
          node.pause();
          await new Promise((r) => setTimeout(r, STALL_MS));
          node.resume();
        });
      } finally {
        node.resume();
      }
    });
  });
});
