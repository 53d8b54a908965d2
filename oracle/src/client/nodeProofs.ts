/**
 * `getFillProof`, `getScheduleLeaves` and `getMeterProof`: what an oracle node serves for pull settlement
 * (docs/ORACLE.md, "Proof API"; infra/proofs.ts is the server side and the answer schemas). A fill
 * proof is public; a meter leaf is personal data, so its request is signed by the participant's
 * key (EIP-191 over `meterProofMessage`) and valid for a short while.
 */
import type { Address, Hex } from "viem";
import { z } from "zod";
import { formatIssues } from "../domain/errors.js";
import { meterProofMessage } from "../domain/proof-request.js";
import {
  FillProofResponseSchema,
  MeterProofResponseSchema,
  ScheduleLeavesResponseSchema,
} from "../infra/proofs.js";
import type { AccountWalletClient } from "./clients.js";
import { ClientError, InvalidParameterError } from "./errors.js";

/** How long a signed meter-proof request stays valid (a node accepts at most 600 s). */
export const PROOF_REQUEST_TTL_SECONDS = 120n;

/** How long to wait for a node's answer. */
const NODE_TIMEOUT_MS = 30_000;

export type FillProof = z.output<typeof FillProofResponseSchema>;
export type MeterProof = z.output<typeof MeterProofResponseSchema>;
export type ScheduleLeaves = z.output<typeof ScheduleLeavesResponseSchema>;

/** GETs `path` from the node and checks the answer; a 4xx/5xx becomes `ProofUnavailable` with the node's reason. */
async function fromNode<S extends z.ZodTypeAny>(
  nodeUrl: string,
  path: string,
  schema: S,
): Promise<z.output<S>> {
  let base: URL;
  try {
    base = new URL(nodeUrl.endsWith("/") ? nodeUrl : `${nodeUrl}/`);
  } catch {
    throw new InvalidParameterError("nodeUrl", `must be a URL, got "${nodeUrl}"`);
  }
  let res: Response;
  try {
    res = await fetch(new URL(path, base), { signal: AbortSignal.timeout(NODE_TIMEOUT_MS) });
  } catch (cause) {
    throw new ClientError("NodeUnreachable", `no answer from the oracle node at ${nodeUrl}`, {
      details: (cause as Error).message,
      cause,
    });
  }
  const body = (await res.json().catch(() => undefined)) as { error?: unknown } | undefined;
  if (!res.ok)
    throw new ClientError("ProofUnavailable", `node ${nodeUrl} answered ${res.status}`, {
      details: String(body?.error ?? res.statusText),
      meta: { status: res.status },
    });
  const parsed = schema.safeParse(body);
  if (!parsed.success)
    throw new ClientError("UnexpectedNodeAnswer", `node ${nodeUrl} answered an unexpected document`, {
      details: formatIssues(parsed.error.issues),
    });
  return parsed.data as z.output<S>;
}

export interface GetFillProofParameters {
  readonly nodeUrl: string;
  readonly intervalId: bigint;
  readonly orderId: Hex;
}

/** The fill leaf of `orderId` with its order, the interval's root and zone prices, and the proof. */
export function getFillProof(parameters: GetFillProofParameters): Promise<FillProof> {
  return fromNode(
    parameters.nodeUrl,
    `proofs/${parameters.intervalId}/fills/${parameters.orderId}`,
    FillProofResponseSchema,
  );
}

export interface GetScheduleLeavesParameters {
  readonly nodeUrl: string;
  readonly intervalId: bigint;
}

/**
 * Every leaf of the interval's committed tree as the node serves it (fills, then flexibility
 * steps, each with its order). Only the node's word: rebuild the root and check it against the
 * chain before using it (`settleFlexSteps` does, with domain/flexibility/step-claim.ts).
 */
export function getScheduleLeaves(parameters: GetScheduleLeavesParameters): Promise<ScheduleLeaves> {
  return fromNode(
    parameters.nodeUrl,
    `proofs/${parameters.intervalId}/schedule`,
    ScheduleLeavesResponseSchema,
  );
}

export interface GetMeterProofParameters {
  readonly nodeUrl: string;
  readonly market: Address;
  readonly chainId: number;
  readonly intervalId: bigint;
  /** Unix seconds (wall clock) until which the request is valid; default now + 120 s. */
  readonly expiry?: bigint;
}

/** The wallet account's own meter leaf and proof; the request is signed by that account. */
export async function getMeterProof(
  walletClient: AccountWalletClient,
  parameters: GetMeterProofParameters,
): Promise<MeterProof> {
  const participant = walletClient.account.address;
  // The node checks the expiry against its wall clock, so this is wall-clock time, not chain time.
  const expiry = parameters.expiry ?? BigInt(Math.floor(Date.now() / 1000)) + PROOF_REQUEST_TTL_SECONDS;
  const signature = await walletClient.signMessage({
    account: walletClient.account,
    message: meterProofMessage({
      market: parameters.market,
      chainId: parameters.chainId,
      intervalId: parameters.intervalId,
      participant,
      expiry,
    }),
  });
  return fromNode(
    parameters.nodeUrl,
    `proofs/${parameters.intervalId}/meter/${participant}?expiry=${expiry}&signature=${signature}`,
    MeterProofResponseSchema,
  );
}
