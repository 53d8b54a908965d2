/** Shared by the meter tests: three meter keys, a market, the corpus clock and placeholder resolution. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { meterRegistry, type MeterValidationContext } from "../../../../oracle/src/domain/meter/validate.js";

export const FIXTURES = fileURLToPath(new URL("../../../fixtures/meter/", import.meta.url));
export const CHAIN_ID = 31337;
export const MARKET: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
export const KEYS = {
  A: `0x${"a1".repeat(32)}`,
  B: `0x${"b2".repeat(32)}`,
  C: `0x${"c3".repeat(32)}`,
} as const;
export const METERS = {
  A: privateKeyToAccount(KEYS.A),
  B: privateKeyToAccount(KEYS.B),
  C: privateKeyToAccount(KEYS.C),
};
export const ALICE: Address = "0x00000000000000000000000000000000000A11cE";
export const BOB: Address = "0x0000000000000000000000000000000000000B0b";

/** now = end of interval 2000000 + 100 s = 2000001 * 900 + 100. */
export const CONTEXT: MeterValidationContext = {
  chainId: CHAIN_ID,
  market: MARKET,
  registry: meterRegistry([
    [METERS.A.address, { participant: ALICE, source: "solar" }],
    [METERS.B.address, { participant: BOB, source: "other" }],
  ]),
  nowSeconds: 2000001n * 900n + 100n,
  intervalSeconds: 900n,
  meterDeadlineSeconds: 3600n,
};

const DUMMY_SIG = `0x${"11".repeat(32)}${"22".repeat(32)}1b` as Hex;

/** Resolves $A/$B/$C, $dummysig and $sig:X[:tampered] in a wire item. */
export async function resolve(item: unknown): Promise<unknown> {
  if (typeof item !== "object" || item === null) return item;
  const out: Record<string, unknown> = { ...(item as Record<string, unknown>) };
  for (const [k, v] of Object.entries(out))
    if (typeof v === "string" && /^\$[ABC]$/.test(v)) out[k] = METERS[v.slice(1) as "A" | "B" | "C"].address;
  const sig = out["signature"];
  if (sig === "$dummysig") out["signature"] = DUMMY_SIG;
  else if (typeof sig === "string" && sig.startsWith("$sig:")) {
    const [, who, tampered] = sig.split(":");
    // Key `who` signs a message naming the item's own meter: with $sig:B on meter $A only the
    // signer is wrong; with :tampered the values differ by 1 Wh from the ones sent.
    out["signature"] = await METERS[who as "A" | "B" | "C"].signTypedData({
      domain: { name: "GridBrain", version: "1", chainId: CHAIN_ID, verifyingContract: MARKET },
      types: {
        MeterReading: [
          { name: "meter", type: "address" },
          { name: "intervalId", type: "uint64" },
          { name: "injectedWh", type: "uint64" },
          { name: "consumedWh", type: "uint64" },
        ],
      },
      primaryType: "MeterReading",
      message: {
        meter: out["meter"] as Address,
        intervalId: BigInt(out["intervalId"] as string | number),
        injectedWh: BigInt(out["injectedWh"] as string | number) + (tampered === undefined ? 0n : 1n),
        consumedWh: BigInt(out["consumedWh"] as string | number),
      },
    });
  }
  return out;
}

export interface CorpusCase {
  readonly name: string;
  readonly expect: string;
  readonly code?: string;
  readonly reading: unknown;
}

export function loadCorpus(): { cases: CorpusCase[]; valid: unknown[] } {
  return JSON.parse(readFileSync(`${FIXTURES}malformed-readings.json`, "utf8")) as {
    cases: CorpusCase[];
    valid: unknown[];
  };
}
