/**
 * `gridbrain keystore new|import|address`. Passwords come from `--password-file` (a file, so they
 * never appear in shell history or `ps`); `import` reads the private key from `--key-file`.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import type { Hex } from "viem";
import { keystoreAddress, readPasswordFile, writeKeystore, KeystoreError } from "../infra/keystore.js";

export function registerKeystoreCommands(program: Command): void {
  const keystore = program.command("keystore").description("encrypted signing keys (Web3 Secret Storage v3)");

  keystore
    .command("new")
    .description("generate a random key and write it encrypted to <path>")
    .argument("<path>", "keystore file to create (must not exist)")
    .requiredOption("--password-file <file>", "file holding the password")
    .option("--scrypt-n <n>", "scrypt cost (power of two); default ethers' 131072", (v) => Number(v))
    .action(async (path: string, opts: { passwordFile: string; scryptN?: number }) => {
      const password = await readPasswordFile(opts.passwordFile);
      const address = await writeKeystore({
        path,
        password,
        ...(opts.scryptN === undefined ? {} : { options: { scryptN: opts.scryptN } }),
      });
      console.log(address);
    });

  keystore
    .command("import")
    .description("encrypt an existing private key (read from --key-file) into <path>")
    .argument("<path>", "keystore file to create (must not exist)")
    .requiredOption("--key-file <file>", "file holding the 0x-prefixed private key")
    .requiredOption("--password-file <file>", "file holding the password")
    .option("--scrypt-n <n>", "scrypt cost (power of two)", (v) => Number(v))
    .action(async (path: string, opts: { keyFile: string; passwordFile: string; scryptN?: number }) => {
      const key = (await readFile(opts.keyFile, "utf8")).trim();
      if (!/^0x[0-9a-fA-F]{64}$/.test(key))
        throw new KeystoreError("Invalid private key", {
          details: `${opts.keyFile} must hold 0x followed by 64 hex digits`,
        });
      const password = await readPasswordFile(opts.passwordFile);
      const address = await writeKeystore({
        path,
        password,
        privateKey: key as Hex,
        ...(opts.scryptN === undefined ? {} : { options: { scryptN: opts.scryptN } }),
      });
      console.log(address);
    });

  keystore
    .command("address")
    .description("print the address of a keystore (no password needed)")
    .argument("<path>", "keystore file")
    .action(async (path: string) => {
      console.log(keystoreAddress(await readFile(path, "utf8")));
    });
}
