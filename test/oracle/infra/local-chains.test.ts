/**
 * `startChain` (oracle/src/devnet/local-services.ts): Hardhat's node and Anvil must look the same to
 * every test and to the demo: chain id, the funded dev accounts, and exact control of block time.
 */
import { expect } from "chai";
import { mnemonicToAccount } from "viem/accounts";
import { CHAIN_KINDS, DEV_MNEMONIC, startChain } from "../../../oracle/src/devnet/local-services.js";

const rpc = async (url: string, method: string, params: unknown[] = []): Promise<unknown> => {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
};

describe("startChain", function () {
  this.timeout(120_000);
  const expectedAccounts = Array.from({ length: 20 }, (_, i) =>
    mnemonicToAccount(DEV_MNEMONIC, { addressIndex: i }).address.toLowerCase(),
  );

  for (const kind of CHAIN_KINDS)
    describe(`when the chain is ${kind}`, () => {
      it("serves chain 31337 with the 20 funded dev accounts and sets block timestamps exactly", async () => {
        const chain = await startChain(kind);
        try {
          expect(chain.kind).to.equal(kind);
          expect(await rpc(chain.url, "eth_chainId")).to.equal("0x7a69");
          const accounts = (await rpc(chain.url, "eth_accounts")) as string[];
          expect(
            accounts.map((a) => a.toLowerCase()),
            "the mnemonic's first 20 accounts",
          ).to.deep.equal(expectedAccounts);
          const balance = BigInt(
            (await rpc(chain.url, "eth_getBalance", [accounts[19], "latest"])) as string,
          );
          expect(balance, "10 000 ETH each").to.equal(10_000n * 10n ** 18n);

          const latest = (await rpc(chain.url, "eth_getBlockByNumber", ["latest", false])) as {
            timestamp: string;
          };
          const target = BigInt(latest.timestamp) + 3_600n;
          await rpc(chain.url, "evm_setNextBlockTimestamp", [Number(target)]);
          await rpc(chain.url, "evm_mine");
          const mined = (await rpc(chain.url, "eth_getBlockByNumber", ["latest", false])) as {
            timestamp: string;
          };
          expect(BigInt(mined.timestamp)).to.equal(target);
        } finally {
          await chain.stop();
        }
        await chain.stop(); // idempotent
      });
    });
});
