/**
 * EIP-712 twins of the types the EnergyMarket contract hashes (contracts/EnergyMarket.sol). Every
 * function here returns the same 32-byte digest as the contract's `hash…` view of the same name;
 * test/contracts/eip712.test.ts proves it against a deployed market.
 *
 * Domain: name "GridBrain", version "1", chainId, verifyingContract = the EnergyMarket address;
 * the FlexibilityMarket's FlexOrder: name "GridBrain FlexibilityMarket", version "1", chainId,
 * verifyingContract = the FlexibilityMarket address (contracts/FlexibilityMarket.sol).
 * Pure: no I/O, no clock, no logging.
 */
import {
  type Address,
  type Hex,
  encodeAbiParameters,
  getAddress,
  hashTypedData,
  isAddress,
  isHex,
  keccak256,
} from "viem";
import { UnrecoverableInputError } from "./errors.js";

export const EIP712_NAME = "GridBrain";
export const EIP712_VERSION = "1";

export interface GridBrainDomain {
  readonly name: typeof EIP712_NAME;
  readonly version: typeof EIP712_VERSION;
  readonly chainId: bigint;
  readonly verifyingContract: Address;
}

/** Side of an order, as the contract's `enum Side { Buy, Sell }`. */
export const Side = { Buy: 0, Sell: 1 } as const;
export type Side = (typeof Side)[keyof typeof Side];

/**
 * An order's side in the TypeScript domain, spelt one way: "bid" buys, "offer" sells, as the
 * contract's `placeBid` / `placeOffer`, the dispatch instance format and the strategy say. The
 * index is the contract's `Side` (bid = Buy = 0, offer = Sell = 1;
 * test/oracle/domain/contract-enums.test.ts checks it). The numeric `Side` appears only where the
 * chain's encoding is the format: EIP-712 order data, ABI arguments, logs and view results
 * (chain/market.ts `ChainOrder`, domain/clearing.ts `ClearingOrder`); convert there with
 * `sideCode` / `orderSide`.
 */
export const ORDER_SIDES = ["bid", "offer"] as const;
export type OrderSide = (typeof ORDER_SIDES)[number];

/** The contract's `Side` of an order side. */
export function sideCode(side: OrderSide): Side {
  return side === "bid" ? Side.Buy : Side.Sell;
}

/** The order side of a contract `Side` value. */
export function orderSide(code: Side): OrderSide {
  return code === Side.Buy ? "bid" : "offer";
}

/** `Order(address owner,uint64 intervalId,uint8 side,uint32 zoneId,uint64 quantityWh,uint128 limitPricePerKwh,uint64 nonce)` */
export const orderTypes = {
  Order: [
    { name: "owner", type: "address" },
    { name: "intervalId", type: "uint64" },
    { name: "side", type: "uint8" },
    { name: "zoneId", type: "uint32" },
    { name: "quantityWh", type: "uint64" },
    { name: "limitPricePerKwh", type: "uint128" },
    { name: "nonce", type: "uint64" },
  ],
} as const;

/** `ScheduleReport(address market,uint64 intervalId,uint64 configEpoch,bytes32 ordersDigest,bytes32 scheduleRoot,uint32 fillCount,uint256[] zonePrices)` */
export const scheduleReportTypes = {
  ScheduleReport: [
    { name: "market", type: "address" },
    { name: "intervalId", type: "uint64" },
    { name: "configEpoch", type: "uint64" },
    { name: "ordersDigest", type: "bytes32" },
    { name: "scheduleRoot", type: "bytes32" },
    { name: "fillCount", type: "uint32" },
    { name: "zonePrices", type: "uint256[]" },
  ],
} as const;

/** `MeterReport(address market,uint64 intervalId,uint64 configEpoch,bytes32 meterRoot,bytes32 scheduleRoot,uint256[] zonePrices,uint256[] shortPrices,uint256[] longPrices,uint256[] zoneSurplusWh)` */
export const meterReportTypes = {
  MeterReport: [
    { name: "market", type: "address" },
    { name: "intervalId", type: "uint64" },
    { name: "configEpoch", type: "uint64" },
    { name: "meterRoot", type: "bytes32" },
    { name: "scheduleRoot", type: "bytes32" },
    { name: "zonePrices", type: "uint256[]" },
    { name: "shortPrices", type: "uint256[]" },
    { name: "longPrices", type: "uint256[]" },
    { name: "zoneSurplusWh", type: "uint256[]" },
  ],
} as const;

