/**
 * The prosumer web app for a browser test: built once by the Vite CLI in a child process against
 * the test's own deployment into a temporary directory, and served from it by a small static HTTP
 * server on a free loopback port.
 *
 * A child process rather than Vite's JS API: the in-process build leaves esbuild's service process
 * attached to the test runner, which once kept `hardhat test` from exiting after every test had
 * passed; a finished child process leaves nothing behind.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { type Server, createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { promisify } from "node:util";
import type { AppSettings } from "../../app/vite.config.js";
import { PROJECT_ROOT } from "../../oracle/src/devnet/local-services.js";

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json",
};

export interface AppServer {
  readonly url: string;
  /** Stops the server and removes the build. Idempotent. */
  close(): Promise<void>;
}

export async function buildAndServeApp(settings: AppSettings): Promise<AppServer> {
  const outDir = mkdtempSync(join(tmpdir(), "gridbrain-app-"));
  try {
    const viteBin = join(
      dirname(createRequire(import.meta.url).resolve("vite/package.json")),
      "bin",
      "vite.js",
    );
    await promisify(execFile)(
      process.execPath,
      [
        viteBin,
        "build",
        "--config",
        "app/vite.config.ts",
        "--outDir",
        outDir,
        "--emptyOutDir",
        "--logLevel",
        "warn",
      ],
      {
        cwd: PROJECT_ROOT,
        // The config reads these (app/vite.config.ts settingsFromEnv).
        env: {
          ...process.env,
          GRIDBRAIN_MARKET_ADDRESS: settings.market,
          GRIDBRAIN_REGISTRY_ADDRESS: settings.registry,
          GRIDBRAIN_RPC_URL: settings.rpcUrl,
          GRIDBRAIN_CHAIN_ID: String(settings.chainId),
        },
      },
    );
  } catch (error) {
    rmSync(outDir, { recursive: true, force: true });
    throw error;
  }
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    const file = join(outDir, path === sep || path === "/" ? "index.html" : path);
    if (!file.startsWith(outDir + sep)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => {
        res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body);
      },
      () => res.writeHead(404).end("not found"),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  let closed = false;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: async () => {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}
