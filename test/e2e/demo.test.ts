import { expect } from "chai";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../oracle/src/devnet/local-services.js";
import { FLEX_CHARGE, FLEX_DISCHARGE } from "../../oracle/src/domain/flexibility/types.js";
import { socAfterStep } from "../../oracle/src/domain/flexibility/rules.js";

interface RecordJson {
  intervalId: string;
  final: boolean;
  zonePrices: string[];
  problem?: string;
  zones: { bought: string; sold: string; gridSupply: string; gridOfftake: string }[];
  certificatesWh: string;
  certificatesIssuedWh: string;
  renewableDeliveredWh: string;
  buyers: number;
  ledger: {
    fills: { owner: string; side: number; filledWh: string; amount: string }[];
    flexSteps: {
      owner: string;
      batteryId: number;
      direction: number;
      energyWh: string;
      socWh: string;
      amount: string;
    }[];
    imbalances: {
      participant: string;
      deviationWh: string;
      charged: string;
      paid: string;
      uncovered: string;
    }[];
    readings: { participant: string; injectedWh: string; consumedWh: string }[];
  };
}

interface SummaryJson {
  finalIntervals: number;
  intervals: number;
  fundsConserved: boolean;
  households: {
    count: number;
    netCost: string;
    gridAloneCost: string;
    worseOff: number;
    savingMin: string;
    savingMedian: string;
    savingMax: string;
  };
  grid: { revenue: string };
  batteries: {
    count: number;
    chargedWh: string;
    dischargedWh: string;
    chargeCost: string;
    dischargeCredit: string;
    earned: string;
    steps: number;
    notFollowed: number;
    perBattery: {
      batteryId: number;
      owner: string;
      stepsWh: string[];
      scheduledSocWh: string[];
      earned: string;
    }[];
  };
}

interface AccountingJson {
  households: { address: string; class: string }[];
  gridAccounts: string[];
  retailPerKwh: string;
  feedInPerKwh: string;
  batteries: {
    batteryId: number;
    owner: string;
    initialSocWh: string;
    zone: number;
    chargeEfficiencyBps: number;
    dischargeEfficiencyBps: number;
  }[];
}

