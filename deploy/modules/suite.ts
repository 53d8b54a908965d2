/**
 * The GridBrain suite as Ignition futures: registry, oracle committee, certificates, market and
 * flexibility market, roles wired. Shared by `GridBrain.ts` (token given as a parameter) and `LocalGridBrain.ts`
 * (token deployed alongside), and the one deployment path of the contract tests' fixture, the gas
 * bench and the devnet. Parameters (all under the calling module's id):
 *   committeeMembers (address[], ascending order not required), committeeThreshold (k, a strict
 *   majority), committeeChangeDelaySeconds (172800: two days, the contract's minimum; later
 *   committee changes wait this long, the initial committee takes effect at deployment),
 *   admin / operator / guardian (default: the deployer), intervalSeconds (900),
 *   gateClosureSeconds (300), scheduleWindowSeconds (600), meterWindowSeconds (3600),
 *   offerCollateralPerKwh (token base units per kWh, 100000), certificateUri.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { Artifact, ArgumentType, IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";
import { keccak256, toUtf8Bytes } from "ethers";

const ISSUER_ROLE = keccak256(toUtf8Bytes("ISSUER_ROLE"));

export type SuiteContract =
  | "TestToken"
  | "GridRegistry"
  | "OracleCommittee"
  | "EnergyCertificate"
  | "EnergyMarket"
  | "FlexibilityMarket";

/**
 * Artifacts to deploy instead of the ones Ignition reads from artifacts/ at deployment time. The
 * gas bench passes the production-profile bytecode it read and checked right after compiling,
 * because another build of the same checkout may rewrite artifacts/ before Ignition reads it.
 */
export type SuiteArtifacts = Partial<Readonly<Record<SuiteContract, Artifact>>>;

export function defineSuite(m: IgnitionModuleBuilder, token: ArgumentType, artifacts: SuiteArtifacts = {}) {
  const contract = (name: SuiteContract, args: ArgumentType[]) => {
    const artifact = artifacts[name];
    return artifact === undefined ? m.contract(name, args) : m.contract(name, artifact, args);
  };
  const deployer = m.getAccount(0);
  const admin = m.getParameter("admin", deployer);
  const operator = m.getParameter("operator", deployer);
  const guardian = m.getParameter("guardian", deployer);

  const registry = contract("GridRegistry", [admin, operator]);
  const committee = contract("OracleCommittee", [
    admin,
    m.getParameter("committeeMembers"),
    m.getParameter("committeeThreshold"),
    m.getParameter("committeeChangeDelaySeconds", 172_800),
  ]);
  const certificates = contract("EnergyCertificate", [
    deployer,
    m.getParameter("certificateUri", "https://gridbrain.example/certificates/{id}.json"),
  ]);
  const market = contract("EnergyMarket", [
    {
      token,
      registry,
      committee,
      certificates,
      admin,
      operator,
      guardian,
      intervalSeconds: m.getParameter("intervalSeconds", 900),
      gateClosureSeconds: m.getParameter("gateClosureSeconds", 300),
      scheduleWindowSeconds: m.getParameter("scheduleWindowSeconds", 600),
      meterWindowSeconds: m.getParameter("meterWindowSeconds", 3600),
      offerCollateralPerKwh: m.getParameter("offerCollateralPerKwh", 100_000n),
    },
  ]);
  // Only the market mints certificates, for renewable energy it has seen delivered and settled.
  m.call(certificates, "grantRole", [ISSUER_ROLE, market], { id: "grantIssuerRoleToMarket" });
  // Standing flexibility orders of batteries (issue 14), settled as leaves of the market's schedules. The market
  // accepts it once, from its deployer (this account) or its admin.
  const flexibilityMarket = contract("FlexibilityMarket", [market, registry, token]);
  m.call(market, "setFlexibilityMarket", [flexibilityMarket], { id: "setFlexibilityMarket" });
  return { registry, committee, certificates, market, flexibilityMarket };
}

/**
 * The module `LocalGridBrain.ts` exports: the mintable test token (6 decimals, EIP-2612 permit)
 * and the suite settling in it. Its parameters are keyed `LocalGridBrain`.
 */
export function localSuiteModule(artifacts: SuiteArtifacts = {}) {
  return buildModule("LocalGridBrain", (m) => {
    const tokenArtifact = artifacts.TestToken;
    const token =
      tokenArtifact === undefined ? m.contract("TestToken") : m.contract("TestToken", tokenArtifact);
    return { token, ...defineSuite(m, token, artifacts) };
  });
}
