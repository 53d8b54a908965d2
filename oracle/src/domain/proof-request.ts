/**
 * The signed request for a participant's own meter leaf (GET /proofs/:intervalId/meter/:participant).
 * A household's quarter-hourly consumption is personal data, so a node hands a meter leaf and its
 * proof only to the participant itself: the request carries an EIP-191 (`personal_sign`) signature
 * by the participant's key over this text, bound to one market, chain, interval and participant,
 * and valid until a short expiry (a leaked URL is useless after it).
 *
 * Pure: the caller supplies the clock.
 */
import { type Address, getAddress } from "viem";

/** The furthest an expiry may lie ahead of the node's clock. */
export const PROOF_REQUEST_MAX_TTL_SECONDS = 600;

export interface MeterProofRequest {
  readonly market: Address;
  readonly chainId: number;
  readonly intervalId: bigint;
  readonly participant: Address;
  /** Unix seconds (wall clock, not chain time) after which the request is refused. */
  readonly expiry: bigint;
}

/** The exact text the participant signs with EIP-191. */
export function meterProofMessage(r: MeterProofRequest): string {
  return [
    "GridBrain meter proof request",
    `market: ${getAddress(r.market)}`,
    `chainId: ${r.chainId}`,
    `interval: ${r.intervalId}`,
    `participant: ${getAddress(r.participant)}`,
    `expires: ${r.expiry}`,
  ].join("\n");
}

/** Why an expiry is refused at `nowSeconds`, or undefined when it is acceptable. */
export function expiryProblem(expiry: bigint, nowSeconds: bigint): string | undefined {
  if (expiry < nowSeconds) return `expired at ${expiry} (now ${nowSeconds})`;
  if (expiry > nowSeconds + BigInt(PROOF_REQUEST_MAX_TTL_SECONDS))
    return `lies more than ${PROOF_REQUEST_MAX_TTL_SECONDS} s ahead (${expiry}, now ${nowSeconds})`;
  return undefined;
}
