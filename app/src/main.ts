/**
 * The prosumer web app: connect a wallet, check the network, show balances, deposit (permit when
 * the token supports it) and withdraw, the zone's order book for the next open intervals, bid and
 * offer forms with the lock shown before signing, my orders with their state and imbalance, zone
 * prices per interval as a chart, certificates and retirement. Every contract revert is shown by
 * its custom error name.
 */
import {
  type Address,
  type EIP1193Provider,
  type Hex,
  type PublicClient,
  type WalletClient,
  BaseError,
  ContractFunctionRevertedError,
  UserRejectedRequestError,
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  formatUnits,
  http,
  parseAbi,
  parseSignature,
} from "viem";
import { energyMarketAbi, gridRegistryAbi, testTokenAbi } from "../../oracle/src/chain/abis.ts";
import { sourceLabel } from "../../oracle/src/domain/energy-source.ts";
import { drawPriceChart } from "./chart.ts";
import { type DiscoveredWallet, discoverWallets } from "./wallet.ts";

declare const __GRIDBRAIN__: { market: string; registry: string; rpcUrl: string; chainId: number };
const settings = __GRIDBRAIN__;

const certificateAbi = parseAbi([
  "function balanceOf(address account, uint256 id) view returns (uint256)",
  "function retire(uint256 id, uint256 amountWh, address beneficiary, string claimData)",
  "event TransferSingle(address indexed operator, address indexed from, address indexed to, uint256 id, uint256 value)",
  "error ERC1155InsufficientBalance(address sender, uint256 balance, uint256 needed, uint256 tokenId)",
]);
const OPEN_INTERVALS = 4n;
/** Committed intervals drawn in the price chart. */
const CHART_INTERVALS = 24;

const chain = defineChain({
  id: settings.chainId,
  name: `GridBrain ${settings.chainId}`,
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: [settings.rpcUrl] } },
});
// A local chain mines on demand: poll receipts every second rather than viem's default 4 s.
const reader: PublicClient = createPublicClient({
  chain,
  transport: http(settings.rpcUrl),
  pollingInterval: 1_000,
}) as PublicClient;
const market = settings.market as Address;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

interface State {
  wallets: readonly DiscoveredWallet[];
  provider?: EIP1193Provider;
  wallet?: WalletClient;
  account?: Address;
  token?: Address;
  decimals: number;
  symbol: string;
  zone?: number | undefined;
  collateralPerKwh: bigint;
  intervalSeconds: bigint;
  gateClosureSeconds: bigint;
}
const state: State = {
  wallets: [],
  decimals: 6,
  symbol: "",
  collateralPerKwh: 0n,
  intervalSeconds: 900n,
  gateClosureSeconds: 300n,
};

function status(text: string, kind: "ok" | "error" | "info" = "info"): void {
  const el = $("status");
  el.textContent = text;
  el.className = kind;
}

