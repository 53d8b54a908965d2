/**
 * The node's signing key in an encrypted Web3 Secret Storage v3 JSON file (what geth, Foundry's
 * `cast wallet` and ethers write). ethers does the scrypt/AES work; the rest of the oracle gets a
 * viem `LocalAccount`. The password comes from a file (trailing newline trimmed) or the caller,
 * and is never logged or put into an error message.
 */
import { chmod, readFile, writeFile } from "node:fs/promises";
import { Wallet, encryptKeystoreJson } from "ethers";
import { type Address, type Hex, type LocalAccount, getAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { BaseError } from "../domain/errors.js";

export class KeystoreError extends BaseError {
  override name = "KeystoreError";
}

export interface KeystoreOptions {
  /** scrypt N (a power of two). Default: ethers' default (2^17). Tests use 2^12. */
  readonly scryptN?: number;
}

/** Reads a password file: the whole content minus one trailing newline (`\n` or `\r\n`). */
export async function readPasswordFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new KeystoreError("Cannot read the keystore password file", { details: path, cause: error });
  }
  const password = text.replace(/\r?\n$/, "");
  if (password === "") throw new KeystoreError("The keystore password file is empty", { details: path });
  return password;
}

async function encrypt(privateKey: Hex, password: string, options: KeystoreOptions): Promise<string> {
  const wallet = new Wallet(privateKey);
  if (options.scryptN === undefined) return wallet.encrypt(password);
  return encryptKeystoreJson({ address: wallet.address, privateKey }, password, {
    scrypt: { N: options.scryptN },
  });
}

/** Encrypts `privateKey` with `password` as Web3 Secret Storage v3 JSON. */
export async function encryptPrivateKey(
  privateKey: Hex,
  password: string,
  options: KeystoreOptions = {},
): Promise<string> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(privateKey))
    throw new KeystoreError("Invalid private key", { details: "must be 0x followed by 64 hex digits" });
  if (password === "") throw new KeystoreError("The password must not be empty");
  return encrypt(privateKey, password, options);
}

/** The address recorded in a keystore (no password needed), checksummed. */
export function keystoreAddress(json: string): Address {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new KeystoreError("The keystore is not valid JSON", { cause: error });
  }
  const address = (parsed as { address?: unknown } | null)?.address;
  if (typeof address !== "string" || !/^(0x)?[0-9a-fA-F]{40}$/.test(address))
    throw new KeystoreError("The keystore has no address field");
  return getAddress(address.startsWith("0x") ? address : `0x${address}`);
}

/** Decrypts a keystore JSON into a viem account. @throws KeystoreError on a wrong password or a corrupt file. */
export async function decryptKeystore(json: string, password: string): Promise<LocalAccount> {
  let wallet: { privateKey: string; address: string };
  try {
    wallet = await Wallet.fromEncryptedJson(json, password);
  } catch (error) {
    const wrong = /incorrect password|invalid password/i.test(String((error as Error).message));
    // The cause is dropped on purpose when it could echo input; ethers' messages do not contain the password.
    throw new KeystoreError(wrong ? "Wrong keystore password" : "Cannot decrypt the keystore", {
      cause: error,
    });
  }
  const account = privateKeyToAccount(wallet.privateKey as Hex);
  if (account.address !== getAddress(wallet.address))
    throw new KeystoreError("The keystore address does not match its key");
  return account;
}

export interface UnlockParameters {
  readonly keystorePath: string;
  readonly password?: string | undefined;
  readonly passwordFile?: string | undefined;
}

/** Loads and decrypts the keystore at `keystorePath` with the password (given, or read from `passwordFile`). */
export async function unlockKeystore(params: UnlockParameters): Promise<LocalAccount> {
  const password =
    params.password ??
    (params.passwordFile === undefined ? undefined : await readPasswordFile(params.passwordFile));
  if (password === undefined)
    throw new KeystoreError("No keystore password", { details: "give a password file" });
  let json: string;
  try {
    json = await readFile(params.keystorePath, "utf8");
  } catch (error) {
    throw new KeystoreError("Cannot read the keystore", { details: params.keystorePath, cause: error });
  }
  return decryptKeystore(json, password);
}

export interface WriteKeystoreParameters {
  readonly path: string;
  readonly password: string;
  /** Import this key; a fresh random key is generated when absent. */
  readonly privateKey?: Hex;
  /** Refuse to overwrite an existing file (default true). */
  readonly exclusive?: boolean;
  readonly options?: KeystoreOptions;
}

/** Writes a new keystore (mode 0600) and returns its address. */
export async function writeKeystore(params: WriteKeystoreParameters): Promise<Address> {
  const privateKey = params.privateKey ?? (Wallet.createRandom().privateKey as Hex);
  const json = await encryptPrivateKey(privateKey, params.password, params.options ?? {});
  try {
    await writeFile(params.path, json, { mode: 0o600, flag: params.exclusive === false ? "w" : "wx" });
    await chmod(params.path, 0o600);
  } catch (error) {
    throw new KeystoreError("Cannot write the keystore", { details: params.path, cause: error });
  }
  return keystoreAddress(json);
}
