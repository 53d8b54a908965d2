import { expect } from "chai";
import { type Address, type Hex, toHex } from "viem";
import {
  type ClearingOrder,
  flexIntervalSchedule,
  scheduleBudget,
} from "../../../../oracle/src/domain/clearing.js";
import { loadHighs, solveRollingInWorker } from "../../../../oracle/src/domain/dispatch/index.js";
import {
  FLEX_CHARGE,
  FLEX_DISCHARGE,
  flexBatteriesForPlan,
  flexCommitEntries,
  flexStepKey,
  flexStepViolations,
  type ActiveFlexOrder,
  type RegisteredBattery,
} from "../../../../oracle/src/domain/flexibility/index.js";
import {
  solveRollingHorizonSync,
  type RollingInput,
  type RollingResult,
} from "../../../../oracle/src/domain/rolling/index.js";
import { intervalBudget } from "../../../../oracle/src/domain/budget.js";
import { buildFillTree } from "../../../../oracle/src/domain/schedule.js";
import { Prng } from "../../../../oracle/src/domain/simulation/random.js";

const A = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Address;
const I = 500;
const SECONDS = 900n;
const GRID = A(0xf);
const OWNER = A(0xa1);

/** The rolling input's real orders as the chain gives them to the clearing rules. */
function clearingOrders(input: RollingInput): ClearingOrder[] {
  return input.orders.map((o) => ({
    orderId: toHex(BigInt(o.id), { size: 32 }),
    owner: o.owner,
    intervalId: BigInt(o.interval),
    side: o.side === "bid" ? 0 : 1,
    zoneId: o.zone,
    quantityWh: BigInt(o.quantityWh),
    limitPricePerKwh: BigInt(o.limitPricePerKwh),
  }));
}

function rollingWithFlex(
  base: Omit<RollingInput, "batteries" | "flex">,
  active: readonly ActiveFlexOrder[],
): RollingInput {
  return {
    ...base,
    batteries: flexBatteriesForPlan(active, SECONDS),
    flex: flexCommitEntries(active, SECONDS),
  };
}

/**
 * Two zones joined by a 500 Wh line (2% loss). Interval i: zone 0 has 1,000 Wh of PV offered at
 * 50,000 and the grid's offtake bid at 70,001; zone 1 a household bidding 280,000 for 400 Wh; the
 * grid supplies both at 299,999. Interval i+1 (forecast): 1,000 Wh of demand per zone at 250,000.
 * A flex battery in zone 0, empty, 1,000 Wh per interval, η 0.95/0.95: the plan charges from the
 * cheap surplus in i for the demand of i+1.
 */
const grid = (id: number, zone: number) => [
  {
    id: `${id}`,
    owner: GRID,
    zone,
    side: "offer" as const,
    quantityWh: 5_000,
    limitPricePerKwh: 299_999,
    interval: I,
  },
  {
    id: `${id + 1}`,
    owner: GRID,
    zone,
    side: "bid" as const,
    quantityWh: 3_000,
    limitPricePerKwh: 70_001,
    interval: I,
  },
];
const twoZones: Omit<RollingInput, "batteries" | "flex"> = {
  interval: I,
  horizon: 2,
  zones: [0, 1],
  lines: [{ from: 0, to: 1, capacityWh: 500, lossFactor: 0.02, feePerKwh: 0 }],
  orders: [
    {
      id: "1",
      owner: A(1),
      zone: 0,
      side: "offer",
      quantityWh: 1_000,
      limitPricePerKwh: 50_000,
      interval: I,
    },
    { id: "2", owner: A(2), zone: 1, side: "bid", quantityWh: 400, limitPricePerKwh: 280_000, interval: I },
    ...grid(10, 0),
    ...grid(20, 1),
  ],
  forecast: [0, 1].map((zone) => ({
    intervalId: I + 1,
    zone,
    bidWh: 1_000,
    bidPricePerKwh: 250_000,
    offerWh: 0,
    offerPricePerKwh: 0,
  })),
  grid: { supplyPricePerKwh: 299_999, offtakePricePerKwh: 70_001 },
  endValuePerKwh: 70_001,
};

