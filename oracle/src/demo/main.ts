/**
 * `npm run demo` — the README's main command: a simulated neighbourhood trading on a local chain
 * through the real GridBrain pipeline.
 *
 *   npm run demo -- [--prosumers 50] [--zones 3] [--intervals 96] [--committee 3of5]
 *                   [--seed 1] [--date 2027-06-21] [--speed 0] [--report out/demo-report.html]
 *                   [--kill-node 4@2] [--battery-following zone] [--soc-resync-wh 300]
 *                   [--offer-quantile 0.02] [--bid-quantile 0.1]
 *
 * It starts a local Hardhat JSON-RPC node and a redis-server (unless RPC_URL / REDIS_URL point at
 * running ones), deploys the suite with the Ignition modules, registers the neighbourhood, starts
 * the committee's oracle nodes as separate processes, and runs the intervals on an accelerated
 * chain clock. It stops everything it started on exit and on Ctrl-C. A step it cannot do (a node
 * down when readings are posted, a send that failed) is reported at the end, and the run goes on.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import {
  generateNeighbourhood,
  localMidnightUnix,
  NeighbourhoodSimulator,
} from "../domain/simulation/index.js";
import { pino } from "pino";
import { createLogger, type Logger } from "../infra/logging.js";
import { deployLocalSuite } from "../devnet/deploy.js";
import { PROJECT_ROOT, startHardhatNode, startRedis } from "../devnet/local-services.js";
import { startOracleNodes } from "../devnet/oracle-nodes.js";
import { readFlexLedger, readMarketLedger } from "./ledger.js";
import { type SummaryAccounting, formatLedger, formatSummary, htmlReport, summarize } from "./report.js";
import { type UndoneAction, runIntervals } from "./run.js";
import { DEFAULT_SOC_RESYNC_WH } from "../domain/simulation/soc-resync.js";
import {
  connectDemoChain,
  defaultGridLayout,
  demoAccounts,
  mintedTotal,
  setUpNeighbourhood,
} from "./world.js";

const optionsSchema = z
  .object({
    prosumers: z.coerce.number().int().min(2, "must be at least 2").max(500, "must be at most 500"),
    zones: z.coerce.number().int().min(1, "must be at least 1").max(8, "must be at most 8"),
    intervals: z.coerce
      .number()
      .int()
      .min(1, "must be at least 1")
      .max(96 * 7, "must be at most 672"),
    committee: z
      .string()
      .regex(/^\d+of\d+$/, 'must look like "3of5"')
      .transform((v) => v.split("of").map(Number) as [number, number])
      // The contract accepts a strict majority only (two disjoint quorums could sign conflicting reports).
      .refine(([k, n]) => 2 * k > n && k <= n && n <= 19, "needs n/2 < k <= n <= 19 (a strict majority)"),
    seed: z.coerce.number().int().min(0).max(0xffffffff, "must fit in 32 bits"),
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be YYYY-MM-DD"),
    "start-hour": z.coerce.number().int().min(0).max(23, "must be an hour 0-23"),
    speed: z.coerce.number().min(0, "must not be negative"),
    report: z.string().min(1),
    "deployment-id": z.string().regex(/^[a-zA-Z0-9_-]+$/, "must be letters, digits, - or _"),
    // Fault run: "i@n" kills oracle node i (0-based) with SIGKILL just before the meter readings
    // of interval n (1-based, as printed) are posted; it stays down.
    "kill-node": z
      .string()
      .regex(/^\d+@\d+$/, 'must look like "4@2" (node index @ interval number)')
      .transform((v) => v.split("@").map(Number) as [number, number])
      .optional(),
    // "zone": batteries also follow their zone's real-time deviation (demo/delivery.ts); "none": their step only.
    "battery-following": z.enum(["zone", "none"], { message: 'must be "zone" or "none"' }),
    // Owners re-synchronise their orders' SoC when the prediction is more than this many Wh off
    // (demo/resync.ts); "off": never.
    "soc-resync-wh": z.union([
      z.literal("off"),
      z.coerce
        .number({ message: 'must be a whole number of Wh or "off"' })
        .int("must be a whole number of Wh")
        .min(0, "must not be negative")
        .max(1_000_000, "must be at most 1,000,000 Wh"),
    ]),
    // The households' hedging quantiles (domain/simulation/strategy.ts): 0.5 orders the forecast itself.
    "offer-quantile": z.coerce
      .number()
      .gt(0, "must be in (0, 0.5]")
      .max(0.5, "must be in (0, 0.5]")
      .optional(),
    "bid-quantile": z.coerce.number().gt(0, "must be in (0, 0.5]").max(0.5, "must be in (0, 0.5]").optional(),
  })
  .strict();

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      prosumers: { type: "string", default: "50" },
      zones: { type: "string", default: "3" },
      intervals: { type: "string", default: "96" },
      committee: { type: "string", default: "3of5" },
      seed: { type: "string", default: "1" },
      // The next June solstice: chain time only moves forward, so the simulated day lies ahead.
      date: { type: "string", default: "2027-06-21" },
      // Local hour of the first interval (the day starts at midnight by default).
      "start-hour": { type: "string", default: "0" },
      speed: { type: "string", default: "0" },
      report: { type: "string", default: "out/demo-report.html" },
      // Ignition writes the addresses to deploy/deployments/<id>/deployed_addresses.json.
      "deployment-id": { type: "string", default: "local-demo" },
      "kill-node": { type: "string" },
      // The live battery control (docs/DISPATCH.md, "Zone following"): the batteries follow their
      // zones, and their owners re-synchronise the scheduled SoC when it is more than 300 Wh off.
      "battery-following": { type: "string", default: "zone" },
      "soc-resync-wh": { type: "string", default: String(DEFAULT_SOC_RESYNC_WH) },
      "offer-quantile": { type: "string" },
      "bid-quantile": { type: "string" },
    },
    strict: true,
  });
  const parsed = optionsSchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`--${issue.path.join(".")}: ${issue.message}`);
  }
  return parsed.data;
}

const cleanups: (() => Promise<void>)[] = [];
async function shutdown(code: number): Promise<never> {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(130));
process.on("SIGTERM", () => void shutdown(143));

/**
 * The terminal is for a person: one readable line per setup step, then the interval lines and the
 * summary. The same steps with their data go as structured JSON lines to `<work dir>/logs/demo.log`,
 * beside the oracle nodes' logs (replaced in main() once the work dir exists).
 */
