/**
 * The dispatch LP, built directly as a sparse column-wise (CSC) matrix for HiGHS — no LP text.
 *
 *   max  Σ_bids b·x − Σ_offers a·x − Σ_lines fee·f − Σ_batteries deg·(ch + dis)     (÷1000: per kWh → per Wh)
 *   s.t. balance(t,z):  Σ offers x − Σ bids x + Σ_in (1−loss)·f − Σ_out f + Σ dis − Σ ch = 0
 *        soc(k,t):      soc_t − soc_{t−1} − η_ch·ch_t + dis_t/η_dis = (t = 0 ? initialSoc : 0)
 *        0 ≤ x ≤ q,  0 ≤ f ≤ cap,  0 ≤ ch ≤ maxCh,  0 ≤ dis ≤ maxDis,  minSoc ≤ soc ≤ maxSoc,
 *        soc_{T−1} ≥ endSoc.
 * Optionally (`LpOptions.endSocValuePerKwh`, the rolling horizon's plan) + Σ_batteries value·soc_{T−1}/1000.
 * See docs/DISPATCH.md for the meaning of each constraint.
 */
import type { Highs, ModelData } from "highs";
import { DispatchModelError, MODEL_STATUS_NAMES } from "./errors.js";
import { HIGHS_OPTIONS } from "./highs.js";
import { Layout, type IndexedInstance } from "./indexed.js";

export interface LpSolution {
  /** Column values in `Layout` order. */
  readonly x: Float64Array;
  /** Zone prices per kWh from the balance duals, index `t·Z + z` (not yet made unique). */
  readonly duals: Float64Array;
  /** Optimal objective: welfare in token base units (float). */
  readonly objective: number;
  readonly stats: {
    readonly columns: number;
    readonly rows: number;
    readonly nonzeros: number;
    readonly simplexIterations: number;
    readonly buildMs: number;
    readonly solveMs: number;
  };
}

export interface LpOptions {
  /**
   * Value of the energy each battery holds at the end of the horizon, token base units per kWh of
   * state of charge, in `ix.batteries` order (missing or 0: none). The rolling horizon uses it so
   * that energy left at its end is worth what the committee's rule says, not nothing
   * (docs/DISPATCH.md, "Rolling horizon"). Adds value·soc_{T−1}/1000 to the objective.
   */
  readonly endSocValuePerKwh?: readonly number[];
}

