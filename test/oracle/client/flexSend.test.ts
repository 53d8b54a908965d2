/**
 * The flexibility actions' one write path (client/flexMarket.ts `sendFlexTransaction`): each action
 * hands its FlexibilityMarket call to the sender, reads the receipt, and returns what the expected
 * log says — or throws its own named error when the log is missing or is another order's. No chain:
 * the caller's `send` answers the hash, and the transport answers the receipt the test builds.
 */
import { expect } from "chai";
import {
  type Hex,
  type PublicClient,
  createPublicClient,
  createWalletClient,
  custom,
  encodeAbiParameters,
  encodeEventTopics,
  getAbiItem,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { flexibilityMarketAbi } from "../../../oracle/src/chain/abis.js";
import {
  ClientError,
  type ContractCall,
  type FlexOrder,
  type WriteClients,
  cancelFlexOrder,
  flexOrderId,
  flexibilityDomain,
  refundFlexFunds,
  withdrawFlex,
} from "../../../oracle/src/client/index.js";

const MARKET = "0x5fbdb2315678afecb367f032d7c8e8b5c4aa1dd3" as const;
const FLEX = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512" as const;
const OTHER = "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0" as const;
const HASH = `0x${"ab".repeat(32)}` as Hex;
const account = privateKeyToAccount(`0x${"11".repeat(32)}`);
const order: FlexOrder = {
  owner: account.address,
  batteryId: 3,
  firstInterval: 100n,
  lastInterval: 107n,
  maxChargePricePerKwh: 100_000n,
  minDischargePricePerKwh: 200_000n,
  chargeBudget: 800_000n,
  initialSocWh: 4_000n,
  nonce: 7n,
};
const orderId = flexOrderId(flexibilityDomain(hardhat.id, FLEX), order);

interface RpcLog {
  readonly address: Hex;
  readonly topics: Hex[];
  readonly data: Hex;
}

/** A log of FlexibilityMarket event `eventName`, emitted by `address`. */
function flexLog(eventName: string, args: Record<string, unknown>, address: Hex = FLEX): RpcLog {
  const event = getAbiItem({ abi: flexibilityMarketAbi, name: eventName as "Withdrawn" });
  const topics = encodeEventTopics({
    abi: flexibilityMarketAbi,
    eventName: eventName as "Withdrawn",
    args: args as never,
  }) as Hex[];
  const unindexed = event.inputs.filter((i) => !("indexed" in i && i.indexed));
  return {
    address,
    topics,
    data: encodeAbiParameters(
      unindexed,
      unindexed.map((i) => args[i.name!]),
    ),
  };
}

/** Clients whose `send` records the call and answers HASH, and whose node answers a receipt with `logs`. */
function clientsWith(logs: readonly RpcLog[], balance = 5_000n) {
  const calls: ContractCall[] = [];
  const transport = custom(
    {
      async request({ method }: { method: string }) {
        if (method === "eth_getTransactionReceipt")
          return {
            blockHash: `0x${"cd".repeat(32)}`,
            blockNumber: "0x10",
            contractAddress: null,
            cumulativeGasUsed: "0x5208",
            effectiveGasPrice: "0x1",
            from: account.address,
            gasUsed: "0x5208",
            logs: logs.map((l, i) => ({
              ...l,
              blockHash: `0x${"cd".repeat(32)}`,
              blockNumber: "0x10",
              logIndex: `0x${i.toString(16)}`,
              removed: false,
              transactionHash: HASH,
              transactionIndex: "0x0",
            })),
            logsBloom: `0x${"00".repeat(256)}`,
            status: "0x1",
            to: FLEX,
            transactionHash: HASH,
            transactionIndex: "0x0",
            type: "0x2",
          };
        if (method === "eth_call") return encodeAbiParameters([{ type: "uint256" }], [balance]);
        throw new Error(`unexpected ${method}`);
      },
    },
    { retryCount: 0 },
  );
  const clients: WriteClients = {
    publicClient: createPublicClient({ chain: hardhat, transport }) as PublicClient,
    walletClient: createWalletClient({ account, chain: hardhat, transport }),
    send: async (call) => {
      calls.push(call);
      return HASH;
    },
  };
  return { clients, calls };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail("expected the action to throw"),
    (error: unknown) => {
      expect(error).to.be.instanceOf(ClientError);
      return error as ClientError;
    },
  );

describe("sendFlexTransaction (through the flexibility actions)", () => {
  describe("refundFlexFunds", () => {
    it("returns the amount of the FlexFundsRefunded log and sends refundFlexFunds to the flexibility market", async () => {
      const { clients, calls } = clientsWith([
        flexLog("FlexFundsRefunded", { orderId, owner: account.address, amount: 123_456n }),
      ]);
      const out = await refundFlexFunds(clients, { market: MARKET, flexMarket: FLEX, order });
      expect(out.amount).to.equal(123_456n);
      expect(out.transaction).to.equal(HASH);
      expect(calls.map((c) => [c.address, c.functionName])).to.deep.equal([[FLEX, "refundFlexFunds"]]);
    });

    it("throws FlexRefundMissing when the receipt has no such log", async () => {
      const { clients } = clientsWith([]);
      const error = await failure(refundFlexFunds(clients, { market: MARKET, flexMarket: FLEX, order }));
      expect(error.errorName).to.equal("FlexRefundMissing");
      expect(error.details).to.contain(HASH);
    });

    it("does not take the log of another contract", async () => {
      const { clients } = clientsWith([
        flexLog("FlexFundsRefunded", { orderId, owner: account.address, amount: 1n }, OTHER),
      ]);
      const error = await failure(refundFlexFunds(clients, { market: MARKET, flexMarket: FLEX, order }));
      expect(error.errorName).to.equal("FlexRefundMissing");
    });
  });

  describe("cancelFlexOrder", () => {
    it("returns the end interval of the order's FlexOrderEnded log", async () => {
      const { clients } = clientsWith([
        flexLog("FlexOrderEnded", { orderId, batteryId: 3, endInterval: 99n }),
      ]);
      const out = await cancelFlexOrder(clients, { market: MARKET, flexMarket: FLEX, order });
      expect(out.endInterval).to.equal(99n);
    });

    it("throws FlexOrderEndMissing when the log ends another order", async () => {
      const other = `0x${"01".repeat(32)}` as Hex;
      const { clients } = clientsWith([
        flexLog("FlexOrderEnded", { orderId: other, batteryId: 3, endInterval: 99n }),
      ]);
      const error = await failure(cancelFlexOrder(clients, { market: MARKET, flexMarket: FLEX, order }));
      expect(error.errorName).to.equal("FlexOrderEndMissing");
      expect(error.details).to.contain(`expected ${orderId}, log ${other}`);
    });
  });

  describe("withdrawFlex", () => {
    it("throws FlexWithdrawalMissing when the Withdrawn log pays another amount", async () => {
      const { clients } = clientsWith([
        flexLog("Withdrawn", { owner: account.address, to: account.address, amount: 999n }),
      ]);
      const error = await failure(
        withdrawFlex(clients, { market: MARKET, flexMarket: FLEX, amount: 1_000n }),
      );
      expect(error.errorName).to.equal("FlexWithdrawalMissing");
    });

    it("returns the balance read after a matching Withdrawn log", async () => {
      const { clients } = clientsWith([
        flexLog("Withdrawn", { owner: account.address, to: account.address, amount: 1_000n }),
      ]);
      const out = await withdrawFlex(clients, { market: MARKET, flexMarket: FLEX, amount: 1_000n });
      expect(out).to.include({ to: account.address, balance: 5_000n, transaction: HASH });
    });
  });
});
