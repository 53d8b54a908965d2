/**
 * Reads the part of the grid registry a registry file talks about (domain/registry-plan.ts):
 * zone count and grids, every line among the file's zones, the fees the file sets, the listed
 * participants and meters, and every battery. Views only, so `registry plan` needs no key.
 */
import type { Address, PublicClient } from "viem";
import { ENERGY_SOURCES } from "../domain/energy-source.js";
import {
  type ChainBattery,
  type RegistryFile,
  type RegistryOnChain,
  feeKey,
  feePairs,
  pairKey,
} from "../domain/registry-plan.js";
import { gridRegistryAbi } from "./abis.js";

const ZERO = "0x0000000000000000000000000000000000000000";

export async function readRegistryOnChain(
  client: PublicClient,
  registry: Address,
  file: RegistryFile,
): Promise<RegistryOnChain> {
  const read = <T>(functionName: string, args: readonly unknown[] = []): Promise<T> =>
    client.readContract({
      address: registry,
      abi: gridRegistryAbi,
      functionName: functionName as "zoneCount",
      args: args as [],
    }) as Promise<T>;

  const zoneCount = Number(await read<number>("zoneCount"));
  const known = Math.min(zoneCount, file.zones.length);
  const zoneGrids = await Promise.all(
    Array.from({ length: zoneCount }, (_, z) =>
      read<{ account: Address; retailPerKwh: bigint; feedInPerKwh: bigint }>("zoneGrid", [z]),
    ),
  );
  const lines = new Map<string, { capacityWh: bigint; lossBps: number }>();
  for (let a = 0; a < known; a++)
    for (let b = a + 1; b < known; b++) {
      const line = await read<{ capacityWh: bigint; lossBps: number; exists: boolean }>("lineBetween", [
        a,
        b,
      ]);
      if (line.exists) lines.set(pairKey(a, b), { capacityWh: line.capacityWh, lossBps: line.lossBps });
    }
  const fees = new Map<string, bigint>();
  for (const [from, to] of feePairs(file))
    if (from < zoneCount && to < zoneCount)
      fees.set(feeKey(from, to), await read<bigint>("gridFee", [from, to]));
  const participants = new Map<
    Address,
    { registered: boolean; zone: number; meter: Address; meterSource: (typeof ENERGY_SOURCES)[number] }
  >();
  const meterOwners = new Map<Address, Address>();
  for (const p of file.participants) {
    const [registered, zone] = await read<[boolean, number]>("participantZone", [p.address]);
    const meter = await read<Address>("meterOf", [p.address]);
    const source =
      meter === ZERO
        ? 0
        : Number((await read<{ participant: Address; source: number }>("meterInfo", [meter])).source);
    participants.set(p.address, {
      registered,
      zone: Number(zone),
      meter,
      meterSource: ENERGY_SOURCES[source] ?? "other",
    });
    if (p.meter !== undefined)
      meterOwners.set(
        p.meter.address,
        (await read<{ participant: Address; source: number }>("meterInfo", [p.meter.address])).participant,
      );
  }
  const batteryCount = Number(await read<number>("batteryCount"));
  const batteries: ({ id: number } & ChainBattery)[] = [];
  for (let id = 0; id < batteryCount; id++) {
    const b = await read<ChainBattery>("battery", [id]);
    // A removed battery keeps its id with a zero owner.
    if (b.owner !== ZERO)
      batteries.push({
        id,
        ...b,
        zoneId: Number(b.zoneId),
        chargeEfficiencyBps: Number(b.chargeEfficiencyBps),
        dischargeEfficiencyBps: Number(b.dischargeEfficiencyBps),
      });
  }
  return { zoneCount, zoneGrids, lines, fees, participants, meterOwners, batteries };
}
