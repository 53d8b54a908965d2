/**
 * client/clients.ts with a caller's own write path (`WriteClients.send`, as the demo passes its
 * sender): the actions hand their call to it, and neither client touches the node — no simulation,
 * no `eth_sendTransaction`, no receipt poll. No chain: both transports record and refuse requests.
 */
import { expect } from "chai";
import { type Hex, type PublicClient, createPublicClient, createWalletClient, custom } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { energyMarketAbi } from "../../../oracle/src/chain/abis.js";
import {
  type ContractCall,
  type WriteClients,
  placeBid,
  withdraw,
} from "../../../oracle/src/client/index.js";
import { gridBrainDomain, hashOrder, sideCode } from "../../../oracle/src/domain/eip712.js";

const MARKET = "0x5fbdb2315678afecb367f032d7c8e8b5c4aa1dd3" as const;
const HASH = `0x${"ab".repeat(32)}` as Hex;
const account = privateKeyToAccount(`0x${"11".repeat(32)}`);

/** Clients whose transports log every request and fail it; `send` records its calls. */
function recordingClients(send: (call: ContractCall) => Promise<Hex>) {
  const requests: string[] = [];
  const transport = custom(
    {
      async request({ method }: { method: string }) {
        requests.push(method);
        throw new Error(`unexpected ${method}`);
      },
    },
    { retryCount: 0 },
  );
  const clients: WriteClients = {
    publicClient: createPublicClient({ chain: hardhat, transport }) as PublicClient,
    walletClient: createWalletClient({ account, chain: hardhat, transport }),
    send,
  };
  return { clients, requests };
}

describe("WriteClients.send", () => {
  it("places a bid through the given send, with the id the client derives, and no wallet or node call", async () => {
    const calls: ContractCall[] = [];
    const { clients, requests } = recordingClients(async (call) => {
      calls.push(call);
      return HASH;
    });
    const out = await placeBid(clients, {
      market: MARKET,
      intervalId: 42n,
      zoneId: 1,
      quantityWh: 1_500n,
      limitPricePerKwh: 200_000n,
      nonce: 0n,
    });
    expect(requests).to.deep.equal([]);
    expect(calls).to.have.length(1);
    expect(calls[0]!.address).to.equal(MARKET);
    expect(calls[0]!.abi).to.equal(energyMarketAbi);
    expect(calls[0]!.functionName).to.equal("placeBid");
    expect(calls[0]!.args).to.deep.equal([42n, 1, 1_500n, 200_000n, 0n]);
    expect(out.transaction).to.equal(HASH);
    expect(out.orderId).to.equal(
      hashOrder(gridBrainDomain(hardhat.id, MARKET), {
        owner: account.address,
        intervalId: 42n,
        side: sideCode("bid"),
        zoneId: 1,
        quantityWh: 1_500n,
        limitPricePerKwh: 200_000n,
        nonce: 0n,
      }),
    );
  });

  it("passes the sender's failure through unchanged", async () => {
    const failure = new Error("withdraw from 0x… failed: chain stalled");
    const { clients, requests } = recordingClients(async () => {
      throw failure;
    });
    const error = await withdraw(clients, { market: MARKET, amount: 5n }).catch((e: unknown) => e);
    expect(error).to.equal(failure);
    expect(requests).to.deep.equal([]);
  });

  it("without send, goes to the node (the simulation is the first request)", async () => {
    const { clients, requests } = recordingClients(async () => HASH);
    const { send: _unused, ...viemOnly } = clients;
    await withdraw(viemOnly, { market: MARKET, amount: 5n }).catch(() => undefined);
    expect(requests[0]).to.equal("eth_call");
  });
});
