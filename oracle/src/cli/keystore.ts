/**
 * `gridbrain keystore new|import|address`. Passwords come from `--password-file` (a file, so they
 * never appear in shell history or `ps`); `import` reads the private key from `--key-file`.
 * Failures are thrown and printed by main.ts through ./output.ts, as for every command: a file
 * that cannot be read or holds the wrong thing names its flag or argument and exits 2.
 */
import { readFile } from "node:fs/promises";
import { type Command, InvalidArgumentError } from "commander";
import type { Hex } from "viem";
import { keystoreAddress, readPasswordFile, writeKeystore } from "../infra/keystore.js";
import { CliError } from "./cli-error.js";

/** `read()`, or bad input naming `field` with the reason (`--password-file: …`). */
async function input<T>(field: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    // `Cannot write the keystore: k.json` says what failed; its cause says why (EEXIST: …).
    const cause = (error as Error).cause;
    const why = cause instanceof Error ? ` (${cause.message})` : "";
    throw CliError.input(field, `${(error as Error).message}${why}`);
  }
}

/** scrypt's cost N: a power of two (commander names the flag, main.ts prints it). */
function scryptN(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 2 || (n & (n - 1)) !== 0)
    throw new InvalidArgumentError(`must be a power of two, got "${value}"`);
  return n;
}

const readText = (path: string) => async () => {
  try {
    return await readFile(path, "utf8");
  } catch {
    throw new Error(`cannot read ${path}`);
  }
};

export function registerKeystoreCommands(program: Command): void {
  const keystore = program.command("keystore").description("encrypted signing keys (Web3 Secret Storage v3)");

  keystore
    .command("new")
    .description("generate a random key and write it encrypted to <path>")
    .argument("<path>", "keystore file to create (must not exist)")
    .requiredOption("--password-file <file>", "file holding the password")
    .option("--scrypt-n <n>", "scrypt cost (power of two); default ethers' 131072", scryptN)
    .action(async (path: string, opts: { passwordFile: string; scryptN?: number }) => {
      const password = await input("--password-file", () => readPasswordFile(opts.passwordFile));
      const address = await input("<path>", () =>
        writeKeystore({
          path,
          password,
          ...(opts.scryptN === undefined ? {} : { options: { scryptN: opts.scryptN } }),
        }),
      );
      console.log(address);
    });

  keystore
    .command("import")
    .description("encrypt an existing private key (read from --key-file) into <path>")
    .argument("<path>", "keystore file to create (must not exist)")
    .requiredOption("--key-file <file>", "file holding the 0x-prefixed private key")
    .requiredOption("--password-file <file>", "file holding the password")
    .option("--scrypt-n <n>", "scrypt cost (power of two)", scryptN)
    .action(async (path: string, opts: { keyFile: string; passwordFile: string; scryptN?: number }) => {
      const key = (await input("--key-file", readText(opts.keyFile))).trim();
      if (!/^0x[0-9a-fA-F]{64}$/.test(key))
        throw CliError.input("--key-file", `${opts.keyFile} must hold 0x followed by 64 hex digits`);
      const password = await input("--password-file", () => readPasswordFile(opts.passwordFile));
      const address = await input("<path>", () =>
        writeKeystore({
          path,
          password,
          privateKey: key as Hex,
          ...(opts.scryptN === undefined ? {} : { options: { scryptN: opts.scryptN } }),
        }),
      );
      console.log(address);
    });

  keystore
    .command("address")
    .description("print the address of a keystore (no password needed)")
    .argument("<path>", "keystore file")
    .action(async (path: string) => {
      const json = await input("<path>", readText(path));
      console.log(await input("<path>", async () => keystoreAddress(json)));
    });
}
