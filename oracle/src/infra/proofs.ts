/**
 * The Proof API's HTTP side (docs/ORACLE.md, "Proof API"): the routes' input schemas, the check of
 * a participant's signed meter-proof request, and the shape of what a node answers. Where the
 * leaves come from — this node's records, checked against the chain's commitment — is
 * jobs/proofs.ts.
 *
 *   GET /proofs/:intervalId/schedule                   every leaf of the committed tree: each
 *                                                      fill with its order, then each flexibility
 *                                                      step with its order (public)
 *   GET /proofs/:intervalId/fills/:orderId             one fill leaf and its proof, for claimFill
 *   GET /proofs/:intervalId/meter/:participant?expiry=&signature=
 *                                                      the participant's own meter leaf and its
 *                                                      proof, for settleImbalance; signed request
 */
import { type Address, type Hex, getAddress, isAddress, recoverMessageAddress } from "viem";
import { z } from "zod";
import { BaseError } from "../domain/errors.js";
import { uint64Schema } from "../domain/meter/reading.js";
import { expiryProblem, meterProofMessage } from "../domain/proof-request.js";

/** An answer other than 200: the status and the reason sent to the client. */
export class ProofError extends BaseError {
  override name = "ProofError";
  readonly status: number;
  constructor(status: number, message: string, options: { details?: string; cause?: unknown } = {}) {
    super(message, options);
    this.status = status;
  }
}

export interface OrderJson {
  readonly owner: Address;
  readonly intervalId: string;
  readonly side: 0 | 1;
  readonly zoneId: number;
  readonly quantityWh: string;
  readonly limitPricePerKwh: string;
  readonly nonce: string;
}

export interface FillLeafJson {
  readonly orderId: Hex;
  readonly filledWh: string;
  /** The order as `claimFill` takes it (its hash is `orderId`). */
  readonly order: OrderJson;
}

/** A flexibility order as `settleFlexSteps` takes it (its EIP-712 hash is the step's `orderId`). */
export interface FlexOrderJson {
  readonly owner: Address;
  readonly batteryId: number;
  readonly firstInterval: string;
  readonly lastInterval: string;
  readonly maxChargePricePerKwh: string;
  readonly minDischargePricePerKwh: string;
  readonly chargeBudget: string;
  readonly initialSocWh: string;
  readonly nonce: string;
}

/**
 * A flexibility step's leaf of the committed tree. The contract hashes it as a fill leaf
 * `(bytes32 key, uint64 energyWh)` with `key = keccak256(abi.encode(bytes32 orderId, uint8
 * direction))` (`FlexibilityMarket.flexStepKey`); `key` is given for convenience, a client can
 * recompute it from `orderId` and `direction`.
 */
export interface FlexStepLeafJson {
  /** The flexibility order's id. */
  readonly orderId: Hex;
  readonly batteryId: number;
  /** 0 charge (drawn from the grid), 1 discharge (delivered to it). */
  readonly direction: 0 | 1;
  readonly energyWh: string;
  readonly key: Hex;
  /** The order as `settleFlexSteps` takes it. */
  readonly order: FlexOrderJson;
}

/**
 * Every leaf of an interval's committed tree, in the order the committee built it: `leaves` (one
 * per order open at gate closure, zero fills included, in placement order), then `steps` (one per
 * active flexibility order, ascending battery id; empty without any). The root over both is
 * `scheduleRoot`; `leaves` alone hashes to it only when `steps` is empty.
 */
export interface ScheduleLeavesJson {
  readonly intervalId: string;
  readonly scheduleRoot: Hex;
  readonly zonePrices: readonly string[];
  readonly leaves: readonly FillLeafJson[];
  readonly steps: readonly FlexStepLeafJson[];
}

export interface FillProofJson {
  readonly intervalId: string;
  readonly scheduleRoot: Hex;
  readonly zonePrices: readonly string[];
  readonly leaf: FillLeafJson;
  readonly proof: readonly Hex[];
}

export interface MeterProofJson {
  readonly intervalId: string;
  readonly meterRoot: Hex;
  readonly leaf: { readonly participant: Address; readonly injectedWh: string; readonly consumedWh: string };
  readonly proof: readonly Hex[];
}

