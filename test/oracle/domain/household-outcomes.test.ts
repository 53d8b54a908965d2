import { expect } from "chai";
import type { Address } from "viem";
import { householdOutcomes } from "../../../oracle/src/domain/household-outcomes.js";

const A = "0x00000000000000000000000000000000000000a1" as Address; // buyer with PV
const B = "0x00000000000000000000000000000000000000b2" as Address; // seller with battery
const G = "0x00000000000000000000000000000000000000c3" as Address; // the grid's account

describe("householdOutcomes", () => {
  const outcome = householdOutcomes({
    retailPerKwh: 300_000n,
    feedInPerKwh: 70_000n,
    households: [
      { address: A, class: "pv" },
      { address: B, class: "battery" },
    ],
    gridAccounts: [G],
    intervals: [
      {
        fills: [
          { owner: A, side: 0, amount: 150_000n }, // A buys 1 kWh at 0.15
          { owner: B, side: 1, amount: 150_000n }, // B sells it
          { owner: G, side: 1, amount: 299_999n }, // the grid supplies A's other kWh
        ],
        imbalances: [
          // A consumed 100 Wh more than scheduled: 30_000 at retail, 10_000 covered by its lock.
          { participant: A, deviationWh: -100n, charged: 10_000n, paid: 0n, uncovered: 20_000n },
          // B injected 200 Wh more than sold: 14_000 at feed-in, 4_000 still owed.
          { participant: B, deviationWh: 200n, charged: 0n, paid: 10_000n, uncovered: 4_000n },
          // The grid's account never appears; an unknown participant is not a household.
        ],
        readings: [
          { participant: A, injectedWh: 0n, consumedWh: 2_100n },
          { participant: B, injectedWh: 1_200n, consumedWh: 0n },
        ],
      },
    ],
  });

  it("counts the uncovered short charge as a cost and the owed long payment as income", () => {
    const [a, b] = outcome.households;
    expect(a!.netCost).to.equal(150_000n + 30_000n);
    expect(b!.netCost).to.equal(-150_000n - 14_000n);
  });

  it("bills the grid-alone case at retail (up) and feed-in (down) on the same readings", () => {
    const [a, b] = outcome.households;
    expect(a!.gridAloneCost).to.equal(630_000n); // 2.1 kWh × 0.30
    expect(b!.gridAloneCost).to.equal(-84_000n); // 1.2 kWh × 0.07
    expect(a!.saving).to.equal(630_000n - 180_000n);
    expect(b!.saving).to.equal(-84_000n + 164_000n);
  });

  it("summarises savings, the worst household and imbalance by class", () => {
    expect(outcome.count).to.equal(2);
    expect(outcome.netCost).to.equal(180_000n - 164_000n);
    expect(outcome.worseOff).to.equal(0);
    expect(outcome.savingMin).to.equal(80_000n);
    expect(outcome.savingMedian).to.equal(80_000n); // lower median of two
    expect(outcome.savingMax).to.equal(450_000n);
    expect(outcome.worst!.address).to.equal(B);
    expect(outcome.imbalanceWhByClass).to.deep.equal({ battery: 200n, pv: 100n, neither: 0n });
  });

  it("keeps the grid on its own line", () => {
    expect(outcome.grid).to.deep.equal({
      revenue: 299_999n + 20_000n,
      fillsNet: 299_999n,
      billedOutsideMarket: 20_000n,
    });
  });

  it("counts a household worse off beyond 2 % of its grid-alone bill", () => {
    const worse = householdOutcomes({
      retailPerKwh: 300_000n,
      feedInPerKwh: 70_000n,
      households: [{ address: A, class: "neither" }],
      gridAccounts: [],
      intervals: [
        {
          fills: [{ owner: A, side: 0, amount: 310_000n }],
          imbalances: [],
          readings: [{ participant: A, injectedWh: 0n, consumedWh: 1_000n }],
        },
      ],
    });
    expect(worse.worseOff).to.equal(1);
    expect(worse.worseOffBeyond2Percent).to.equal(1); // 10_000 > 2 % of 300_000 = 6_000
  });
});

describe("householdOutcomes › when a battery settles flexibility steps", () => {
  const outcome = householdOutcomes({
    retailPerKwh: 300_000n,
    feedInPerKwh: 70_000n,
    households: [
      { address: A, class: "pv" },
      { address: B, class: "battery" },
    ],
    gridAccounts: [G],
    intervals: [
      {
        fills: [],
        flexSteps: [
          { owner: B, batteryId: 0, direction: 0, energyWh: 1_000n, socWh: 5_950n, amount: 120_000n },
        ],
        imbalances: [],
        readings: [{ participant: B, injectedWh: 0n, consumedWh: 1_000n }],
      },
      {
        fills: [],
        flexSteps: [
          { owner: B, batteryId: 0, direction: 1, energyWh: 950n, socWh: 4_950n, amount: 190_000n },
        ],
        imbalances: [],
        readings: [{ participant: B, injectedWh: 950n, consumedWh: 0n }],
      },
    ],
  });
  const b = outcome.households.find((h) => h.address === B)!;

  it("adds its charges and subtracts its discharge credits in its net cost", () => {
    expect(b.flexNet).to.equal(120_000n - 190_000n);
    expect(b.netCost).to.equal(-70_000n);
    expect(outcome.flexNet).to.equal(-70_000n);
    expect(outcome.households.find((h) => h.address === A)!.flexNet).to.equal(0n);
  });

  it("compares it with the grid alone on the same readings", () => {
    expect(b.gridAloneCost).to.equal(300_000n - 66_500n);
    expect(b.saving).to.equal(300_000n - 66_500n + 70_000n);
  });
});
