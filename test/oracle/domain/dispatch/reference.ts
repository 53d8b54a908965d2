/**
 * Independent checks for the dispatch tests: the same LP written from the instance (not from the
 * engine's layout) for glpk.js, and the economic properties of a schedule computed from scratch.
 */
import GLPKFactory from "glpk.js/node";
import type { CanonicalSchedule, DispatchInstance } from "../../../../oracle/src/domain/dispatch/index.js";
import { costRoundedDown, costRoundedUp } from "../../../../oracle/src/domain/units.js";

type Glpk = Awaited<ReturnType<typeof GLPKFactory>>;
let glpk: Promise<Glpk> | undefined;
export function loadGlpk(): Promise<Glpk> {
  glpk ??= (GLPKFactory as unknown as () => Promise<Glpk>)();
  return glpk;
}

/** Optimal welfare (token base units) of `inst` by glpk.js simplex; undefined if not optimal. */
export function glpkWelfare(g: Glpk, inst: DispatchInstance): number | undefined {
  const T = inst.horizon.intervals;
  const vars = new Map<string, { lb: number; ub: number; cost: number }>();
  const rows = new Map<string, { coefs: Map<string, number>; rhs: number }>();
  const row = (name: string) => {
    let r = rows.get(name);
    if (r === undefined) rows.set(name, (r = { coefs: new Map(), rhs: 0 }));
    return r;
  };
  const add = (rowName: string, v: string, c: number) => {
    const r = row(rowName);
    r.coefs.set(v, (r.coefs.get(v) ?? 0) + c);
  };
  for (let t = 0; t < T; t++) for (const z of inst.zones) row(`bal_${t}_${z}`);
  for (const o of inst.orders) {
    const v = `o${o.id}`;
    vars.set(v, { lb: 0, ub: o.quantityWh, cost: ((o.side === "bid" ? 1 : -1) * o.limitPricePerKwh) / 1000 });
    add(`bal_${o.interval - inst.horizon.firstInterval}_${o.zone}`, v, o.side === "bid" ? -1 : 1);
  }
  inst.lines.forEach((l, i) => {
    for (let t = 0; t < T; t++) {
      for (const [from, to, tag] of [
        [l.from, l.to, "f"],
        [l.to, l.from, "r"],
      ] as const) {
        const v = `l${i}${tag}_${t}`;
        vars.set(v, { lb: 0, ub: l.capacityWh, cost: -l.feePerKwh / 1000 });
        add(`bal_${t}_${from}`, v, -1);
        add(`bal_${t}_${to}`, v, 1 - l.lossFactor);
      }
    }
  });
  inst.batteries.forEach((b, i) => {
    for (let t = 0; t < T; t++) {
      const c = `b${i}c_${t}`;
      const d = `b${i}d_${t}`;
      const s = `b${i}s_${t}`;
      vars.set(c, { lb: 0, ub: b.maxChargeWh, cost: -b.degradationCostPerKwh / 1000 });
      vars.set(d, { lb: 0, ub: b.maxDischargeWh, cost: -b.degradationCostPerKwh / 1000 });
      vars.set(s, {
        lb: t === T - 1 ? Math.max(b.minSocWh, b.endSocWh) : b.minSocWh,
        ub: b.maxSocWh,
        cost: 0,
      });
      add(`bal_${t}_${b.zone}`, c, -1);
      add(`bal_${t}_${b.zone}`, d, 1);
      // soc_t = soc_{t-1} + η_c·c − d/η_d
      add(`soc${i}_${t}`, s, 1);
      add(`soc${i}_${t}`, c, -b.chargeEfficiency);
      add(`soc${i}_${t}`, d, 1 / b.dischargeEfficiency);
      if (t > 0) add(`soc${i}_${t}`, `b${i}s_${t - 1}`, -1);
      else row(`soc${i}_${t}`).rhs = b.initialSocWh;
    }
  });
  if (vars.size === 0) return 0;
  const res = g.solve(
    {
      name: "dispatch",
      objective: {
        direction: g.GLP_MAX,
        name: "welfare",
        vars: [...vars].map(([name, v]) => ({ name, coef: v.cost })),
      },
      subjectTo: [...rows]
        .filter(([, r]) => r.coefs.size > 0)
        .map(([name, r]) => ({
          name,
          vars: [...r.coefs].map(([n, coef]) => ({ name: n, coef })),
          bnds: { type: g.GLP_FX, lb: r.rhs, ub: r.rhs },
        })),
      bounds: [...vars].map(([name, v]) => ({
        name,
        type: v.lb === v.ub ? g.GLP_FX : g.GLP_DB,
        lb: v.lb,
        ub: v.ub,
      })),
    },
    { msglev: g.GLP_MSG_OFF, presol: false },
  );
  return res.result.status === g.GLP_OPT ? res.result.z : undefined;
}