const homeBattery: RegisteredBattery = {
  owner: OWNER,
  zoneId: 0,
  capacityWh: 2_000n,
  maxChargeW: 4_000n,
  maxDischargeW: 4_000n,
  chargeEfficiencyBps: 9_500,
  dischargeEfficiencyBps: 9_500,
  minSocWh: 0n,
  maxSocWh: 2_000n,
};
const ORDER_ID = `0x${"5a".repeat(32)}` as Hex;
const flexOrder = (maxChargePricePerKwh: bigint): ActiveFlexOrder => ({
  orderId: ORDER_ID,
  order: {
    owner: OWNER,
    batteryId: 7,
    firstInterval: BigInt(I),
    lastInterval: BigInt(I + 95),
    maxChargePricePerKwh,
    minDischargePricePerKwh: 200_000n,
    chargeBudget: 1_000_000n,
    initialSocWh: 0n,
    nonce: 0n,
  },
  spent: 0n,
  socWh: 0n,
  battery: homeBattery,
});

describe("flexibility orders in the rolling horizon", function () {
  this.timeout(300_000);

  describe("solveRollingHorizonSync with a flex battery", () => {
    it("commits the planned charge as a step at a zone price within the order's maximum", async () => {
      const highs = await loadHighs();
      const active = [flexOrder(100_000n)];
      const input = rollingWithFlex(twoZones, active);
      const r = solveRollingHorizonSync(input, highs);
      const s = flexIntervalSchedule(clearingOrders(input), 2, r, active);
      const [step] = s.flexSteps;
      expect(step!.direction).to.equal(FLEX_CHARGE);
      expect(step!.energyWh > 0n, `a charge, got ${step!.energyWh} Wh`).to.equal(true);
      expect(s.zonePrices[0]! <= 100_000n, `zone 0 price ${s.zonePrices[0]}`).to.equal(true);
      expect(flexStepViolations(s.flexSteps, active, s.zonePrices, SECONDS)).to.deep.equal([]);
      // The battery's step in the result is the synthetic fill, with the contract's SoC rule.
      const b = r.batteries.find((x) => x.batteryId === "7")!;
      expect(b).to.deep.equal({
        batteryId: "7",
        chargeWh: Number(step!.energyWh),
        dischargeWh: 0,
        socWh: Number((step!.energyWh * 9_500n) / 10_000n),
      });
      expect(r.flexFills).to.deep.equal([
        { orderId: BigInt(flexStepKey(ORDER_ID, FLEX_CHARGE)).toString(), filledWh: Number(step!.energyWh) },
      ]);
      expect(
        r.fills.map((f) => f.orderId),
        "fills holds the real orders only",
      ).to.have.members(input.orders.map((o) => o.id));
      expect(s.fillCount).to.equal(input.orders.length + 1);
      expect(scheduleBudget(s).balanced).to.equal(true);
      // Same input, same bytes.
      expect(JSON.stringify(solveRollingHorizonSync(input, highs), noStats)).to.equal(
        JSON.stringify(r, noStats),
      );
    });

    it("steps 0 Wh (a Charge of 0, no violation) when the maximum is below the zone's clearing price", async () => {
      const active = [flexOrder(60_000n)];
      const input = rollingWithFlex(twoZones, active);
      const r = solveRollingHorizonSync(input, await loadHighs());
      const s = flexIntervalSchedule(clearingOrders(input), 2, r, active);
      expect(s.zonePrices[0]! > 60_000n, `zone 0 clears at ${s.zonePrices[0]}, above the limit`).to.equal(
        true,
      );
      expect(s.flexSteps.map((x) => [x.direction, x.energyWh])).to.deep.equal([[FLEX_CHARGE, 0n]]);
      expect(s.flexSteps[0]!.leaf).to.deep.equal({
        orderId: flexStepKey(ORDER_ID, FLEX_CHARGE),
        filledWh: 0n,
      });
      expect(flexStepViolations(s.flexSteps, active, s.zonePrices, SECONDS)).to.deep.equal([]);
      // The plan still wanted to charge: the synthetic bid was there and did not clear.
      expect(r.flexFills).to.deep.equal([
        { orderId: BigInt(flexStepKey(ORDER_ID, FLEX_CHARGE)).toString(), filledWh: 0 },
      ]);
    });

    it("gives a sold battery a 0 Wh leaf and leaves it out of the plan", async () => {
      const sold: ActiveFlexOrder = { ...flexOrder(100_000n), battery: { ...homeBattery, owner: A(0xb2) } };
      const input = rollingWithFlex(twoZones, [sold]);
      expect(input.batteries).to.deep.equal([]);
      const r = solveRollingHorizonSync(input, await loadHighs());
      const s = flexIntervalSchedule(clearingOrders(input), 2, r, [sold]);
      expect(s.flexSteps.map((x) => x.leaf)).to.deep.equal([
        { orderId: flexStepKey(ORDER_ID, FLEX_CHARGE), filledWh: 0n },
      ]);
      expect(s.fillCount).to.equal(input.orders.length + 1);
    });

    it("gives the same result on the solver thread", async () => {
      const input = rollingWithFlex(twoZones, [flexOrder(100_000n)]);
      const [inWorker, inThread] = await Promise.all([
        solveRollingInWorker(input),
        loadHighs().then((h) => solveRollingHorizonSync(input, h)),
      ]);
      expect(inWorker.flexFills, "the synthetic fills cross the thread").to.have.length(1);
      expect({ ...inWorker, stats: undefined }).to.deep.equal({ ...inThread, stats: undefined });
    });

    it("rejects a flex entry for a battery the input does not list, naming it", async () => {
      const input = rollingWithFlex(twoZones, [flexOrder(100_000n)]);
      expect(() => solveRollingHorizonSync({ ...input, batteries: [] }, undefined as never)).to.throw(
        /flex\.0\.batteryId: must be one of the batteries, got 7/,
      );
    });

    it("rejects one order on two batteries, naming the entry", () => {
      const input = rollingWithFlex(twoZones, [flexOrder(100_000n)]);
      const second = { ...input.batteries![0]!, id: "8" };
      const flex = [...input.flex!, { ...input.flex![0]!, batteryId: "8" }];
      expect(() =>
        solveRollingHorizonSync(
          { ...input, batteries: [...input.batteries!, second], flex },
          undefined as never,
        ),
      ).to.throw(/flex\.1\.orderId: duplicate order 0x5a5a/);
    });
  });

  describe("property: random instances with flex batteries", () => {
    it("200 cases: one leaf per active order, every step passes checkFlexStep, budget and zone balance exact", async () => {
      const highs = await loadHighs();
      const rng = new Prng(1414);
      let moving = 0;
      let charging = 0;
      let discharging = 0;
      let pinned = 0;
      for (let n = 0; n < 200; n++) {
        const { input, active } = randomCase(rng, n);
        const at = `case ${n}`;
        const r = solveRollingHorizonSync(input, highs);
        const orders = clearingOrders(input);
        const s = flexIntervalSchedule(orders, input.zones.length, r, active);

        // One leaf per active order, each under its own step key, all in the tree.
        expect(s.flexSteps.length, at).to.equal(active.length);
        expect(s.fillCount, at).to.equal(orders.length + active.length);
        const keys = s.flexSteps.map((x) => x.leaf.orderId);
        for (const a of active) {
          const mine = [flexStepKey(a.orderId, FLEX_CHARGE), flexStepKey(a.orderId, FLEX_DISCHARGE)];
          expect(
            keys.filter((k) => mine.includes(k)),
            `${at}: leaves of ${a.orderId}`,
          ).to.have.length(1);
        }
        const tree = buildFillTree([
          ...orders.map((o, k) => ({ orderId: o.orderId, filledWh: s.filledWh[k]! })),
          ...s.flexSteps.map((x) => x.leaf),
        ]);
        expect(tree.root, at).to.equal(s.scheduleRoot);
        expect(tree.length, at).to.equal(s.fillCount);
        const ids = s.flexSteps.map((x) => x.batteryId);
        expect(ids, `${at}: ascending battery ids`).to.deep.equal([...ids].sort((x, y) => x - y));

        // Every step settles, the interval's budget holds in integers.
        expect(flexStepViolations(s.flexSteps, active, s.zonePrices, SECONDS), at).to.deep.equal([]);
        // (The battery without an order is not an order on-chain: the dispatch engine's budget
        // counts it as a buyer when charging and a seller when discharging, docs/DISPATCH.md.)
        const budget = scheduleBudget(s);
        const other = r.batteries.find((x) => x.batteryId === "1000");
        const otherZone = input.batteries!.find((b) => b.id === "1000")?.zone ?? 0;
        const extra =
          other === undefined
            ? { receipts: 0n, payouts: 0n }
            : intervalBudget(s.zonePrices, [
                { side: "bid", zone: otherZone, filledWh: BigInt(other.chargeWh) },
                { side: "offer", zone: otherZone, filledWh: BigInt(other.dischargeWh) },
              ]);
        expect(
          budget.payouts + extra.payouts <= budget.receipts + extra.receipts,
          `${at}: ${JSON.stringify({ budget, extra }, big)}`,
        ).to.equal(true);
        if (other === undefined) expect(budget.balanced, at).to.equal(true);

        // Each zone balances exactly: offers + discharges + imports = bids + charges + exports.
        expectZoneBalance(input, r, s.flexSteps, at);
        if (other !== undefined && other.chargeWh + other.dischargeWh > 0) pinned++;
        expect(
          r.batteries.map((x) => x.batteryId),
          `${at}: every battery has a step`,
        ).to.have.length(input.batteries!.length);
        for (const x of s.flexSteps) {
          if (x.energyWh > 0n) moving++;
          if (x.energyWh > 0n && x.direction === FLEX_CHARGE) charging++;
          if (x.direction === FLEX_DISCHARGE) discharging++;
        }
      }
      // The property is not vacuous: batteries did move, both ways.
      expect(moving, "steps with energy").to.be.greaterThan(50);
      expect(charging, "charges").to.be.greaterThan(10);
      expect(discharging, "discharges").to.be.greaterThan(10);
      expect(pinned, "pinned batteries that moved").to.be.greaterThan(5);
    });
  });
});

