import { expect } from "chai";
import {
  type RegistryOnChain,
  RegistryFileError,
  parseRegistryFile,
  planRegistry,
} from "../../../oracle/src/domain/registry-plan.js";

const ZERO: `0x${string}` = "0x0000000000000000000000000000000000000000";
const ALICE: `0x${string}` = "0x00000000000000000000000000000000000000a1";
const BOB: `0x${string}` = "0x00000000000000000000000000000000000000b0";
const METER_A: `0x${string}` = "0x000000000000000000000000000000000000aaa1";
const METER_B: `0x${string}` = "0x000000000000000000000000000000000000bbb1";
const GRID: `0x${string}` = "0x0000000000000000000000000000000000000d01";

const battery = {
  owner: ALICE,
  zone: 0,
  capacityWh: 10_000,
  maxChargeW: 5_000,
  maxDischargeW: 5_000,
  chargeEfficiencyBps: 9_500,
  dischargeEfficiencyBps: 9_500,
  minSocWh: 1_000,
  maxSocWh: 9_000,
};

function fileJson() {
  return {
    zones: [
      { name: "North", grid: { account: GRID, retailPerKwh: "300000", feedInPerKwh: "70000" } },
      { name: "South", grid: { retailPerKwh: "300000", feedInPerKwh: "70000" }, feeWithinZonePerKwh: "5000" },
    ],
    lines: [{ between: [1, 0], capacityWh: 20_000, lossBps: 150, feePerKwh: "10000" }],
    participants: [
      { address: ALICE, zone: 0, meter: { address: METER_A, source: "solar" } },
      { address: BOB, zone: 1 },
    ],
    batteries: [{ ...battery }],
  };
}

const emptyChain: RegistryOnChain = {
  zoneCount: 0,
  zoneGrids: [],
  lines: new Map(),
  fees: new Map(),
  participants: new Map(),
  meterOwners: new Map(),
  batteries: [],
};

/** The chain after the whole file was applied (what readRegistryOnChain returns then). */
function appliedChain(): RegistryOnChain {
  return {
    zoneCount: 2,
    zoneGrids: [
      { account: GRID, retailPerKwh: 300_000n, feedInPerKwh: 70_000n },
      { account: ZERO, retailPerKwh: 300_000n, feedInPerKwh: 70_000n },
    ],
    lines: new Map([["0-1", { capacityWh: 20_000n, lossBps: 150 }]]),
    fees: new Map([
      ["1>0", 10_000n],
      ["0>1", 10_000n],
      ["1>1", 5_000n],
    ]),
    participants: new Map([
      [ALICE, { registered: true, zone: 0, meter: METER_A, meterSource: "solar" as const }],
      [BOB, { registered: true, zone: 1, meter: ZERO, meterSource: "other" as const }],
    ]),
    meterOwners: new Map([[METER_A, ALICE]]),
    batteries: [
      {
        id: 0,
        owner: ALICE,
        zoneId: 0,
        capacityWh: 10_000n,
        maxChargeW: 5_000n,
        maxDischargeW: 5_000n,
        chargeEfficiencyBps: 9_500,
        dischargeEfficiencyBps: 9_500,
        minSocWh: 1_000n,
        maxSocWh: 9_000n,
      },
    ],
  };
}

const names = (calls: { functionName: string }[]) => calls.map((c) => c.functionName);