/** Every property a schedule must satisfy, as a list of violations (empty when all hold). */
export function scheduleViolations(inst: DispatchInstance, s: CanonicalSchedule): string[] {
  const bad: string[] = [];
  const price = new Map(s.prices.map((p) => [`${p.interval}/${p.zone}`, p.pricePerKwh]));
  const net = new Map<string, number>(); // supply − demand per interval/zone
  const bump = (k: string, v: number) => net.set(k, (net.get(k) ?? 0) + v);
  const fills = new Map(s.fills.map((f) => [f.orderId, f.filledWh]));
  if (fills.size !== inst.orders.length) bad.push("fills do not list every order exactly once");
  let paidIn = 0n;
  let paidOut = 0n;
  for (const o of inst.orders) {
    const f = fills.get(o.id);
    const k = `${o.interval}/${o.zone}`;
    const p = price.get(k);
    if (f === undefined || p === undefined) {
      bad.push(`order ${o.id}: missing fill or price`);
      continue;
    }
    if (!Number.isInteger(f) || f < 0 || f > o.quantityWh)
      bad.push(`order ${o.id}: fill ${f} outside [0, ${o.quantityWh}]`);
    if (o.side === "bid") {
      if (f > 0 && p > o.limitPricePerKwh) bad.push(`bid ${o.id}: pays ${p} > limit ${o.limitPricePerKwh}`);
      bump(k, -f);
      paidIn += costRoundedUp(BigInt(p), BigInt(f));
    } else {
      if (f > 0 && p < o.limitPricePerKwh)
        bad.push(`offer ${o.id}: receives ${p} < ask ${o.limitPricePerKwh}`);
      bump(k, f);
      paidOut += costRoundedDown(BigInt(p), BigInt(f));
    }
  }
  for (const fl of s.flows) {
    const line = inst.lines.find(
      (l) => (l.from === fl.from && l.to === fl.to) || (l.from === fl.to && l.to === fl.from),
    );
    if (line === undefined) {
      bad.push(`flow on a missing line ${fl.from}→${fl.to}`);
      continue;
    }
    if (fl.sentWh > line.capacityWh)
      bad.push(`flow ${fl.from}→${fl.to} ${fl.sentWh} > capacity ${line.capacityWh}`);
    if (fl.receivedWh !== Math.floor(fl.sentWh * (1 - line.lossFactor) + 1e-9))
      bad.push(`flow ${fl.from}→${fl.to}: received ${fl.receivedWh} ≠ ⌊sent·(1−loss)⌋`);
    bump(`${fl.interval}/${fl.from}`, -fl.sentWh);
    bump(`${fl.interval}/${fl.to}`, fl.receivedWh);
    paidOut += costRoundedDown(BigInt(line.feePerKwh), BigInt(fl.sentWh));
  }
  for (const b of inst.batteries) {
    const sb = s.batteries.find((x) => x.batteryId === b.id);
    if (sb === undefined || sb.steps.length !== inst.horizon.intervals) {
      bad.push(`battery ${b.id}: missing schedule`);
      continue;
    }
    let soc = b.initialSocWh;
    sb.steps.forEach((st, t) => {
      if (st.chargeWh < 0 || st.chargeWh > b.maxChargeWh)
        bad.push(`battery ${b.id} t${t}: charge ${st.chargeWh} out of bounds`);
      if (st.dischargeWh < 0 || st.dischargeWh > b.maxDischargeWh)
        bad.push(`battery ${b.id} t${t}: discharge ${st.dischargeWh} out of bounds`);
      soc = soc + b.chargeEfficiency * st.chargeWh - st.dischargeWh / b.dischargeEfficiency;
      const lo = t === inst.horizon.intervals - 1 ? Math.max(b.minSocWh, b.endSocWh) : b.minSocWh;
      if (soc < lo - 1e-6 || soc > b.maxSocWh + 1e-6)
        bad.push(`battery ${b.id} t${t}: SoC ${soc} outside [${lo}, ${b.maxSocWh}]`);
      if (st.socWh !== Math.min(b.maxSocWh, Math.max(b.minSocWh, Math.floor(soc + 1e-9))))
        bad.push(`battery ${b.id} t${t}: reported SoC ${st.socWh} ≠ ⌊${soc}⌋`);
      const k = `${st.interval}/${b.zone}`;
      const p = price.get(k) ?? 0;
      bump(k, st.dischargeWh - st.chargeWh);
      paidIn += costRoundedUp(BigInt(p), BigInt(st.chargeWh));
      paidOut += costRoundedDown(BigInt(p), BigInt(st.dischargeWh));
    });
  }
  for (const [k, v] of net) if (v !== 0) bad.push(`zone ${k}: supply − demand = ${v} Wh`);
  bad.push(...intervalBudgetViolations(inst, s));
  if (paidIn < paidOut) bad.push(`budget: buyers pay ${paidIn} < sellers + fees ${paidOut}`);
  return bad;
}

