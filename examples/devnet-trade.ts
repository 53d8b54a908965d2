/**
 * From zero to a settled trade, in viem, against `gridbrain devnet up` (docs/INTEGRATING.md):
 *
 *   npx gridbrain devnet up                                # another terminal; writes out/devnet/state.json
 *   npx tsx examples/devnet-trade.ts out/devnet/state.json
 *
 * A seller with solar panels and a buyer in the same zone (the devnet's default participants 0
 * and 2) deposit, place an offer and a bid for an interval two intervals ahead, and the example
 * moves the local chain's clock past gate closure. The committee clears the interval, commits the
 * schedule and settles both fills; the meters (their keys are dev keys from the state file) sign
 * what they measured, the example posts the readings to every oracle node and moves the clock
 * past the reading deadline; the committee commits the meter report and settles both imbalances.
 * It prints each step and exits 0 when both fills and both imbalances are settled on chain.
 *
 * The ABIs come from oracle/src/chain/abis.ts (generated from the compiled contracts); outside
 * this repository, take them from artifacts/contracts/<Name>.sol/<Name>.json after `npx hardhat build`.
 */
import { readFileSync } from "node:fs";
import {
  createPublicClient,
  createWalletClient,
  http,
  parseEventLogs,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { energyMarketAbi, testTokenAbi } from "../oracle/src/chain/abis.js";

/** The part of `<dir>/state.json` this example reads. */
interface DevnetState {
  rpcUrl: string;
  chainId: number;
  deploymentBlock: string;
  addresses: { market: Address; token: Address };
  timing: { intervalSeconds: number; gateClosureSeconds: number; meterDeadlineSeconds: number };
  committee: { nodes: { url: string }[] };
  participants: { address: Address; zone: number; privateKey?: Hex; meterPrivateKey?: Hex }[];
}

const statePath = process.argv[2] ?? "out/devnet/state.json";
const state = JSON.parse(readFileSync(statePath, "utf8")) as DevnetState;
const { market, token } = state.addresses;
const transport = http(state.rpcUrl);
const client: PublicClient = createPublicClient({ chain: hardhat, transport, pollingInterval: 250 });

function participant(index: number) {
  const p = state.participants[index];
  if (p?.privateKey === undefined || p.meterPrivateKey === undefined)
    throw new Error(
      `${statePath}: participant ${index} has no dev keys (start the devnet without --participants)`,
    );
  const account = privateKeyToAccount(p.privateKey);
  return {
    zone: p.zone,
    account,
    meter: privateKeyToAccount(p.meterPrivateKey),
    wallet: createWalletClient({ account, chain: hardhat, transport }),
  };
}
const seller = participant(0);
const buyer = participant(2);
if (seller.zone !== buyer.zone) throw new Error("participants 0 and 2 should share a zone");

/** Local chains only: the next block gets timestamp `t`, and is mined now. */
async function setChainTime(t: bigint): Promise<void> {
  await client.request({ method: "evm_setNextBlockTimestamp" as never, params: [Number(t)] as never });
  await client.request({ method: "evm_mine" as never, params: [] as never });
}

/** Polls `check` until it returns a value (the committee works on its own schedule). */
async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 600_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const gUsd = (amount: bigint) =>
  `${amount / 1_000_000n}.${(amount % 1_000_000n).toString().padStart(6, "0")} gUSD`;
const fromBlock = BigInt(state.deploymentBlock);

// 1. Deposit: approve the market, then deposit into the internal free balance (or depositWithPermit).
const DEPOSIT = 1_000_000_000n; // 1,000 gUSD (6 decimals)
for (const who of [seller, buyer]) {
  const approve = await who.wallet.writeContract({
    address: token,
    abi: testTokenAbi,
    functionName: "approve",
    args: [market, DEPOSIT],
  });
  await client.waitForTransactionReceipt({ hash: approve });
  const deposit = await who.wallet.writeContract({
    address: market,
    abi: energyMarketAbi,
    functionName: "deposit",
    args: [DEPOSIT],
  });
  await client.waitForTransactionReceipt({ hash: deposit });
}
console.log(`deposited ${gUsd(DEPOSIT)} each for ${seller.account.address} and ${buyer.account.address}`);

// 2. Orders for an interval two intervals ahead (orders close at gate closure, 300 s before it starts).
const { intervalSeconds, gateClosureSeconds, meterDeadlineSeconds } = state.timing;
const now = (await client.getBlock()).timestamp;
const intervalId = now / BigInt(intervalSeconds) + 2n;
const start = intervalId * BigInt(intervalSeconds);
const end = start + BigInt(intervalSeconds);
const QUANTITY_WH = 1_000n; // 1 kWh
const offerTx = await seller.wallet.writeContract({
  address: market,
  abi: energyMarketAbi,
  functionName: "placeOffer",
  // interval, zone, Wh, minimum price per kWh (token base units), nonce
  args: [intervalId, seller.zone, QUANTITY_WH, 100_000n, 1n],
});
const bidTx = await buyer.wallet.writeContract({
  address: market,
  abi: energyMarketAbi,
  functionName: "placeBid",
  args: [intervalId, buyer.zone, QUANTITY_WH, 200_000n, 1n],
});
const orderIds: Hex[] = [];
for (const hash of [offerTx, bidTx]) {
  const receipt = await client.waitForTransactionReceipt({ hash });
  const [placed] = parseEventLogs({ abi: energyMarketAbi, eventName: "OrderPlaced", logs: receipt.logs });
  if (placed === undefined) throw new Error(`no OrderPlaced in ${hash}`);
  orderIds.push(placed.args.orderId);
}
console.log(`interval ${intervalId}: offer ${orderIds[0]} and bid ${orderIds[1]} placed`);

// 3. Move the chain's clock to gate closure: the committee collects the orders, clears, signs, commits.
await setChainTime(start - BigInt(gateClosureSeconds));
const committed = await waitFor("the schedule", async () => {
  const [log] = await client.getContractEvents({
    address: market,
    abi: energyMarketAbi,
    eventName: "ScheduleCommitted",
    args: { intervalId },
    fromBlock,
  });
  return log;
});
console.log(`schedule committed: zone prices ${committed.args.zonePrices?.join(", ")} per kWh`);

// 4. The committee pushes fill settlement (anyone may, with a proof from a node: gridbrain claim).
const fills = await waitFor("both fills settled", async () => {
  const logs = await client.getContractEvents({
    address: market,
    abi: energyMarketAbi,
    eventName: "FillSettled",
    args: { intervalId },
    fromBlock,
  });
  return logs.length === 2 ? logs : undefined;
});
for (const f of fills)
  console.log(`fill settled: ${f.args.owner} ${f.args.filledWh} Wh, ${gUsd(f.args.amount!)}`);

// 5. After the interval: each meter signs its reading (EIP-712, the market's domain) and every node gets it.
await setChainTime(end);
const readings = await Promise.all(
  [
    { meter: seller.meter, injectedWh: QUANTITY_WH, consumedWh: 0n },
    { meter: buyer.meter, injectedWh: 0n, consumedWh: QUANTITY_WH },
  ].map(async ({ meter, injectedWh, consumedWh }) => ({
    meter: meter.address,
    intervalId: intervalId.toString(),
    injectedWh: injectedWh.toString(),
    consumedWh: consumedWh.toString(),
    signature: await meter.signTypedData({
      domain: { name: "GridBrain", version: "1", chainId: state.chainId, verifyingContract: market },
      types: {
        MeterReading: [
          { name: "meter", type: "address" },
          { name: "intervalId", type: "uint64" },
          { name: "injectedWh", type: "uint64" },
          { name: "consumedWh", type: "uint64" },
        ],
      },
      primaryType: "MeterReading",
      message: { meter: meter.address, intervalId, injectedWh, consumedWh },
    }),
  })),
);
for (const node of state.committee.nodes) {
  const response = await fetch(`${node.url}/meter-readings`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(readings),
  });
  if (response.status !== 202)
    throw new Error(`${node.url}: HTTP ${response.status}: ${await response.text()}`);
}
console.log(`meter readings posted to ${state.committee.nodes.length} nodes`);

// 6. Past the reading deadline the committee reports with what it has (the devnet's other meters sent
//    nothing: no reading counts as the missing-reading rule says), then settles every imbalance.
await setChainTime(end + BigInt(meterDeadlineSeconds) + 1n);
await waitFor("the meter report", async () => {
  const [log] = await client.getContractEvents({
    address: market,
    abi: energyMarketAbi,
    eventName: "MeterReportCommitted",
    args: { intervalId },
    fromBlock,
  });
  return log;
});
for (const who of [seller, buyer])
  await waitFor(`${who.account.address}'s imbalance settled`, async () =>
    (await client.readContract({
      address: market,
      abi: energyMarketAbi,
      functionName: "imbalanceSettled",
      args: [who.account.address, intervalId],
    }))
      ? true
      : undefined,
  );
for (const [name, who] of [
  ["seller", seller],
  ["buyer", buyer],
] as const) {
  const free = await client.readContract({
    address: market,
    abi: energyMarketAbi,
    functionName: "balanceOf",
    args: [who.account.address],
  });
  console.log(`${name} ${who.account.address}: free balance ${gUsd(free)}`);
}
console.log(`interval ${intervalId} settled: fills and imbalances`);
