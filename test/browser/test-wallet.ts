/**
 * A test wallet for the browser: an EIP-1193 provider injected into the page before load that
 * announces itself through EIP-6963 and forwards every request to Node, where a Hardhat dev
 * account answers accounts, signs typed data / messages / transactions through viem, and every
 * other call goes to the chain's JSON-RPC.
 */
import type { Page } from "playwright-core";
import {
  type Address,
  type Hex,
  type TypedDataDefinition,
  type WalletClient,
  createWalletClient,
  defineChain,
  hexToBigInt,
  http,
} from "viem";
import type { LocalAccount } from "viem/accounts";

/** Name under which the Node-side handler is exposed to the page. */
const BINDING = "__gridbrainTestWallet";
export const TEST_WALLET_NAME = "GridBrain Test Wallet";

interface RpcError {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}
type Reply = { readonly result: unknown } | { readonly error: RpcError };

/** Runs in the page before its scripts: the provider and its EIP-6963 announcement. */
const PAGE_SCRIPT = `(() => {
  const listeners = new Map();
  const provider = {
    async request({ method, params }) {
      const reply = await window.${BINDING}(method, JSON.stringify(params ?? []));
      if ("error" in reply) {
        const error = new Error(reply.error.message);
        error.code = reply.error.code;
        error.data = reply.error.data;
        throw error;
      }
      return reply.result;
    },
    on(event, listener) {
      listeners.set(event, [...(listeners.get(event) ?? []), listener]);
      return provider;
    },
    removeListener(event, listener) {
      listeners.set(event, (listeners.get(event) ?? []).filter((l) => l !== listener));
      return provider;
    },
  };
  const detail = Object.freeze({
    info: Object.freeze({
      uuid: "5e7c0a52-7d0f-4b8e-9a4e-6d1f3b2c9e01",
      name: ${JSON.stringify(TEST_WALLET_NAME)},
      icon: "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' width='8' height='8'/>",
      rdns: "org.gridbrain.test-wallet",
    }),
    provider,
  });
  const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})();`;

/** The wallet's Node side: which account, which chain it claims to be on, what it has done. */
export class TestWallet {
  /** Chain id the wallet reports; a test sets another one to simulate a wrong network. */
  reportedChainId: number;
  /** Methods the page called, in order (for assertions on what the app asked the wallet). */
  readonly calls: string[] = [];
  private readonly walletClient: WalletClient;

  constructor(
    private readonly account: LocalAccount,
    private readonly rpcUrl: string,
    private readonly chainId: number,
  ) {
    this.reportedChainId = chainId;
    const chain = defineChain({
      id: chainId,
      name: `local ${chainId}`,
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [rpcUrl] } },
    });
    this.walletClient = createWalletClient({ account, chain, transport: http(rpcUrl) });
  }

  /** Exposes the handler and injects the provider; call before `page.goto`. */
  async install(page: Page): Promise<void> {
    await page.exposeFunction(BINDING, (method: string, params: string) =>
      this.handle(method, JSON.parse(params) as unknown[]),
    );
    await page.addInitScript(PAGE_SCRIPT);
  }

  private async handle(method: string, params: unknown[]): Promise<Reply> {
    this.calls.push(method);
    try {
      return { result: await this.answer(method, params) };
    } catch (error) {
      if (isRpcError(error)) return { error };
      return { error: { code: -32603, message: error instanceof Error ? error.message : String(error) } };
    }
  }

  private async answer(method: string, params: unknown[]): Promise<unknown> {
    const address = this.account.address;
    switch (method) {
      case "eth_requestAccounts":
      case "eth_accounts":
        return [address];
      case "eth_chainId":
        return `0x${this.reportedChainId.toString(16)}`;
      case "wallet_switchEthereumChain": {
        const wanted = Number.parseInt((params[0] as { chainId: string }).chainId, 16);
        if (wanted !== this.chainId) throw { code: 4902, message: `Unrecognized chain ${wanted}` };
        this.reportedChainId = wanted;
        return null;
      }
      case "eth_signTypedData_v4": {
        this.expectSelf(params[0]);
        return this.account.signTypedData(typedDataFromJson(params[1] as string));
      }
      case "personal_sign": {
        this.expectSelf(params[1]);
        return this.account.signMessage({ message: { raw: params[0] as Hex } });
      }
      case "eth_sendTransaction": {
        const tx = params[0] as { from: Address; to: Address; data?: Hex; value?: Hex; gas?: Hex };
        this.expectSelf(tx.from);
        return this.walletClient.sendTransaction({
          account: this.account,
          chain: this.walletClient.chain,
          to: tx.to,
          ...(tx.data === undefined ? {} : { data: tx.data }),
          ...(tx.value === undefined ? {} : { value: hexToBigInt(tx.value) }),
          ...(tx.gas === undefined ? {} : { gas: hexToBigInt(tx.gas) }),
        });
      }
      default:
        return this.forward(method, params);
    }
  }

  private expectSelf(from: unknown): void {
    if (typeof from !== "string" || from.toLowerCase() !== this.account.address.toLowerCase())
      throw {
        code: 4100,
        message: `The test wallet holds only ${this.account.address}, not ${String(from)}`,
      };
  }

  private async forward(method: string, params: unknown[]): Promise<unknown> {
    const res = await fetch(this.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const json = (await res.json()) as { result?: unknown; error?: RpcError };
    if (json.error !== undefined) throw json.error;
    return json.result;
  }
}

function isRpcError(value: unknown): value is RpcError {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as RpcError).code === "number" &&
    typeof (value as RpcError).message === "string"
  );
}

type Field = { name: string; type: string };

/**
 * eth_signTypedData_v4's JSON (integers as decimal or hex strings) → viem's typed data with
 * bigints, walking the struct types; EIP712Domain is dropped (viem derives it from the domain).
 */
function typedDataFromJson(json: string): TypedDataDefinition {
  const data = JSON.parse(json) as {
    domain: Record<string, unknown>;
    types: Record<string, Field[]>;
    primaryType: string;
    message: Record<string, unknown>;
  };
  const { EIP712Domain: _domainType, ...types } = data.types;
  const convert = (type: string, value: unknown): unknown => {
    if (type.endsWith("[]")) return (value as unknown[]).map((v) => convert(type.slice(0, -2), v));
    const struct = types[type];
    if (struct !== undefined)
      return Object.fromEntries(
        struct.map((f) => [f.name, convert(f.type, (value as Record<string, unknown>)[f.name])]),
      );
    if (/^u?int\d*$/.test(type)) return BigInt(value as string | number);
    return value;
  };
  const domain = { ...data.domain };
  if (domain["chainId"] !== undefined) domain["chainId"] = Number(domain["chainId"]);
  return {
    domain,
    types,
    primaryType: data.primaryType,
    message: convert(data.primaryType, data.message) as Record<string, unknown>,
  } as unknown as TypedDataDefinition;
}
