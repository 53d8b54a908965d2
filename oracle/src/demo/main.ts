/**
 * `npm run demo` — the README's main command. Starts a local Hardhat JSON-RPC node (unless
 * RPC_URL points at a running one), deploys the GridBrain suite with the Ignition modules, and
 * prints the contract addresses. It keeps the chain running until Ctrl-C.
 */
import { deployLocalSuite } from "./deploy.js";
import { startHardhatNode, type LocalService } from "./local-services.js";

// Hardhat's well-known development accounts 1–5 form the local 3-of-5 committee.
const LOCAL_COMMITTEE: readonly `0x${string}`[] = [
  "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
  "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
  "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
  "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
];

const started: LocalService[] = [];
async function shutdown(code: number): Promise<never> {
  for (const service of started.reverse()) await service.stop().catch(() => undefined);
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(130));
process.on("SIGTERM", () => void shutdown(143));

try {
  const externalRpc = process.env["RPC_URL"];
  let rpcUrl: string;
  if (externalRpc === undefined) {
    const node = await startHardhatNode();
    started.push(node);
    rpcUrl = node.url;
    console.log(`local Hardhat node (chain 31337) at ${rpcUrl}`);
  } else {
    rpcUrl = externalRpc;
    console.log(`using the JSON-RPC node at ${rpcUrl}`);
  }
  const addresses = await deployLocalSuite({
    rpcUrl,
    committeeMembers: LOCAL_COMMITTEE,
    committeeThreshold: 3,
  });
  console.log("deployed with deploy/modules/LocalGridBrain.ts:");
  for (const [name, address] of Object.entries(addresses)) console.log(`  ${name.padEnd(13)} ${address}`);
  if (process.env["CI"] === "true" || process.argv.includes("--exit")) await shutdown(0);
  console.log("chain running; Ctrl-C stops it");
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  await shutdown(1);
}