let log: Logger = createLogger({ level: "silent" });
function step(
  line: string,
  data: Record<string, unknown>,
  message: string,
  level: "info" | "warn" | "error" = "info",
) {
  printLine(line);
  log[level](data, message);
}

/** The terminal channel of the demo command: every line a person reads goes through here. */
function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}
const TIMING = { intervalSeconds: 900, gateClosureSeconds: 300, meterGraceSeconds: 60 };
const RETAIL = 300_000;
const FEED_IN = 70_000;

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const [threshold, committeeSize] = options.committee;
  const killNode = options["kill-node"];
  if (killNode !== undefined && killNode[0] >= committeeSize)
    throw new Error(`--kill-node: node ${killNode[0]} is not in a committee of ${committeeSize}`);
  const wallStart = Date.now();
  const workDir = mkdtempSync(join(tmpdir(), "gridbrain-demo-"));
  mkdirSync(join(workDir, "logs"), { recursive: true });
  const logFile = join(workDir, "logs", "demo.log");
  log = createLogger({
    level: "info",
    base: { component: "demo" },
    destination: pino.destination({ dest: logFile, sync: true }),
  });
  step(`logs: ${join(workDir, "logs")} (demo.log and one per oracle node)`, { workDir }, "demo started");

  let rpcUrl = process.env["RPC_URL"] || undefined; // empty means unset
  if (rpcUrl === undefined) {
    const node = await startHardhatNode();
    cleanups.push(() => node.stop());
    rpcUrl = node.url;
  }
  let redisUrl = process.env["REDIS_URL"] || undefined;
  if (redisUrl === undefined) {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    redisUrl = redis.url;
  }
  step(
    `local services: chain ${rpcUrl}, redis ${redisUrl}`,
    { rpcUrl, redisUrl, workDir },
    "local services ready",
  );

  const neighbourhood = generateNeighbourhood({
    seed: options.seed,
    prosumers: options.prosumers,
    zones: options.zones,
  });
  const accounts = demoAccounts(options.zones, options.prosumers, committeeSize);
  const addresses = await deployLocalSuite({
    rpcUrl,
    deploymentId: options["deployment-id"],
    committeeMembers: accounts.oracleNodes.map((a) => a.address),
    committeeThreshold: threshold,
    market: {
      intervalSeconds: TIMING.intervalSeconds,
      gateClosureSeconds: TIMING.gateClosureSeconds,
      scheduleWindowSeconds: 600,
      meterWindowSeconds: 3600,
      // Imbalance collateral sized by rule: retail − feed-in per kWh, so a seller's withheld payout (at least
      // feed-in) plus its collateral covers the retail charge of energy it sold and never delivered.
      offerCollateralPerKwh: String(RETAIL - FEED_IN),
    },
  });
  step(
    `suite deployed: market ${addresses.market}, registry ${addresses.registry}, committee ${addresses.committee}`,
    { ...addresses },
    "suite deployed",
  );
  const chain = connectDemoChain(rpcUrl, addresses);
  const layout = defaultGridLayout(options.zones, {
    retailPerKwh: BigInt(RETAIL),
    feedInPerKwh: BigInt(FEED_IN),
  });
  await setUpNeighbourhood(chain, accounts, neighbourhood, layout);
  const pv = neighbourhood.households.filter((h) => h.pv !== null).length;
  const batteries = neighbourhood.households.filter((h) => h.battery !== null).length;
  step(
    `neighbourhood registered: ${options.prosumers} households (${pv} with PV, ${batteries} with batteries) in ${options.zones} zone(s)`,
    {
      prosumers: options.prosumers,
      withPv: pv,
      withBatteries: batteries,
      zones: options.zones,
      lines: layout.lines.map((l) => `${l.from}-${l.to}: ${l.capacityWh} Wh/interval`),
    },
    "neighbourhood registered",
  );

  const nodes = await startOracleNodes({
    accounts: accounts.oracleNodes,
    rpcUrl,
    redisUrl,
    addresses,
    workDir,
    ...TIMING,
    // The reading deadline must leave the nodes' commit reserve (600 s) of the market's 3600 s
    // meter window; every demo meter reports, so no report waits for it.
    meterDeadlineSeconds: 2700,
  });
  cleanups.push(() => nodes.stop());
  step(
    `committee: ${threshold}-of-${committeeSize} oracle node processes at ${nodes.urls.join(", ")}`,
    { threshold, committeeSize, logDir: nodes.logDir },
    "committee of oracle node processes started",
  );

  const simulator = new NeighbourhoodSimulator(neighbourhood, {
    startUnix: localMidnightUnix(options.date) + options["start-hour"] * 3600,
    intervalSeconds: TIMING.intervalSeconds,
    seed: options.seed,
  });
  const undone: UndoneAction[] = [];
  const run = await runIntervals({
    chain,
    accounts,
    neighbourhood,
    simulator,
    timing: TIMING,
    intervals: options.intervals,
    nodeUrls: nodes.urls,
    retailPricePerKwh: RETAIL,
    feedInPricePerKwh: FEED_IN,
    stepTimeoutMs: 120_000,
    batteryFollowing: options["battery-following"],
    ...(options["soc-resync-wh"] === "off" ? {} : { socResyncWh: options["soc-resync-wh"] }),
    hedge: {
      ...(options["offer-quantile"] === undefined ? {} : { offerQuantile: options["offer-quantile"] }),
      ...(options["bid-quantile"] === undefined ? {} : { bidQuantile: options["bid-quantile"] }),
    },
    onUndone: (u) => {
      undone.push(u);
      step(
        `interval ${u.intervalId}: not done: ${u.action} (${u.reason})`,
        { intervalId: u.intervalId, action: u.action, reason: u.reason },
        "demo step not done",
        "warn",
      );
    },
    beforeReadings: async (index) => {
      if (killNode === undefined || index + 1 !== killNode[1]) return;
      await nodes.kill(killNode[0]);
      step(
        `oracle node ${killNode[0]} killed (--kill-node)`,
        { node: killNode[0], url: nodes.urls[killNode[0]] },
        "oracle node killed (--kill-node)",
        "warn",
      );
    },
    onInterval: (r, i) => {
      const prices = r.zonePrices.map((p) => (Number(p) / 1e6).toFixed(3)).join("/");
      step(
        `[${String(i + 1).padStart(3)}/${options.intervals}] interval ${r.intervalId} ` +
          `${new Date(r.startUnix * 1000).toISOString().slice(11, 16)}Z orders ${String(r.orders).padStart(3)} ` +
          `prices ${prices} imbalance ${(Number(r.imbalanceWh) / 1000).toFixed(1)} kWh ` +
          `gas ${r.gasUsed} ${r.final ? "final" : `NOT FINAL: ${r.problem}`}`,
        {
          intervalId: String(r.intervalId),
          orders: r.orders,
          zonePrices: r.zonePrices.map(String),
          imbalanceWh: String(r.imbalanceWh),
          gasUsed: String(r.gasUsed),
          final: r.final,
          problem: r.problem,
        },
        "interval done",
        r.final ? "info" : "warn",
      );
      if (options.speed > 0) {
        const due = wallStart + ((i + 1) * TIMING.intervalSeconds * 1000) / options.speed;
        return new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
      }
      return undefined;
    },
  });

  const { records } = run;
  // Conservation: the market holds exactly what it owes — free balances plus every lock (open
  // bids and offers, collateral of settled sell fills, receipts not yet paid out or credited,
  // operator funds); the flexibility market holds its owners' balances and every unspent charging
  // budget; and every token minted (the set-up's and the batteries' budgets) is in a wallet or in
  // one of the two markets.
  const ledger = await readMarketLedger(chain.publicClient, addresses.market, addresses.token);
  const flexLedger = await readFlexLedger(chain.publicClient, run.flexibilityMarket, addresses.token);
  const tokenBalance = async (holder: `0x${string}`) =>
    (await chain.publicClient.readContract({
      address: addresses.token,
      abi: chain.abis.token,
      functionName: "balanceOf",
      args: [holder],
    })) as bigint;
  const holders = [accounts.operator, ...accounts.grid, ...accounts.households].map((a) => a.address);
  let wallets = 0n;
  for (const h of holders) wallets += await tokenBalance(h);
  const minted = mintedTotal(accounts) + run.flexBudgetsMinted;
  const fundsConserved =
    ledger.exact &&
    flexLedger.exact &&
    ledger.marketTokenBalance + flexLedger.tokenBalance + wallets === minted;

  const accounting: SummaryAccounting = {
    households: neighbourhood.households.map((h) => ({
      address: accounts.households[h.index]!.address,
      class: h.battery !== null ? "battery" : h.pv !== null ? "pv" : "neither",
      zone: h.zone,
      solar: h.pv !== null,
    })),
    gridAccounts: accounts.grid.map((a) => a.address),
    retailPerKwh: BigInt(RETAIL),
    feedInPerKwh: BigInt(FEED_IN),
    batteries: run.batteries.map((b) => ({
      batteryId: b.batteryId,
      owner: b.owner,
      initialSocWh: b.initialSocWh,
      zone: b.zone,
      chargeEfficiencyBps: b.chargeEfficiencyBps,
      dischargeEfficiencyBps: b.dischargeEfficiencyBps,
    })),
  };
  const summary = summarize(records, fundsConserved, accounting, undone);
  printLine(`\n${formatSummary(summary)}`);
  printLine(formatLedger(ledger, flexLedger));
  if (!fundsConserved)
    step(
      "FUNDS NOT CONSERVED: see the ledger above and demo.log",
      {
        marketHolds: String(ledger.marketTokenBalance),
        owes: String(ledger.owed),
        flexibilityMarketHolds: String(flexLedger.tokenBalance),
        flexibilityMarketOwes: String(flexLedger.owed),
        wallets: String(wallets),
        minted: String(minted),
      },
      "funds not conserved",
      "error",
    );
  const reportPath = resolve(PROJECT_ROOT, options.report);
  mkdirSync(dirname(reportPath), { recursive: true });
  writeFileSync(reportPath, htmlReport(records, summary));
  writeFileSync(
    reportPath.replace(/\.html$/, ".json"),
    JSON.stringify({ summary, accounting, records }, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2),
  );
  const wallSeconds = Math.round((Date.now() - wallStart) / 1000);
  step(`report: ${reportPath}`, { reportPath }, "report written");
  step(`wall time: ${wallSeconds} s`, { wallSeconds }, "demo finished");
  const ok = summary.finalIntervals === summary.intervals && fundsConserved;
  await shutdown(ok ? 0 : 1);
}

main().catch(async (error: unknown) => {
  log.error({ err: error }, "demo failed");
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  await shutdown(1);
});
