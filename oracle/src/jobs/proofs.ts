/**
 * The Proof API's data (docs/ORACLE.md, "Proof API"): the schedule leaves (fills and flexibility
 * steps) and meter leaves of a committed interval, from this node's own records (or, for the schedule, recomputed from chain
 * data), served only when they hash to what the chain committed — the chain's interval state is
 * read on every request.
 */
import type { Address, Hex } from "viem";
import { getAddress } from "viem";
import { readIntervalState } from "../chain/market.js";
import { type IndexedFillTree, indexedFillTree } from "../domain/schedule.js";
import { UnrecoverableInputError } from "../domain/errors.js";
import type {
  FillLeafJson,
  FillProofJson,
  FlexStepLeafJson,
  MeterProofJson,
  ProofSource,
  ScheduleLeavesJson,
} from "../infra/proofs.js";
import { ProofError } from "../infra/proofs.js";
import { loadOwn } from "./committee.js";
import type { PipelineContext } from "./context.js";
import { NotReadyError, viewLeaves } from "./schedule.js";
import { type MeterExtra, type SettlementView, committedSchedule, ownMeterTree } from "./settle.js";

const ZERO_ROOT = `0x${"0".repeat(64)}`;
/** Intervals whose fill tree is kept built (a 10,000-leaf tree takes a while to hash). */
const CACHED_INTERVALS = 16;

interface CachedSchedule {
  readonly commitment: Hex;
  readonly view: SettlementView;
  /** The fill leaves with their orders (what `schedule` lists first). */
  readonly leaves: FillLeafJson[];
  /** The flexibility steps' leaves with their orders (what `schedule` lists after the fills). */
  readonly steps: FlexStepLeafJson[];
  /** The committed tree (fills, then flexibility steps); undefined without a leaf. */
  readonly tree: IndexedFillTree | undefined;
}

export function proofSource(ctx: PipelineContext): ProofSource {
  const cache = new Map<bigint, CachedSchedule>();

  async function schedule(intervalId: bigint): Promise<CachedSchedule> {
    const state = await readIntervalState(ctx.client, ctx.config.marketAddress, intervalId);
    if (!state.scheduled)
      throw new ProofError(404, `intervalId: interval ${intervalId} has no committed schedule`);
    const hit = cache.get(intervalId);
    if (hit !== undefined && hit.commitment.toLowerCase() === state.commitment.toLowerCase()) return hit;
    let view: SettlementView;
    try {
      view = await committedSchedule(ctx, intervalId);
    } catch (error) {
      if (error instanceof NotReadyError)
        throw new ProofError(404, `intervalId: interval ${intervalId} has no committed schedule`, {
          cause: error,
        });
      if (error instanceof UnrecoverableInputError)
        throw new ProofError(
          503,
          "this node's schedule differs from the chain's commitment; ask another node",
          {
            cause: error,
          },
        );
      throw error;
    }
    const leaves = view.orders.map((o, i): FillLeafJson => ({
      orderId: o.orderId.toLowerCase() as Hex,
      filledWh: view.filledWh[i]!.toString(),
      order: {
        owner: o.owner,
        intervalId: o.intervalId.toString(),
        side: o.side,
        zoneId: o.zoneId,
        quantityWh: o.quantityWh.toString(),
        limitPricePerKwh: o.limitPricePerKwh.toString(),
        nonce: o.nonce.toString(),
      },
    }));
    const steps = view.flexSteps.map((s): FlexStepLeafJson => ({
      orderId: s.orderId.toLowerCase() as Hex,
      batteryId: s.order.batteryId,
      direction: s.direction,
      energyWh: s.energyWh.toString(),
      key: s.leaf.orderId.toLowerCase() as Hex,
      order: {
        owner: s.order.owner,
        batteryId: s.order.batteryId,
        firstInterval: s.order.firstInterval.toString(),
        lastInterval: s.order.lastInterval.toString(),
        maxChargePricePerKwh: s.order.maxChargePricePerKwh.toString(),
        minDischargePricePerKwh: s.order.minDischargePricePerKwh.toString(),
        chargeBudget: s.order.chargeBudget.toString(),
        initialSocWh: s.order.initialSocWh.toString(),
        nonce: s.order.nonce.toString(),
      },
    }));
    // The committed tree: the fills and, with flexibility orders, their steps (a proof from a tree
    // of the fills alone fails against the committed root).
    const all = viewLeaves(view);
    const entry = {
      commitment: state.commitment,
      view,
      leaves,
      steps,
      tree: all.length === 0 ? undefined : indexedFillTree(all),
    };
    cache.set(intervalId, entry);
    if (cache.size > CACHED_INTERVALS) cache.delete(cache.keys().next().value!);
    return entry;
  }

  return {
    market: ctx.config.marketAddress,
    chainId: ctx.config.chainId,

    async schedule(intervalId): Promise<ScheduleLeavesJson> {
      const s = await schedule(intervalId);
      return {
        intervalId: intervalId.toString(),
        scheduleRoot: s.view.root,
        zonePrices: s.view.zonePrices.map(String),
        leaves: s.leaves,
        steps: s.steps,
      };
    },

    async fill(intervalId, orderId): Promise<FillProofJson> {
      const s = await schedule(intervalId);
      // Fills only: a flexibility step's key is a leaf too, but no order to claim.
      const leaf = s.leaves.find((l) => l.orderId === orderId.toLowerCase());
      const index = s.tree?.indexOf.get(orderId.toLowerCase());
      if (leaf === undefined || index === undefined || s.tree === undefined)
        throw new ProofError(404, `orderId: ${orderId} has no fill leaf in interval ${intervalId}`);
      return {
        intervalId: intervalId.toString(),
        scheduleRoot: s.view.root,
        zonePrices: s.view.zonePrices.map(String),
        leaf,
        proof: s.tree.tree.getProof(index) as Hex[],
      };
    },

    async meter(intervalId, participant: Address): Promise<MeterProofJson> {
      const state = await readIntervalState(ctx.client, ctx.config.marketAddress, intervalId);
      if (state.meterRoot.toLowerCase() === ZERO_ROOT)
        throw new ProofError(404, `intervalId: interval ${intervalId} has no committed meter report`);
      const own = await loadOwn<MeterExtra>(ctx, "meter", intervalId);
      if (own === undefined)
        throw new ProofError(
          503,
          `this node holds no meter report of interval ${intervalId}; ask another node`,
        );
      const tree = ownMeterTree(own.extra);
      if (tree.root.toLowerCase() !== state.meterRoot.toLowerCase())
        throw new ProofError(
          503,
          "this node's meter report differs from the chain's commitment; ask another node",
        );
      const wanted = getAddress(participant);
      for (const [i, [p, injectedWh, consumedWh]] of tree.entries()) {
        if (getAddress(p) !== wanted) continue;
        return {
          intervalId: intervalId.toString(),
          meterRoot: tree.root as Hex,
          leaf: { participant: wanted, injectedWh: String(injectedWh), consumedWh: String(consumedWh) },
          proof: tree.getProof(i) as Hex[],
        };
      }
      throw new ProofError(404, `participant: ${wanted} has no meter leaf in interval ${intervalId}`);
    },
  };
}
