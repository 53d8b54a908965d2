/**
 * The Proof API's data (jobs/proofs.ts `proofSource`) from this node's own schedule record: every
 * fill proof must verify against the root the chain committed, which with flexibility orders is
 * the tree over the fills and the steps (domain/clearing.ts). The chain and Redis are stand-ins:
 * `intervalState` answers the commitment, the record sits in a Map.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import { type Address, type Hex, concat, encodeAbiParameters, getAddress, keccak256 } from "viem";
import { FLEX_CHARGE, flexStepKey } from "../../../oracle/src/domain/flexibility/index.js";
import {
  FILL_LEAF_ENCODING,
  METER_LEAF_ENCODING,
  type FillLeaf,
  buildMeterTree,
  scheduleCommitment,
  scheduleRootOf,
} from "../../../oracle/src/domain/schedule.js";
import { ProofError, type ProofSource, type ScheduleLeavesJson } from "../../../oracle/src/infra/proofs.js";
import { saveOwn } from "../../../oracle/src/jobs/committee.js";
import type { PipelineContext } from "../../../oracle/src/jobs/context.js";
import { proofSource } from "../../../oracle/src/jobs/proofs.js";
import type { MeterExtra } from "../../../oracle/src/jobs/settle.js";
import { type ScheduleExtra, activeFlexToJson } from "../../../oracle/src/jobs/schedule.js";
import { ORDER_ID, active } from "../domain/flexibility/fixtures.js";

const MARKET = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address;
const INTERVAL = 120n;
const ZONE_PRICES = [100_000n, 120_000n];
const ORDERS = [1, 2].map((n) => ({
  orderId: `0x${n.toString(16).padStart(64, "0")}` as Hex,
  owner: `0x${n.toString(16).padStart(40, "0")}` as Address,
  intervalId: INTERVAL.toString(),
  side: (n === 1 ? 0 : 1) as 0 | 1,
  zoneId: 1,
  quantityWh: "2000",
  limitPricePerKwh: "150000",
  nonce: "0",
}));
const FILLED = [1_500n, 1_000n];
const fillLeaves: FillLeaf[] = ORDERS.map((o, i) => ({ orderId: o.orderId, filledWh: FILLED[i]! }));

/**
 * A stand-in node holding `extra` as its own schedule of INTERVAL, committed with `root`, and
 * `meter` (when given) as its own meter report, committed with `meter.root`.
 */
async function nodeWith(extra: ScheduleExtra, root: Hex, meter?: { extra: MeterExtra; root: Hex }) {
  const records = new Map<string, string>();
  const commitment = scheduleCommitment(root, ZONE_PRICES);
  const ctx = {
    queues: { prefix: "proofs-test" },
    config: { chainId: 31337, marketAddress: MARKET },
    client: {
      readContract: async () => ({
        commitment,
        scheduled: true,
        fillCount: extra.orders.length + (extra.flexibility?.steps.length ?? 0),
        settledCount: 0,
        meterRoot: meter?.root ?? `0x${"0".repeat(64)}`,
        receipts: 0n,
        payouts: 0n,
      }),
    },
    redis: {
      get: async (key: string) => records.get(key) ?? null,
      set: async (key: string, value: string) => void records.set(key, value),
    },
  } as unknown as PipelineContext;
  await saveOwn(ctx, INTERVAL, {
    kind: "schedule",
    report: {},
    digest: `0x${"0".repeat(64)}`,
    signature: `0x${"0".repeat(130)}`,
    extra,
  });
  if (meter !== undefined)
    await saveOwn(ctx, INTERVAL, {
      kind: "meter",
      report: {},
      digest: `0x${"0".repeat(64)}`,
      signature: `0x${"0".repeat(130)}`,
      extra: meter.extra,
    });
  return proofSource(ctx);
}

/** Every fill's proof as the node serves it verifies against `root`, with the fill's energy. */
async function expectFillProofsAgainst(source: ProofSource, root: Hex) {
  for (const leaf of fillLeaves) {
    const p = await source.fill(INTERVAL, leaf.orderId);
    expect(p.scheduleRoot).to.equal(root);
    expect(p.leaf.filledWh).to.equal(leaf.filledWh.toString());
    const ok = StandardMerkleTree.verify(
      root,
      [...FILL_LEAF_ENCODING],
      [leaf.orderId, leaf.filledWh],
      [...p.proof],
    );
    expect(ok, `proof of ${leaf.orderId}`).to.equal(true);
  }
}

/**
 * The schedule root an independent client computes from a `/schedule` answer alone, the way the
 * contracts hash it, without the oracle's tree code: each leaf is MarketHashing.fillLeaf,
 * `keccak256(keccak256(abi.encode(bytes32 id, uint64 wh)))`, where a fill's id is its order id and
 * a step's id is `keccak256(abi.encode(bytes32 orderId, uint8 direction))`
 * (FlexibilityMarket.flexStepKey); the tree is OpenZeppelin's standard one (leaf hashes sorted
 * ascending, laid out from the end of an array of 2n − 1 nodes, each parent the keccak of its
 * two children in ascending order), the tree OpenZeppelin's MerkleProof verifies against.
 */
