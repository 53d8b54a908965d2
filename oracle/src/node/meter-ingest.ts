/**
 * The node's meter ingest, shared by `POST /meter-readings` and `gridbrain meter import --config`:
 * one batch is validated against the registry and the clock read from the chain at the time of
 * the call (registrations and chain time change between batches) and stored in the node's Redis.
 * One function, so a reading accepted over HTTP is accepted by the importer and vice versa.
 */
import type { PublicClient } from "viem";
import { type MarketTiming, chainNow, readMeterRegistry } from "../chain/market.js";
import type { Config } from "../infra/config.js";
import { type IngestResult, type MeterStore, ingestMeterReadings } from "../infra/meter-store.js";

export interface NodeMeterIngestParameters {
  readonly config: Pick<Config, "chainId" | "marketAddress" | "registryAddress" | "startBlock">;
  readonly client: PublicClient;
  readonly timing: MarketTiming;
  readonly store: MeterStore;
}

/** Returns the batch handler: every item gets a status (accepted, duplicate, rejected with reason). */
export function nodeMeterIngest(
  params: NodeMeterIngestParameters,
): (items: readonly unknown[]) => Promise<IngestResult> {
  const { config, client, timing, store } = params;
  return async (items) => {
    const [registry, nowSeconds] = await Promise.all([
      readMeterRegistry(client, config.registryAddress, config.startBlock),
      chainNow(client),
    ]);
    return ingestMeterReadings(store, items, {
      chainId: config.chainId,
      market: config.marketAddress,
      registry,
      nowSeconds,
      intervalSeconds: timing.intervalSeconds,
      meterDeadlineSeconds: timing.meterWindowSeconds,
    });
  };
}
