import { expect } from "chai";
import { AbiCoder, keccak256 as ethersKeccak } from "ethers";
import type { Address, Hex } from "viem";
import {
  FLEX_CHARGE,
  FLEX_DISCHARGE,
  checkFlexStep,
  flexBatteriesForPlan,
  flexCommitEntries,
  flexCommitOrders,
  flexStepKey,
  flexSteps,
  socAfterStep,
  stepLimits,
  type ActiveFlexOrder,
} from "../../../../oracle/src/domain/flexibility/index.js";
import { BudgetExceededError } from "../../../../oracle/src/domain/budget.js";
import { assertScheduleBudget, scheduleBudget } from "../../../../oracle/src/domain/clearing.js";
import { ZERO_DIGEST } from "../../../../oracle/src/domain/schedule.js";
import { ORDER_ID, OWNER, SECONDS, active, battery } from "./fixtures.js";
import { Prng } from "../../../../oracle/src/domain/simulation/random.js";

const OTHER = "0x00000000000000000000000000000000000000b2" as Address;

describe("flexibility rules", () => {
  describe("flexStepKey", () => {
    it("is keccak256(abi.encode(bytes32 orderId, uint8 direction)), as an independent encoder computes it", () => {
      const coder = AbiCoder.defaultAbiCoder();
      for (const d of [FLEX_CHARGE, FLEX_DISCHARGE] as const)
        expect(flexStepKey(ORDER_ID, d)).to.equal(
          ethersKeccak(coder.encode(["bytes32", "uint8"], [ORDER_ID, d])),
        );
      expect(flexStepKey(ORDER_ID, FLEX_CHARGE)).to.not.equal(flexStepKey(ORDER_ID, FLEX_DISCHARGE));
    });
  });

  describe("socAfterStep", () => {
    const eta = { chargeEfficiencyBps: 9_500, dischargeEfficiencyBps: 9_500 };
    it("stores floor(c × 9,500 / 10,000): charging 1,000 Wh stores 950, 999 Wh stores 949", () => {
      expect(socAfterStep(0n, FLEX_CHARGE, 1_000n, eta)).to.equal(950n);
      expect(socAfterStep(0n, FLEX_CHARGE, 999n, eta)).to.equal(949n); // 949.05 rounded down
    });
    it("takes ceil(g × 10,000 / 9,500): discharging 950 Wh takes 1,000, 951 Wh takes 1,002", () => {
      expect(socAfterStep(1_000n, FLEX_DISCHARGE, 950n, eta)).to.equal(0n);
      expect(socAfterStep(2_000n, FLEX_DISCHARGE, 951n, eta)).to.equal(998n); // 1,001.05 rounded up
    });
    it("goes negative when a discharge takes more than is stored (the contract's int256)", () => {
      expect(socAfterStep(999n, FLEX_DISCHARGE, 950n, eta)).to.equal(-1n);
    });
  });

  describe("stepLimits", () => {
    it("is the power at a mid state of charge: 4 kW × 900 s = 1,000 Wh in, 2 kW = 500 Wh out", () => {
      // SoC room 4,000 Wh in (4,211 Wh grid side) and 4,000 Wh out (3,800 Wh grid side): power binds.
      expect(stepLimits(active(), SECONDS)).to.deep.equal({ maxChargeWh: 1_000n, maxDischargeWh: 500n });
    });
    it("floors the power: 1,001 W over 900 s is 250 Wh (250.25)", () => {
      const b = battery({ maxChargeW: 1_001n, maxDischargeW: 1_001n });
      expect(stepLimits(active({ battery: b }), SECONDS)).to.deep.equal({
        maxChargeWh: 250n,
        maxDischargeWh: 250n,
      });
    });
    it("near full: 400 Wh of room takes 422 Wh (floor(422 × 0.95) = 400; 423 would store 401)", () => {
      const l = stepLimits(active({ socWh: 8_600n }), SECONDS);
      expect(l.maxChargeWh).to.equal(422n);
      expect(socAfterStep(8_600n, FLEX_CHARGE, 422n, battery())).to.equal(9_000n);
      expect(socAfterStep(8_600n, FLEX_CHARGE, 423n, battery())).to.equal(9_001n);
    });
    it("full: only the 1 Wh that stores floor(0.95) = 0 (the contract accepts it), discharge at power", () => {
      expect(stepLimits(active({ socWh: 9_000n }), SECONDS)).to.deep.equal({
        maxChargeWh: 1n,
        maxDischargeWh: 500n,
      });
      expect(stepLimits(active({ socWh: 9_001n }), SECONDS).maxChargeWh, "above the bound").to.equal(0n);
    });
    it("near empty: 200 Wh above the floor gives 190 Wh (ceil(190 / 0.95) = 200; 191 would take 202)", () => {
      expect(stepLimits(active({ socWh: 1_200n }), SECONDS)).to.deep.equal({
        maxChargeWh: 1_000n,
        maxDischargeWh: 190n,
      });
    });
    it("empty: no discharge", () => {
      expect(stepLimits(active({ socWh: 1_000n }), SECONDS).maxDischargeWh).to.equal(0n);
    });
    it("budget: 30,000 left at 200,000 per kWh buys 150 Wh (ceil(200,000 × 150 / 1,000) = 30,000)", () => {
      const a = active({ spent: 20_000n }, { chargeBudget: 50_000n });
      expect(stepLimits(a, SECONDS)).to.deep.equal({ maxChargeWh: 150n, maxDischargeWh: 500n });
    });
    it("budget: 1 base unit left buys 0 Wh at 200,000 per kWh and 5 Wh at 200 (ceil(200 × 5 / 1,000) = 1)", () => {
      expect(stepLimits(active({ spent: 49_999n }, { chargeBudget: 50_000n }), SECONDS).maxChargeWh).to.equal(
        0n,
      );
      const cheap = active({ spent: 49_999n }, { chargeBudget: 50_000n, maxChargePricePerKwh: 200n });
      expect(stepLimits(cheap, SECONDS).maxChargeWh).to.equal(5n);
    });
    it("budget spent: no charge; a maximum price of 0 puts no budget limit", () => {
      expect(stepLimits(active({ spent: 50_000n }, { chargeBudget: 50_000n }), SECONDS).maxChargeWh).to.equal(
        0n,
      );
      const free = active({ spent: 0n }, { chargeBudget: 1n, maxChargePricePerKwh: 0n });
      expect(stepLimits(free, SECONDS).maxChargeWh).to.equal(1_000n);
    });
    it("owner changed or battery removed: nothing either way", () => {
      const none = { maxChargeWh: 0n, maxDischargeWh: 0n };
      expect(stepLimits(active({ battery: battery({ owner: OTHER }) }), SECONDS)).to.deep.equal(none);
      expect(stepLimits(active({ battery: null }), SECONDS)).to.deep.equal(none);
    });
    it("compares owners without regard to address case", () => {
      const a = active({ battery: battery({ owner: OWNER.toUpperCase().replace("0X", "0x") as Address }) });
      expect(stepLimits(a, SECONDS).maxChargeWh).to.equal(1_000n);
    });
  });

  describe("checkFlexStep", () => {
    const check = (a: ActiveFlexOrder, direction: 0 | 1, energyWh: bigint, price = 100_000n) =>
      checkFlexStep({ active: a, direction, energyWh, zonePricePerKwh: price, intervalSeconds: SECONDS });

    it("accepts a step at each limit and names the error one Wh past it", () => {
      expect(check(active(), FLEX_CHARGE, 1_000n)).to.equal(null);
      expect(check(active(), FLEX_CHARGE, 1_001n)).to.equal("ExceedsPower");
      expect(check(active(), FLEX_DISCHARGE, 500n, 150_000n)).to.equal(null);
      expect(check(active(), FLEX_DISCHARGE, 501n, 150_000n)).to.equal("ExceedsPower");
      expect(check(active({ socWh: 8_600n }), FLEX_CHARGE, 423n)).to.equal("SocOutOfBounds");
      expect(check(active({ socWh: 1_200n }), FLEX_DISCHARGE, 191n, 150_000n)).to.equal("SocOutOfBounds");
      const budget = active({ spent: 20_000n }, { chargeBudget: 50_000n });
      expect(check(budget, FLEX_CHARGE, 150n, 200_000n)).to.equal(null);
      expect(check(budget, FLEX_CHARGE, 151n, 200_000n)).to.equal("FlexBudgetExceeded");
    });
    it("checks the price against the order's limits, but not for a 0 Wh step", () => {
      expect(check(active(), FLEX_CHARGE, 10n, 200_000n)).to.equal(null);
      expect(check(active(), FLEX_CHARGE, 10n, 200_001n)).to.equal("FlexPriceOutsideLimit");
      expect(check(active(), FLEX_DISCHARGE, 10n, 149_999n)).to.equal("FlexPriceOutsideLimit");
      expect(check(active(), FLEX_CHARGE, 0n, 999_999n)).to.equal(null);
    });
    it("accepts a 0 Wh step whatever the state of charge, as the contract (which checks nothing for it)", () => {
      // The registry's SoC bounds may have moved since the order was placed: a SoC outside them
      // still takes an idle step on chain (FlexibilityMarket._settleStep), so the committee must
      // not refuse to sign one.
      expect(check(active({ socWh: 9_500n }), FLEX_CHARGE, 0n)).to.equal(null);
      expect(check(active({ socWh: 500n }), FLEX_CHARGE, 0n)).to.equal(null);
      expect(check(active({ socWh: 9_500n }), FLEX_CHARGE, 1n)).to.equal("SocOutOfBounds");
    });

    it("lets a battery that changed owner or was removed take only a 0 Wh step", () => {
      expect(check(active({ battery: battery({ owner: OTHER }) }), FLEX_CHARGE, 1n)).to.equal(
        "BatteryOwnerChanged",
      );
      expect(check(active({ battery: null }), FLEX_DISCHARGE, 1n)).to.equal("BatteryOwnerChanged");
      expect(check(active({ battery: battery({ owner: OTHER }) }), FLEX_CHARGE, 0n)).to.equal(null);
      expect(check(active({ battery: null }), FLEX_CHARGE, 0n)).to.equal(null);
    });

    it("on 500 random batteries and orders, stepLimits is exactly the largest step that passes", () => {
      const rng = new Prng(14);
      for (let n = 0; n < 500; n++) {
        const min = BigInt(rng.integerIn(0, 2_000));
        const max = min + BigInt(rng.integerIn(0, 20_000));
        const b = battery({
          capacityWh: max + BigInt(rng.integerIn(0, 100)),
          maxChargeW: BigInt(rng.integerIn(0, 30_000)),
          maxDischargeW: BigInt(rng.integerIn(0, 30_000)),
          chargeEfficiencyBps: rng.integerIn(1, 10_000),
          dischargeEfficiencyBps: rng.integerIn(1, 10_000),
          minSocWh: min,
          maxSocWh: max,
        });
        const budget = BigInt(rng.integerIn(0, 400_000));
        const a = active(
          {
            battery: b,
            socWh: min + BigInt(rng.integerIn(0, Number(max - min))),
            spent: BigInt(rng.integerIn(0, Number(budget))),
          },
          {
            chargeBudget: budget,
            maxChargePricePerKwh: BigInt(rng.integerIn(0, 400_000)),
            minDischargePricePerKwh: 0n,
          },
        );
        const price = a.order.maxChargePricePerKwh; // the worst a filled charge pays
        const l = stepLimits(a, SECONDS);
        const at = `case ${n}: ${JSON.stringify(a, (_, v) => (typeof v === "bigint" ? v.toString() : v))}`;
        expect(check(a, FLEX_CHARGE, l.maxChargeWh, price), at).to.equal(null);
        expect(check(a, FLEX_CHARGE, l.maxChargeWh + 1n, price), at).to.not.equal(null);
        expect(check(a, FLEX_DISCHARGE, l.maxDischargeWh, 0n), at).to.equal(null);
        expect(check(a, FLEX_DISCHARGE, l.maxDischargeWh + 1n, 0n), at).to.not.equal(null);
      }
    });
  });

  describe("plan and commit inputs", () => {
    const sold = active(
      { orderId: `0x${"cd".repeat(32)}` as Hex, battery: battery({ owner: OTHER }) },
      { batteryId: 3 },
    );

    it("flexBatteriesForPlan: the registered battery from its scheduled SoC, without sold or removed ones", () => {
      expect(flexBatteriesForPlan([active(), sold], SECONDS)).to.deep.equal([
        {
          id: "7",
          owner: OWNER,
          zone: 1,
          capacityWh: 10_000,
          maxChargeWh: 1_000,
          maxDischargeWh: 500,
          chargeEfficiency: 0.95,
          dischargeEfficiency: 0.95,
          minSocWh: 1_000,
          maxSocWh: 9_000,
          initialSocWh: 5_000,
          endSocWh: 1_000,
          degradationCostPerKwh: 0,
        },
      ]);
    });

    it("flexCommitOrders: a bid of the clamped charge at the maximum price, id = the charge step key", () => {
      const a = active({ spent: 20_000n }, { chargeBudget: 50_000n }); // 150 Wh of budget left
      const orders = flexCommitOrders(
        100,
        [a, sold],
        new Map([
          ["7", 900.4],
          ["3", 500],
        ]),
        SECONDS,
      );
      expect(orders).to.deep.equal([
        {
          id: BigInt(flexStepKey(ORDER_ID, FLEX_CHARGE)).toString(),
          owner: OWNER,
          zone: 1,
          side: "bid",
          quantityWh: 150,
          limitPricePerKwh: 200_000,
          interval: 100,
        },
      ]);
    });

    it("flexCommitOrders: an offer of the planned discharge at the minimum price; none for a 0 Wh move", () => {
      const [offer] = flexCommitOrders(100, [active()], new Map([["7", -320.9999999]]), SECONDS);
      expect(offer).to.include({ side: "offer", quantityWh: 321, limitPricePerKwh: 150_000 });
      expect(offer!.id).to.equal(BigInt(flexStepKey(ORDER_ID, FLEX_DISCHARGE)).toString());
      expect(flexCommitOrders(100, [active()], new Map([["7", 0.4]]), SECONDS)).to.deep.equal([]);
    });

    it("flexCommitEntries: the caps of stepLimits and the order's prices as decimal strings", () => {
      const [e] = flexCommitEntries([active({ socWh: 8_600n })], SECONDS);
      expect(e).to.deep.equal({
        batteryId: "7",
        orderId: ORDER_ID,
        maxChargePricePerKwh: "200000",
        minDischargePricePerKwh: "150000",
        maxChargeWh: 422,
        maxDischargeWh: 500,
        socWh: 8_600,
        chargeEfficiencyBps: 9_500,
        dischargeEfficiencyBps: 9_500,
      });
    });
  });

  describe("flexSteps", () => {
    it("gives one step per active order in ascending battery id, 0 Wh as a Charge of 0", () => {
      const second = active({ orderId: `0x${"01".repeat(32)}` as Hex, battery: null }, { batteryId: 2 });
      const key = BigInt(flexStepKey(ORDER_ID, FLEX_DISCHARGE)).toString();
      const steps = flexSteps([active(), second], [{ orderId: key, filledWh: 475 }]);
      expect(steps.map((s) => [s.batteryId, s.direction, s.energyWh, s.socWh])).to.deep.equal([
        [2, FLEX_CHARGE, 0n, 5_000n],
        [7, FLEX_DISCHARGE, 475n, 4_500n], // ceil(475 / 0.95) = 500
      ]);
      expect(steps[0]!.leaf).to.deep.equal({
        orderId: flexStepKey(second.orderId, FLEX_CHARGE),
        filledWh: 0n,
      });
      expect(steps[1]!.leaf).to.deep.equal({
        orderId: flexStepKey(ORDER_ID, FLEX_DISCHARGE),
        filledWh: 475n,
      });
    });

    it("rejects two active orders on one battery, and a charge and a discharge in one interval", () => {
      expect(() => flexSteps([active(), active({ orderId: `0x${"02".repeat(32)}` as Hex })], []))
        .to.throw(/share a battery/)
        .with.property("field", "active.order.batteryId");
      const both = [
        { orderId: BigInt(flexStepKey(ORDER_ID, FLEX_CHARGE)).toString(), filledWh: 1 },
        { orderId: BigInt(flexStepKey(ORDER_ID, FLEX_DISCHARGE)).toString(), filledWh: 1 },
      ];
      expect(() => flexSteps([active()], both)).to.throw(/both charges and discharges/);
    });
  });
});

