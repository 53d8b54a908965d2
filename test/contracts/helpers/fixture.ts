import { network } from "hardhat";
import type { Address } from "viem";
import LocalGridBrain from "../../../deploy/modules/LocalGridBrain.js";
// Typechain output of `hardhat build` (types/ is generated, not committed).
import type {
  EnergyCertificate,
  EnergyMarket,
  FlexibilityMarket,
  GridRegistry,
  OracleCommittee,
  TestToken,
} from "../../../types/ethers-contracts/index.js";

/**
 * A deployed GridBrain suite on a fresh simulated network: 3-of-5 committee, two zones, four
 * funded prosumers. The default build profile has no optimizer, which makes EnergyMarket larger
 * than the 24 KiB deployment limit, so the simulated network lifts that limit. The production
 * profile must fit under it on its own (hardhat.config.ts: how, and the sizes measured).
 */
export async function connect() {
  return network.create({ override: { allowUnlimitedContractSize: true } });
}

export type Connection = Awaited<ReturnType<typeof connect>>;

export const INTERVAL_SECONDS = 900n;
export const COLLATERAL_PER_KWH = 100_000n;
/** The committee's change delay: the contract's minimum, two days. */
export const COMMITTEE_CHANGE_DELAY = 172_800n;

export async function deploySuite(conn: Connection, committeeSize = 5, threshold = 3) {
  const { ethers, ignition } = conn;
  const [admin, operator, guardian, alice, bob, carol, dave] = await ethers.getSigners();
  if (!admin || !operator || !guardian || !alice || !bob || !carol || !dave)
    throw new Error("not enough signers");
  const members = Array.from({ length: committeeSize }, () => ethers.Wallet.createRandom()).sort((a, b) =>
    BigInt(a.address) < BigInt(b.address) ? -1 : 1,
  );
  // The deployment every other caller uses (deploy/modules/suite.ts), from signer 0 = admin, with
  // the roles split and the test timing given as module parameters.
  const deployed = await ignition.deploy(LocalGridBrain, {
    parameters: {
      LocalGridBrain: {
        committeeMembers: members.map((m) => m.address),
        committeeThreshold: threshold,
        committeeChangeDelaySeconds: COMMITTEE_CHANGE_DELAY,
        admin: admin.address,
        operator: operator.address,
        guardian: guardian.address,
        intervalSeconds: INTERVAL_SECONDS,
        gateClosureSeconds: 300n,
        scheduleWindowSeconds: 300n,
        meterWindowSeconds: 86_400n,
        offerCollateralPerKwh: COLLATERAL_PER_KWH,
        certificateUri: "",
      },
    },
  });
  // Typed views: Ignition returns untyped ethers contracts of the same ABIs.
  const token = deployed.token as unknown as TestToken;
  const registry = deployed.registry as unknown as GridRegistry;
  const committee = deployed.committee as unknown as OracleCommittee;
  const certificate = deployed.certificates as unknown as EnergyCertificate;
  const market = deployed.market as unknown as EnergyMarket;
  const marketAddress = (await market.getAddress()) as Address;
  const flexibilityMarket = deployed.flexibilityMarket as unknown as FlexibilityMarket;
  await registry.connect(operator).addZone("north");
  await registry.connect(operator).addZone("south");
  // The grid's tariffs (retail 0.40, feed-in 0.05 per kWh): they bound the meter report's imbalance prices.
  await registry.connect(operator).setZoneGrid(0, ethers.ZeroAddress, 400_000n, 50_000n);
  await registry.connect(operator).setZoneGrid(1, ethers.ZeroAddress, 400_000n, 50_000n);
  for (const [who, zone] of [
    [alice, 0],
    [bob, 0],
    [carol, 1],
    [dave, 1],
  ] as const) {
    await registry.connect(operator).registerParticipant(who.address, zone);
    await token.mint(who.address, 1_000_000_000n);
    await token.connect(who).approve(marketAddress, 2n ** 256n - 1n);
    await market.connect(who).deposit(1_000_000_000n);
  }
  const chainId = (await ethers.provider.getNetwork()).chainId;
  const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  const interval = now / INTERVAL_SECONDS + 2n;
  return {
    token,
    registry,
    committee,
    certificate,
    market,
    marketAddress,
    flexibilityMarket,
    members,
    chainId,
    interval,
    admin,
    operator,
    guardian,
    alice,
    bob,
    carol,
    dave,
  };
}
