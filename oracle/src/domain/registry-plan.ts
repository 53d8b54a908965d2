/**
 * The grid registry as a file: what the operator wants on chain (zones with their grid tariffs,
 * lines and fees, participants and meters, batteries), and the plan — the registry calls, in
 * order, that take the chain's current registry there. `gridbrain registry plan|apply` reads the
 * chain, plans with this, and sends the calls; applying the same file twice plans nothing.
 *
 * What the file is authoritative for, and what it only adds to (the registry has no list of its
 * participants or meters, only events, so the planner cannot know what the file leaves out):
 * - zones: listed by id (position in the file). Zones are never removed and their names cannot be
 *   read back or changed, so a file with fewer zones than the chain is an error; extra zones are
 *   added. Every zone's grid tariffs are set as listed (a zone without tariffs cannot be metered).
 * - lines: authoritative among the file's zones — a line on chain that the file does not list is
 *   removed. A line's fee applies in both directions; a zone's own `feeWithinZonePerKwh` is set
 *   when given.
 * - participants, meters, batteries: added or updated, never removed (remove with the registry's
 *   own functions). A battery is matched by `id` when the file gives one, otherwise by owner and
 *   zone (an owner with two batteries in a zone must give ids).
 *
 * Pure: amounts are token base units (strings in the file, so no float can round them).
 */
import { z } from "zod";
import { ENERGY_SOURCES, type EnergySource, sourceCode } from "./energy-source.js";

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";
const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address")
  .transform((a) => a.toLowerCase() as `0x${string}`);
const baseUnits = z
  .string()
  .regex(/^\d+$/, "must be a whole number of token base units, as a string")
  .transform((s) => BigInt(s));
const uint = (max: bigint) =>
  z
    .union([z.number().int().nonnegative(), z.string().regex(/^\d+$/, "must be a whole number")])
    .transform((v) => BigInt(v))
    .refine((v) => v <= max, `must be at most ${max}`);
const UINT64 = 2n ** 64n - 1n;
const bps = z.number().int().min(0).max(10_000);

const zoneSchema = z.object({
  name: z.string().min(1, "must not be empty"),
  grid: z.object({
    /** The grid's market account in the zone; omitted: none (the grid places no orders there). */
    account: address.default(ZERO_ADDRESS),
    retailPerKwh: baseUnits,
    feedInPerKwh: baseUnits,
  }),
  feeWithinZonePerKwh: baseUnits.optional(),
});

const lineSchema = z.object({
  between: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
  capacityWh: uint(UINT64),
  lossBps: bps.refine((v) => v < 10_000, "must be below 10000 (100 %)"),
  feePerKwh: baseUnits.default("0"),
});

const participantSchema = z.object({
  address,
  zone: z.number().int().nonnegative(),
  meter: z.object({ address, source: z.enum(ENERGY_SOURCES) }).optional(),
});

const batterySchema = z.object({
  id: z.number().int().nonnegative().optional(),
  owner: address,
  zone: z.number().int().nonnegative(),
  capacityWh: uint(UINT64),
  maxChargeW: uint(UINT64),
  maxDischargeW: uint(UINT64),
  chargeEfficiencyBps: bps,
  dischargeEfficiencyBps: bps,
  minSocWh: uint(UINT64),
  maxSocWh: uint(UINT64),
});

export const registryFileSchema = z.object({
  zones: z.array(zoneSchema).min(1, "must list at least one zone"),
  lines: z.array(lineSchema).default([]),
  participants: z.array(participantSchema).default([]),
  batteries: z.array(batterySchema).default([]),
});

export type RegistryFile = z.output<typeof registryFileSchema>;
type Address = `0x${string}`;

export class RegistryFileError extends Error {
  override name = "RegistryFileError";
  /** The field at fault as a dotted path (`lines.2.between`). */
  readonly field: string;
  constructor(field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.field = field;
  }
}

/**
 * Parses a registry file and checks what the schema cannot: zones and lines refer to listed zones,
 * no duplicate line, participant or meter, a grid account is not a metered participant, battery
 * bounds as the contract checks them (so `apply` does not stop half-way on a revert).
 */