function rootFromJson(
  json: Pick<ScheduleLeavesJson, "leaves"> & { steps?: ScheduleLeavesJson["steps"] },
): Hex {
  const leaf = (id: Hex, wh: string) =>
    keccak256(keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint64" }], [id, BigInt(wh)])));
  const hashes = [
    ...json.leaves.map((l) => leaf(l.orderId, l.filledWh)),
    ...(json.steps ?? []).map((s) =>
      leaf(
        keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint8" }], [s.orderId, s.direction])),
        s.energyWh,
      ),
    ),
  ].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
  const tree: Hex[] = new Array<Hex>(2 * hashes.length - 1);
  hashes.forEach((h, i) => (tree[tree.length - 1 - i] = h));
  for (let i = tree.length - 1 - hashes.length; i >= 0; i--) {
    const [a, b] = [tree[2 * i + 1]!, tree[2 * i + 2]!];
    tree[i] = keccak256(BigInt(a) <= BigInt(b) ? concat([a, b]) : concat([b, a]));
  }
  return tree[0]!;
}

const baseExtra = {
  orders: ORDERS,
  filledWh: FILLED.map(String),
  zonePrices: ZONE_PRICES.map(String),
};

describe("proofSource", () => {
  describe("when the interval has only fills", () => {
    it("serves each fill's proof against the committed root", async () => {
      const root = scheduleRootOf(fillLeaves);
      const source = await nodeWith(baseExtra, root);
      await expectFillProofsAgainst(source, root);
    });

    it("lists the fills and no step, and the root rebuilds from them", async () => {
      const root = scheduleRootOf(fillLeaves);
      const s = await (await nodeWith(baseExtra, root)).schedule(INTERVAL);
      expect(s.steps).to.deep.equal([]);
      expect(rootFromJson(s)).to.equal(root);
    });
  });

  describe("when the interval has a flexibility step", () => {
    // The committed tree: the two fills, then battery 7's charge of 500 Wh (clearing.ts).
    const stepLeaf: FillLeaf = { orderId: flexStepKey(ORDER_ID, FLEX_CHARGE), filledWh: 500n };
    const root = scheduleRootOf([...fillLeaves, stepLeaf]);
    const extra: ScheduleExtra = {
      ...baseExtra,
      flexibility: {
        active: activeFlexToJson([active()]),
        steps: [{ orderId: ORDER_ID, batteryId: 7, direction: FLEX_CHARGE, energyWh: "500" }],
      },
    };

    it("serves each fill's proof against the committed root, the step's leaf included in the tree", async () => {
      const source = await nodeWith(extra, root);
      await expectFillProofsAgainst(source, root);
    });

    it("lists every leaf of the committed tree, the fills then the step with its order", async () => {
      const source = await nodeWith(extra, root);
      const s = await source.schedule(INTERVAL);
      expect(s.leaves.map((l) => l.orderId)).to.deep.equal(ORDERS.map((o) => o.orderId));
      expect(s.steps).to.deep.equal([
        {
          orderId: ORDER_ID,
          batteryId: 7,
          direction: FLEX_CHARGE,
          energyWh: "500",
          key: stepLeaf.orderId,
          order: {
            owner: active().order.owner,
            batteryId: 7,
            firstInterval: "100",
            lastInterval: "200",
            maxChargePricePerKwh: "200000",
            minDischargePricePerKwh: "150000",
            chargeBudget: (10n ** 12n).toString(),
            initialSocWh: "5000",
            nonce: "0",
          },
        },
      ]);
    });

    it("answers enough to rebuild the committed root from the JSON alone; the fills alone (the old answer) do not", async () => {
      const source = await nodeWith(extra, root);
      const s = JSON.parse(JSON.stringify(await source.schedule(INTERVAL))) as ScheduleLeavesJson;
      expect(rootFromJson(s), "root of the fills and the step").to.equal(s.scheduleRoot);
      expect(s.scheduleRoot).to.equal(root);
      expect(rootFromJson({ leaves: s.leaves }), "root of the fills alone").to.not.equal(root);
      // The independent rebuild agrees with the committed tree where there is no step.
      expect(rootFromJson({ leaves: s.leaves.slice(0, 1) })).to.equal(scheduleRootOf(fillLeaves.slice(0, 1)));
      expect(rootFromJson({ leaves: s.leaves })).to.equal(scheduleRootOf(fillLeaves));
    });

    it("answers 404 for the step's key on the fills route (it is no fill)", async () => {
      const source = await nodeWith(extra, root);
      const error = await source.fill(INTERVAL, stepLeaf.orderId).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ProofError).with.property("status", 404);
    });
  });

  describe("meter", () => {
    it("serves a participant's meter leaf with its proof against the committed meter root", async () => {
      const leaves: [Address, bigint, bigint][] = [
        [ORDERS[0]!.owner, 0n, 1_400n],
        [ORDERS[1]!.owner, 900n, 0n],
      ];
      const meterRoot = buildMeterTree(
        leaves.map(([participant, injectedWh, consumedWh]) => ({ participant, injectedWh, consumedWh })),
      ).root as Hex;
      const extra = {
        leaves: leaves.map(([p, i, c]): [string, string, string] => [p, String(i), String(c)]),
      };
      const source = await nodeWith(baseExtra, scheduleRootOf(fillLeaves), { extra, root: meterRoot });
      const p = await source.meter(INTERVAL, ORDERS[1]!.owner);
      expect(p.meterRoot).to.equal(meterRoot);
      expect(p.leaf).to.deep.equal({
        participant: getAddress(ORDERS[1]!.owner),
        injectedWh: "900",
        consumedWh: "0",
      });
      const ok = StandardMerkleTree.verify(meterRoot, [...METER_LEAF_ENCODING], leaves[1]!, [...p.proof]);
      expect(ok).to.equal(true);
    });
  });
});