/** Readable text for any failure: wallet rejection, wrong network, contract custom errors. */
export function describeError(error: unknown): string {
  if (error instanceof BaseError) {
    if (error.walk((e) => e instanceof UserRejectedRequestError) instanceof UserRejectedRequestError)
      return "Rejected in the wallet";
    const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError) {
      const name = revert.data?.errorName;
      const args = revert.data?.args ?? [];
      const amount = (v: unknown) => `${formatUnits(v as bigint, state.decimals)} ${state.symbol}`;
      if (name === "InsufficientBalance")
        return `Insufficient balance: free ${amount(args[1])}, needed ${amount(args[2])}`;
      if (name === "GateClosed") return `Gate closed for interval ${String(args[0])}`;
      if (name === "EnforcedPause") return "The market is paused";
      if (name !== undefined) return `${name}(${args.map(String).join(", ")})`;
      return revert.shortMessage;
    }
    return error.shortMessage;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Exact decimal → base units (no rounding; too many decimals is an error). */
function toUnits(text: string, decimals: number, field: string): bigint {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (match === null) throw new Error(`${field}: enter a number like 12.5`);
  const fraction = (match[2] ?? "").replace(/0+$/, "");
  if (fraction.length > decimals) throw new Error(`${field}: at most ${decimals} decimal places`);
  return BigInt(match[1]! + fraction.padEnd(decimals, "0"));
}

const fmt = (v: bigint) => `${formatUnits(v, state.decimals)} ${state.symbol}`;

async function loadMarket(): Promise<void> {
  const read = <T>(functionName: string, args: unknown[] = []) =>
    reader.readContract({
      address: market,
      abi: energyMarketAbi,
      functionName: functionName as "token",
      args: args as [],
    }) as Promise<T>;
  const [token, decimals, collateral, intervalSeconds, gate] = await Promise.all([
    read<Address>("token"),
    read<number>("tokenDecimals"),
    read<bigint>("offerCollateralPerKwh"),
    read<bigint>("intervalSeconds"),
    read<bigint>("gateClosureSeconds"),
  ]);
  state.token = token;
  state.decimals = Number(decimals);
  state.collateralPerKwh = collateral;
  state.intervalSeconds = intervalSeconds;
  state.gateClosureSeconds = gate;
  state.symbol = await reader.readContract({ address: token, abi: testTokenAbi, functionName: "symbol" });
}

async function checkNetwork(): Promise<boolean> {
  if (state.provider === undefined) return false;
  const id = Number.parseInt((await state.provider.request({ method: "eth_chainId" })) as string, 16);
  const right = id === settings.chainId;
  $("network").textContent = right ? `chain ${id}` : `wrong network (chain ${id}, need ${settings.chainId})`;
  $("switch-network").hidden = right;
  if (!right) status(`Wrong network: switch the wallet to chain ${settings.chainId}`, "error");
  return right;
}

async function connect(): Promise<void> {
  const choice =
    state.wallets.find((w) => w.uuid === ($("wallet-select") as HTMLSelectElement).value) ?? state.wallets[0];
  if (choice === undefined)
    return status("No wallet found: install MetaMask, Rabby or another EIP-6963 wallet", "error");
  state.provider = choice.provider;
  const accounts = (await choice.provider.request({ method: "eth_requestAccounts" })) as Address[];
  if (accounts[0] === undefined) return status("The wallet gave no account", "error");
  state.account = accounts[0];
  state.wallet = createWalletClient({ account: accounts[0], chain, transport: custom(choice.provider) });
  $("account").textContent = accounts[0];
  if (await checkNetwork()) status(`Connected with ${choice.name}`, "ok");
  await refresh();
}

async function send(address: Address, abi: unknown, functionName: string, args: unknown[]): Promise<void> {
  if (state.wallet === undefined || state.account === undefined) throw new Error("Connect a wallet first");
  if (!(await checkNetwork())) throw new Error(`Wrong network: switch to chain ${settings.chainId}`);
  const { request } = await reader.simulateContract({
    account: state.account,
    address,
    abi: abi as typeof energyMarketAbi,
    functionName: functionName as "deposit",
    args: args as [bigint],
  });
  status("Confirm in your wallet…");
  const hash = await state.wallet.writeContract({ ...request, account: state.account, chain });
  const receipt = await reader.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`${functionName} reverted (${hash})`);
}

