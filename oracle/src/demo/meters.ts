/**
 * Phase 4 of an interval: its meters sign their readings and send them to every oracle node, and
 * the interval ends (chain time moves past its end and the meter grace period).
 */
import { METER_READING_TYPES, marketDomain } from "../domain/meter/reading.js";
import { advanceTo } from "./chain-reads.js";
import type { RunContext } from "./context.js";
import type { Reading } from "./delivery.js";

export async function postMeterReadings(
  context: RunContext,
  index: number,
  intervalId: bigint,
  startUnix: number,
  readings: readonly Reading[],
): Promise<void> {
  const { chain, timing, nodeUrls } = context.parameters;
  const intervalEnd = startUnix + timing.intervalSeconds;
  await advanceTo(chain, intervalEnd + 1);
  const signed = await Promise.all(
    readings.map(async (r) => {
      const message = {
        meter: r.meter.address,
        intervalId,
        injectedWh: r.injectedWh,
        consumedWh: r.consumedWh,
      };
      const signature = await r.meter.signTypedData({
        domain: marketDomain(context.chainId, chain.addresses.market),
        types: METER_READING_TYPES,
        primaryType: "MeterReading",
        message,
      });
      return {
        meter: r.meter.address,
        intervalId: intervalId.toString(),
        injectedWh: r.injectedWh.toString(),
        consumedWh: r.consumedWh.toString(),
        signature,
      };
    }),
  );
  await context.parameters.beforeReadings?.(index);
  // Every node gets the readings; a node that is down (or refuses them) is recorded and skipped:
  // the committee settles with the nodes that have them, and whether it did is read from the
  // chain afterwards (imbalance.ts), not assumed from the posts.
  await Promise.all(
    nodeUrls.map(async (url) => {
      try {
        const response = await fetch(`${url}/meter-readings`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(signed),
        });
        if (!response.ok)
          context.undone(intervalId, `post meter readings to ${url}`, `HTTP ${response.status}`);
      } catch (error) {
        context.undone(
          intervalId,
          `post meter readings to ${url}`,
          (error as { cause?: unknown }).cause ?? error,
        );
      }
    }),
  );
  await advanceTo(chain, intervalEnd + timing.meterGraceSeconds + 1);
}