export function parseRegistryFile(json: unknown): RegistryFile {
  const parsed = registryFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RegistryFileError(issue.path.join(".") || "(file)", issue.message);
  }
  const file = parsed.data;
  const zones = file.zones.length;
  const zoneField = (field: string, zone: number) => {
    if (zone >= zones)
      throw new RegistryFileError(field, `zone ${zone} is not listed (the file has ${zones} zones)`);
  };
  file.zones.forEach((zone, z) => {
    const { retailPerKwh, feedInPerKwh } = zone.grid;
    if (feedInPerKwh === 0n || feedInPerKwh > retailPerKwh)
      throw new RegistryFileError(`zones.${z}.grid`, "needs 0 < feedInPerKwh <= retailPerKwh");
  });
  const pairs = new Set<string>();
  file.lines.forEach((line, i) => {
    const [a, b] = line.between;
    zoneField(`lines.${i}.between`, a);
    zoneField(`lines.${i}.between`, b);
    if (a === b) throw new RegistryFileError(`lines.${i}.between`, "a line joins two different zones");
    const key = pairKey(a, b);
    if (pairs.has(key))
      throw new RegistryFileError(`lines.${i}.between`, `a second line between zones ${a} and ${b}`);
    pairs.add(key);
  });
  const participants = new Set<string>();
  const meters = new Set<string>();
  const gridAccounts = new Set(file.zones.map((z) => z.grid.account).filter((a) => a !== ZERO_ADDRESS));
  file.participants.forEach((p, i) => {
    zoneField(`participants.${i}.zone`, p.zone);
    if (participants.has(p.address))
      throw new RegistryFileError(`participants.${i}.address`, `${p.address} is listed twice`);
    participants.add(p.address);
    if (p.meter === undefined) return;
    if (meters.has(p.meter.address))
      throw new RegistryFileError(`participants.${i}.meter.address`, `${p.meter.address} is listed twice`);
    meters.add(p.meter.address);
    if (gridAccounts.has(p.address))
      throw new RegistryFileError(
        `participants.${i}.meter`,
        `${p.address} is a zone's grid account, and the grid is never metered`,
      );
  });
  file.batteries.forEach((b, i) => {
    zoneField(`batteries.${i}.zone`, b.zone);
    if (b.capacityWh === 0n) throw new RegistryFileError(`batteries.${i}.capacityWh`, "must be positive");
    for (const f of ["chargeEfficiencyBps", "dischargeEfficiencyBps"] as const)
      if (b[f] === 0) throw new RegistryFileError(`batteries.${i}.${f}`, "must be positive");
    if (b.maxSocWh > b.capacityWh)
      throw new RegistryFileError(`batteries.${i}.maxSocWh`, "must be at most capacityWh");
    if (b.minSocWh > b.maxSocWh)
      throw new RegistryFileError(`batteries.${i}.minSocWh`, "must be at most maxSocWh");
  });
  return file;
}

/** The registry as the chain has it, for the zones, pairs, participants and meters the file names. */
export interface RegistryOnChain {
  readonly zoneCount: number;
  readonly zoneGrids: readonly { account: Address; retailPerKwh: bigint; feedInPerKwh: bigint }[];
  /** Lines between the first min(zoneCount, file zones) zones, keyed by `pairKey`. */
  readonly lines: ReadonlyMap<string, { capacityWh: bigint; lossBps: number }>;
  /** Grid fees keyed `from>to` for the pairs the file sets. */
  readonly fees: ReadonlyMap<string, bigint>;
  readonly participants: ReadonlyMap<
    Address,
    { registered: boolean; zone: number; meter: Address; meterSource: EnergySource }
  >;
  /** For each meter the file names: the participant it is registered to (zero: none). */
  readonly meterOwners: ReadonlyMap<Address, Address>;
  readonly batteries: readonly ({ id: number } & ChainBattery)[];
}

export interface ChainBattery {
  readonly owner: Address;
  readonly zoneId: number;
  readonly capacityWh: bigint;
  readonly maxChargeW: bigint;
  readonly maxDischargeW: bigint;
  readonly chargeEfficiencyBps: number;
  readonly dischargeEfficiencyBps: number;
  readonly minSocWh: bigint;
  readonly maxSocWh: bigint;
}