async function deposit(amount: bigint): Promise<void> {
  const account = state.account!;
  let permitted = false;
  try {
    const [domain, nonce] = await Promise.all([
      reader.readContract({ address: state.token!, abi: testTokenAbi, functionName: "eip712Domain" }),
      reader.readContract({
        address: state.token!,
        abi: testTokenAbi,
        functionName: "nonces",
        args: [account],
      }),
    ]);
    const block = await reader.getBlock({ blockTag: "latest" });
    const deadline = block.timestamp + 3600n;
    const signature = await state.wallet!.signTypedData({
      account,
      domain: { name: domain[1], version: domain[2], chainId: domain[3], verifyingContract: domain[4] },
      types: {
        Permit: [
          { name: "owner", type: "address" },
          { name: "spender", type: "address" },
          { name: "value", type: "uint256" },
          { name: "nonce", type: "uint256" },
          { name: "deadline", type: "uint256" },
        ],
      },
      primaryType: "Permit",
      message: { owner: account, spender: market, value: amount, nonce, deadline },
    });
    const { r, s, v, yParity } = parseSignature(signature);
    await send(market, energyMarketAbi, "depositWithPermit", [
      amount,
      deadline,
      Number(v ?? BigInt(yParity + 27)),
      r,
      s,
    ]);
    permitted = true;
  } catch (error) {
    if (
      error instanceof BaseError &&
      error.walk((e) => e instanceof UserRejectedRequestError) instanceof UserRejectedRequestError
    )
      throw error;
    if (
      error instanceof BaseError &&
      error.walk((e) => e instanceof ContractFunctionRevertedError) instanceof ContractFunctionRevertedError
    )
      throw error;
  }
  if (!permitted) {
    await send(state.token!, testTokenAbi, "approve", [market, amount]);
    await send(market, energyMarketAbi, "deposit", [amount]);
  }
}

interface OrderRow {
  orderId: Hex;
  owner: Address;
  intervalId: bigint;
  side: number;
  zoneId: number;
  quantityWh: bigint;
  limitPricePerKwh: bigint;
  nonce: bigint;
}

/** An order's lock: the imbalance collateral (both sides), plus the highest payment for a bid. */
function lockOf(side: number, quantityWh: bigint, price: bigint): bigint {
  const collateral = (state.collateralPerKwh * quantityWh + 999n) / 1000n;
  return side === 0 ? (price * quantityWh + 999n) / 1000n + collateral : collateral;
}

