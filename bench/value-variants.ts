/**
 * One-off measurements of the storage-value share under rule variants, faster than a whole
 * `npm run bench:value` (about 3 s per day and variant): each variant is (c) with some
 * `ValueDayOptions` changed (oracle/src/domain/rolling/day.ts says what each option means) and,
 * with `lead=1`, the households ordering from the cloud index of i − 1 instead of i − 2.
 *
 *   npx tsx bench/value-variants.ts --seeds 1,2,3 --weather cloudy \
 *     lead=1 rollingCommit=pinned,meterFollowing=zone
 *
 * A variant is a comma-separated list of key=value (none: the default rule, "-"). Prints one line
 * per seed, day and variant: share = (a − x) / (a − d), as in value.json. Writes nothing; the
 * figures quoted in docs/BENCHMARKS.md from it name the command that printed them.
 */
import { z } from "zod";
import { loadHighs } from "../oracle/src/domain/dispatch/index.js";
import { runPolicy, simulateDayData, type ValueDayOptions } from "../oracle/src/domain/rolling/day.js";
import { LINES, WEATHER, isWeather, neighbourhoodFor } from "./value-days.js";

const Variant = z
  .object({
    lead: z.coerce.number().int().min(1).max(96),
    rollingCommit: z.enum(["flex", "pinned"]),
    ownerLimits: z.enum(["standing", "heuristic"]),
    futureForecast: z.enum(["rule", "actual"]),
    surplusForecast: z.enum(["orders", "meters", "quantile"]),
    meterLag: z.coerce.number().int().min(0).max(96),
    meterScope: z.enum(["committee", "households"]),
    meterInterval: z.enum(["meters", "orders"]),
    meterFollowing: z.enum(["household", "zone"]),
    socSync: z.enum(["exact", "lag", "none"]),
    socResyncWh: z.coerce.number().int().min(0),
    horizon: z.union([z.enum(["restOfDay", "atLeastMin"]), z.coerce.number().int().min(1).max(672)]),
  })
  .partial()
  .strict();
type Variant = z.infer<typeof Variant>;

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(2);
}

function parseVariant(text: string): Variant {
  if (text === "-") return {};
  const fields: Record<string, string> = {};
  for (const pair of text.split(",")) {
    const [key, value, ...rest] = pair.split("=");
    if (key === undefined || key === "" || value === undefined || rest.length > 0)
      fail(`variant "${text}": "${pair}" is not key=value`);
    fields[key] = value;
  }
  const parsed = Variant.safeParse(fields);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    fail(`variant "${text}": ${issue.path.join(".") || "key"}: ${issue.message}`);
  }
  return parsed.data;
}

function listArg(name: string, fallback: string): string[] {
  const at = process.argv.indexOf(name);
  if (at === -1) return fallback.split(",");
  const value = process.argv[at + 1];
  if (value === undefined || value.startsWith("--")) fail(`${name}: needs a value`);
  return value.split(",");
}

const seeds = listArg("--seeds", "1,2,3").map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) fail(`--seeds: "${s}" is not a non-negative integer`);
  return n;
});
const weathers = listArg("--weather", "sunny,cloudy").map((w) =>
  isWeather(w) ? w : fail(`--weather: "${w}" is not one of ${Object.keys(WEATHER).join(", ")}`),
);
const flagValues = new Set(
  ["--seeds", "--weather"].map((f) => process.argv.indexOf(f) + 1).filter((i) => i > 0),
);
const variantTexts = process.argv.slice(2).filter((a, i) => !a.startsWith("--") && !flagValues.has(i + 2));
const variants = (variantTexts.length === 0 ? ["-"] : variantTexts).map((t) => ({
  text: t,
  variant: parseVariant(t),
}));

const highs = await loadHighs();
for (const seed of seeds) {
  for (const weather of weathers) {
    const { date, cloud } = WEATHER[weather];
    const dayFor = (lead: number | undefined) =>
      simulateDayData(
        {
          neighbourhood: neighbourhoodFor(seed),
          date,
          seed,
          cloud: lead === undefined ? cloud : { ...cloud, forecastLeadSteps: lead },
          lines: LINES,
        },
        32,
      );
    const day = dayFor(undefined);
    const none = runPolicy(day, "none", highs).cost;
    const perfect = runPolicy(day, "perfect", highs).cost;
    for (const { text, variant } of variants) {
      const { lead, ...options } = variant;
      const data = lead === undefined ? day : dayFor(lead);
      // The households' lead changes what they know, never the metered day: (a) must not move.
      if (lead !== undefined && runPolicy(data, "none", highs).cost !== none)
        throw new Error(`seed ${seed} ${weather}: lead ${lead} changed the metered day`);
      // zod's partial() types absent keys as `| undefined`; none is present with that value.
      const over = Object.fromEntries(
        Object.entries(options).filter(([, v]) => v !== undefined),
      ) as Partial<ValueDayOptions>;
      const run = runPolicy({ ...data, options: { ...data.options, ...over } }, "rolling", highs);
      const share = (100 * Number(none - run.cost)) / Number(none - perfect);
      console.log(
        `seed ${seed} ${weather} ${text}: share ${share.toFixed(2)}% (cost ${run.cost}, steps short ${run.stepsShort}, re-synchronised ${run.resyncs})`,
      );
    }
  }
}
