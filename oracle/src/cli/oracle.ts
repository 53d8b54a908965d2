/**
 * CLI commands of the oracle: `oracle serve`, `verify <interval>`, `market status [--interval N]`.
 * Config comes from flags, `GRIDBRAIN_*` env and an optional JSON file (infra/config.ts). Failures
 * are thrown and printed by main.ts through ./output.ts, as for every command: `verify` and
 * `market status` name a bad setting by its flag, as `registry` does (`--chain-id: is required (or
 * set GRIDBRAIN_CHAIN_ID)`); `oracle serve` by its config field and where the value came from (a
 * file, env or a flag: `confirmations (--confirmations): must be <= 64`).
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { z } from "zod";
import { type Address, getAddress } from "viem";
import {
  chainNow,
  createChainClients,
  intervalTimes,
  readCommitteeView,
  readIntervalState,
  readMarketTiming,
} from "../chain/market.js";
import { committeeStatusLines } from "../domain/committee.js";
import { intervalPhase } from "../domain/interval-phase.js";
import { ConfigSchema, DEFAULT_SITE_LOCATION, envName, flagName, loadConfig } from "../infra/config.js";
import { OracleNode } from "../node/node.js";
import { type ReportedMeterFigures, verifyInterval } from "./verify.js";
import { CliError } from "./cli-error.js";
import { jsonText } from "./output.js";
import { RPC_TIMEOUT_MS_HELP, rpcTimeoutMsFlag } from "./rpc-probe.js";

const readOnlySchema = z.object({
  rpcUrl: z.string().url("must be a URL"),
  chainId: z
    .string()
    .regex(/^\d+$/, "must be a positive integer")
    .transform(Number)
    .refine((n) => n > 0 && Number.isSafeInteger(n), "must be a positive integer"),
  marketAddress: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 20-byte hex address")
    .transform((v) => getAddress(v)),
  registryAddress: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 20-byte hex address")
    .transform((v) => getAddress(v)),
  startBlock: z.coerce.bigint().default(0n),
  rpcTimeoutMs: rpcTimeoutMsFlag,
  // The committee's site location (the same settings as `oracle serve`): the rolling horizon's
  // forecast of PV zones depends on it, so verify must use the committee's values.
  siteLatitudeDeg: z.coerce.number().min(-90, "must be >= -90").max(90, "must be <= 90").optional(),
  siteLongitudeDeg: z.coerce.number().min(-180, "must be >= -180").max(180, "must be <= 180").optional(),
});

const REQUIRED_READ_ONLY = ["rpcUrl", "chainId", "marketAddress", "registryAddress"] as const;

/** The read-only settings (no key needed) from flags, then `GRIDBRAIN_*` env. */
function readOnlyConfig(flags: Record<string, unknown>) {
  const pick = (field: string) => flags[field] ?? (process.env[envName(field)] || undefined);
  // Name what is missing and where it may come from, before zod reports a type error for it.
  const missing = REQUIRED_READ_ONLY.filter((field) => pick(field) === undefined);
  if (missing.length > 0)
    throw new CliError(
      missing.map((f) => `${flagName(f)}: is required (or set ${envName(f)})`).join("; "),
      2,
      undefined,
      flagName(missing[0]!),
    );
  const parsed = readOnlySchema.safeParse({
    rpcUrl: pick("rpcUrl"),
    chainId: pick("chainId"),
    marketAddress: pick("marketAddress"),
    registryAddress: pick("registryAddress"),
    startBlock: pick("startBlock"),
    rpcTimeoutMs: pick("rpcTimeoutMs"),
    siteLatitudeDeg: pick("siteLatitudeDeg"),
    siteLongitudeDeg: pick("siteLongitudeDeg"),
  });
  if (!parsed.success) throw CliError.issues(parsed.error.issues, flagName);
  return parsed.data;
}

/** Commander reports the argument or flag it parses (`<interval>: must be …`; main.ts prints it). */
const uintArg = (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`must be a non-negative integer, got "${v}"`);
  return BigInt(v);
};

/** Secrets are read from the config file or env only: a flag would show in the process list. */
const SECRET_FIELDS = new Set(["keystorePassword", "devInsecurePrivateKey"]);

/**
 * One flag per config field (docs/OPERATIONS.md: `rpcUrl` → `--rpc-url`), so the docs' promise
 * holds for every field; values are validated by the config schema, which names the flag.
 */
function configFieldOptions(): Option[] {
  return Object.keys(ConfigSchema._def.schema.shape)
    .filter((field) => !SECRET_FIELDS.has(field))
    .map((field) => new Option(`${flagName(field)} <value>`, `config field ${field} (${envName(field)})`));
}

function chainOptions(cmd: Command): Command {
  return cmd
    .option("--rpc-url <url>", "JSON-RPC endpoint (GRIDBRAIN_RPC_URL)")
    .option("--rpc-timeout-ms <ms>", RPC_TIMEOUT_MS_HELP)
    .option("--chain-id <id>", "chain id (GRIDBRAIN_CHAIN_ID)")
    .option("--market-address <address>", "EnergyMarket (GRIDBRAIN_MARKET_ADDRESS)")
    .option("--registry-address <address>", "GridRegistry (GRIDBRAIN_REGISTRY_ADDRESS)")
    .option("--start-block <n>", "first block to read logs from (GRIDBRAIN_START_BLOCK)")
    .option("--site-latitude-deg <deg>", "the committee's site latitude (GRIDBRAIN_SITE_LATITUDE_DEG)")
    .option("--site-longitude-deg <deg>", "the committee's site longitude (GRIDBRAIN_SITE_LONGITUDE_DEG)");
}