describe("npm run demo (small neighbourhood, real chain, Redis and 3-of-5 oracle node processes)", function () {
  this.timeout(900_000);
  const out = mkdtempSync(join(tmpdir(), "gridbrain-demo-test-"));
  const reportPath = join(out, "demo.html");
  let exitCode: number | null;
  let output = "";
  let records: RecordJson[];
  let summary: SummaryJson;
  let accounting: AccountingJson;

  before(async () => {
    exitCode = await new Promise<number | null>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          "oracle/src/demo/main.ts",
          "--prosumers",
          "8",
          "--zones",
          "2",
          "--intervals",
          "4",
          // 19:00 local (17:00Z) of the default day, seed 1: the day's last PV surplus still sells (zone 0,
          // certificates are issued) while zone 1 runs short and battery 0 discharges (measured
          // 2026-12-03, the plan on the meter report of i − 2: 34 Wh in the second interval at 299,999,
          // then 0; 2026-12-02, planned on the orders: 34, 183, 182 Wh; battery 1 charges 54 Wh in the
          // first interval for later). At 11:00
          // every step was 0 Wh (prices at feed-in), which left the battery checks below vacuous; from
          // 20:00 they discharge more, but no PV is left to sell and the certificate check would be.
          "--start-hour",
          "19",
          // The batteries on their settled steps only: the checks below want every step done in full
          // and one order per battery. demo-resync.test.ts runs the default battery control (zone
          // following with re-synchronised orders).
          "--battery-following",
          "none",
          "--soc-resync-wh",
          "off",
          "--report",
          reportPath,
          "--deployment-id",
          `demo-e2e-${process.pid}`,
        ],
        {
          cwd: PROJECT_ROOT,
          stdio: ["ignore", "pipe", "pipe"],
          env: { ...process.env, RPC_URL: "", REDIS_URL: "" },
        },
      );
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.on("close", resolve);
    });
    const json = JSON.parse(readFileSync(reportPath.replace(/\.html$/, ".json"), "utf8")) as {
      records: RecordJson[];
      summary: SummaryJson;
      accounting: AccountingJson;
    };
    records = json.records;
    summary = json.summary;
    accounting = json.accounting;
  });

  after(() => {
    rmSync(join(PROJECT_ROOT, "deploy", "deployments", `demo-e2e-${process.pid}`), {
      recursive: true,
      force: true,
    });
    rmSync(out, { recursive: true, force: true });
  });

  it("exits 0 with every interval final", () => {
    expect(exitCode, output).to.equal(0);
    expect(records, "one record per interval").to.have.length(4);
    for (const r of records) expect(r.final, `interval ${r.intervalId}: ${r.problem ?? ""}`).to.equal(true);
    expect(summary.finalIntervals).to.equal(summary.intervals);
  });

  it("conserves funds to the token unit", () => {
    expect(summary.fundsConserved, output).to.equal(true);
  });

  it("trades energy (the run is not vacuous)", () => {
    const bought = records.reduce((s, r) => s + r.zones.reduce((t, z) => t + BigInt(z.bought), 0n), 0n);
    expect(bought > 0n, "households bought energy").to.equal(true);
  });

  it("issues certificates equal to the renewable energy sold and delivered, and buyers claim them", () => {
    let issuedTotal = 0n;
    for (const r of records) {
      const issued = BigInt(r.certificatesIssuedWh);
      const claimed = BigInt(r.certificatesWh);
      issuedTotal += issued;
      expect(issued, `interval ${r.intervalId}: issued vs min(sold, injected) of solar sellers`).to.equal(
        BigInt(r.renewableDeliveredWh),
      );
      // Pro-rata claims round down: at most one Wh of dust per buyer stays unclaimed. Renewable energy
      // sold into a battery (a charge step, not a fill) has no claimant: the pool is shared among the
      // buyers' fills only (EnergyMarket.claimCertificates; docs/MARKET_RULES.md, "Certificates").
      const chargedWh = r.ledger.flexSteps
        .filter((step) => step.direction === 0)
        .reduce((sum, step) => sum + BigInt(step.energyWh), 0n);
      expect(claimed <= issued, `interval ${r.intervalId}: claimed ${claimed} <= issued ${issued}`).to.equal(
        true,
      );
      expect(
        issued - claimed <= BigInt(r.buyers) + chargedWh,
        `interval ${r.intervalId}: unclaimed ${issued - claimed} Wh > ${r.buyers} buyers' dust + ${chargedWh} Wh charged into batteries`,
      ).to.equal(true);
    }
    expect(issuedTotal > 0n, "some renewable energy was certified").to.equal(true);
  });

  it("reports every household's outcome, recomputed here from the events and readings to the token unit", () => {
    // An independent recomputation (not domain/household-outcomes.ts): per household, fills paid −
    // received + short charges (collected or billed outside) − long payments (paid or owed), against
    // its readings at retail (rounded up) and feed-in (rounded down).
    const retail = BigInt(accounting.retailPerKwh);
    const feedIn = BigInt(accounting.feedInPerKwh);
    const net = new Map(accounting.households.map((h) => [h.address.toLowerCase(), 0n]));
    const alone = new Map(accounting.households.map((h) => [h.address.toLowerCase(), 0n]));
    const grid = new Set(accounting.gridAccounts.map((a) => a.toLowerCase()));
    let gridRevenue = 0n;
    for (const r of records) {
      for (const f of r.ledger.fills) {
        const who = f.owner.toLowerCase();
        const amount = BigInt(f.amount);
        if (net.has(who)) net.set(who, net.get(who)! + (f.side === 0 ? amount : -amount));
        if (grid.has(who)) gridRevenue += f.side === 1 ? amount : -amount;
      }
      // A battery's charges are paid from its owner's flexibility budget, its discharges credited.
      for (const step of r.ledger.flexSteps) {
        const who = step.owner.toLowerCase();
        const amount = BigInt(step.amount);
        if (net.has(who)) net.set(who, net.get(who)! + (step.direction === 0 ? amount : -amount));
      }
      for (const i of r.ledger.imbalances) {
        const who = i.participant.toLowerCase();
        expect(grid.has(who), `grid account ${who} settled for imbalance`).to.equal(false);
        const short = BigInt(i.deviationWh) < 0n;
        if (short) gridRevenue += BigInt(i.uncovered);
        if (!net.has(who)) continue;
        const delta = short
          ? BigInt(i.charged) + BigInt(i.uncovered)
          : -(BigInt(i.paid) + BigInt(i.uncovered));
        net.set(who, net.get(who)! + delta);
      }
      for (const m of r.ledger.readings) {
        const who = m.participant.toLowerCase();
        if (!alone.has(who)) continue;
        const cost = (retail * BigInt(m.consumedWh) + 999n) / 1000n - (feedIn * BigInt(m.injectedWh)) / 1000n;
        alone.set(who, alone.get(who)! + cost);
      }
    }
    // What each household's battery paid for charging in the window.
    const chargePaid = new Map<string, bigint>();
    for (const r of records)
      for (const step of r.ledger.flexSteps)
        if (step.direction === 0 && BigInt(step.amount) > 0n) {
          const who = step.owner.toLowerCase();
          chargePaid.set(who, (chargePaid.get(who) ?? 0n) + BigInt(step.amount));
        }
    const savingOf = new Map([...net.keys()].map((who) => [who, alone.get(who)! - net.get(who)!]));
    const savings = [...savingOf.values()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const sum = (m: Map<string, bigint>) => [...m.values()].reduce((s, v) => s + v, 0n);
    expect(summary.households.count).to.equal(accounting.households.length);
    expect(BigInt(summary.households.netCost), "net cost").to.equal(sum(net));
    expect(BigInt(summary.households.gridAloneCost), "grid alone").to.equal(sum(alone));
    expect(summary.households.worseOff, "worse off").to.equal(savings.filter((s) => s < 0n).length);
    expect(BigInt(summary.households.savingMin), "min").to.equal(savings[0]);
    expect(BigInt(summary.households.savingMedian), "median").to.equal(
      savings[Math.floor((savings.length - 1) / 2)],
    );
    expect(BigInt(summary.households.savingMax), "max").to.equal(savings[savings.length - 1]);
    // The mission: every household ends up at least as well off as with the grid alone (recomputed
    // above from events and readings, not taken from the summary). A discharge floor at the feed-in
    // price broke this in this window (docs/SIMULATION.md §12). A battery that charges here holds
    // that energy past the window's four intervals (the plan discharges it later in the evening), so
    // its owner may be behind by at most what the charging cost; over the full day no household is
    // behind (docs/BENCHMARKS.md, "Economics").
    //
    // And by the rounding of what it was credited: the contract floors every credit (a discharge or
    // sale at p pays ⌊p · Wh / 1000⌋, < 1 base unit lost), and a battery that discharges into a zone
    // priced at the grid's supply offer R − 1 while its own house is short pays that shortfall at R
    // (1 base unit per kWh). So each credit of e Wh may leave it behind by 1 + ⌈e / 1000⌉ at most.
    // Measured 2026-12-03: battery 0 discharged 34 Wh at 299,999 (credited 10,199 of 10,199.97),
    // its household was short 51 Wh at 300,000 (15,300) where the grid alone bills its 17 Wh at
    // 5,100: behind by 1 base unit.
    const rounding = new Map<string, bigint>();
    const allow = (owner: string, energyWh: bigint) =>
      rounding.set(
        owner.toLowerCase(),
        (rounding.get(owner.toLowerCase()) ?? 0n) + 1n + (energyWh + 999n) / 1000n,
      );
    for (const r of records) {
      for (const step of r.ledger.flexSteps)
        if (step.direction === 1 && BigInt(step.amount) > 0n) allow(step.owner, BigInt(step.energyWh));
      for (const f of r.ledger.fills)
        if (f.side === 1 && BigInt(f.amount) > 0n) allow(f.owner, BigInt(f.filledWh));
    }
    for (const [who, saving] of savingOf) {
      const paid = chargePaid.get(who) ?? 0n;
      const rounded = rounding.get(who) ?? 0n;
      expect(
        saving + paid + rounded >= 0n,
        `household ${who} saves ${saving} base units, its battery paid ${paid} to charge, its credits' rounding allows ${rounded}`,
      ).to.equal(true);
    }
    expect(BigInt(summary.grid.revenue), "grid revenue").to.equal(gridRevenue);
  });

  it("schedules every battery through its standing flexibility order: one settled step per battery and interval", () => {
    expect(accounting.batteries.length, "the small neighbourhood has batteries").to.be.greaterThan(0);
    expect(summary.batteries.count).to.equal(accounting.batteries.length);
    for (const r of records) {
      const ids = r.ledger.flexSteps.map((s) => s.batteryId).sort((a, b) => a - b);
      expect(ids, `interval ${r.intervalId}: one step per battery`).to.deep.equal(
        accounting.batteries.map((b) => b.batteryId).sort((a, b) => a - b),
      );
      for (const step of r.ledger.flexSteps) {
        const owner = accounting.batteries.find((b) => b.batteryId === step.batteryId)!.owner;
        expect(step.owner.toLowerCase(), "the step's owner is the battery's").to.equal(owner.toLowerCase());
      }
    }
    expect(summary.batteries.steps).to.equal(records.length * accounting.batteries.length);
  });

  it("moves the batteries both ways: settled charge and discharge steps of non-zero energy, each followed in full", () => {
    // The charge is battery 1's at 19:00 for later in the evening. Before the forecast history left
    // out the days before a fresh chain's first order, the plan read them as a day without demand,
    // forecast no bids for the evening and charged nothing here (nor at midday all day long:
    // docs/BENCHMARKS.md, "Economics").
    const steps = records.flatMap((r) => r.ledger.flexSteps);
    const discharges = steps.filter((s) => s.direction === FLEX_DISCHARGE && BigInt(s.energyWh) > 0n);
    const charges = steps.filter((s) => s.direction !== FLEX_DISCHARGE && BigInt(s.energyWh) > 0n);
    expect(discharges.length, "settled discharge steps of non-zero energy").to.be.greaterThan(0);
    expect(charges.length, "settled charge steps of non-zero energy").to.be.greaterThan(0);
    expect(BigInt(summary.batteries.dischargedWh) > 0n, "energy discharged").to.equal(true);
    expect(summary.batteries.notFollowed, "steps a battery could not do in full").to.equal(0);
  });

  it("reports each battery's schedule, scheduled SoC and earnings, recomputed here from the FlexStepSettled events", () => {
    // From each step's energy alone: its amount at the committed price of the battery's zone (a
    // charge paid rounded up, a discharge credited rounded down, DESIGN.md) and its SoC by the
    // contract's integer rule (socAfterStep) from the SoC before the first interval; then each
    // event's own amount and SoC, and the summary's figures, must be these.
    let charged = 0n;
    let discharged = 0n;
    let chargeCost = 0n;
    let dischargeCredit = 0n;
    for (const b of accounting.batteries) {
      const reported = summary.batteries.perBattery.find((x) => x.batteryId === b.batteryId)!;
      let soc = BigInt(b.initialSocWh);
      let earned = 0n;
      const steps: bigint[] = [];
      const socs: bigint[] = [];
      for (const r of records) {
        const at = `battery ${b.batteryId}, interval ${r.intervalId}`;
        const step = r.ledger.flexSteps.find((s) => s.batteryId === b.batteryId);
        if (step === undefined) {
          steps.push(0n);
          socs.push(soc);
          continue;
        }
        const energy = BigInt(step.energyWh);
        const price = BigInt(r.zonePrices[b.zone]!);
        const charge = step.direction === FLEX_CHARGE;
        const amount = charge ? (price * energy + 999n) / 1000n : (price * energy) / 1000n;
        soc = socAfterStep(soc, charge ? FLEX_CHARGE : FLEX_DISCHARGE, energy, b);
        expect(BigInt(step.amount), `${at}: amount of ${energy} Wh at ${price} per kWh`).to.equal(amount);
        expect(BigInt(step.socWh), `${at}: scheduled SoC`).to.equal(soc);
        steps.push(charge ? energy : -energy);
        socs.push(soc);
        earned += charge ? -amount : amount;
        if (charge) {
          charged += energy;
          chargeCost += amount;
        } else {
          discharged += energy;
          dischargeCredit += amount;
        }
      }
      expect(reported.stepsWh.map(BigInt), `battery ${b.batteryId} schedule`).to.deep.equal(steps);
      expect(reported.scheduledSocWh.map(BigInt), `battery ${b.batteryId} scheduled SoC`).to.deep.equal(socs);
      expect(BigInt(reported.earned), `battery ${b.batteryId} earned`).to.equal(earned);
    }
    expect(discharged > 0n, "the recomputation covers non-zero steps").to.equal(true);
    expect(BigInt(summary.batteries.chargedWh), "charged").to.equal(charged);
    expect(BigInt(summary.batteries.dischargedWh), "discharged").to.equal(discharged);
    expect(BigInt(summary.batteries.chargeCost), "charge cost").to.equal(chargeCost);
    expect(BigInt(summary.batteries.dischargeCredit), "discharge credit").to.equal(dischargeCredit);
    expect(BigInt(summary.batteries.earned), "earned").to.equal(dischargeCredit - chargeCost);
    expect(output, "the terminal summary prints the batteries' earnings").to.match(
      /batteries \(\d+\)\s+earned/,
    );
  });

  it("settles each household's imbalance against its fills and its battery's steps, recomputed here from the events and readings", () => {
    // deviation = (injected − consumed) − (sold − bought + discharged − charged) (docs/MARKET_RULES.md).
    let settledWithFlex = 0;
    for (const r of records) {
      const scheduled = new Map<string, bigint>();
      const flexNet = new Map<string, bigint>();
      const add = (m: Map<string, bigint>, who: string, wh: bigint) =>
        m.set(who.toLowerCase(), (m.get(who.toLowerCase()) ?? 0n) + wh);
      for (const f of r.ledger.fills)
        add(scheduled, f.owner, f.side === 1 ? BigInt(f.filledWh) : -BigInt(f.filledWh));
      for (const s of r.ledger.flexSteps) {
        const wh = s.direction === FLEX_DISCHARGE ? BigInt(s.energyWh) : -BigInt(s.energyWh);
        add(scheduled, s.owner, wh);
        add(flexNet, s.owner, wh);
      }
      const metered = new Map(
        r.ledger.readings.map((m) => [
          m.participant.toLowerCase(),
          BigInt(m.injectedWh) - BigInt(m.consumedWh),
        ]),
      );
      const settled = new Set<string>();
      for (const i of r.ledger.imbalances) {
        const who = i.participant.toLowerCase();
        settled.add(who);
        expect(metered.has(who), `interval ${r.intervalId}: ${who} settled without a reading`).to.equal(true);
        expect(BigInt(i.deviationWh), `interval ${r.intervalId}: ${who}'s deviation`).to.equal(
          metered.get(who)! - (scheduled.get(who) ?? 0n),
        );
        if ((flexNet.get(who) ?? 0n) !== 0n) settledWithFlex++;
      }
      for (const [who, wh] of flexNet)
        if (wh !== 0n)
          expect(
            settled.has(who),
            `interval ${r.intervalId}: ${who} moved its battery and was not settled`,
          ).to.equal(true);
    }
    expect(settledWithFlex, "imbalances settled with a non-zero flexibility net").to.be.greaterThan(0);
  });

  it("writes a self-contained HTML report with charts", () => {
    expect(existsSync(reportPath)).to.equal(true);
    const html = readFileSync(reportPath, "utf8");
    expect(html).to.contain("<svg");
    expect(html).to.contain("Zone prices");
    expect(html).to.contain("Scheduled state of charge of each battery");
    expect(html).not.to.match(/<script|https?:\/\/(?!gridbrain)/);
  });
});
