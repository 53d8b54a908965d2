/**
 * `npm run bench:chaos` — recovery per fault kind, longer plan than the test's: for each kind,
 * several runs of the demo (5 oracle node processes 3-of-5, 2 zones with a lossy line) with two
 * faults of that kind at seeded moments, longer outages (a chain stall of 20–40 s, a quorum loss
 * of 30–60 s). Every run starts from the same deployed neighbourhood (evm_snapshot / evm_revert).
 *
 *   npm run bench:chaos -- [--seed 1] [--runs 3] [--intervals 4] [--prosumers 6]
 *
 * Writes bench/results/chaos.json: one row per kind { fault, runs, recoverySecondsMax,
 * intervalsFinal, intervalsTotal, conserved } plus every run's faults and findings. The run seed
 * of run r of a kind is seed·1000 + kind·100 + r, printed, so one run can be replayed alone with
 * that seed.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { PROJECT_ROOT } from "../oracle/src/devnet/local-services.js";
import {
  conservation,
  deadLetterProblems,
  doubleSettlements,
  intervalOutcomes,
} from "../test/chaos/checks.js";
import { FAULT_KINDS, planFaults, type FaultDurations } from "../test/chaos/plan.js";
import { startSuite, TIMING } from "../test/chaos/scenario.js";

const LONG_DURATIONS: FaultDurations = {
  downMs: {
    "node-kill": [1_000, 5_000],
    "redis-kill": [3_000, 10_000],
    "chain-stall": [20_000, 40_000],
    "quorum-loss": [30_000, 60_000],
  },
};

const options = z
  .object({
    seed: z.coerce.number().int().min(0).max(4_000_000, "must be at most 4,000,000"),
    runs: z.coerce.number().int().min(1, "must be at least 1").max(20, "must be at most 20"),
    intervals: z.coerce.number().int().min(2, "must be at least 2").max(16, "must be at most 16"),
    prosumers: z.coerce.number().int().min(2, "must be at least 2").max(50, "must be at most 50"),
  })
  .strict();

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    runs: { type: "string", default: "3" },
    intervals: { type: "string", default: "4" },
    prosumers: { type: "string", default: "6" },
  },
  strict: true,
});
const parsed = options.safeParse(values);
if (!parsed.success) {
  const issue = parsed.error.issues[0]!;
  console.error(`--${issue.path.join(".")}: ${issue.message}`);
  process.exit(2);
}
const o = parsed.data;
const started = Date.now();
console.log(
  `bench:chaos seed ${o.seed}, ${o.runs} runs per fault kind, ${o.intervals} intervals, ${o.prosumers} prosumers`,
);
const suite = await startSuite({
  seed: o.seed,
  prosumers: o.prosumers,
  zones: 2,
  intervals: o.intervals,
  startHour: 11,
  log: (line) => console.log(line),
});

const rows: unknown[] = [];
const runs: unknown[] = [];
const out = join(PROJECT_ROOT, "bench", "results", "chaos.json");
/** Written after every fault kind, so a bench cut short keeps the kinds it finished. */
const save = () => {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        seed: o.seed,
        intervals: o.intervals,
        prosumers: o.prosumers,
        wallSeconds: Math.round((Date.now() - started) / 1000),
        loadAverage1m: Number(loadavg()[0]!.toFixed(1)),
        rows,
        runs,
      },
      null,
      2,
    )}\n`,
  );
};
try {
  for (const [k, kind] of FAULT_KINDS.entries()) {
    let recoveryMax: number | null = 0;
    let intervalsFinal = 0;
    let intervalsTotal = 0;
    let conserved = true;
    for (let r = 0; r < o.runs; r++) {
      const runSeed = o.seed * 1000 + k * 100 + r;
      const faults = planFaults({
        seed: runSeed,
        kinds: [kind, kind],
        intervals: o.intervals,
        intervalSeconds: TIMING.intervalSeconds,
        gateClosureSeconds: TIMING.gateClosureSeconds,
        committeeSize: 5,
        durations: LONG_DURATIONS,
      });
      const result = await suite.run(`${kind} #${r + 1} seed ${runSeed}`, faults);
      const outcomes = intervalOutcomes(result.chain, result.redis, result.intervalIds);
      const c = conservation(result.chain);
      for (const f of result.faults)
        if (f.injected)
          recoveryMax =
            recoveryMax === null || f.recoverySeconds === null
              ? null
              : Math.max(recoveryMax, f.recoverySeconds);
      intervalsFinal += outcomes.filter((x) => x.status === "final").length;
      intervalsTotal += outcomes.length;
      conserved &&= c.marketTokenBalance === c.owed;
      runs.push({
        fault: kind,
        seed: runSeed,
        wallSeconds: Math.round(result.wallSeconds),
        faults: result.faults.map((f) => ({
          downMs: f.downMs,
          injected: f.injected,
          recoverySeconds: f.recoverySeconds === null ? null : Number(f.recoverySeconds.toFixed(1)),
          nodes: f.nodes,
          chainTime: f.chainTime,
          ...(f.note === undefined ? {} : { note: f.note }),
        })),
        demoError: result.demoError ?? null,
        outcomes: outcomes.map((x) => ({
          intervalId: x.intervalId.toString(),
          status: x.status,
          ...("problems" in x ? { problems: x.problems } : {}),
        })),
        releasePhase: result.releasePhase,
        conservation: { marketTokenBalance: c.marketTokenBalance.toString(), owed: c.owed.toString() },
        doubleSettlements: doubleSettlements(result.chain),
        deadLetterProblems: deadLetterProblems(result.redis),
        deadLetters: result.redis.deadLetters.map((d) => `${d.prefix} ${d.id}: ${d.reason}`),
      });
    }
    rows.push({
      fault: kind,
      runs: o.runs,
      recoverySecondsMax: recoveryMax === null ? null : Number(recoveryMax.toFixed(1)),
      intervalsFinal,
      intervalsTotal,
      conserved,
    });
    console.log(JSON.stringify(rows.at(-1)));
    save();
  }
} finally {
  await suite.stop();
}

console.log(`wrote ${out}`);
