/**
 * A throwaway `hardhat node` (in-process EDR, offline) for infra tests, plus hand-assembled EVM
 * contracts so the tests need no Solidity outside contracts/.
 */
import { type Hex, concatHex, keccak256, numberToHex, size, toHex } from "viem";
import { startHardhatNode as startLocalHardhatNode } from "../../../oracle/src/devnet/local-services.js";

/** Hardhat's default account #0 and #1 (publicly known test keys). */
export const HARDHAT_KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
] as const;

export interface HardhatNode {
  readonly url: string;
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  stop(): Promise<void>;
}

/** The shared launcher's node (oracle/src/devnet/local-services.ts: free port, retried when taken), with `rpc`. */
export async function startHardhatNode(): Promise<HardhatNode> {
  const node = await startLocalHardhatNode();
  let id = 0;
  const rpc = async <T>(method: string, params: unknown[] = []): Promise<T> => {
    const res = await fetch(node.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
    });
    const body = (await res.json()) as { result?: T; error?: { message: string } };
    if (body.error !== undefined) throw new Error(body.error.message);
    return body.result as T;
  };
  return { url: node.url, rpc, stop: () => node.stop() };
}

/** Init code that deploys `runtime` as is: CODECOPY the tail of the init code and RETURN it. */
export function deployCode(runtime: Hex): Hex {
  const n = size(runtime);
  if (n > 255) throw new Error("runtime too long for this tiny deployer");
  // PUSH1 n DUP1 PUSH1 0x0b PUSH1 0 CODECOPY PUSH1 0 RETURN  (11 bytes, then the runtime)
  return concatHex([`0x60${numberToHex(n, { size: 1 }).slice(2)}80600b6000396000f3`, runtime]);
}

export const PING_TOPIC = keccak256(toHex("Ping(uint256)"));

/**
 * `Ping(uint256 value)` emitter: on any call, emits LOG1(topic = Ping(uint256), data = calldata[0:32]).
 * CALLDATALOAD(0) MSTORE(0) PUSH32 topic PUSH1 32 PUSH1 0 LOG1 STOP
 */
export const EMITTER_RUNTIME: Hex = `0x6000356000527f${PING_TOPIC.slice(2)}60206000a100`;

/** Always reverts with `error Boom(uint256 code)` and code 42. */
export const BOOM_SELECTOR = keccak256(toHex("Boom(uint256)")).slice(0, 10) as Hex;
// PUSH4 sel PUSH1 0xe0 SHL PUSH1 0 MSTORE  PUSH1 42 PUSH1 4 MSTORE  PUSH1 0x24 PUSH1 0 REVERT
export const REVERTER_RUNTIME: Hex = `0x63${BOOM_SELECTOR.slice(2)}60e01b600052602a60045260246000fd`;