/** What a node serves; each method throws ProofError (404 unknown interval/order/participant, 503 …). */
export interface ProofSource {
  readonly market: Address;
  readonly chainId: number;
  schedule(intervalId: bigint): Promise<ScheduleLeavesJson>;
  fill(intervalId: bigint, orderId: Hex): Promise<FillProofJson>;
  meter(intervalId: bigint, participant: Address): Promise<MeterProofJson>;
}

const addressField = z
  .string({ required_error: "is required" })
  .refine((v) => isAddress(v, { strict: false }), "must be a 0x-prefixed 20-byte hex address")
  .transform((v) => getAddress(v));

export const ScheduleParamsSchema = z.object({ intervalId: uint64Schema() });
export const FillParamsSchema = z.object({
  intervalId: uint64Schema(),
  orderId: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte hex order id")
    .transform((v) => v.toLowerCase() as Hex),
});
export const MeterParamsSchema = z.object({
  intervalId: uint64Schema(),
  participant: addressField,
  expiry: z
    .string({ required_error: "is required (unix seconds, at most 600 s ahead)" })
    .regex(/^\d{1,12}$/, "must be unix seconds as a decimal integer")
    .transform((v) => BigInt(v)),
  signature: z
    .string({ required_error: "is required (EIP-191 signature of the request by the participant)" })
    .regex(/^0x[0-9a-fA-F]{130}$/, "must be a 0x-prefixed 65-byte hex signature")
    .transform((v) => v as Hex),
});

/**
 * Checks a meter-proof request: 401 when expired or not yet acceptable, 403 when the signature is
 * not the participant's (another key, or a request for other values).
 */
export async function checkMeterRequest(
  source: Pick<ProofSource, "market" | "chainId">,
  r: z.output<typeof MeterParamsSchema>,
  nowSeconds: bigint,
): Promise<void> {
  const problem = expiryProblem(r.expiry, nowSeconds);
  if (problem !== undefined) throw new ProofError(401, `expiry: ${problem}`);
  const message = meterProofMessage({
    market: source.market,
    chainId: source.chainId,
    intervalId: r.intervalId,
    participant: r.participant,
    expiry: r.expiry,
  });
  let signer: Address;
  try {
    signer = await recoverMessageAddress({ message, signature: r.signature });
  } catch (error) {
    throw new ProofError(401, "signature: cannot recover a signer", { cause: error });
  }
  if (signer !== r.participant)
    throw new ProofError(
      403,
      `signature: signed by ${signer}, not by the participant ${r.participant} (or over other values)`,
    );
}

/* ---------- the client side: checking what a node answered ---------- */

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 32 bytes of 0x-hex");
const decimalString = z.string().regex(/^\d+$/, "must be a decimal integer string");

const orderSchema = z.object({
  owner: addressField,
  intervalId: decimalString,
  side: z.union([z.literal(0), z.literal(1)]),
  zoneId: z.number().int().nonnegative(),
  quantityWh: decimalString,
  limitPricePerKwh: decimalString,
  nonce: decimalString,
});

export const FillProofResponseSchema = z.object({
  intervalId: decimalString,
  scheduleRoot: hex32,
  zonePrices: z.array(decimalString),
  leaf: z.object({
    orderId: hex32,
    filledWh: decimalString,
    order: orderSchema,
  }),
  proof: z.array(hex32),
});

/** `GET /proofs/:i/schedule`, as a client reads it: every field the client rebuilds the tree from. */
export const ScheduleLeavesResponseSchema = z.object({
  intervalId: decimalString,
  scheduleRoot: hex32,
  zonePrices: z.array(decimalString),
  leaves: z.array(z.object({ orderId: hex32, filledWh: decimalString, order: orderSchema })),
  steps: z.array(
    z.object({
      orderId: hex32,
      batteryId: z.number().int().nonnegative(),
      direction: z.union([z.literal(0), z.literal(1)]),
      energyWh: decimalString,
      key: hex32,
      order: z.object({
        owner: addressField,
        batteryId: z.number().int().nonnegative(),
        firstInterval: decimalString,
        lastInterval: decimalString,
        maxChargePricePerKwh: decimalString,
        minDischargePricePerKwh: decimalString,
        chargeBudget: decimalString,
        initialSocWh: decimalString,
        nonce: decimalString,
      }),
    }),
  ),
});

export const MeterProofResponseSchema = z.object({
  intervalId: decimalString,
  meterRoot: hex32,
  leaf: z.object({ participant: addressField, injectedWh: decimalString, consumedWh: decimalString }),
  proof: z.array(hex32),
});