describe("registry plan", () => {
  describe("parseRegistryFile", () => {
    const rejects = (mutate: (f: ReturnType<typeof fileJson>) => void, field: string, reason: RegExp) => {
      const f = fileJson();
      mutate(f);
      let error: unknown;
      try {
        parseRegistryFile(f);
      } catch (e) {
        error = e;
      }
      expect(error, field).to.be.instanceOf(RegistryFileError);
      expect((error as RegistryFileError).field).to.equal(field);
      expect((error as Error).message).to.match(reason);
    };

    it("names the field and the reason for each kind of bad entry", () => {
      rejects(
        (f) => (f.lines[0]!.between = [0, 2]),
        "lines.0.between",
        /zone 2 is not listed \(the file has 2 zones\)/,
      );
      rejects((f) => (f.lines[0]!.between = [1, 1]), "lines.0.between", /two different zones/);
      rejects((f) => f.lines.push({ ...f.lines[0]!, between: [0, 1] }), "lines.1.between", /a second line/);
      rejects((f) => (f.lines[0]!.lossBps = 10_000), "lines.0.lossBps", /below 10000/);
      rejects(
        (f) => (f.zones[0]!.grid.feedInPerKwh = "400000"),
        "zones.0.grid",
        /0 < feedInPerKwh <= retailPerKwh/,
      );
      rejects(
        (f) => (f.zones[0]!.grid.retailPerKwh = "0.30"),
        "zones.0.grid.retailPerKwh",
        /whole number of token base units/,
      );
      rejects(
        (f) => (f.participants[1]!.address = "0x1234"),
        "participants.1.address",
        /20-byte hex address/,
      );
      rejects(
        (f) =>
          f.participants.push({ address: ALICE.toUpperCase().replace("0X", "0x") as `0x${string}`, zone: 1 }),
        "participants.2.address",
        /listed twice/,
      );
      rejects(
        (f) => (f.participants[0]!.meter!.source = "coal" as "solar"),
        "participants.0.meter.source",
        /Invalid enum value/,
      );
      rejects(
        (f) =>
          (f.participants[1]! = {
            address: GRID,
            zone: 0,
            meter: { address: METER_B, source: "solar" },
          } as never),
        "participants.1.meter",
        /grid account/,
      );
      rejects((f) => (f.batteries[0]!.maxSocWh = 20_000), "batteries.0.maxSocWh", /at most capacityWh/);
      rejects((f) => (f.batteries[0]!.minSocWh = 9_500), "batteries.0.minSocWh", /at most maxSocWh/);
      rejects((f) => (f.batteries[0]!.zone = 5), "batteries.0.zone", /zone 5 is not listed/);
      rejects((f) => (f.zones = []), "zones", /at least one zone/);
    });
  });

  describe("planRegistry", () => {
    it("on an empty registry: zones, grids, the line, both fees and the zone's own, participants, the meter, the battery — in an order the contract accepts", () => {
      const plan = planRegistry(parseRegistryFile(fileJson()), emptyChain);
      expect(names(plan)).to.deep.equal([
        "addZone",
        "addZone",
        "setZoneGrid",
        "setZoneGrid",
        "setLine",
        "setGridFee",
        "setGridFee",
        "setGridFee",
        "registerParticipant",
        "registerParticipant",
        "registerMeter",
        "registerBattery",
      ]);
      expect(plan[4]!.args).to.deep.equal([1, 0, 20_000n, 150]);
      expect(plan.slice(5, 8).map((c) => c.args)).to.deep.equal([
        [1, 0, 10_000n],
        [0, 1, 10_000n],
        [1, 1, 5_000n],
      ]);
      expect(plan[10]!.args).to.deep.equal([METER_A, ALICE, 1]);
    });

    it("plans nothing once the chain matches the file (apply twice is a no-op)", () => {
      expect(planRegistry(parseRegistryFile(fileJson()), appliedChain())).to.deep.equal([]);
    });

    it("changes only what differs: a tariff, a line's capacity, a participant's zone, a battery field", () => {
      const f = fileJson();
      f.zones[1]!.grid.retailPerKwh = "320000";
      f.lines[0]!.capacityWh = 25_000;
      f.participants[1]!.zone = 0;
      f.batteries[0]!.maxSocWh = 8_500;
      const plan = planRegistry(parseRegistryFile(f), appliedChain());
      expect(names(plan)).to.deep.equal(["setZoneGrid", "setLine", "registerParticipant", "updateBattery"]);
      expect(plan[0]!.args).to.deep.equal([1, ZERO, 320_000n, 70_000n]);
      expect(plan[3]!.args[0]).to.equal(0);
      expect((plan[3]!.args[1] as { maxSocWh: bigint }).maxSocWh).to.equal(8_500n);
    });

    it("removes a line the file does not list, and never removes zones", () => {
      const f = fileJson();
      f.lines = [];
      const plan = planRegistry(parseRegistryFile(f), appliedChain());
      expect(plan.map((c) => [c.functionName, c.args])).to.deep.equal([["removeLine", [0, 1]]]);
      const oneZone = fileJson();
      oneZone.zones = [oneZone.zones[0]!];
      oneZone.lines = [];
      oneZone.participants = [];
      oneZone.batteries = [];
      expect(() => planRegistry(parseRegistryFile(oneZone), appliedChain())).to.throw(
        RegistryFileError,
        /zones: the registry has 2 zones and the file lists 1; zones cannot be removed/,
      );
    });

    it("replaces a meter (remove first, then register) and moves one between listed participants", () => {
      const f = fileJson();
      f.participants[0]!.meter = { address: METER_B, source: "wind" };
      expect(
        planRegistry(parseRegistryFile(f), appliedChain()).map((c) => [c.functionName, c.args]),
      ).to.deep.equal([
        ["removeMeter", [METER_A]],
        ["registerMeter", [METER_B, ALICE, 2]],
      ]);
      // Alice's meter goes to Bob: the removal from Alice precedes Bob's registration.
      const moved = fileJson();
      moved.participants = [
        { address: ALICE, zone: 0, meter: { address: METER_B, source: "solar" } },
        { address: BOB, zone: 1, meter: { address: METER_A, source: "solar" } },
      ];
      const chain = {
        ...appliedChain(),
        meterOwners: new Map([
          [METER_A, ALICE],
          [METER_B, ZERO],
        ]),
      };
      expect(names(planRegistry(parseRegistryFile(moved), chain))).to.deep.equal([
        "removeMeter",
        "registerMeter",
        "registerMeter",
      ]);
    });

    it("refuses a meter registered to a participant the file does not give it back from", () => {
      const f = fileJson();
      f.participants[1]!.meter = { address: METER_B, source: "solar" } as never;
      const chain = {
        ...appliedChain(),
        meterOwners: new Map([
          [METER_A, ALICE],
          [METER_B, GRID],
        ]),
      };
      expect(() => planRegistry(parseRegistryFile(f), chain)).to.throw(
        RegistryFileError,
        new RegExp(`participants.1.meter.address: meter ${METER_B} is registered to ${GRID}`),
      );
    });

    it("matches batteries by owner and zone, and asks for the id when an owner has two there", () => {
      const two = {
        ...appliedChain(),
        batteries: [...appliedChain().batteries, { ...appliedChain().batteries[0]!, id: 3 }],
      };
      expect(() => planRegistry(parseRegistryFile(fileJson()), two)).to.throw(
        RegistryFileError,
        /batteries.0: 0x0+a1 has 2 batteries in zone 0 \(ids 0, 3\); give the id/,
      );
      const f = fileJson();
      (f.batteries[0] as { id?: number }).id = 3;
      expect(planRegistry(parseRegistryFile(f), two)).to.deep.equal([]);
      (f.batteries[0] as { id?: number }).id = 7;
      expect(() => planRegistry(parseRegistryFile(f), two)).to.throw(
        RegistryFileError,
        /batteries.0.id: battery 7 is not registered/,
      );
    });
  });
});