/** `MeterReading(address meter,uint64 intervalId,uint64 injectedWh,uint64 consumedWh)` */
export const meterReadingTypes = {
  MeterReading: [
    { name: "meter", type: "address" },
    { name: "intervalId", type: "uint64" },
    { name: "injectedWh", type: "uint64" },
    { name: "consumedWh", type: "uint64" },
  ],
} as const;

export interface Order {
  readonly owner: Address;
  readonly intervalId: bigint;
  readonly side: Side;
  readonly zoneId: number;
  readonly quantityWh: bigint;
  readonly limitPricePerKwh: bigint;
  readonly nonce: bigint;
}

export interface ScheduleReport {
  readonly market: Address;
  readonly intervalId: bigint;
  readonly configEpoch: bigint;
  readonly ordersDigest: Hex;
  readonly scheduleRoot: Hex;
  readonly fillCount: number;
  readonly zonePrices: readonly bigint[];
}

export interface MeterReport {
  readonly market: Address;
  readonly intervalId: bigint;
  readonly configEpoch: bigint;
  readonly meterRoot: Hex;
  /** The interval's committed schedule root and zone prices: the contract bounds the imbalance prices by them. */
  readonly scheduleRoot: Hex;
  readonly zonePrices: readonly bigint[];
  /** Per zone (index = zone id), token base units per kWh: domain/imbalance-prices.ts. */
  readonly shortPrices: readonly bigint[];
  readonly longPrices: readonly bigint[];
  /** Per zone, Wh: the surplus its meters showed (domain/forecast/meter-surplus.ts `zoneSurplusEstimates`). */
  readonly zoneSurplusWh: readonly bigint[];
}

export interface MeterReading {
  readonly meter: Address;
  readonly intervalId: bigint;
  readonly injectedWh: bigint;
  readonly consumedWh: bigint;
}

/** The market's EIP-712 domain. */
export function gridBrainDomain(chainId: bigint | number, market: Address): GridBrainDomain {
  const id = BigInt(chainId);
  if (id <= 0n) throw new UnrecoverableInputError("invalid chain id", { field: "chainId", details: `${id}` });
  return {
    name: EIP712_NAME,
    version: EIP712_VERSION,
    chainId: id,
    verifyingContract: checkAddress("market", market),
  };
}

/** Typed data of an order, ready for viem's `signTypedData` (gasless orders) or `hashTypedData`. */
export function orderTypedData(domain: GridBrainDomain, order: Order) {
  checkUint("order.intervalId", order.intervalId, 64);
  checkUint("order.zoneId", BigInt(order.zoneId), 32);
  checkUint("order.quantityWh", order.quantityWh, 64);
  checkUint("order.limitPricePerKwh", order.limitPricePerKwh, 128);
  checkUint("order.nonce", order.nonce, 64);
  if (order.side !== Side.Buy && order.side !== Side.Sell) {
    throw new UnrecoverableInputError("invalid order side", {
      field: "order.side",
      details: `${order.side}`,
    });
  }
  return {
    domain,
    types: orderTypes,
    primaryType: "Order" as const,
    message: { ...order, owner: checkAddress("order.owner", order.owner) },
  };
}

/** The order id: EIP-712 digest of the order (equals `EnergyMarket.hashOrder`). */
export function hashOrder(domain: GridBrainDomain, order: Order): Hex {
  return hashTypedData(orderTypedData(domain, order));
}

/** Typed data of a schedule report, ready for `signTypedData` by a committee member. */
export function scheduleReportTypedData(domain: GridBrainDomain, report: ScheduleReport) {
  checkUint("report.intervalId", report.intervalId, 64);
  checkUint("report.configEpoch", report.configEpoch, 64);
  checkUint("report.fillCount", BigInt(report.fillCount), 32);
  checkBytes32("report.ordersDigest", report.ordersDigest);
  checkBytes32("report.scheduleRoot", report.scheduleRoot);
  report.zonePrices.forEach((p, i) => checkUint(`report.zonePrices.${i}`, p, 256));
  return {
    domain,
    types: scheduleReportTypes,
    primaryType: "ScheduleReport" as const,
    message: {
      ...report,
      market: checkAddress("report.market", report.market),
      zonePrices: [...report.zonePrices],
    },
  };
}

