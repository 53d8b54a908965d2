import { expect } from "chai";
import { loadHighs } from "../../../../oracle/src/domain/dispatch/index.js";
import { rollingInputAt, runPolicy, simulateDayData } from "../../../../oracle/src/domain/rolling/day.js";
import { generateNeighbourhood } from "../../../../oracle/src/domain/simulation/index.js";

describe("value day driver", function () {
  this.timeout(300_000);

  it("plans to the valued day's end, with leftovers at the grid's offtake bid and the surplus premium", () => {
    const neighbourhood = generateNeighbourhood({
      seed: 3,
      prosumers: 4,
      zones: 1,
      pvShare: 1,
      batteryShareOfPv: 1,
    });
    const data = simulateDayData({ neighbourhood, date: "2027-06-21", seed: 3, lines: [] });
    const soc = new Map(neighbourhood.households.map((h) => [h.id, h.battery!.initialSocWh]));
    const evening = rollingInputAt(data, 80, soc);
    expect(evening.horizon, "16 intervals left in the day").to.equal(16);
    expect(evening.endValuePerKwh).to.equal(70_001);
    expect(evening.offerLeadPremiumPerKwh).to.equal(3_000);
    const before = rollingInputAt({ ...data, options: { ...data.options, horizon: "atLeastMin" } }, 80, soc);
    expect(before.horizon).to.equal(32);
  });

  it("perfect foresight costs no more than any other policy, and batteries save money", async () => {
    // 4 households, one zone, every one with PV and a battery: small enough to run in seconds.
    const neighbourhood = generateNeighbourhood({
      seed: 3,
      prosumers: 4,
      zones: 1,
      pvShare: 1,
      batteryShareOfPv: 1,
    });
    const data = simulateDayData({
      neighbourhood,
      date: "2027-06-21",
      seed: 3,
      cloud: { mean: 0.95, stationarySd: 0.05 },
      lines: [],
    });
    const highs = await loadHighs();
    const none = runPolicy(data, "none", highs);
    const heuristic = runPolicy(data, "heuristic", highs);
    const rolling = runPolicy(data, "rolling", highs);
    const perfect = runPolicy(data, "perfect", highs);
    expect(perfect.cost < none.cost).to.equal(true);
    expect(perfect.cost <= heuristic.cost).to.equal(true);
    expect(perfect.cost <= rolling.cost).to.equal(true);
    expect(rolling.cost < none.cost).to.equal(true);
    expect(none.storedDeltaWh).to.equal(0);
  });
});