/** Builds the model data (CSC) for `ix`. */
export function buildModel(ix: IndexedInstance, highs: Highs, options: LpOptions = {}): ModelData {
  const lay = new Layout(ix);
  const { n, L, B, Z, T, numCols, numRows } = lay;
  const nnz = n + 2 * L * T * 2 + B * T * (2 + 2 + 2);
  const starts = new Int32Array(numCols + 1);
  const indices = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  const colCost = new Float64Array(numCols);
  const colLower = new Float64Array(numCols);
  const colUpper = new Float64Array(numCols);
  const rowLower = new Float64Array(numRows);
  const rowUpper = new Float64Array(numRows);
  let k = 0;
  let col = 0;
  const push = (row: number, value: number) => {
    indices[k] = row;
    values[k] = value;
    k++;
  };
  const endCol = () => {
    col++;
    starts[col] = k;
  };

  for (const o of ix.orders) {
    const z = ix.zoneIndex.get(o.zone)!;
    const bid = o.side === "bid";
    colCost[col] = (bid ? o.limitPricePerKwh : -o.limitPricePerKwh) / 1000;
    colUpper[col] = o.quantityWh;
    push(lay.balanceRow(o.interval - ix.first, z), bid ? -1 : 1);
    endCol();
  }
  for (let t = 0; t < T; t++) {
    for (const line of ix.lines) {
      const ia = ix.zoneIndex.get(line.a)!;
      const ib = ix.zoneIndex.get(line.b)!;
      const delivered = 1 - line.lossFactor;
      // a → b: leaves a, arrives in b reduced by the loss; rows in ascending order (ia < ib).
      colCost[col] = -line.feePerKwh / 1000;
      colUpper[col] = line.capacityWh;
      push(lay.balanceRow(t, ia), -1);
      push(lay.balanceRow(t, ib), delivered);
      endCol();
      // b → a
      colCost[col] = -line.feePerKwh / 1000;
      colUpper[col] = line.capacityWh;
      push(lay.balanceRow(t, ia), delivered);
      push(lay.balanceRow(t, ib), -1);
      endCol();
    }
  }
  ix.batteries.forEach((b, kb) => {
    const z = ix.zoneIndex.get(b.zone)!;
    const wear = -b.degradationCostPerKwh / 1000;
    for (let t = 0; t < T; t++) {
      // charge: drawn from the zone, stored × η_ch
      colCost[col] = wear;
      colUpper[col] = b.maxChargeWh;
      push(lay.balanceRow(t, z), -1);
      push(lay.socRow(kb, t), -b.chargeEfficiency);
      endCol();
      // discharge: delivered to the zone, taken from storage ÷ η_dis
      colCost[col] = wear;
      colUpper[col] = b.maxDischargeWh;
      push(lay.balanceRow(t, z), 1);
      push(lay.socRow(kb, t), 1 / b.dischargeEfficiency);
      endCol();
      // state of charge at the end of interval t
      if (t === T - 1) colCost[col] = (options.endSocValuePerKwh?.[kb] ?? 0) / 1000;
      colLower[col] = t === T - 1 ? Math.max(b.minSocWh, b.endSocWh) : b.minSocWh;
      colUpper[col] = b.maxSocWh;
      push(lay.socRow(kb, t), 1);
      if (t + 1 < T) push(lay.socRow(kb, t + 1), -1);
      endCol();
      rowLower[lay.socRow(kb, t)] = t === 0 ? b.initialSocWh : 0;
      rowUpper[lay.socRow(kb, t)] = t === 0 ? b.initialSocWh : 0;
    }
  });
  return {
    numCols,
    numRows,
    sense: highs.constants.objectiveSense.maximize,
    colCost,
    colLower,
    colUpper,
    rowLower,
    rowUpper,
    matrix: {
      format: "csc",
      numRows,
      numCols,
      starts,
      indices: indices.subarray(0, k),
      values: values.subarray(0, k),
    },
  };
}

/** Solves the LP with the pinned HiGHS options. Throws `DispatchModelError` unless optimal. */
export function solveLp(ix: IndexedInstance, highs: Highs, options: LpOptions = {}): LpSolution {
  const t0 = performance.now();
  const data = buildModel(ix, highs, options);
  const t1 = performance.now();
  if (data.numCols === 0) {
    // Nothing to decide (no orders, lines or batteries): HiGHS calls that model "empty".
    return {
      x: new Float64Array(0),
      duals: new Float64Array(data.numRows),
      objective: 0,
      stats: {
        columns: 0,
        rows: data.numRows,
        nonzeros: 0,
        simplexIterations: 0,
        buildMs: t1 - t0,
        solveMs: 0,
      },
    };
  }
  const model = highs.createModel(data);
  try {
    model.options.set(HIGHS_OPTIONS);
    model.run();
    const code = model.getModelStatus();
    const status = MODEL_STATUS_NAMES[code] ?? `status${code}`;
    if (status !== "optimal") {
      throw new DispatchModelError(
        status,
        status === "infeasible"
          ? "no schedule satisfies every zone balance and battery limit (e.g. a battery end state that no offer can supply)"
          : `HiGHS returned model status ${status}`,
      );
    }
    const sol = model.getSolution();
    const lay = new Layout(ix);
    const duals = new Float64Array(lay.Z * lay.T);
    // With maximisation HiGHS reports d(objective)/d(rhs) of `supply − demand = 0`, i.e. minus the
    // value of one more Wh of demand; the price per kWh is its negation × 1000.
    for (let r = 0; r < duals.length; r++) duals[r] = -sol.rowDual[r]! * 1000;
    const iterations = Number(model.info.get("simplex_iteration_count"));
    const t2 = performance.now();
    return {
      x: sol.colValue,
      duals,
      objective: model.getObjectiveValue(),
      stats: {
        columns: data.numCols,
        rows: data.numRows,
        nonzeros: data.matrix.indices.length,
        simplexIterations: iterations,
        buildMs: t1 - t0,
        solveMs: t2 - t1,
      },
    };
  } finally {
    model.dispose();
  }
}