async function refresh(): Promise<void> {
  const account = state.account;
  if (account === undefined || state.token === undefined) return;
  const now = (await reader.getBlock({ blockTag: "latest" })).timestamp;
  const current = now / state.intervalSeconds;
  const open: bigint[] = [];
  for (let i = current; open.length < OPEN_INTERVALS; i++)
    if (i * state.intervalSeconds - state.gateClosureSeconds > now) open.push(i);
  const select = $("interval-select") as HTMLSelectElement;
  const chosen = select.value;
  select.replaceChildren(
    ...open.map(
      (i) =>
        new Option(
          `${i} (gate ${new Date(Number(i * state.intervalSeconds - state.gateClosureSeconds) * 1000).toLocaleTimeString()})`,
          String(i),
        ),
    ),
  );
  // A chosen interval whose gate has closed stays chosen (labelled): placing an order for it then
  // fails readably with "Gate closed" instead of silently going to another interval.
  if (chosen !== "" && !open.some((i) => String(i) === chosen))
    select.prepend(new Option(`${chosen} (gate closed)`, chosen));
  if (chosen !== "") select.value = chosen;

  const range = { address: market, abi: energyMarketAbi, fromBlock: 0n, toBlock: "latest" as const };
  const [
    free,
    locked,
    owed,
    wallet,
    zone,
    placed,
    cancelled,
    released,
    fills,
    schedules,
    metered,
    imbalances,
    releases,
  ] = await Promise.all([
    reader.readContract({
      address: market,
      abi: energyMarketAbi,
      functionName: "balanceOf",
      args: [account],
    }),
    reader.readContract({
      address: market,
      abi: energyMarketAbi,
      functionName: "lockedBalanceOf",
      args: [account],
    }),
    reader.readContract({
      address: market,
      abi: energyMarketAbi,
      functionName: "imbalanceOwed",
      args: [account],
    }),
    reader.readContract({
      address: state.token,
      abi: testTokenAbi,
      functionName: "balanceOf",
      args: [account],
    }),
    settings.registry === ""
      ? Promise.resolve(undefined)
      : reader
          .readContract({
            address: settings.registry as Address,
            abi: gridRegistryAbi,
            functionName: "participantZone",
            args: [account],
          })
          .then(([registered, zoneId]) => (registered ? Number(zoneId) : undefined))
          .catch(() => undefined),
    reader.getContractEvents({ ...range, eventName: "OrderPlaced", args: { intervalId: open } }),
    reader.getContractEvents({ ...range, eventName: "OrderCancelled" }),
    reader.getContractEvents({ ...range, eventName: "OrderReleased" }),
    reader.getContractEvents({ ...range, eventName: "FillSettled", args: { owner: account } }),
    reader.getContractEvents({ ...range, eventName: "ScheduleCommitted" }),
    reader.getContractEvents({ ...range, eventName: "MeterReportCommitted" }),
    reader.getContractEvents({ ...range, eventName: "ImbalanceSettled", args: { participant: account } }),
    reader.getContractEvents({ ...range, eventName: "CollateralReleased", args: { participant: account } }),
  ]);
  state.zone = zone;
  const gone = new Set([...cancelled, ...released].map((e) => e.args.orderId));
  const book = placed
    .map((e) => e.args as OrderRow)
    .filter((o) => !gone.has(o.orderId) && (zone === undefined || o.zoneId === zone));
  $("book-rows").replaceChildren(
    ...book.map((o) =>
      row([
        String(o.intervalId),
        o.side === 0 ? "bid" : "offer",
        formatUnits(o.quantityWh, 3),
        fmt(o.limitPricePerKwh),
        `${o.owner.slice(0, 8)}…`,
      ]),
    ),
  );

  const mine = (
    await reader.getContractEvents({ ...range, eventName: "OrderPlaced", args: { owner: account } })
  ).map((e) => e.args as OrderRow);
  const fillById = new Map(fills.map((e) => [e.args.orderId, e.args]));
  const scheduled = new Set(schedules.map((e) => e.args.intervalId));
  const imbalanceText = imbalanceColumn(metered, imbalances, releases);
  // A sold fill's payout is withheld until its delivery is settled (imbalance settlement, or release
  // if never metered): the contract's pendingPayout, per interval (one settled offer per interval).
  const sold = fills.filter((f) => f.args.side === 1 && f.args.amount! > 0n);
  const pending = new Map(
    await Promise.all(
      sold.map(
        async (f) =>
          [
            f.args.orderId!,
            await reader.readContract({
              address: market,
              abi: energyMarketAbi,
              functionName: "pendingPayout",
              args: [account, f.args.intervalId!],
            }),
          ] as const,
      ),
    ),
  );
  const pendingPayouts = [...pending.values()].reduce((sum, v) => sum + v, 0n);
  $("order-rows").replaceChildren(
    ...mine.reverse().map((o) => {
      const fill = fillById.get(o.orderId);
      const gate = o.intervalId * state.intervalSeconds - state.gateClosureSeconds;
      const stateText = gone.has(o.orderId)
        ? "cancelled"
        : fill !== undefined
          ? o.side === 1
            ? (pending.get(o.orderId) ?? 0n) > 0n
              ? `sold ${formatUnits(fill.filledWh!, 3)} kWh for ${fmt(fill.amount!)}: paid once delivery is settled`
              : `sold ${formatUnits(fill.filledWh!, 3)} kWh: paid ${fmt(fill.amount!)} at delivery`
            : `bought ${formatUnits(fill.filledWh!, 3)} kWh for ${fmt(fill.amount!)}`
          : scheduled.has(o.intervalId)
            ? "scheduled"
            : now < gate
              ? "open"
              : "gate closed";
      const lock = lockOf(o.side, o.quantityWh, o.limitPricePerKwh);
      const tr = row([
        String(o.intervalId),
        o.side === 0 ? "bid" : "offer",
        formatUnits(o.quantityWh, 3),
        fmt(o.limitPricePerKwh),
        fmt(lock),
        stateText,
        imbalanceText.of(o.intervalId),
      ]);
      const cell = document.createElement("td");
      if (stateText === "open") {
        const button = document.createElement("button");
        button.textContent = "Cancel";
        const { orderId: _id, ...order } = o;
        button.onclick = () => act("Cancelled", () => send(market, energyMarketAbi, "cancelOrder", [order]));
        cell.append(button);
      }
      tr.append(cell);
      return tr;
    }),
  );
  $("free").textContent = fmt(free);
  $("locked").textContent = fmt(locked);
  $("pending-payouts").textContent = fmt(pendingPayouts);
  $("owed").textContent = fmt(owed);
  $("wallet-balance").textContent = fmt(wallet);
  $("zone").textContent = zone === undefined ? "not registered" : String(zone);
  drawPriceChart(
    $("price-chart") as unknown as SVGSVGElement,
    schedules
      .slice(-CHART_INTERVALS)
      .map((e) => ({ intervalId: e.args.intervalId!, zonePrices: e.args.zonePrices! })),
    fmt,
    zone,
  );
  await refreshCertificates(account);
}

