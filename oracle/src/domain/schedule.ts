/**
 * Canonical encoding of what the committee commits on-chain, twin of contracts/EnergyMarket.sol:
 *
 * - the running orders digest: `d0 = 0x00…00`, `d(n) = keccak256(abi.encode(d(n-1), orderId(n)))` over every
 *   OrderPlaced event of the interval in log order (cancelled orders included);
 * - the fill tree: an OpenZeppelin StandardMerkleTree of leaves `(bytes32 orderId, uint64 filledWh)`, one per
 *   order open at gate closure (zero fills included, cancelled orders excluded);
 * - the meter tree: a StandardMerkleTree of leaves `(address participant, uint64 injectedWh, uint64 consumedWh)`;
 * - the zone prices: `uint256[]` indexed by zone id, hashed as `keccak256(abi.encodePacked(prices))`;
 * - the schedule commitment the contract stores: `keccak256(abi.encode(scheduleRoot, zonePricesHash))`.
 *
 * Pure: no I/O, no clock, no logging.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { type Address, type Hex, encodeAbiParameters, encodePacked, getAddress, keccak256 } from "viem";
import { UnrecoverableInputError } from "./errors.js";

export const FILL_LEAF_ENCODING = ["bytes32", "uint64"] as const;
export const METER_LEAF_ENCODING = ["address", "uint64", "uint64"] as const;
export const ZERO_DIGEST: Hex = `0x${"00".repeat(32)}`;

export interface FillLeaf {
  readonly orderId: Hex;
  readonly filledWh: bigint;
}

export interface MeterLeaf {
  readonly participant: Address;
  readonly injectedWh: bigint;
  readonly consumedWh: bigint;
}

export type FillTree = StandardMerkleTree<[Hex, bigint]>;
export type MeterTree = StandardMerkleTree<[Address, bigint, bigint]>;

/** The digest after appending `orderId` to `previous`. */
export function nextOrdersDigest(previous: Hex, orderId: Hex): Hex {
  return keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }], [previous, orderId]));
}

/** The orders digest of an interval from its order ids in placement (log) order. */
export function ordersDigest(orderIds: readonly Hex[]): Hex {
  return orderIds.reduce<Hex>((digest, id) => nextOrdersDigest(digest, id), ZERO_DIGEST);
}

/**
 * The schedule root of an interval: the fill tree's root over one leaf per order open at gate
 * closure, or zero for an interval without orders (a tree needs at least one leaf).
 */
export function scheduleRootOf(fills: readonly FillLeaf[]): Hex {
  return fills.length === 0 ? ZERO_DIGEST : (buildFillTree(fills).root as Hex);
}

/** The fill tree. Throws on a repeated order id or a filled energy outside uint64. */
export function buildFillTree(fills: readonly FillLeaf[]): FillTree {
  if (fills.length === 0)
    throw new UnrecoverableInputError("a fill tree needs at least one leaf", { field: "fills" });
  const seen = new Set<string>();
  const values = fills.map((f, i): [Hex, bigint] => {
    const key = f.orderId.toLowerCase();
    if (seen.has(key)) {
      throw new UnrecoverableInputError("repeated order id in fills", {
        field: `fills.${i}.orderId`,
        details: key,
      });
    }
    seen.add(key);
    checkUint64(`fills.${i}.filledWh`, f.filledWh);
    return [f.orderId, f.filledWh];
  });
  return StandardMerkleTree.of(values, [...FILL_LEAF_ENCODING]);
}

/**
 * The leaves of an interval's schedule tree, in the committed order: one per order open at gate
 * closure (its fill, zero fills included), then one per active flexibility order (its step, keyed
 * `flexStepKey`). The root over them is what the committee commits (clearing.ts) and what every
 * fill and step is proved against, whoever rebuilds it (a node's own record, the Proof API,
 * settlement): a tree of the fills alone has another root once an interval has steps.
 *
 * @throws UnrecoverableInputError when `filledWh` does not have one entry per order.
 */
export function scheduleLeaves(
  orders: readonly { readonly orderId: Hex }[],
  filledWh: readonly bigint[],
  stepLeaves: readonly FillLeaf[] = [],
): FillLeaf[] {
  if (filledWh.length !== orders.length)
    throw new UnrecoverableInputError("one filled energy per order", {
      field: "filledWh",
      details: `${filledWh.length} for ${orders.length} orders`,
    });
  return [...orders.map((o, i) => ({ orderId: o.orderId, filledWh: filledWh[i]! })), ...stepLeaves];
}

