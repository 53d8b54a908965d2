/**
 * What every flexibility action shares: the standing order's fields as the contract takes them
 * (IFlexibilityMarket.FlexOrder), where the flexibility market is (EnergyMarket's
 * `flexibilityMarket()`, unless the caller names it), the order's id (the EIP-712 digest under the
 * FlexibilityMarket's domain, domain/eip712.ts, computed without a call), an order's fields
 * read back from its `FlexOrderPlaced` event when the caller has only its id, and the one write
 * path of the flexibility actions (`sendFlexTransaction`: send, then check the expected event).
 */
import {
  type Address,
  type ContractEventName,
  type ContractFunctionName,
  type Hex,
  type ParseEventLogsReturnType,
  type PublicClient,
  parseEventLogs,
  zeroAddress,
} from "viem";
import { energyMarketAbi, flexibilityMarketAbi } from "../chain/abis.js";
import { type FlexOrder, flexOrderFields, flexOrderId, flexibilityDomain } from "../domain/eip712.js";
import { type WriteClients, chainIdOf, sendContract } from "./clients.js";
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

/** A flexibility order named by its fields, or by its id (its fields then read from its FlexOrderPlaced event). */
export type FlexOrderRef =
  { readonly order: FlexOrder } | { readonly orderId: Hex; readonly fromBlock?: bigint };

/** The fields of the order `ref` names (read from the chain when only its id is given). */
export async function resolveFlexOrder(
  publicClient: PublicClient,
  flexMarket: Address,
  ref: FlexOrderRef,
): Promise<FlexOrder> {
  return "order" in ref
    ? ref.order
    : readPlacedFlexOrder(publicClient, flexMarket, ref.orderId, ref.fromBlock ?? 0n);
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

type FlexEventName = ContractEventName<typeof flexibilityMarketAbi>;

/** The arguments of a FlexibilityMarket event `E`, as decoded from a receipt's log. */
export type FlexEventArgs<E extends FlexEventName> = ParseEventLogsReturnType<
  typeof flexibilityMarketAbi,
  E,
  true
>[number]["args"];

/** A FlexibilityMarket transaction and the event that shows it did what was asked. */
export interface FlexTransaction<E extends FlexEventName> {
  readonly flexMarket: Address;
  readonly functionName: ContractFunctionName<typeof flexibilityMarketAbi, "nonpayable">;
  readonly args: readonly unknown[];
  /** The event the transaction emits on `flexMarket`; its first such log is the one checked. */
  readonly event: E;
  /** Whether that log is the expected one (the order's id, …); default: any log of `event`. */
  readonly expect?: (args: FlexEventArgs<E>) => boolean;
  /** The action's own named error when the log is missing (`found` undefined) or not the one expected. */
  readonly missing: (hash: Hex, found: FlexEventArgs<E> | undefined) => ClientError;
}

/**
 * The write path of every flexibility action: sends `tx` with `sendContract` (simulated, sent and
 * mined, or handed to the caller's `send`), then reads the receipt's `tx.event` log from the
 * flexibility market — a successful transaction without it did not do what the action promises.
 * @returns the transaction's hash and the log's arguments.
 * @throws the action's `tx.missing` error; whatever `sendContract` throws (a revert: `decodeError`).
 */
export async function sendFlexTransaction<E extends FlexEventName>(
  clients: WriteClients,
  tx: FlexTransaction<E>,
): Promise<{ readonly hash: Hex; readonly event: FlexEventArgs<E> }> {
  const hash = await sendContract(clients, {
    address: tx.flexMarket,
    abi: flexibilityMarketAbi,
    functionName: tx.functionName,
    args: tx.args,
  });
  const receipt = await clients.publicClient.getTransactionReceipt({ hash });
  const [log] = parseEventLogs({
    abi: flexibilityMarketAbi,
    eventName: tx.event as FlexEventName,
    logs: receipt.logs.filter((l) => l.address.toLowerCase() === tx.flexMarket.toLowerCase()),
  });
  const found = log?.args as FlexEventArgs<E> | undefined;
  if (found === undefined || (tx.expect !== undefined && !tx.expect(found))) throw tx.missing(hash, found);
  return { hash, event: found };
}

/**
 * The event check of a placement or a change: the FlexOrderPlaced log carries `expected`, the id
 * of the order sent.
 * @throws (from `sendFlexTransaction`) ClientError `FlexOrderIdMismatch` when the log is missing or names another id.
 */
export function flexOrderPlacedAs(
  expected: Hex,
): Pick<FlexTransaction<"FlexOrderPlaced">, "event" | "expect" | "missing"> {
  return {
    event: "FlexOrderPlaced",
    expect: (placed) => placed.orderId === expected,
    missing: (hash, placed) =>
      new ClientError("FlexOrderIdMismatch", "the FlexOrderPlaced log does not carry the order's id", {
        details: `transaction ${hash}: expected ${expected}, log ${placed?.orderId ?? "missing"}`,
      }),
  };
}
