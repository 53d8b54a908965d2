/**
 * A local committee (the demo, devnet, the chaos tests): n oracle node processes (`gridbrain oracle serve`), each with its own
 * encrypted keystore, password file, HTTP port and queue prefix (standing in for the separate
 * Redis each operator would run), all peers of each other over HTTP.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encryptKeystoreJson } from "ethers";
import { privateKeyToAddress } from "viem/accounts";
import type { HDAccount } from "viem/accounts";
import { freePort, PROJECT_ROOT } from "./local-services.js";
import type { SuiteAddresses } from "./deploy.js";

export interface OracleNodeProcesses {
  readonly urls: readonly string[];
  readonly logDir: string;
  /** Each node's process and config file, so that a harness (the chaos suite) can kill and restart it. */
  readonly children: readonly ChildProcess[];
  readonly configPaths: readonly string[];
  /** SIGTERM to every node, then waits for them. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL to node `index` (a crash, for fault runs); resolves once it exited. */
  kill(index: number): Promise<void>;
}

export interface StartOracleNodesParameters {
  readonly accounts: readonly HDAccount[];
  readonly rpcUrl: string;
  readonly redisUrl: string;
  readonly addresses: SuiteAddresses;
  readonly workDir: string;
  readonly intervalSeconds: number;
  readonly gateClosureSeconds: number;
  readonly meterDeadlineSeconds: number;
  readonly meterGraceSeconds: number;
}

async function waitHealthy(url: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`oracle node ${url} exited with ${child.exitCode}; see ${logFile}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`oracle node ${url} not ready after 90 s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function startOracleNodes(p: StartOracleNodesParameters): Promise<OracleNodeProcesses> {
  const logDir = join(p.workDir, "logs");
  mkdirSync(logDir, { recursive: true });
  const ports = await Promise.all(p.accounts.map(() => freePort()));
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  const children: ChildProcess[] = [];
  const configPaths: string[] = [];
  const password = "gridbrain-demo-only";
  const passwordFile = join(p.workDir, "keystore-password.txt");
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });

  for (const [i, account] of p.accounts.entries()) {
    // Keys live in encrypted keystores even in the demo (light scrypt: these are public dev keys).
    const privateKey = account.getHdKey().privateKey;
    if (privateKey === null) throw new Error(`no private key for oracle node ${i}`);
    const hexKey = `0x${Buffer.from(privateKey).toString("hex")}` as const;
    const keystorePath = join(p.workDir, `node-${i}.keystore.json`);
    const keystore = await encryptKeystoreJson(
      { address: privateKeyToAddress(hexKey), privateKey: hexKey },
      password,
      {
        scrypt: { N: 1 << 12 },
      },
    );
    writeFileSync(keystorePath, keystore, { mode: 0o600 });
    const configPath = join(p.workDir, `node-${i}.config.json`);
    configPaths.push(configPath);
    writeFileSync(
      configPath,
      JSON.stringify(
        {
          rpcUrl: p.rpcUrl,
          chainId: 31337,
          redisUrl: p.redisUrl,
          queuePrefix: `gridbrain-node${i}`,
          marketAddress: p.addresses.market,
          registryAddress: p.addresses.registry,
          committeeAddress: p.addresses.committee,
          keystorePath,
          keystorePasswordFile: passwordFile,
          confirmations: 0,
          pollIntervalMs: 200,
          httpPort: ports[i],
          logLevel: "info",
          intervalSeconds: p.intervalSeconds,
          gateClosureSeconds: p.gateClosureSeconds,
          meterDeadlineSeconds: p.meterDeadlineSeconds,
          peerUrls: urls.filter((_, j) => j !== i),
          submitStaggerMs: 1_500,
          settleStaggerMs: 3_000,
          aggregateRetryMs: 200,
          meterGraceSeconds: p.meterGraceSeconds,
        },
        null,
        2,
      ),
    );
    const logFile = join(logDir, `node-${i}.log`);
    const log = createWriteStream(logFile);
    const child = spawn(
      process.execPath,
      [join(PROJECT_ROOT, "bin", "gridbrain.mjs"), "oracle", "serve", "--config", configPath],
      {
        cwd: PROJECT_ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    children.push(child);
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
            setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
          }),
      ),
    ).then(() => undefined));

  try {
    await Promise.all(
      children.map((child, i) => waitHealthy(urls[i]!, child, join(logDir, `node-${i}.log`))),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const kill = async (index: number) => {
    const child = children[index];
    if (child === undefined)
      throw new RangeError(`index: no oracle node ${index} (${children.length} nodes)`);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await exited;
  };
  return { urls, logDir, children, configPaths, stop, kill };
}
