/**
 * Wallet discovery: EIP-6963 (`eip6963:announceProvider` answers to `eip6963:requestProvider`),
 * falling back to the EIP-1193 provider at `window.ethereum`.
 */
import type { EIP1193Provider } from "viem";

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
