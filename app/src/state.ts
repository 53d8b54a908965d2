/**
 * The app's state and shared plumbing: build-time settings, the read client, what is known about
 * the market and the wallet, the status line, and small DOM helpers.
 */
import {
  type Address,
  type EIP1193Provider,
  type PublicClient,
  createPublicClient,
  defineChain,
  formatUnits,
  http,
} from "viem";
import type { AccountWalletClient } from "../../oracle/src/client/index.ts";
import type { DiscoveredWallet } from "./wallet.ts";

declare const __GRIDBRAIN__: {
  market: string;
  registry: string;
  flexMarket?: string;
  rpcUrl: string;
  chainId: number;
};
export const settings = __GRIDBRAIN__;

export const chain = defineChain({
  id: settings.chainId,
  name: `GridBrain ${settings.chainId}`,
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: [settings.rpcUrl] } },
});
// A local chain mines on demand: poll receipts every second rather than viem's default 4 s.
export const reader: PublicClient = createPublicClient({
  chain,
  transport: http(settings.rpcUrl),
  pollingInterval: 1_000,
}) as PublicClient;
export const market = settings.market as Address;
/** Where the flexibility actions run: the market's flexibility market unless the build names one. */
export const flexTarget: { market: Address; flexMarket?: Address } =
  settings.flexMarket === undefined || settings.flexMarket === ""
    ? { market }
    : { market, flexMarket: settings.flexMarket as Address };

export interface State {
  wallets: readonly DiscoveredWallet[];
  provider?: EIP1193Provider;
  wallet?: AccountWalletClient;
  account?: Address;
  token?: Address;
  decimals: number;
  symbol: string;
  zone?: number | undefined;
  collateralPerKwh: bigint;
  intervalSeconds: bigint;
  gateClosureSeconds: bigint;
}

export const state: State = {
  wallets: [],
  decimals: 6,
  symbol: "",
  collateralPerKwh: 0n,
  intervalSeconds: 900n,
  gateClosureSeconds: 300n,
};

export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export function status(text: string, kind: "ok" | "error" | "info" = "info"): void {
  const el = $("status");
  el.textContent = text;
  el.className = kind;
}

/** A token amount in token units with the symbol. */
export const fmt = (v: bigint) => `${formatUnits(v, state.decimals)} ${state.symbol}`;

export function row(cells: readonly string[]): HTMLTableRowElement {
  const tr = document.createElement("tr");
  for (const text of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}

/** A table cell holding one button (or nothing when `onClick` is undefined). */
export function buttonCell(label: string, onClick: (() => void) | undefined): HTMLTableCellElement {
  const cell = document.createElement("td");
  if (onClick !== undefined) {
    const button = document.createElement("button");
    button.textContent = label;
    button.onclick = onClick;
    cell.append(button);
  }
  return cell;
}