/** Equals `EnergyMarket.hashScheduleReport`. */
export function hashScheduleReport(domain: GridBrainDomain, report: ScheduleReport): Hex {
  return hashTypedData(scheduleReportTypedData(domain, report));
}

/** Typed data of a meter report, ready for `signTypedData` by a committee member. */
export function meterReportTypedData(domain: GridBrainDomain, report: MeterReport) {
  checkUint("report.intervalId", report.intervalId, 64);
  checkUint("report.configEpoch", report.configEpoch, 64);
  checkBytes32("report.meterRoot", report.meterRoot);
  checkBytes32("report.scheduleRoot", report.scheduleRoot);
  report.zonePrices.forEach((p, z) => checkUint(`report.zonePrices[${z}]`, p, 256));
  report.shortPrices.forEach((p, z) => checkUint(`report.shortPrices[${z}]`, p, 128));
  report.longPrices.forEach((p, z) => checkUint(`report.longPrices[${z}]`, p, 128));
  report.zoneSurplusWh.forEach((w, z) => checkUint(`report.zoneSurplusWh[${z}]`, w, 256));
  return {
    domain,
    types: meterReportTypes,
    primaryType: "MeterReport" as const,
    message: {
      ...report,
      market: checkAddress("report.market", report.market),
      zonePrices: [...report.zonePrices],
      shortPrices: [...report.shortPrices],
      longPrices: [...report.longPrices],
      zoneSurplusWh: [...report.zoneSurplusWh],
    },
  };
}

/** Equals `EnergyMarket.hashMeterReport`. */
export function hashMeterReport(domain: GridBrainDomain, report: MeterReport): Hex {
  return hashTypedData(meterReportTypedData(domain, report));
}

/** Typed data of a smart meter's reading (signed by the meter's registered key). */
export function meterReadingTypedData(domain: GridBrainDomain, reading: MeterReading) {
  checkUint("reading.intervalId", reading.intervalId, 64);
  checkUint("reading.injectedWh", reading.injectedWh, 64);
  checkUint("reading.consumedWh", reading.consumedWh, 64);
  return {
    domain,
    types: meterReadingTypes,
    primaryType: "MeterReading" as const,
    message: { ...reading, meter: checkAddress("reading.meter", reading.meter) },
  };
}

/** Equals `EnergyMarket.hashMeterReading`. */
export function hashMeterReading(domain: GridBrainDomain, reading: MeterReading): Hex {
  return hashTypedData(meterReadingTypedData(domain, reading));
}

/* FLEXIBILITY (contracts/FlexibilityMarket.sol, issue 14) */

export const FLEX_EIP712_NAME = "GridBrain FlexibilityMarket";

export interface FlexibilityDomain {
  readonly name: typeof FLEX_EIP712_NAME;
  readonly version: typeof EIP712_VERSION;
  readonly chainId: bigint;
  readonly verifyingContract: Address;
}

/** Direction of a flexibility step, as the contract's `enum Direction { Charge, Discharge }`. */
export const FlexDirection = { Charge: 0, Discharge: 1 } as const;
export type FlexDirection = (typeof FlexDirection)[keyof typeof FlexDirection];

/** `FlexOrder(address owner,uint32 batteryId,uint64 firstInterval,uint64 lastInterval,uint128 maxChargePricePerKwh,uint128 minDischargePricePerKwh,uint128 chargeBudget,uint64 initialSocWh,uint64 nonce)` */
export const flexOrderTypes = {
  FlexOrder: [
    { name: "owner", type: "address" },
    { name: "batteryId", type: "uint32" },
    { name: "firstInterval", type: "uint64" },
    { name: "lastInterval", type: "uint64" },
    { name: "maxChargePricePerKwh", type: "uint128" },
    { name: "minDischargePricePerKwh", type: "uint128" },
    { name: "chargeBudget", type: "uint128" },
    { name: "initialSocWh", type: "uint64" },
    { name: "nonce", type: "uint64" },
  ],
} as const;

