/**
 * docs/DEPLOYING.md against what it describes:
 *
 * - the real networks of hardhat.config.ts take their URL and deployer key from configuration
 *   variables: with an empty environment and an empty keystore (HOME of the test's own) a deploy
 *   fails at once with Hardhat's HHE7 naming the missing variable, before any connection;
 * - every parameter of the Ignition modules (read from the modules' futures, not from the docs) is
 *   in DEPLOYING.md's table, and the example parameters files use only those names, give every
 *   required one and hold valid addresses;
 * - GridBrain.ts, deployed in-process with the example file's values (the token replaced by a
 *   test token), passes the checks DEPLOYING.md lists under "Verify after deployment".
 */
import type { IgnitionModule } from "@nomicfoundation/ignition-core";
import { expect } from "chai";
import { getAddress, id } from "ethers";
import { network } from "hardhat";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import GridBrain from "../../deploy/modules/GridBrain.js";
import LocalGridBrain from "../../deploy/modules/LocalGridBrain.js";
import { PROJECT_ROOT } from "../../oracle/src/devnet/local-services.js";
// Typechain output of `hardhat build` (types/ is generated, not committed).
import type {
  EnergyCertificate,
  EnergyMarket,
  GridRegistry,
  OracleCommittee,
} from "../../types/ethers-contracts/index.js";

const DEPLOYING = readFileSync(join(PROJECT_ROOT, "docs/DEPLOYING.md"), "utf8");

interface ParameterInfo {
  name: string;
  required: boolean;
}

/** The module parameters a module's futures read (constructor and call arguments, nested in structs). */
function moduleParameters(module: IgnitionModule): ParameterInfo[] {
  const found = new Map<string, ParameterInfo>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (typeof value !== "object" || value === null) return;
    const v = value as { type?: unknown; name?: unknown; defaultValue?: unknown };
    if (v.type === "MODULE_PARAMETER" && typeof v.name === "string") {
      found.set(v.name, { name: v.name, required: v.defaultValue === undefined });
      return;
    }
    // Plain objects only (a struct argument); futures are referenced, not descended into.
    if (Object.getPrototypeOf(value) === Object.prototype) Object.values(value).forEach(visit);
  };
  for (const future of module.futures) {
    const f = future as { constructorArgs?: unknown; args?: unknown };
    visit(f.constructorArgs);
    visit(f.args);
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function readParameters(file: string): Record<string, Record<string, unknown>> {
  return JSON.parse(readFileSync(join(PROJECT_ROOT, file), "utf8")) as Record<
    string,
    Record<string, unknown>
  >;
}

function addressesIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(addressesIn);
  return typeof value === "string" && /^0x[0-9a-fA-F]{40}$/.test(value) ? [value] : [];
}

function hardhat(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(PROJECT_ROOT, "node_modules/hardhat/dist/src/cli.js"), ...args],
      { cwd: PROJECT_ROOT, env, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, output: stdout + stderr });
      },
    );
  });
}

