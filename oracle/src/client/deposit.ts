/**
 * `deposit`: moves settlement tokens from the wallet into the market's free balance. With
 * `method: "auto"` (the default) it signs an EIP-2612 permit and sends one `depositWithPermit`;
 * when the token has no permit (no `eip712Domain`/`nonces`) or the wallet cannot sign typed data,
 * it falls back to `approve` + `deposit`. A refusal in the wallet and a revert are not fallen back
 * from: they are the answer.
 */
import { type Address, type Hex, parseSignature } from "viem";
import { energyMarketAbi, testTokenAbi } from "../chain/abis.js";
import { type WriteClients, sendContract } from "./clients.js";
import { ClientError, InvalidParameterError, isUserRejection } from "./errors.js";

/** How long a permit signature stays valid, in chain seconds. */
export const PERMIT_TTL_SECONDS = 3600n;

export interface DepositParameters {
  readonly market: Address;
  /** Token base units (> 0). */
  readonly amount: bigint;
  /** "permit" fails when the token has no permit; "approve" never signs one. Default "auto". */
  readonly method?: "auto" | "permit" | "approve";
}

export interface DepositReturnType {
  readonly method: "permit" | "approve";
  readonly transactions: readonly Hex[];
}

/**
 * @throws InvalidParameterError `amount` when it is zero; ClientError `InsufficientTokenBalance`
 *   when the wallet holds less than `amount`; a revert (decode it with `decodeError`).
 */
export async function deposit(
  clients: WriteClients,
  parameters: DepositParameters,
): Promise<DepositReturnType> {
  const { publicClient, walletClient } = clients;
  const { market, amount } = parameters;
  const method = parameters.method ?? "auto";
  if (amount <= 0n) throw new InvalidParameterError("amount", "must be greater than zero");
  const owner = walletClient.account.address;
  const token = await publicClient.readContract({
    address: market,
    abi: energyMarketAbi,
    functionName: "token",
  });
  const held = await publicClient.readContract({
    address: token,
    abi: testTokenAbi,
    functionName: "balanceOf",
    args: [owner],
  });
  if (held < amount)
    throw new ClientError("InsufficientTokenBalance", "the wallet holds too few tokens for this deposit", {
      details: `wallet holds ${held} base units, deposit needs ${amount}`,
      meta: { held, needed: amount },
    });

  if (method !== "approve") {
    const permit = await signPermit(clients, token, market, amount, method === "permit");
    if (permit !== undefined) {
      const hash = await sendContract(clients, {
        address: market,
        abi: energyMarketAbi,
        functionName: "depositWithPermit",
        args: [amount, permit.deadline, permit.v, permit.r, permit.s],
      });
      return { method: "permit", transactions: [hash] };
    }
  }
  const approval = await sendContract(clients, {
    address: token,
    abi: testTokenAbi,
    functionName: "approve",
    args: [market, amount],
  });
  const deposited = await sendContract(clients, {
    address: market,
    abi: energyMarketAbi,
    functionName: "deposit",
    args: [amount],
  });
  return { method: "approve", transactions: [approval, deposited] };
}

/** The permit's signature parts, or undefined when the token or wallet cannot do permits (and `required` is false). */
async function signPermit(
  clients: WriteClients,
  token: Address,
  spender: Address,
  value: bigint,
  required: boolean,
): Promise<{ deadline: bigint; v: number; r: Hex; s: Hex } | undefined> {
  const { publicClient, walletClient } = clients;
  const owner = walletClient.account.address;
  let domain: readonly [Hex, string, string, bigint, Address, Hex, readonly bigint[]];
  let nonce: bigint;
  try {
    [domain, nonce] = await Promise.all([
      publicClient.readContract({ address: token, abi: testTokenAbi, functionName: "eip712Domain" }),
      publicClient.readContract({ address: token, abi: testTokenAbi, functionName: "nonces", args: [owner] }),
    ]);
  } catch (cause) {
    if (required)
      throw new ClientError("PermitUnsupported", "the token does not support EIP-2612 permits", { cause });
    return undefined;
  }
  // Chain time, not the wall clock: a local chain moved forward would see a wall-clock deadline as past.
  const deadline = (await publicClient.getBlock({ blockTag: "latest" })).timestamp + PERMIT_TTL_SECONDS;
  let signature: Hex;
  try {
    signature = await walletClient.signTypedData({
      account: walletClient.account,
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
      message: { owner, spender, value, nonce, deadline },
    });
  } catch (cause) {
    // A wallet without eth_signTypedData_v4 can still approve; a user's "no" is final.
    if (required || isUserRejection(cause)) throw cause;
    return undefined;
  }
  const { r, s, v, yParity } = parseSignature(signature);
  return { deadline, v: Number(v ?? BigInt(yParity + 27)), r, s };
}