function noStats(key: string, value: unknown) {
  return key === "stats" ? undefined : value;
}

function big(_: string, v: unknown) {
  return typeof v === "bigint" ? v.toString() : v;
}

function expectZoneBalance(
  input: RollingInput,
  r: RollingResult,
  steps: readonly { zoneId: number | null; direction: number; energyWh: bigint }[],
  at: string,
): void {
  const net = new Map<number, bigint>(input.zones.map((z) => [z, 0n])); // supply − demand
  const add = (zone: number, wh: bigint) => net.set(zone, net.get(zone)! + wh);
  const filled = new Map(r.fills.map((f) => [f.orderId, BigInt(f.filledWh)]));
  for (const o of input.orders) add(o.zone, o.side === "offer" ? filled.get(o.id)! : -filled.get(o.id)!);
  for (const x of steps)
    if (x.energyWh > 0n) add(x.zoneId!, x.direction === FLEX_DISCHARGE ? x.energyWh : -x.energyWh);
  const flexIds = new Set((input.flex ?? []).map((f) => f.batteryId));
  for (const b of input.batteries ?? []) {
    if (flexIds.has(b.id)) continue; // counted through its step
    const step = r.batteries.find((x) => x.batteryId === b.id)!;
    add(b.zone, BigInt(step.dischargeWh - step.chargeWh));
  }
  for (const f of r.flows) {
    add(f.from, -BigInt(f.sentWh));
    add(f.to, BigInt(f.receivedWh));
  }
  for (const [zone, e] of net) expect(e, `${at}: zone ${zone} imbalance`).to.equal(0n);
}