export function registerOracleCommands(program: Command): void {
  const oracle = program.command("oracle").description("run an oracle committee node");
  const serve = oracle
    .command("serve")
    .description("run an oracle node (keystore + password file; see docs/ORACLE.md)")
    .option("--config <file>", "JSON config file (GRIDBRAIN_CONFIG)");
  for (const option of configFieldOptions()) serve.addOption(option);
  serve.action(async (opts: Record<string, unknown>) => {
    // A ConfigError names every bad field with its origin (exit 2, main.ts).
    const config = loadConfig({ flags: opts, env: process.env });
    const node = new OracleNode({ config });
    await node.start();
    console.log(`oracle node ${node.address} serving on ${node.url}`);
    const stop = () => {
      void node.close().then(() => process.exit(0));
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });

  chainOptions(program.command("verify"))
    .description("recompute an interval's schedule from chain data and compare it with the committed one")
    .argument("<interval>", "interval id", uintArg)
    .option("--json", "print the result as JSON")
    .action(async (intervalId: bigint, opts: Record<string, unknown>) => {
      const c = readOnlyConfig(opts);
      const { publicClient } = createChainClients(c.rpcUrl, c.chainId, { timeoutMs: c.rpcTimeoutMs });
      const result = await verifyInterval({
        client: publicClient,
        market: c.marketAddress as Address,
        registry: c.registryAddress as Address,
        intervalId,
        fromBlock: c.startBlock,
        location: {
          latitudeDeg: c.siteLatitudeDeg ?? DEFAULT_SITE_LOCATION.latitudeDeg,
          longitudeDeg: c.siteLongitudeDeg ?? DEFAULT_SITE_LOCATION.longitudeDeg,
        },
      });
      // The status is the exit code: 0 OK, 1 MISMATCH or UNSETTLEABLE, 2 not scheduled.
      process.exitCode = result.status === "ok" ? 0 : result.status === "not-scheduled" ? 2 : 1;
      if (opts["json"] === true) {
        // One document, nothing else: a script parses stdout whole.
        console.log(jsonText(result));
        return;
      }
      if (result.status === "not-scheduled") {
        console.log(`interval ${intervalId}: not scheduled`);
        return;
      }
      const imbalanceLine = (() => {
        const m = result.imbalance;
        if (m.status === "not-metered") return "meter report: not metered yet";
        const figures = (p: ReportedMeterFigures) =>
          `short/long per zone ${p.shortPrices.map((s, z) => `${s}/${p.longPrices[z]}`).join(", ")}; ` +
          `surplus per zone ${p.zoneSurplusWh.join(", ")} Wh`;
        return m.status === "reproduced"
          ? `meter report: imbalance prices and zone surplus reproduced from ${m.settledParticipants} settled deviations (${figures(m.reported)})`
          : `meter report: NOT reproduced from the ${m.settledParticipants} deviations settled so far ` +
              `(reported ${figures(m.reported)}; recomputed ${figures(m.recomputed)}; conclusive once every participant is settled)`;
      })();
      if (result.status === "ok") {
        console.log(
          `interval ${intervalId}: OK (root ${result.committed.scheduleRoot}, ${result.committed.fillCount} fills)`,
        );
        console.log(`  ${imbalanceLine}`);
        return;
      }
      console.log(
        `interval ${intervalId}: ${result.status === "unsettleable" ? "UNSETTLEABLE" : "MISMATCH"}`,
      );
      for (const d of result.differences) console.log(`  ${d}`);
      console.log(`  ${imbalanceLine}`);
      for (const f of result.fills)
        console.log(
          `  fill ${f.orderId} (${f.owner}): recomputed ${f.recomputedWh} Wh, settled ${f.settledWh ?? "not settled"}`,
        );
    });

  const market = program.command("market").description("market information");
  chainOptions(market.command("status"))
    .description(
      "interval states (the current interval and its neighbours, or one interval) and the committee, with any pending change",
    )
    .option("--interval <n>", "one interval id", uintArg)
    .action(async (opts: Record<string, unknown>) => {
      const c = readOnlyConfig(opts);
      const { publicClient } = createChainClients(c.rpcUrl, c.chainId, { timeoutMs: c.rpcTimeoutMs });
      const timing = await readMarketTiming(publicClient, c.marketAddress as Address);
      const now = await chainNow(publicClient);
      const current = now / timing.intervalSeconds;
      const ids =
        opts["interval"] !== undefined
          ? [opts["interval"] as bigint]
          : [current - 2n, current - 1n, current, current + 1n, current + 2n];
      console.log(`chain time ${now}, current interval ${current}`);
      for (const line of committeeStatusLines(
        await readCommitteeView(publicClient, c.marketAddress as Address),
        now,
      ))
        console.log(line);
      for (const id of ids) {
        const s = await readIntervalState(publicClient, c.marketAddress as Address, id);
        const t = intervalTimes(timing, id);
        const zero = `0x${"0".repeat(64)}`;
        const phase = intervalPhase({ now, times: t, scheduled: s.scheduled, metered: s.meterRoot !== zero });
        console.log(
          `${id}: ${phase}; fills ${s.settledCount}/${s.fillCount}; gate closure ${t.gateClosure}; meter root ${s.meterRoot === zero ? "-" : s.meterRoot}`,
        );
      }
    });
}
