import { expect } from "chai";
import { loadHighs } from "../../../../oracle/src/domain/dispatch/index.js";
import {
  AMPLE_FLEX_BUDGET,
  rollingInputAt,
  runPolicy,
  simulateDayData,
} from "../../../../oracle/src/domain/rolling/day.js";
import {
  generateNeighbourhood,
  standingOrderPriceLimits,
} from "../../../../oracle/src/domain/simulation/index.js";
import {
  batteryPriceThresholds,
  parseStrategyOptions,
} from "../../../../oracle/src/domain/simulation/strategy.js";
import { chargeHeadroomWh, dischargeHeadroomWh } from "../../../../oracle/src/domain/simulation/battery.js";
import type { CloudModel } from "../../../../oracle/src/domain/simulation/cloud.js";

/**
 * Four households in one zone, every one with PV and a battery, and their simulated day: small
 * enough for a whole day under every policy to run in seconds.
 */
function fourBatteryHomes(seed: number, date: string, cloud?: Partial<CloudModel>) {
  const neighbourhood = generateNeighbourhood({
    seed,
    prosumers: 4,
    zones: 1,
    pvShare: 1,
    batteryShareOfPv: 1,
  });
  const data = simulateDayData({ neighbourhood, date, seed, ...(cloud ? { cloud } : {}), lines: [] });
  return { neighbourhood, data };
}

