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
import {
  onFreePorts,
  PortInUseError,
  type PortSource,
  PROJECT_ROOT,
  saysAddressInUse,
} from "./local-services.js";
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
  /** Where the nodes' HTTP ports come from (default `freePort`; a test offers a taken one). */
  readonly ports?: PortSource;
}

/** A node process and what its output has said so far (a bounded tail, and whether it listens). */
interface Watched {
  readonly child: ChildProcess;
  /** Its stdout and stderr have closed: all it wrote is in `tail`. */
  readonly closed: Promise<void>;
  tail: string;
  /** It logged "oracle node started": its HTTP server listens (infra/http.ts resolved). */
  started: boolean;
}

function watch(child: ChildProcess): Watched {
  const w: Watched = {
    child,
    closed: new Promise((resolve) => child.once("close", () => resolve())),
    tail: "",
    started: false,
  };
  const onData = (chunk: Buffer) => {
    const text = w.tail + chunk.toString();
    // Before trimming: the line may end a chunk that is longer than the tail kept.
    if (text.includes('"msg":"oracle node started"')) w.started = true;
    w.tail = text.slice(-8_000);
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  return w;
}

/**
 * Waits, at most 90 s, until the node says it started and answers /readyz. Its own "started" line
 * first: /readyz alone could be answered by another process that took the port (another run's
 * node). A node that exits because its port was taken throws PortInUseError.
 */
async function waitHealthy(url: string, port: number, w: Watched, logFile: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (w.child.exitCode !== null) {
      await w.closed;
      if (saysAddressInUse(w.tail)) throw new PortInUseError(`oracle node ${url}`, port);
      throw new Error(`oracle node ${url} exited with ${w.child.exitCode}; see ${logFile}`);
    }
    try {
      if (w.started && (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`oracle node ${url} not ready after 90 s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Starts the committee on free ports. The ports come from `freePort`, so another process may take
 * one before its node listens: then every node is stopped and all start again on new ports (each
 * node's config names the others' URLs), at most PORT_ATTEMPTS times, then an error naming them.
 */
export function startOracleNodes(p: StartOracleNodesParameters): Promise<OracleNodeProcesses> {
  return onFreePorts("oracle nodes", p.accounts.length, (ports) => startOracleNodesOn(p, ports), {
    ...(p.ports === undefined ? {} : { ports: p.ports }),
    exhausted: (tried, attempts) =>
      `oracle nodes: a port was taken before its node listened in each of ${attempts} attempts (ports ${tried.map((t) => t.join(", ")).join(" / ")})`,
  });
}

async function startOracleNodesOn(
  p: StartOracleNodesParameters,
  ports: readonly number[],
): Promise<OracleNodeProcesses> {
  const logDir = join(p.workDir, "logs");
  mkdirSync(logDir, { recursive: true });
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  const children: ChildProcess[] = [];
  const watched: Watched[] = [];
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
    watched.push(watch(child));
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
      watched.map((w, i) => waitHealthy(urls[i]!, ports[i]!, w, join(logDir, `node-${i}.log`))),
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