interface ImbalanceColumn {
  /** Intervals whose imbalance (or unmetered collateral) of the account is settled. */
  readonly settled: ReadonlySet<bigint>;
  of(intervalId: bigint): string;
}

/**
 * The account's imbalance per interval: deviation (metered net − scheduled net) with the charge or
 * payment once settled, "pending" between the meter report and its settlement, the released
 * collateral of an unmetered interval, "–" before metering.
 */
function imbalanceColumn(
  metered: readonly { args: { intervalId?: bigint | undefined } }[],
  settledEvents: readonly {
    args: {
      intervalId?: bigint | undefined;
      deviationWh?: bigint | undefined;
      charged?: bigint | undefined;
      paid?: bigint | undefined;
      uncovered?: bigint | undefined;
    };
  }[],
  releases: readonly { args: { intervalId?: bigint | undefined; amount?: bigint | undefined } }[],
): ImbalanceColumn {
  const meteredIds = new Set(metered.map((e) => e.args.intervalId));
  const byInterval = new Map<bigint, string>();
  for (const { args } of settledEvents) {
    const d = args.deviationWh!;
    const rest = args.uncovered! > 0n ? fmt(args.uncovered!) : undefined;
    byInterval.set(
      args.intervalId!,
      d < 0n
        ? `short ${formatUnits(-d, 3)} kWh, charged ${fmt(args.charged!)}${rest === undefined ? "" : `, ${rest} billed by the grid`}`
        : d > 0n
          ? `long ${formatUnits(d, 3)} kWh, paid ${fmt(args.paid!)}${rest === undefined ? "" : `, ${rest} still owed (claimable)`}`
          : "none (metered as scheduled)",
    );
  }
  for (const { args } of releases)
    byInterval.set(args.intervalId!, `not metered: collateral and payout ${fmt(args.amount!)} released`);
  return {
    settled: new Set(byInterval.keys()),
    of: (intervalId) =>
      byInterval.get(intervalId) ?? (meteredIds.has(intervalId) ? "metered, settlement pending" : "–"),
  };
}

async function refreshCertificates(account: Address): Promise<void> {
  const cert = await reader.readContract({
    address: market,
    abi: energyMarketAbi,
    functionName: "certificates",
  });
  const received = await reader.getContractEvents({
    address: cert,
    abi: certificateAbi,
    eventName: "TransferSingle",
    args: { to: account },
    fromBlock: 0n,
    toBlock: "latest",
  });
  const ids = [...new Set(received.map((e) => e.args.id!))];
  const rows = await Promise.all(
    ids.map(async (id) => {
      const amount = await reader.readContract({
        address: cert,
        abi: certificateAbi,
        functionName: "balanceOf",
        args: [account, id],
      });
      const tr = row([String(id), String(id >> 8n), sourceLabel(Number(id & 0xffn)), formatUnits(amount, 3)]);
      const cell = document.createElement("td");
      if (amount > 0n) {
        const button = document.createElement("button");
        button.textContent = "Retire…";
        button.onclick = () => {
          const kwh = window.prompt("kWh to retire", formatUnits(amount, 3));
          const beneficiary = kwh === null ? null : window.prompt("Beneficiary address", account);
          if (kwh === null || beneficiary === null) return;
          void act("Retired", () =>
            send(cert, certificateAbi, "retire", [id, toUnits(kwh, 3, "kWh"), beneficiary, ""]),
          );
        };
        cell.append(button);
      }
      tr.append(cell);
      return tr;
    }),
  );
  $("cert-rows").replaceChildren(...rows);
}

