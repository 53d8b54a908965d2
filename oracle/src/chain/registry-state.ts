/**
 * Reads the part of the grid registry a registry file talks about (domain/registry-plan.ts):
 * zone count and grids, every line among the file's zones, the fees the file sets, the listed
 * participants and meters, and every battery. Views only, so `registry plan` needs no key.
 */
import type { Address, PublicClient } from "viem";
import { ENERGY_SOURCES } from "../domain/energy-source.js";
import {
  type RegistryFile,
  type RegistryOnChain,
  feeKey,
  feePairs,
  pairKey,
} from "../domain/registry-plan.js";
import { gridRegistryAbi } from "./abis.js";
import { readRegisteredBatteries } from "./market.js";

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
  // The reads are independent: issued together, the transport batches them into few requests.
  const pairs = Array.from({ length: known }, (_, a) =>
    Array.from({ length: known - a - 1 }, (_, k) => [a, a + 1 + k] as const),
  ).flat();
  const lines = new Map<string, { capacityWh: bigint; lossBps: number }>();
  for (const [[a, b], line] of await Promise.all(
    pairs.map(
      async ([a, b]) =>
        [
          [a, b],
          await read<{ capacityWh: bigint; lossBps: number; exists: boolean }>("lineBetween", [a, b]),
        ] as const,
    ),
  ))
    if (line.exists) lines.set(pairKey(a, b), { capacityWh: line.capacityWh, lossBps: line.lossBps });
  const fees = new Map<string, bigint>(
    await Promise.all(
      feePairs(file)
        .filter(([from, to]) => from < zoneCount && to < zoneCount)
        .map(async ([from, to]) => [feeKey(from, to), await read<bigint>("gridFee", [from, to])] as const),
    ),
  );
  const meterInfo = (meter: Address) => read<{ participant: Address; source: number }>("meterInfo", [meter]);
  const participants = new Map<
    Address,
    { registered: boolean; zone: number; meter: Address; meterSource: (typeof ENERGY_SOURCES)[number] }
  >();
  const meterOwners = new Map<Address, Address>();
  await Promise.all(
    file.participants.map(async (p) => {
      const [[registered, zone], meter, wanted] = await Promise.all([
        read<[boolean, number]>("participantZone", [p.address]),
        read<Address>("meterOf", [p.address]),
        p.meter === undefined ? undefined : meterInfo(p.meter.address),
      ]);
      // The participant's current meter is usually the file's: read it once.
      const current =
        meter === ZERO
          ? undefined
          : meter.toLowerCase() === p.meter?.address
            ? wanted
            : await meterInfo(meter);
      participants.set(p.address, {
        registered,
        zone: Number(zone),
        meter,
        meterSource: ENERGY_SOURCES[Number(current?.source ?? 0)] ?? "other",
      });
      if (p.meter !== undefined) meterOwners.set(p.meter.address, wanted!.participant);
    }),
  );
  const batteries = (await readRegisteredBatteries(client, registry)).map(({ id, battery: b }) => ({
    id,
    ...b,
    zoneId: Number(b.zoneId),
    chargeEfficiencyBps: Number(b.chargeEfficiencyBps),
    dischargeEfficiencyBps: Number(b.dischargeEfficiencyBps),
  }));
  return { zoneCount, zoneGrids, lines, fees, participants, meterOwners, batteries };
}