/** A standing flexibility order (IFlexibilityMarket.FlexOrder). */
export interface FlexOrder {
  readonly owner: Address;
  readonly batteryId: number;
  readonly firstInterval: bigint;
  readonly lastInterval: bigint;
  readonly maxChargePricePerKwh: bigint;
  readonly minDischargePricePerKwh: bigint;
  readonly chargeBudget: bigint;
  readonly initialSocWh: bigint;
  readonly nonce: bigint;
}

/**
 * The nine fields of a flexibility order and nothing else, the owner checksummed: what a decoded
 * `FlexOrderPlaced` event yields and what a call's tuple argument takes.
 */
export function flexOrderFields(o: FlexOrder): FlexOrder {
  return {
    owner: getAddress(o.owner),
    batteryId: o.batteryId,
    firstInterval: o.firstInterval,
    lastInterval: o.lastInterval,
    maxChargePricePerKwh: o.maxChargePricePerKwh,
    minDischargePricePerKwh: o.minDischargePricePerKwh,
    chargeBudget: o.chargeBudget,
    initialSocWh: o.initialSocWh,
    nonce: o.nonce,
  };
}

/** The FlexibilityMarket's EIP-712 domain. */
export function flexibilityDomain(chainId: bigint | number, flexibilityMarket: Address): FlexibilityDomain {
  const id = BigInt(chainId);
  if (id <= 0n) throw new UnrecoverableInputError("invalid chain id", { field: "chainId", details: `${id}` });
  return {
    name: FLEX_EIP712_NAME,
    version: EIP712_VERSION,
    chainId: id,
    verifyingContract: checkAddress("flexibilityMarket", flexibilityMarket),
  };
}

/** Typed data of a flexibility order, ready for `signTypedData` or `hashTypedData`. */
export function flexOrderTypedData(domain: FlexibilityDomain, order: FlexOrder) {
  checkUint("order.batteryId", BigInt(order.batteryId), 32);
  checkUint("order.firstInterval", order.firstInterval, 64);
  checkUint("order.lastInterval", order.lastInterval, 64);
  checkUint("order.maxChargePricePerKwh", order.maxChargePricePerKwh, 128);
  checkUint("order.minDischargePricePerKwh", order.minDischargePricePerKwh, 128);
  checkUint("order.chargeBudget", order.chargeBudget, 128);
  checkUint("order.initialSocWh", order.initialSocWh, 64);
  checkUint("order.nonce", order.nonce, 64);
  return {
    domain,
    types: flexOrderTypes,
    primaryType: "FlexOrder" as const,
    message: { ...order, owner: checkAddress("order.owner", order.owner) },
  };
}

/** The flexibility order id: EIP-712 digest of the order (equals `FlexibilityMarket.hashFlexOrder`). */
export function flexOrderId(domain: FlexibilityDomain, order: FlexOrder): Hex {
  return hashTypedData(flexOrderTypedData(domain, order));
}

/**
 * The id under which an order's step is a leaf of the schedule tree, `keccak256(abi.encode(orderId,
 * direction))` (equals `FlexibilityMarket.flexStepKey`); the leaf is `(key, energyWh)` like a fill's.
 */
export function flexStepKey(orderId: Hex, direction: FlexDirection): Hex {
  checkBytes32("orderId", orderId);
  if (direction !== FlexDirection.Charge && direction !== FlexDirection.Discharge) {
    throw new UnrecoverableInputError("invalid flexibility direction", {
      field: "direction",
      details: `${direction}`,
    });
  }
  return keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint8" }], [orderId, direction]));
}

/* VALIDATION */

function checkUint(field: string, value: bigint, bits: number): void {
  if (typeof value !== "bigint" || value < 0n || value >= 1n << BigInt(bits)) {
    throw new UnrecoverableInputError(`${field} is not a uint${bits}`, { field, details: String(value) });
  }
}

function checkBytes32(field: string, value: Hex): void {
  if (!isHex(value, { strict: true }) || value.length !== 66) {
    throw new UnrecoverableInputError(`${field} is not 32 bytes of hex`, { field, details: String(value) });
  }
}

function checkAddress(field: string, value: string): Address {
  if (!isAddress(value, { strict: false })) {
    throw new UnrecoverableInputError(`${field} is not an address`, { field, details: String(value) });
  }
  return getAddress(value);
}