/** 2–3 zones in a chain, 1–4 intervals, grid orders, households, 1–4 flex orders (some sold or gone). */
function randomCase(rng: Prng, n: number): { input: RollingInput; active: ActiveFlexOrder[] } {
  const zoneCount = rng.integerIn(2, 3);
  const zones = Array.from({ length: zoneCount }, (_, z) => z);
  const horizon = rng.integerIn(1, 4);
  const lines = zones.slice(1).map((z) => ({
    from: z - 1,
    to: z,
    capacityWh: rng.integerIn(0, 2_000),
    lossFactor: rng.integerIn(0, 500) / 10_000,
    feePerKwh: rng.integerIn(0, 2_000),
  }));
  let id = 1;
  const orders: RollingInput["orders"] = [];
  for (const zone of zones) {
    if (rng.bernoulli(0.8)) {
      orders.push({
        id: `${id++}`,
        owner: GRID,
        zone,
        side: "offer",
        quantityWh: 10_000,
        limitPricePerKwh: 299_999,
        interval: I,
      });
      orders.push({
        id: `${id++}`,
        owner: GRID,
        zone,
        side: "bid",
        quantityWh: 10_000,
        limitPricePerKwh: 70_001,
        interval: I,
      });
    }
    for (let k = rng.integerIn(0, 4); k > 0; k--)
      orders.push({
        id: `${id++}`,
        owner: A(100 + id),
        zone,
        side: rng.bernoulli(0.5) ? "bid" : "offer",
        quantityWh: rng.integerIn(50, 2_000),
        limitPricePerKwh: rng.integerIn(60_000, 290_000),
        interval: I,
      });
  }
  const forecast = [];
  for (let t = I + 1; t < I + horizon; t++)
    for (const zone of zones)
      forecast.push({
        intervalId: t,
        zone,
        bidWh: rng.integerIn(0, 3_000),
        bidPricePerKwh: rng.integerIn(100_000, 280_000),
        offerWh: rng.integerIn(0, 3_000),
        offerPricePerKwh: rng.integerIn(50_000, 150_000),
      });
  const batteryIds = new Set<number>();
  while (batteryIds.size < rng.integerIn(1, 4)) batteryIds.add(rng.integerIn(0, 40));
  const active = [...batteryIds].map((batteryId, k): ActiveFlexOrder => {
    const capacity = rng.integerIn(1_000, 15_000);
    const min = rng.integerIn(0, Math.floor(capacity / 5));
    const max = rng.integerIn(min, capacity);
    const owner = A(0xa00 + k);
    const gone = rng.bernoulli(0.05);
    const sold = rng.bernoulli(0.1);
    const budget = rng.integerIn(0, 300_000);
    return {
      orderId: toHex(BigInt(n) * 1000n + BigInt(batteryId) + 1n, { size: 32 }),
      order: {
        owner,
        batteryId,
        firstInterval: BigInt(I - rng.integerIn(0, 10)),
        lastInterval: BigInt(I + 50),
        maxChargePricePerKwh: BigInt(rng.integerIn(0, 300_000)),
        minDischargePricePerKwh: BigInt(rng.integerIn(0, 300_000)),
        chargeBudget: BigInt(budget),
        initialSocWh: BigInt(min),
        nonce: 0n,
      },
      spent: BigInt(rng.integerIn(0, budget)),
      socWh: BigInt(rng.integerIn(min, max)),
      battery: gone
        ? null
        : {
            owner: sold ? A(0xb00 + k) : owner,
            zoneId: rng.integerIn(0, zoneCount - 1),
            capacityWh: BigInt(capacity),
            maxChargeW: BigInt(rng.integerIn(0, 8_000)),
            maxDischargeW: BigInt(rng.integerIn(0, 8_000)),
            chargeEfficiencyBps: rng.integerIn(7_000, 10_000),
            dischargeEfficiencyBps: rng.integerIn(7_000, 10_000),
            minSocWh: BigInt(min),
            maxSocWh: BigInt(max),
          },
    };
  });
  const base = {
    interval: I,
    horizon,
    zones,
    lines,
    orders,
    forecast,
    grid: { supplyPricePerKwh: 299_999, offtakePricePerKwh: 70_001 },
    endValuePerKwh: 70_001,
  };
  const input = rollingWithFlex(base, active);
  // Sometimes a battery without a flexibility order too: the commit pins it as before.
  if (rng.bernoulli(0.3)) {
    const capacity = rng.integerIn(1_000, 10_000);
    input.batteries = [
      ...(input.batteries ?? []),
      {
        id: "1000",
        owner: A(0xc00),
        zone: rng.integerIn(0, zoneCount - 1),
        capacityWh: capacity,
        maxChargeWh: rng.integerIn(0, 2_000),
        maxDischargeWh: rng.integerIn(0, 2_000),
        chargeEfficiency: 0.95,
        dischargeEfficiency: 0.95,
        minSocWh: 0,
        maxSocWh: capacity,
        initialSocWh: rng.integerIn(0, capacity),
        endSocWh: 0,
        degradationCostPerKwh: 0,
      },
    ];
  }
  return { input, active };
}