/**
 * The contract's per-interval rule, written from scratch: in each interval, what buyers are charged
 * (rounded up) covers what sellers are paid (rounded down), at the zone prices floored at 0 as the
 * chain stores them. Batteries count as participants at their zone's price (charging pays,
 * discharging is paid), so the rule also holds the day they settle like orders.
 */
export function intervalBudgetViolations(inst: DispatchInstance, s: CanonicalSchedule): string[] {
  const price = new Map(s.prices.map((p) => [`${p.interval}/${p.zone}`, BigInt(Math.max(0, p.pricePerKwh))]));
  const fills = new Map(s.fills.map((f) => [f.orderId, BigInt(f.filledWh)]));
  const receipts = new Map<number, bigint>();
  const payouts = new Map<number, bigint>();
  const add = (m: Map<number, bigint>, t: number, v: bigint) => m.set(t, (m.get(t) ?? 0n) + v);
  for (const o of inst.orders) {
    const p = price.get(`${o.interval}/${o.zone}`) ?? 0n;
    const f = fills.get(o.id) ?? 0n;
    if (o.side === "bid") add(receipts, o.interval, costRoundedUp(p, f));
    else add(payouts, o.interval, costRoundedDown(p, f));
  }
  for (const b of s.batteries) {
    const zone = inst.batteries.find((x) => x.id === b.batteryId)?.zone;
    for (const st of b.steps) {
      const p = price.get(`${st.interval}/${zone}`) ?? 0n;
      add(receipts, st.interval, costRoundedUp(p, BigInt(st.chargeWh)));
      add(payouts, st.interval, costRoundedDown(p, BigInt(st.dischargeWh)));
    }
  }
  const bad: string[] = [];
  for (let t = 0; t < s.horizon.intervals; t++) {
    const id = s.horizon.firstInterval + t;
    const r = receipts.get(id) ?? 0n;
    const q = payouts.get(id) ?? 0n;
    if (q > r) bad.push(`interval ${id}: payouts ${q} > receipts ${r} (BudgetExceeded)`);
  }
  return bad;
}
