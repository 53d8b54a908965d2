/**
 * The wallet: discovery (EIP-6963 `eip6963:announceProvider` answers to `eip6963:requestProvider`,
 * falling back to the EIP-1193 provider at `window.ethereum`), connecting, the network check, and
 * the clients the client module's write actions take.
 */
import { type Address, type EIP1193Provider, createWalletClient, custom } from "viem";
import type { AccountWalletClient, WriteClients } from "../../oracle/src/client/index.ts";
import { $, chain, reader, settings, state, status } from "./state.ts";

export interface DiscoveredWallet {
  readonly uuid: string;
  readonly name: string;
  readonly icon: string;
  readonly provider: EIP1193Provider;
}

interface AnnounceEvent extends Event {
  readonly detail: { info: { uuid: string; name: string; icon: string }; provider: EIP1193Provider };
}

/** Wallets announced so far, updated as more announce; `onChange` fires on every new one. */
export function discoverWallets(onChange: (wallets: readonly DiscoveredWallet[]) => void): void {
  const found = new Map<string, DiscoveredWallet>();
  const publish = () => onChange([...found.values()]);
  window.addEventListener("eip6963:announceProvider", (event) => {
    const { info, provider } = (event as AnnounceEvent).detail;
    found.set(info.uuid, { uuid: info.uuid, name: info.name, icon: info.icon, provider });
    publish();
  });
  window.dispatchEvent(new Event("eip6963:requestProvider"));
  const injected = (window as unknown as { ethereum?: EIP1193Provider }).ethereum;
  if (injected !== undefined && found.size === 0) {
    found.set("window.ethereum", {
      uuid: "window.ethereum",
      name: "Injected wallet",
      icon: "",
      provider: injected,
    });
  }
  publish();
}

/** Connects the wallet chosen in the selector (or the only one) and shows its account and network. */
export async function connect(): Promise<boolean> {
  const choice =
    state.wallets.find((w) => w.uuid === ($("wallet-select") as HTMLSelectElement).value) ?? state.wallets[0];
  if (choice === undefined) {
    status("No wallet found: install MetaMask, Rabby or another EIP-6963 wallet", "error");
    return false;
  }
  state.provider = choice.provider;
  const accounts = (await choice.provider.request({ method: "eth_requestAccounts" })) as Address[];
  if (accounts[0] === undefined) {
    status("The wallet gave no account", "error");
    return false;
  }
  state.account = accounts[0];
  state.wallet = createWalletClient({
    account: accounts[0],
    chain,
    transport: custom(choice.provider),
  }) as unknown as AccountWalletClient;
  $("account").textContent = accounts[0];
  if (await checkNetwork()) status(`Connected with ${choice.name}`, "ok");
  return true;
}

/** Shows whether the wallet is on the app's chain; offers the switch when it is not. */
export async function checkNetwork(): Promise<boolean> {
  if (state.provider === undefined) return false;
  const id = Number.parseInt((await state.provider.request({ method: "eth_chainId" })) as string, 16);
  const right = id === settings.chainId;
  $("network").textContent = right ? `chain ${id}` : `wrong network (chain ${id}, need ${settings.chainId})`;
  $("switch-network").hidden = right;
  if (!right) status(`Wrong network: switch the wallet to chain ${settings.chainId}`, "error");
  return right;
}

/** The write clients for an action, once the wallet is connected and on the right network. */
export async function writeClients(): Promise<WriteClients> {
  if (state.wallet === undefined || state.account === undefined) throw new Error("Connect a wallet first");
  if (!(await checkNetwork())) throw new Error(`Wrong network: switch to chain ${settings.chainId}`);
  status("Confirm in your wallet…");
  return { publicClient: reader, walletClient: state.wallet };
}

export function switchNetwork(): Promise<unknown> | undefined {
  return state.provider?.request({
    method: "wallet_switchEthereumChain",
    params: [{ chainId: `0x${settings.chainId.toString(16)}` }],
  });
}