describe("docs/DEPLOYING.md", () => {
  describe("real networks resolve their variables only when used", () => {
    let home: string;
    before(() => {
      home = mkdtempSync(join(tmpdir(), "gridbrain-keystore-"));
    });
    after(() => rmSync(home, { recursive: true, force: true }));

    // Nothing but PATH and an empty HOME: no variable in the environment, no keystore (the keystore
    // lives under HOME's config directory), no CI flag.
    const bare = () => ({ PATH: process.env["PATH"] ?? "", HOME: home, NO_COLOR: "1" });
    const deploy = (net: string) => [
      "ignition",
      "deploy",
      "deploy/modules/GridBrain.ts",
      "--network",
      net,
      "--parameters",
      "deploy/parameters/sepolia.example.json",
    ];

    for (const [net, urlVar, keyVar] of [
      ["sepolia", "SEPOLIA_RPC_URL", "SEPOLIA_PRIVATE_KEY"],
      ["custom", "GRIDBRAIN_CUSTOM_RPC_URL", "GRIDBRAIN_CUSTOM_PRIVATE_KEY"],
    ] as const) {
      it(`--network ${net} without variables fails naming ${urlVar}, then ${keyVar}`, async () => {
        const noUrl = await hardhat(deploy(net), bare());
        expect(noUrl.code, noUrl.output).to.not.equal(0);
        expect(noUrl.output).to.include(`HHE7: Configuration Variable "${urlVar}" not found`);

        // With a URL (a closed local port: nothing is reached), the deployer key is the next one named.
        const noKey = await hardhat(deploy(net), { ...bare(), [urlVar]: "http://127.0.0.1:9" });
        expect(noKey.code, noKey.output).to.not.equal(0);
        expect(noKey.output).to.include(`HHE7: Configuration Variable "${keyVar}" not found`);
      });
    }

    it("DEPLOYING.md names each of these variables and the keystore command", () => {
      for (const name of [
        "SEPOLIA_RPC_URL",
        "SEPOLIA_PRIVATE_KEY",
        "GRIDBRAIN_CUSTOM_RPC_URL",
        "GRIDBRAIN_CUSTOM_PRIVATE_KEY",
      ]) {
        expect(DEPLOYING).to.include(`npx hardhat keystore set ${name}`);
      }
    });
  });

  describe("module parameters", () => {
    const modules = [
      { module: GridBrain, files: ["deploy/parameters/sepolia.example.json"] },
      { module: LocalGridBrain, files: ["deploy/parameters/localhost.json"] },
    ];

    for (const { module, files } of modules) {
      const params = moduleParameters(module);

      it(`every parameter of ${module.id} is in DEPLOYING.md's table`, () => {
        expect(params.map((p) => p.name)).to.include.members(["committeeMembers", "committeeThreshold"]);
        const undocumented = params.filter((p) => !new RegExp(`^\\| \`${p.name}\` \\|`, "m").test(DEPLOYING));
        expect(undocumented.map((p) => p.name)).to.deep.equal([]);
      });

      for (const file of files) {
        it(`${file} is keyed ${module.id}, uses only its parameter names, gives the required ones`, () => {
          const json = readParameters(file);
          expect(Object.keys(json)).to.deep.equal([module.id]);
          const given = Object.keys(json[module.id]!);
          const names = params.map((p) => p.name);
          expect(
            given.filter((k) => !names.includes(k)),
            "keys the module does not read",
          ).to.deep.equal([]);
          expect(
            params.filter((p) => p.required && !given.includes(p.name)).map((p) => p.name),
            "required parameters missing",
          ).to.deep.equal([]);
          for (const a of addressesIn(Object.values(json[module.id]!))) {
            expect(() => getAddress(a), `address ${a}`).to.not.throw();
          }
        });
      }
    }

    it("the GridBrain module's token parameter has no default (a real network brings its own token)", () => {
      expect(moduleParameters(GridBrain).find((p) => p.name === "token")).to.deep.equal({
        name: "token",
        required: true,
      });
    });
  });

  describe("verify after deployment (in-process, the example's values)", () => {
    it("roles, committee, timelock, config and the certificate issuer are as the parameters say", async () => {
      // Tests compile with the unoptimized default profile, where EnergyMarket exceeds the code size
      // limit; `ignition deploy` builds the production profile, which fits (hardhat.config.ts).
      const { ethers, ignition } = await network.create({ override: { allowUnlimitedContractSize: true } });
      const [deployer] = await ethers.getSigners();
      const token = await ethers.deployContract("TestToken");
      const example = readParameters("deploy/parameters/sepolia.example.json")["GridBrain"]!;
      const parameters = { ...example, token: await token.getAddress() };
      // The reviver Ignition applies to parameters files: "100000n" is a bigint.
      const revived = Object.fromEntries(
        Object.entries(parameters).map(([k, v]) => [
          k,
          typeof v === "string" && /^\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v,
        ]),
      );
      const deployed = await ignition.deploy(GridBrain, { parameters: { GridBrain: revived as never } });
      // Typed views of the deployed addresses (Ignition returns untyped ethers contracts).
      const market = (await ethers.getContractAt(
        "EnergyMarket",
        await deployed.market.getAddress(),
      )) as unknown as EnergyMarket;
      const registry = (await ethers.getContractAt(
        "GridRegistry",
        await deployed.registry.getAddress(),
      )) as unknown as GridRegistry;
      const committee = (await ethers.getContractAt(
        "OracleCommittee",
        await deployed.committee.getAddress(),
      )) as unknown as OracleCommittee;
      const certificates = (await ethers.getContractAt(
        "EnergyCertificate",
        await deployed.certificates.getAddress(),
      )) as unknown as EnergyCertificate;
      const admin = example["admin"] as string;
      const operator = example["operator"] as string;
      const guardian = example["guardian"] as string;
      const DEFAULT_ADMIN = ethers.ZeroHash;

      expect(await market.token()).to.equal(await token.getAddress());
      expect(await market.tokenDecimals()).to.equal(6n);
      expect(await market.registry()).to.equal(await registry.getAddress());
      expect(await market.committee()).to.equal(await committee.getAddress());
      expect(await market.certificates()).to.equal(await certificates.getAddress());
      // Set by the deployer although the admin is a cold address it does not hold (DEPLOYING.md).
      expect(await market.flexibilityMarket()).to.equal(await deployed.flexibilityMarket.getAddress());

      expect(await market.hasRole(DEFAULT_ADMIN, admin)).to.equal(true);
      expect(await market.hasRole(id("OPERATOR_ROLE"), operator)).to.equal(true);
      expect(await market.hasRole(id("GUARDIAN_ROLE"), guardian)).to.equal(true);
      expect(await market.hasRole(DEFAULT_ADMIN, deployer!.address)).to.equal(false);
      expect(await registry.hasRole(DEFAULT_ADMIN, admin)).to.equal(true);
      expect(await registry.hasRole(id("OPERATOR_ROLE"), operator)).to.equal(true);
      expect(await committee.hasRole(DEFAULT_ADMIN, admin)).to.equal(true);
      expect(await committee.hasRole(DEFAULT_ADMIN, deployer!.address)).to.equal(false);

      // As DEPLOYING.md warns: the certificate admin is the deployer until it hands the role over.
      expect(await certificates.hasRole(DEFAULT_ADMIN, deployer!.address)).to.equal(true);
      expect(await certificates.hasRole(id("ISSUER_ROLE"), await market.getAddress())).to.equal(true);

      expect(await committee.members()).to.deep.equal(
        (example["committeeMembers"] as string[]).map((a) => getAddress(a)),
      );
      expect(await committee.epoch()).to.equal(1n);
      expect((await committee.pendingCommittee()).executableAt).to.equal(0n);
      expect(await committee.threshold()).to.equal(BigInt(example["committeeThreshold"] as number));
      expect(await committee.changeDelay()).to.equal(
        BigInt(example["committeeChangeDelaySeconds"] as number),
      );
      expect(await market.intervalSeconds()).to.equal(BigInt(example["intervalSeconds"] as number));
      expect(await market.gateClosureSeconds()).to.equal(BigInt(example["gateClosureSeconds"] as number));
      expect(await market.scheduleWindowSeconds()).to.equal(
        BigInt(example["scheduleWindowSeconds"] as number),
      );
      expect(await market.meterWindowSeconds()).to.equal(BigInt(example["meterWindowSeconds"] as number));
      expect(await market.offerCollateralPerKwh()).to.equal(100_000n);
      expect(await registry.zoneCount()).to.equal(0n);
    });
  });
});