function row(cells: readonly string[]): HTMLTableRowElement {
  const tr = document.createElement("tr");
  for (const text of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}

async function act(done: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
    status(done, "ok");
  } catch (error) {
    status(describeError(error), "error");
  }
  await refresh().catch((error: unknown) => status(describeError(error), "error"));
}

function updateLockPreview(): void {
  const form = $("order-form") as HTMLFormElement;
  const data = new FormData(form);
  try {
    const side = data.get("side") === "bid" ? 0 : 1;
    const wh = toUnits(String(data.get("kwh") ?? ""), 3, "Energy");
    const price = toUnits(String(data.get("price") ?? ""), state.decimals, "Price");
    $("lock-preview").textContent =
      `Lock: ${fmt(lockOf(side, wh, price))} (${side === 0 ? "price × energy + imbalance collateral" : "imbalance collateral; paid after delivery"})`;
  } catch {
    $("lock-preview").textContent = "Lock: –";
  }
}

function wireForms(): void {
  ($("deposit-form") as HTMLFormElement).onsubmit = (event) => {
    event.preventDefault();
    const text = String(new FormData(event.target as HTMLFormElement).get("amount"));
    void act("Deposited", () => deposit(toUnits(text, state.decimals, "Amount")));
  };
  ($("withdraw-form") as HTMLFormElement).onsubmit = (event) => {
    event.preventDefault();
    const text = String(new FormData(event.target as HTMLFormElement).get("amount"));
    void act("Withdrawn", () =>
      send(market, energyMarketAbi, "withdraw", [toUnits(text, state.decimals, "Amount"), state.account]),
    );
  };
  const orderForm = $("order-form") as HTMLFormElement;
  orderForm.oninput = updateLockPreview;
  orderForm.onsubmit = (event) => {
    event.preventDefault();
    const data = new FormData(orderForm);
    void act("Order placed", async () => {
      if (state.zone === undefined) throw new Error("This account is not registered in a zone");
      const side = data.get("side") === "bid" ? "placeBid" : "placeOffer";
      const wh = toUnits(String(data.get("kwh")), 3, "Energy");
      const price = toUnits(String(data.get("price")), state.decimals, "Price");
      const nonce = BigInt(Date.now());
      await send(market, energyMarketAbi, side, [
        BigInt(String(data.get("interval"))),
        state.zone,
        wh,
        price,
        nonce,
      ]);
    });
  };
  $("connect").onclick = () =>
    void connect().catch((error: unknown) => status(describeError(error), "error"));
  $("switch-network").onclick = () =>
    void state.provider
      ?.request({
        method: "wallet_switchEthereumChain",
        params: [{ chainId: `0x${settings.chainId.toString(16)}` }],
      })
      .then(() => checkNetwork())
      .then(() => refresh())
      .catch((error: unknown) => status(describeError(error), "error"));
}

async function start(): Promise<void> {
  wireForms();
  if (settings.market === "")
    return status(
      "No market address: deploy the local suite (npm run local:deploy) or set GRIDBRAIN_MARKET_ADDRESS",
      "error",
    );
  discoverWallets((wallets) => {
    state.wallets = wallets;
    ($("wallet-select") as HTMLSelectElement).replaceChildren(
      ...wallets.map((w) => new Option(w.name, w.uuid)),
    );
  });
  try {
    await loadMarket();
  } catch (error) {
    return status(
      `Cannot read the market at ${settings.market} via ${settings.rpcUrl}: ${describeError(error)}`,
      "error",
    );
  }
  status(state.wallets.length === 0 ? "No wallet found: install an EIP-6963 wallet" : "Connect your wallet");
  setInterval(() => void refresh().catch(() => undefined), 5000);
}

void start();
