/**
 * What every flexibility action shares: the standing order's fields as the contract takes them
 * (IFlexibilityMarket.FlexOrder), where the flexibility market is (EnergyMarket's
 * `flexibilityMarket()`, unless the caller names it), the order's id (the EIP-712 digest under the
 * FlexibilityMarket's domain, domain/eip712.ts, computed without a call), and an order's fields
 * read back from its `FlexOrderPlaced` event when the caller has only its id.
 */
import { type Address, type Hex, type PublicClient, parseEventLogs, zeroAddress } from "viem";
import { energyMarketAbi, flexibilityMarketAbi } from "../chain/abis.js";
import { type FlexOrder, flexOrderFields, flexOrderId, flexibilityDomain } from "../domain/eip712.js";
import { chainIdOf } from "./clients.js";
import { ClientError, InvalidParameterError } from "./errors.js";

/** A standing flexibility order (IFlexibilityMarket.FlexOrder): the domain's EIP-712 twin. */
export type { FlexOrder } from "../domain/eip712.js";

/** Where a flexibility action runs: the EnergyMarket and, optionally, its flexibility market. */
export interface FlexTarget {
  /** The EnergyMarket (its token, registry and interval timing are the flexibility market's). */
  readonly market: Address;
  /** The FlexibilityMarket; default: the market's `flexibilityMarket()`. */
  readonly flexMarket?: Address;
}

/** A step's direction, as the contract's `enum Direction { Charge, Discharge }`. */
export type FlexDirection = "charge" | "discharge";
export const flexDirection = (code: number): FlexDirection => (code === 0 ? "charge" : "discharge");

/**
 * The flexibility market of `target`: `target.flexMarket` when given, else the market's
 * `flexibilityMarket()`.
 * @throws ClientError `NoFlexibilityMarket` when the market has none set.
 */
export async function resolveFlexMarket(publicClient: PublicClient, target: FlexTarget): Promise<Address> {
  if (target.flexMarket !== undefined) return target.flexMarket;
  const flex = await publicClient.readContract({
    address: target.market,
    abi: energyMarketAbi,
    functionName: "flexibilityMarket",
  });
  if (flex === zeroAddress)
    throw new ClientError("NoFlexibilityMarket", `market ${target.market} has no flexibility market set`);
  return flex;
}

const ORDER_ID = /^0x[0-9a-fA-F]{64}$/;

/** Checks that `orderId` is 32 bytes of hex. */
export function checkFlexOrderId(orderId: string, field = "orderId"): Hex {
  if (!ORDER_ID.test(orderId))
    throw new InvalidParameterError(field, `must be a 32-byte hex order id, got "${orderId}"`);
  return orderId as Hex;
}

/** The fields of flexibility order `orderId`, from its FlexOrderPlaced event. */
export async function readPlacedFlexOrder(
  publicClient: PublicClient,
  flexMarket: Address,
  orderId: Hex,
  fromBlock = 0n,
): Promise<FlexOrder> {
  checkFlexOrderId(orderId);
  const [event] = await publicClient.getContractEvents({
    address: flexMarket,
    abi: flexibilityMarketAbi,
    eventName: "FlexOrderPlaced",
    args: { orderId },
    fromBlock,
    toBlock: "latest",
  });
  if (event === undefined)
    throw new ClientError("FlexOrderNotFound", `no FlexOrderPlaced event for ${orderId}`, {
      details: `searched ${flexMarket} from block ${fromBlock}`,
    });
  return event.args.order!;
}

/** The order as a call argument (the ABI's tuple takes exactly these fields). */
export const flexOrderArg = flexOrderFields;

/** The id of `order` on `flexMarket` (equals the contract's `hashFlexOrder`). */
export async function flexOrderIdOn(
  publicClient: PublicClient,
  flexMarket: Address,
  order: FlexOrder,
): Promise<Hex> {
  return flexOrderId(flexibilityDomain(await chainIdOf(publicClient), flexMarket), order);
}

/**
 * The id in the FlexOrderPlaced log of transaction `hash`, checked to equal `expected` (the id of
 * the order sent).
 * @throws ClientError `FlexOrderIdMismatch` when the log is missing or names another id.
 */
export async function placedFlexOrderId(
  publicClient: PublicClient,
  flexMarket: Address,
  hash: Hex,
  expected: Hex,
): Promise<Hex> {
  const receipt = await publicClient.getTransactionReceipt({ hash });
  const [placed] = parseEventLogs({
    abi: flexibilityMarketAbi,
    eventName: "FlexOrderPlaced",
    logs: receipt.logs.filter((l) => l.address.toLowerCase() === flexMarket.toLowerCase()),
  });
  if (placed?.args.orderId !== expected)
    throw new ClientError("FlexOrderIdMismatch", "the FlexOrderPlaced log does not carry the order's id", {
      details: `transaction ${hash}: expected ${expected}, log ${placed?.args.orderId ?? "missing"}`,
    });
  return expected;
}
