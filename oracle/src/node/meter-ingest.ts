/**
 * The node's meter ingest, shared by `POST /meter-readings` and `gridbrain meter import --config`:
 * one batch is validated against the registry and the clock read from the chain at the time of
 * the call (registrations and chain time change between batches) and stored in the node's Redis.
 * One function, so a reading accepted over HTTP is accepted by the importer and vice versa.
 *
 * Readings from meters are accepted until the reading deadline (interval end +
 * `meterDeadlineSeconds`); every newly accepted one is forwarded to the peers (infra/meter-peers).
 * Readings from peers are handled in jobs/committee.ts (`ingestPeerReadings`).
 */
import type { PublicClient } from "viem";
import { type MarketTiming, chainNow, readMeterRegistry } from "../chain/market.js";
import type { Config } from "../infra/config.js";
import type { Logger } from "../infra/logging.js";
import { forwardReadings } from "../infra/meter-peers.js";
import { type IngestResult, type MeterStore, ingestMeterReadings } from "../infra/meter-store.js";

export interface NodeMeterIngestParameters {
  readonly config: Pick<
    Config,
    "chainId" | "marketAddress" | "registryAddress" | "startBlock" | "meterDeadlineSeconds" | "peerUrls"
  >;
  readonly client: PublicClient;
  readonly timing: MarketTiming;
  readonly store: MeterStore;
  readonly logger?: Logger;
}

/**
 * Returns the batch handler for readings from meters: every item gets a status (accepted,
 * duplicate, rejected with reason); the newly accepted items are forwarded to `peerUrls`.
 */
export function nodeMeterIngest(
  params: NodeMeterIngestParameters,
): (items: readonly unknown[]) => Promise<IngestResult> {
  const { config, client, timing, store } = params;
  return async (items) => {
    const [registry, nowSeconds] = await Promise.all([
      readMeterRegistry(client, config.registryAddress, config.startBlock),
      chainNow(client),
    ]);
    const result = await ingestMeterReadings(store, items, {
      chainId: config.chainId,
      market: config.marketAddress,
      registry,
      nowSeconds,
      intervalSeconds: timing.intervalSeconds,
      meterDeadlineSeconds: BigInt(config.meterDeadlineSeconds),
    });
    // Only new readings: a duplicate was forwarded when it was first accepted.
    const fresh = result.items.filter((i) => i.status === "accepted").map((i) => items[i.index]);
    await forwardReadings(config.peerUrls, fresh, params.logger);
    return result;
  };
}