describe("the budget rule with flexibility steps", () => {
  const step = (batteryId: number, direction: 0 | 1, energyWh: bigint, zoneId: number | null = 1) => ({
    orderId: ORDER_ID,
    batteryId,
    zoneId,
    direction,
    energyWh,
    socWh: 0n,
    leaf: { orderId: flexStepKey(ORDER_ID, direction), filledWh: energyWh },
  });
  const schedule = (flexSteps: ReturnType<typeof step>[]) => ({
    orders: [],
    filledWh: [],
    zonePrices: [0n, 70_001n],
    scheduleRoot: ZERO_DIGEST,
    flexSteps,
  });

  it("charges a charge like a bid (rounded up) and pays a discharge like an offer (rounded down)", () => {
    // 70,001 × 591 / 1,000 = 41,370.591 → 41,371 charged; 70,001 × 333 / 1,000 = 23,310.333 → 23,310 paid.
    expect(
      scheduleBudget(schedule([step(1, FLEX_CHARGE, 591n), step(2, FLEX_DISCHARGE, 333n)])),
    ).to.deep.equal({
      receipts: 41_371n,
      payouts: 23_310n,
      balanced: true,
    });
  });

  it("refuses a schedule whose discharges are paid by nobody, and needs no price for a 0 Wh step", () => {
    expect(() => assertScheduleBudget(5n, schedule([step(2, FLEX_DISCHARGE, 333n)]))).to.throw(
      BudgetExceededError,
    );
    expect(scheduleBudget(schedule([step(3, FLEX_CHARGE, 0n, null)])).balanced).to.equal(true);
  });
});