/** A fill tree with each leaf's index by its order id (lower case). */
export interface IndexedFillTree {
  readonly tree: FillTree;
  readonly indexOf: ReadonlyMap<string, number>;
}

/**
 * The fill tree of `leaves` (`buildFillTree`) with each leaf's index, so that proving many leaves
 * does not search the tree once per leaf. Throws as `buildFillTree` does.
 */
export function indexedFillTree(leaves: readonly FillLeaf[]): IndexedFillTree {
  const tree = buildFillTree(leaves);
  const indexOf = new Map<string, number>();
  for (const [i, [orderId]] of tree.entries()) indexOf.set(orderId.toLowerCase(), i);
  return { tree, indexOf };
}

/** Proof of one order's fill for `claimFill`. */
export function fillProof(tree: FillTree, orderId: Hex): Hex[] {
  return tree.getProof(fillIndex(tree, orderId)) as Hex[];
}

export interface FillMultiProof {
  /** The leaves in the order `settleFills` must receive them (the fills array must follow this order). */
  readonly leaves: FillLeaf[];
  readonly proof: Hex[];
  readonly proofFlags: boolean[];
}

/** Multiproof of several orders' fills for `settleFills`. */
export function fillMultiProof(tree: FillTree, orderIds: readonly Hex[]): FillMultiProof {
  const indices = orderIds.map((id) => fillIndex(tree, id));
  const multi = tree.getMultiProof(indices);
  return {
    leaves: multi.leaves.map(([orderId, filledWh]) => ({ orderId, filledWh: BigInt(filledWh) })),
    proof: multi.proof as Hex[],
    proofFlags: multi.proofFlags,
  };
}

/** The meter tree. Throws on a repeated participant or an energy outside uint64. */
export function buildMeterTree(entries: readonly MeterLeaf[]): MeterTree {
  if (entries.length === 0) {
    throw new UnrecoverableInputError("a meter tree needs at least one leaf", { field: "entries" });
  }
  const seen = new Set<string>();
  const values = entries.map((e, i): [Address, bigint, bigint] => {
    const participant = getAddress(e.participant);
    if (seen.has(participant)) {
      throw new UnrecoverableInputError("repeated participant", {
        field: `entries.${i}.participant`,
        details: participant,
      });
    }
    seen.add(participant);
    checkUint64(`entries.${i}.injectedWh`, e.injectedWh);
    checkUint64(`entries.${i}.consumedWh`, e.consumedWh);
    return [participant, e.injectedWh, e.consumedWh];
  });
  return StandardMerkleTree.of(values, [...METER_LEAF_ENCODING]);
}

/** Proof of one participant's meter leaf for `settleImbalance`. */
export function meterProof(tree: MeterTree, participant: Address): Hex[] {
  const wanted = getAddress(participant);
  for (const [i, [p]] of tree.entries()) {
    if (getAddress(p) === wanted) return tree.getProof(i) as Hex[];
  }
  throw new UnrecoverableInputError("participant not in the meter tree", {
    field: "participant",
    details: wanted,
  });
}

/** `keccak256(abi.encodePacked(uint256[] prices))`: also the EIP-712 encoding of the array. */
export function zonePricesHash(zonePrices: readonly bigint[]): Hex {
  return keccak256(encodePacked(["uint256[]"], [[...zonePrices]]));
}

/** What the contract stores once a schedule is committed. */
export function scheduleCommitment(scheduleRoot: Hex, zonePrices: readonly bigint[]): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "bytes32" }],
      [scheduleRoot, zonePricesHash(zonePrices)],
    ),
  );
}

function fillIndex(tree: FillTree, orderId: Hex): number {
  const key = orderId.toLowerCase();
  for (const [i, [id]] of tree.entries()) {
    if (id.toLowerCase() === key) return i;
  }
  throw new UnrecoverableInputError("order not in the fill tree", { field: "orderId", details: key });
}

function checkUint64(field: string, value: bigint): void {
  if (typeof value !== "bigint" || value < 0n || value >= 1n << 64n) {
    throw new UnrecoverableInputError(`${field} is not a uint64`, { field, details: String(value) });
  }
}
