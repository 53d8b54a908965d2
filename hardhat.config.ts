import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig, overrideTask } from "hardhat/config";
import { join } from "node:path";
import { RESULTS_DIR_ENV, solidityResults, writeRunnerResults } from "./scripts/test-results.js";

// The compiler is the `solc` npm package's WebAssembly build, pinned in package.json: Hardhat's
// own compiler download is unreachable on our machines (npm registry only), and a pinned local
// compiler makes every build reproducible. 0.8.30 is the newest version Hardhat knows the EVM
// target of and compiles forge-std without warnings.
const require = createRequire(import.meta.url);
const SOLC_VERSION = "0.8.30";
const solcJsPath = require.resolve("solc/soljson.js");
// `npm test` (scripts/test-all.mjs) sets this to collect every runner's results as JSON there
// (scripts/test-results.ts); other commands leave it unset and the runners report as usual.
const testResultsDir = process.env[RESULTS_DIR_ENV];
// Artifacts and compile cache under this folder instead of ./artifacts and ./cache: set only for the
// Hardhat processes of a local deploy (oracle/src/devnet/local-services.ts, deployBuildEnv), so that
// their production build does not evict the default one a test run built, nor the other way round.
const buildDir = process.env["GRIDBRAIN_BUILD_DIR"];

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  tasks: [
    // The Solidity runner has no reporter option: its task's return value is its machine-readable result.
    overrideTask(["test", "solidity"])
      .setInlineAction(async (args, _hre, runSuper) => {
        const result: unknown = await runSuper(args);
        writeRunnerResults(solidityResults(result));
        return result;
      })
      .build(),
  ],
  solidity: {
    profiles: {
      // Fast to compile: what `hardhat build` and `hardhat test` use while developing, and what lint
      // compiles. `npm test` runs on production bytecode (scripts/test-all.mjs).
      default: {
        version: SOLC_VERSION,
        path: solcJsPath,
      },
      // What we deploy (Ignition's default profile), measure gas with and `npm test` runs: optimizer + IR pipeline.
      // Not isolated (Hardhat's production default is isolated): isolated builds compile EnergyMarket through
      // viaIR once per Solidity test file, which made the production test run ~11 minutes of compiling on a
      // 2-core machine. A contract's bytecode and metadata cover only its own imports, so merging jobs does
      // not change what is deployed.
      production: {
        isolated: false,
        version: SOLC_VERSION,
        path: solcJsPath,
        settings: {
          // runs 200 (was 10,000, then 1,000): with the settlement-economics and hardening changes
          // EnergyMarket grew past the 24,576-byte code size limit (25,130 bytes at 10,000 runs, 24,595
          // at 1,000); fewer runs inline less. Issue 13 (libraries, one private function per repeated
          // check or external call) took it from 24,348 to 23,066 bytes of runtime code at 200 runs; runs 1
          // would save only ~90 more. Measured per change in docs/CONTRACTS.md, "Code size".
          optimizer: { enabled: true, runs: 200 },
          viaIR: true,
        },
      },
    },
  },
  paths: {
    // Ignition modules live in deploy/modules; deployments are written to deploy/deployments/.
    ignition: "./deploy",
    ...(buildDir === undefined || buildDir === ""
      ? {}
      : { artifacts: join(buildDir, "artifacts"), cache: join(buildDir, "cache") }),
    tests: {
      solidity: "./test/contracts",
      mocha: "./test",
    },
  },
  test: {
    solidity: {
      fuzz: { runs: 256 },
      // The production run of `npm test` raises this to 320 (scripts/test-all.mjs), `npm run bench:invariants`
      // to 3,000.
      invariant: { runs: Number(process.env["GRIDBRAIN_INVARIANT_RUNS"] ?? 64), depth: 32 },
    },
    mocha: {
      timeout: 120_000,
      ...(testResultsDir === undefined || testResultsDir === ""
        ? {}
        : {
            reporter: require.resolve("./scripts/mocha-results-reporter.cjs"),
            reporterOptions: { output: join(testResultsDir, "mocha.json") },
          }),
    },
  },
  networks: {
    localhost: {
      type: "http",
      chainType: "l1",
      url: process.env["GRIDBRAIN_RPC_URL"] ?? "http://127.0.0.1:8545",
    },
    // Real networks (docs/DEPLOYING.md). URL and deployer key are configuration variables: Hardhat
    // resolves them only when a task connects to this network (an environment variable of the same
    // name first, then the encrypted keystore of @nomicfoundation/hardhat-keystore, which the
    // toolbox loads), so `npx hardhat test` on the default network never asks for them.
    sepolia: {
      type: "http",
      chainType: "l1",
      url: configVariable("SEPOLIA_RPC_URL"),
      accounts: [configVariable("SEPOLIA_PRIVATE_KEY")],
    },
    // Any other EVM chain (a testnet, a private chain of a grid operator): the same, under its own names.
    custom: {
      type: "http",
      chainType: "generic",
      url: configVariable("GRIDBRAIN_CUSTOM_RPC_URL"),
      accounts: [configVariable("GRIDBRAIN_CUSTOM_PRIVATE_KEY")],
    },
  },
});