export type RegistryFunction =
  | "addZone"
  | "setZoneGrid"
  | "setLine"
  | "removeLine"
  | "setGridFee"
  | "registerParticipant"
  | "removeMeter"
  | "registerMeter"
  | "registerBattery"
  | "updateBattery";

export interface RegistryCall {
  readonly functionName: RegistryFunction;
  readonly args: readonly unknown[];
  /** One line for the operator: what changes and from what. */
  readonly why: string;
}

/** Key of the undirected line between two zones. */
export function pairKey(a: number, b: number): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}

/** Key of the directed grid fee from one zone to another. */
export function feeKey(from: number, to: number): string {
  return `${from}>${to}`;
}

/** The grid-fee pairs a file sets: both directions of every line, and each zone's own fee. */
export function feePairs(file: RegistryFile): [number, number, bigint][] {
  const pairs: [number, number, bigint][] = [];
  for (const line of file.lines) {
    const [a, b] = line.between;
    pairs.push([a, b, line.feePerKwh], [b, a, line.feePerKwh]);
  }
  file.zones.forEach((zone, z) => {
    if (zone.feeWithinZonePerKwh !== undefined) pairs.push([z, z, zone.feeWithinZonePerKwh]);
  });
  return pairs;
}

/** The calls, in an order the registry accepts, that make the chain match `file`. */
export function planRegistry(file: RegistryFile, chain: RegistryOnChain): RegistryCall[] {
  if (chain.zoneCount > file.zones.length)
    throw new RegistryFileError(
      "zones",
      `the registry has ${chain.zoneCount} zones and the file lists ${file.zones.length}; zones cannot be removed`,
    );
  const calls: RegistryCall[] = [];
  file.zones.forEach((zone, z) => {
    if (z >= chain.zoneCount)
      calls.push({ functionName: "addZone", args: [zone.name], why: `zone ${z} "${zone.name}" is new` });
  });
  file.zones.forEach((zone, z) => {
    const now = chain.zoneGrids[z];
    const want = zone.grid;
    if (
      now !== undefined &&
      now.account.toLowerCase() === want.account &&
      now.retailPerKwh === want.retailPerKwh &&
      now.feedInPerKwh === want.feedInPerKwh
    )
      return;
    calls.push({
      functionName: "setZoneGrid",
      args: [z, want.account, want.retailPerKwh, want.feedInPerKwh],
      why:
        now === undefined
          ? `zone ${z}: grid account ${want.account}, retail ${want.retailPerKwh}, feed-in ${want.feedInPerKwh}`
          : `zone ${z}: grid ${now.account} ${now.retailPerKwh}/${now.feedInPerKwh} → ${want.account} ${want.retailPerKwh}/${want.feedInPerKwh}`,
    });
  });
  const wanted = new Map(file.lines.map((l) => [pairKey(...l.between), l]));
  for (const [key, line] of chain.lines)
    if (!wanted.has(key)) {
      const [a, b] = key.split("-").map(Number) as [number, number];
      calls.push({
        functionName: "removeLine",
        args: [a, b],
        why: `line ${key} (${line.capacityWh} Wh) is not in the file`,
      });
    }
  for (const [key, line] of wanted) {
    const now = chain.lines.get(key);
    if (now !== undefined && now.capacityWh === line.capacityWh && now.lossBps === line.lossBps) continue;
    calls.push({
      functionName: "setLine",
      args: [line.between[0], line.between[1], line.capacityWh, line.lossBps],
      why:
        now === undefined
          ? `line ${key}: ${line.capacityWh} Wh, ${line.lossBps} bps loss`
          : `line ${key}: ${now.capacityWh} Wh/${now.lossBps} bps → ${line.capacityWh} Wh/${line.lossBps} bps`,
    });
  }
  for (const [from, to, fee] of feePairs(file)) {
    const now = chain.fees.get(feeKey(from, to)) ?? 0n;
    if (now !== fee)
      calls.push({
        functionName: "setGridFee",
        args: [from, to, fee],
        why: `grid fee ${from}→${to}: ${now} → ${fee}`,
      });
  }
  const meterCalls: RegistryCall[] = [];
  const removals: RegistryCall[] = [];
  /** Meters this plan takes off a listed participant (so another listed participant may get them). */
  const freed = new Set<string>();
  const meterChanges = file.participants.map((p) => {
    const now = chain.participants.get(p.address);
    const current = (now?.meter ?? ZERO_ADDRESS).toLowerCase();
    const change =
      p.meter !== undefined && !(current === p.meter.address && now?.meterSource === p.meter.source);
    if (change && current !== ZERO_ADDRESS) freed.add(current);
    return { now, current, change };
  });
  file.participants.forEach((p, i) => {
    const { now, current, change } = meterChanges[i]!;
    if (now === undefined || !now.registered || now.zone !== p.zone)
      calls.push({
        functionName: "registerParticipant",
        args: [p.address, p.zone],
        why:
          now?.registered === true
            ? `${p.address}: zone ${now.zone} → ${p.zone}`
            : `${p.address} joins zone ${p.zone}`,
      });
    if (p.meter === undefined || !change) return;
    const owner = (chain.meterOwners.get(p.meter.address) ?? ZERO_ADDRESS).toLowerCase();
    if (owner !== ZERO_ADDRESS && owner !== p.address && !freed.has(p.meter.address))
      throw new RegistryFileError(
        `participants.${i}.meter.address`,
        `meter ${p.meter.address} is registered to ${owner}; remove it there first (removeMeter)`,
      );
    if (current !== ZERO_ADDRESS)
      removals.push({
        functionName: "removeMeter",
        args: [current],
        why: `${p.address}: meter ${current} (${now?.meterSource}) is replaced`,
      });
    meterCalls.push({
      functionName: "registerMeter",
      args: [p.meter.address, p.address, sourceCode(p.meter.source)],
      why: `${p.address}: meter ${p.meter.address} (${p.meter.source})`,
    });
  });
  // Every removal first: a meter may move from one listed participant to another.
  calls.push(...removals, ...meterCalls);
  const claimed = new Set<number>();
  file.batteries.forEach((b, i) => {
    const struct = {
      owner: b.owner,
      zoneId: b.zone,
      capacityWh: b.capacityWh,
      maxChargeW: b.maxChargeW,
      maxDischargeW: b.maxDischargeW,
      chargeEfficiencyBps: b.chargeEfficiencyBps,
      dischargeEfficiencyBps: b.dischargeEfficiencyBps,
      minSocWh: b.minSocWh,
      maxSocWh: b.maxSocWh,
    };
    let match: ({ id: number } & ChainBattery) | undefined;
    if (b.id !== undefined) {
      match = chain.batteries.find((c) => c.id === b.id);
      if (match === undefined)
        throw new RegistryFileError(`batteries.${i}.id`, `battery ${b.id} is not registered`);
    } else {
      const candidates = chain.batteries.filter(
        (c) => !claimed.has(c.id) && c.owner.toLowerCase() === b.owner && c.zoneId === b.zone,
      );
      if (candidates.length > 1)
        throw new RegistryFileError(
          `batteries.${i}`,
          `${b.owner} has ${candidates.length} batteries in zone ${b.zone} (ids ${candidates.map((c) => c.id).join(", ")}); give the id`,
        );
      match = candidates[0];
    }
    if (match === undefined) {
      calls.push({
        functionName: "registerBattery",
        args: [struct],
        why: `battery of ${b.owner} in zone ${b.zone}`,
      });
      return;
    }
    const found = match;
    claimed.add(found.id);
    const same = (Object.keys(struct) as (keyof typeof struct)[]).every((k) =>
      k === "owner" ? found.owner.toLowerCase() === struct.owner : found[k] === struct[k],
    );
    if (!same)
      calls.push({
        functionName: "updateBattery",
        args: [found.id, struct],
        why: `battery ${found.id} of ${b.owner} changes`,
      });
  });
  return calls;
}
