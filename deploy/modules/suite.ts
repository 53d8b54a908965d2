/**
 * The GridBrain suite as Ignition futures: registry, oracle committee, certificates and market,
 * roles wired. Shared by `GridBrain.ts` (token given as a parameter) and `LocalGridBrain.ts`
 * (token deployed alongside). Parameters (all under the calling module's id):
 *   committeeMembers (address[], ascending order not required), committeeThreshold (k, a strict
 *   majority), committeeChangeDelaySeconds (172800: two days, the contract's minimum; later
 *   committee changes wait this long, the initial committee takes effect at deployment),
 *   admin / operator / guardian (default: the deployer), intervalSeconds (900),
 *   gateClosureSeconds (300), scheduleWindowSeconds (600), meterWindowSeconds (3600),
 *   offerCollateralPerKwh (token base units per kWh, 100000), certificateUri.
 */
import type { ArgumentType, IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";
import { keccak256, toUtf8Bytes } from "ethers";

const ISSUER_ROLE = keccak256(toUtf8Bytes("ISSUER_ROLE"));

export function defineSuite(m: IgnitionModuleBuilder, token: ArgumentType) {
  const deployer = m.getAccount(0);
  const admin = m.getParameter("admin", deployer);
  const operator = m.getParameter("operator", deployer);
  const guardian = m.getParameter("guardian", deployer);

  const registry = m.contract("GridRegistry", [admin, operator]);
  const committee = m.contract("OracleCommittee", [
    admin,
    m.getParameter("committeeMembers"),
    m.getParameter("committeeThreshold"),
    m.getParameter("committeeChangeDelaySeconds", 172_800),
  ]);
  const certificates = m.contract("EnergyCertificate", [
    deployer,
    m.getParameter("certificateUri", "https://gridbrain.example/certificates/{id}.json"),
  ]);
  const market = m.contract("EnergyMarket", [
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
  return { registry, committee, certificates, market };
}