describe("value day driver", function () {
  this.timeout(300_000);

  it("plans to the valued day's end, with leftovers at the grid's offtake bid and the surplus premium", () => {
    const { neighbourhood, data } = fourBatteryHomes(3, "2027-06-21");
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
    const { neighbourhood, data } = fourBatteryHomes(3, "2027-06-21", { mean: 0.95, stationarySd: 0.05 });
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

  it("commits every battery through a flexibility order at its owner's limits, as the live committee does", async () => {
    const { neighbourhood, data } = fourBatteryHomes(3, "2027-06-21", { mean: 0.95, stationarySd: 0.05 });
    const soc = new Map(neighbourhood.households.map((h) => [h.id, h.battery!.initialSocWh]));
    const input = rollingInputAt(data, 48, soc);
    const options = parseStrategyOptions();
    expect(input.flex, "one flexibility order per battery").to.have.length(4);
    for (const h of neighbourhood.households) {
      const entry = input.flex!.find((f) => f.batteryId === String(h.index + 1))!;
      const limits = standingOrderPriceLimits(h.battery!, options);
      expect(entry.maxChargePricePerKwh).to.equal(String(limits.chargeMaxPricePerKwh));
      expect(entry.minDischargePricePerKwh).to.equal(String(limits.dischargeMinPricePerKwh));
      const powerWh = Math.floor((Math.round(h.battery!.maxPowerW) * 900) / 3600);
      expect(entry.maxChargeWh).to.be.at.most(powerWh);
      expect(entry.socWh).to.equal(Math.floor(h.battery!.initialSocWh));
    }
    expect(AMPLE_FLEX_BUDGET > 10n ** 20n).to.equal(true);
    const pinnedInput = rollingInputAt(
      { ...data, options: { ...data.options, rollingCommit: "pinned" } },
      48,
      soc,
    );
    expect(pinnedInput.flex).to.equal(undefined);
    // Cautious owners (a diagnostic): the household heuristic's per-interval thresholds.
    const cautious = rollingInputAt(
      { ...data, options: { ...data.options, ownerLimits: "heuristic" } },
      48,
      soc,
    );
    for (const h of neighbourhood.households) {
      const entry = cautious.flex!.find((f) => f.batteryId === String(h.index + 1))!;
      const limits = batteryPriceThresholds(h, 3, options);
      expect(entry.maxChargePricePerKwh).to.equal(String(limits.chargeMaxPricePerKwh));
      expect(entry.minDischargePricePerKwh).to.equal(String(limits.dischargeMinPricePerKwh));
    }

    const highs = await loadHighs();
    const none = runPolicy(data, "none", highs);
    const live = runPolicy(data, "rolling", highs);
    const perfect = runPolicy(data, "perfect", highs);
    expect(live.cost < none.cost, "the flex-committed batteries save money").to.equal(true);
    expect(perfect.cost <= live.cost).to.equal(true);
    // Every committed step respects its order's price limit at the commit's zone price, under the
    // standing limits and under the cautious owners' narrower ones (which bind more often).
    const cautiousRun = runPolicy(
      { ...data, options: { ...data.options, ownerLimits: "heuristic" } },
      "rolling",
      highs,
    );
    const checks = [
      {
        run: live,
        limitsOf: (h: (typeof neighbourhood.households)[number]) =>
          standingOrderPriceLimits(h.battery!, options),
      },
      {
        run: cautiousRun,
        limitsOf: (h: (typeof neighbourhood.households)[number]) => batteryPriceThresholds(h, 3, options),
      },
    ];
    for (const { run, limitsOf } of checks) {
      let moved = 0;
      run.steps.forEach((steps, k) => {
        const price = run.commitPrices[k]!.find((p) => p.zone === 0)!.pricePerKwh;
        for (const h of neighbourhood.households) {
          const step = steps.get(h.id);
          if (step === undefined) continue;
          const limits = limitsOf(h);
          if (step.chargeWh > 0) expect(price).to.be.at.most(limits.chargeMaxPricePerKwh);
          if (step.dischargeWh > 0) expect(price).to.be.at.least(limits.dischargeMinPricePerKwh);
          if (step.chargeWh + step.dischargeWh > 0) moved++;
        }
      });
      expect(moved, "the batteries move").to.be.greaterThan(0);
    }
  });

  it("meterFollowing (a diagnostic): each battery adds its household's or its zone's share of the deviation to its committed move, within its limits", async () => {
    const { neighbourhood, data } = fourBatteryHomes(5, "2027-06-22", { mean: 0.35, stationarySd: 0.15 });
    const highs = await loadHighs();
    const run = (meterFollowing?: "household" | "zone") =>
      runPolicy(
        {
          ...data,
          options: {
            ...data.options,
            rollingCommit: "pinned",
            ...(meterFollowing ? { meterFollowing } : {}),
          },
        },
        "rolling",
        highs,
      );
    const plain = run();
    const first = data.intervals[data.dayStart]!;
    const deviation = (id: string) => {
      const h = first.households.find((x) => x.id === id)!;
      return h.actual.netWh - h.forecast.netWh;
    };
    const zoneDeviation = first.households.reduce((s, h) => s + h.actual.netWh - h.forecast.netWh, 0);
    const power = neighbourhood.households.reduce((s, h) => s + h.battery!.maxPowerW, 0);
    let deviated = 0;
    for (const mode of ["household", "zone"] as const) {
      const followed = run(mode);
      // Interval 0 starts from the same states of charge, so the plan's move is the same: the
      // followed move is it plus the deviation, clamped by power and state of charge.
      for (const h of neighbourhood.households) {
        const b = h.battery!;
        const p = plain.steps[0]!.get(h.id)!;
        const dev =
          mode === "household" ? deviation(h.id) : Math.round((zoneDeviation * b.maxPowerW) / power);
        if (dev !== 0) deviated++;
        const move = p.chargeWh - p.dischargeWh + dev;
        const f = followed.steps[0]!.get(h.id)!;
        expect(f.chargeWh, `${mode} ${h.id} charge`).to.equal(
          move > 0 ? Math.min(move, chargeHeadroomWh(b, b.initialSocWh, 900)) : 0,
        );
        expect(f.dischargeWh, `${mode} ${h.id} discharge`).to.equal(
          move < 0 ? Math.min(-move, dischargeHeadroomWh(b, b.initialSocWh, 900)) : 0,
        );
      }
    }
    expect(deviated, "the first interval has deviations to follow").to.be.greaterThan(0);
  });

  it("socSync: without following every sync plans the same day; with zone following the scheduled SoC drifts unless re-synchronised", async () => {
    const { data } = fourBatteryHomes(5, "2027-06-22", { mean: 0.35, stationarySd: 0.15 });
    const highs = await loadHighs();
    const run = (socSync: "exact" | "lag" | "none", following: boolean) =>
      runPolicy(
        {
          ...data,
          options: {
            ...data.options,
            rollingCommit: "pinned",
            socSync,
            ...(following ? { meterFollowing: "zone" as const } : {}),
          },
        },
        "rolling",
        highs,
      );
    // Without following every battery does its committed step, so the contract's SoC is the
    // physical one whatever re-synchronises it.
    const exact = run("exact", false);
    expect(exact.stepsShort).to.equal(0);
    for (const sync of ["lag", "none"] as const) {
      const other = run(sync, false);
      expect(other.cost, sync).to.equal(exact.cost);
      expect(other.stepsShort, sync).to.equal(0);
    }
    // Following moves the physical SoC off the schedule, so each sync plans from a different SoC
    // and commits a different day. Planned from the physical SoC ("exact") every step can be done.
    const followed = (["exact", "lag", "none"] as const).map((sync) => run(sync, true));
    expect(followed[0]!.stepsShort).to.equal(0);
    expect(new Set(followed.map((f) => f.cost)).size, "three different days").to.equal(3);
  });
});
