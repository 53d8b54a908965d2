/**
 * `gridbrain registry plan|apply` against a real local network: a Hardhat node, the suite deployed
 * with Ignition (the registry starts empty), the operator's key (Hardhat's account #0, the
 * deployer) in an encrypted keystore, and the bin run as a child process.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Address, getAddress } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { gridRegistryAbi } from "../../../oracle/src/chain/abis.js";
import { createChainClients } from "../../../oracle/src/chain/market.js";
import { deployLocalSuite } from "../../../oracle/src/devnet/deploy.js";
import {
  PROJECT_ROOT,
  type LocalService,
  startHardhatNode,
} from "../../../oracle/src/devnet/local-services.js";
import { writeKeystore } from "../../../oracle/src/infra/keystore.js";
import { runCli } from "../../helpers/cli.js";
import { HARDHAT_KEYS } from "../infra/hardhat-node.js";

const MNEMONIC = "test test test test test test test test test test test junk";
const EXAMPLE = join(PROJECT_ROOT, "examples", "registry.json");

describe("registry CLI", function () {
  this.timeout(240_000);

  let chain: LocalService;
  let registry: Address;
  let dir: string;
  let connection: string[];
  let client: ReturnType<typeof createChainClients>["publicClient"];

  const read = <T>(functionName: string, args: readonly unknown[] = []) =>
    client.readContract({
      address: registry,
      abi: gridRegistryAbi,
      functionName: functionName as "zoneCount",
      args: args as [],
    }) as Promise<T>;
  const plan = async (file: string) => {
    const result = await runCli(["registry", "plan", file, ...connection, "--json"]);
    expect(result.stderr, "stderr").to.equal("");
    expect(result.code).to.equal(0);
    return (JSON.parse(result.stdout) as { calls: { functionName: string; args: unknown[] }[] }).calls;
  };

  before(async function () {
    chain = await startHardhatNode();
    const addresses = await deployLocalSuite({
      rpcUrl: chain.url,
      committeeMembers: [1, 2, 3].map((i) => mnemonicToAccount(MNEMONIC, { addressIndex: i }).address),
      committeeThreshold: 2,
      deploymentId: `registry-cli-${chain.port}`,
    });
    registry = addresses.registry;
    ({ publicClient: client } = createChainClients(chain.url, 31337));
    dir = mkdtempSync(join(tmpdir(), "gridbrain-registry-"));
    writeFileSync(join(dir, "password"), "operator password\n");
    await writeKeystore({
      path: join(dir, "operator.json"),
      password: "operator password",
      privateKey: HARDHAT_KEYS[0],
      options: { scryptN: 1024 },
    });
    connection = ["--rpc-url", chain.url, "--registry", registry];
  });

  after(async () => {
    await chain?.stop();
    // Ignition keeps a journal per deployment id; without this, each run left one under deploy/deployments.
    if (chain !== undefined)
      rmSync(join(PROJECT_ROOT, "deploy", "deployments", `registry-cli-${chain.port}`), {
        recursive: true,
        force: true,
      });
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("plans the example file on the empty registry, applies it, and then plans nothing", async () => {
    expect((await plan(EXAMPLE)).map((c) => c.functionName)).to.deep.equal([
      "addZone",
      "addZone",
      "setZoneGrid",
      "setZoneGrid",
      "setLine",
      // Both directions of the line; South's own fee is "0", which an empty registry already has.
      "setGridFee",
      "setGridFee",
      "registerParticipant",
      "registerParticipant",
      "registerMeter",
      "registerBattery",
    ]);
    const applied = await runCli([
      "registry",
      "apply",
      EXAMPLE,
      ...connection,
      "--keystore",
      join(dir, "operator.json"),
      "--password-file",
      join(dir, "password"),
    ]);
    expect(applied.stderr).to.equal("");
    expect(applied.code).to.equal(0);
    expect(applied.stdout).to.match(/the registry matches the file \(11 call\(s\)\)/);

    // What the chain now holds, read independently of the planner.
    const example = JSON.parse(readFileSync(EXAMPLE, "utf8")) as {
      participants: { address: string; zone: number; meter?: { address: string } }[];
    };
    const alice = example.participants[0]!;
    expect(Number(await read<number>("zoneCount"))).to.equal(2);
    expect(await read("zoneGrid", [1])).to.deep.include({ retailPerKwh: 300_000n, feedInPerKwh: 70_000n });
    expect(await read("lineBetween", [0, 1])).to.deep.equal({
      capacityWh: 20_000n,
      lossBps: 150,
      exists: true,
    });
    expect(await read<bigint>("gridFee", [1, 0])).to.equal(10_000n);
    expect(await read("participantZone", [alice.address])).to.deep.equal([true, 0]);
    expect(await read("meterInfo", [alice.meter!.address])).to.deep.equal({
      participant: getAddress(alice.address),
      source: 1,
    });
    expect(await read("battery", [0])).to.deep.include({
      owner: getAddress(alice.address),
      maxSocWh: 9_500n,
    });

    expect(await plan(EXAMPLE)).to.deep.equal([]);
  });

  it("applies only the difference when the file changes", async () => {
    const changed = JSON.parse(readFileSync(EXAMPLE, "utf8")) as Record<string, unknown> & {
      zones: { grid: { retailPerKwh: string } }[];
      batteries: { maxSocWh: number }[];
    };
    changed.zones[1]!.grid.retailPerKwh = "320000";
    changed.batteries[0]!.maxSocWh = 9_000;
    const file = join(dir, "changed.json");
    writeFileSync(file, JSON.stringify(changed));
    expect((await plan(file)).map((c) => c.functionName)).to.deep.equal(["setZoneGrid", "updateBattery"]);
    const applied = await runCli([
      "registry",
      "apply",
      file,
      ...connection,
      "--keystore",
      join(dir, "operator.json"),
      "--password-file",
      join(dir, "password"),
    ]);
    expect(applied.code, applied.stderr).to.equal(0);
    expect(await read("zoneGrid", [1])).to.deep.include({ retailPerKwh: 320_000n });
    expect(await read("battery", [0])).to.deep.include({ maxSocWh: 9_000n });
    expect(Number(await read<number>("batteryCount")), "updated in place, not registered again").to.equal(1);
  });

  it("rejects a bad file with the field and the reason (exit 2) and sends nothing", async () => {
    const bad = JSON.parse(readFileSync(EXAMPLE, "utf8")) as { lines: { between: number[] }[] };
    bad.lines[0]!.between = [0, 3];
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify(bad));
    const before = await client.getBlockNumber();
    const result = await runCli([
      "registry",
      "apply",
      file,
      ...connection,
      "--keystore",
      join(dir, "operator.json"),
      "--password-file",
      join(dir, "password"),
    ]);
    expect(result.code).to.equal(2);
    expect(result.stderr.trim()).to.equal(
      "error: lines.0.between: zone 3 is not listed (the file has 2 zones)",
    );
    expect(await client.getBlockNumber()).to.equal(before);
  });

  it("names a missing flag, and an address with no contract", async () => {
    const noRegistry = await runCli(["registry", "plan", EXAMPLE, "--rpc-url", chain.url]);
    expect(noRegistry.code).to.equal(2);
    expect(noRegistry.stderr).to.match(/--registry: is required \(or set GRIDBRAIN_REGISTRY_ADDRESS\)/);
    const nowhere = "0x000000000000000000000000000000000000dEaD";
    const empty = await runCli(["registry", "plan", EXAMPLE, "--rpc-url", chain.url, "--registry", nowhere]);
    expect(empty.code).to.equal(2);
    expect(empty.stderr).to.match(
      /--registry: no contract at 0x000000000000000000000000000000000000dEaD on chain 31337/,
    );
  });
});
