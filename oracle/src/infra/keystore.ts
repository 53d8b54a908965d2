/**
 * The node's signing key in an encrypted Web3 Secret Storage v3 JSON file (what geth, Foundry's
 * `cast wallet` and ethers write). node:crypto does the scrypt/AES work (not ethers: ethers is a
 * devDependency, and a production install runs the node from this file); the rest of the oracle gets
 * a viem `LocalAccount`. The password comes from a file (trailing newline trimmed) or the caller,
 * and is never logged or put into an error message.
 */
import {
  createCipheriv,
  createDecipheriv,
  pbkdf2,
  randomBytes,
  randomUUID,
  scrypt,
  timingSafeEqual,
} from "node:crypto";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import {
  type Address,
  type Hex,
  type LocalAccount,
  bytesToHex,
  getAddress,
  hexToBytes,
  keccak256,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { z } from "zod";
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

const scryptAsync = promisify(scrypt) as (
  password: Buffer,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;
const pbkdf2Async = promisify(pbkdf2);

const hexBytes = z.string().regex(/^(0x)?([0-9a-fA-F]{2})*$/, "must be hex");
const V3Schema = z.object({
  address: z.string().optional(),
  crypto: z.object({
    cipher: z.literal("aes-128-ctr"),
    cipherparams: z.object({ iv: hexBytes }),
    ciphertext: hexBytes,
    kdf: z.enum(["scrypt", "pbkdf2"]),
    kdfparams: z.object({
      salt: hexBytes,
      dklen: z.number().int().min(32).max(64),
      n: z.number().int().positive().optional(),
      r: z.number().int().positive().optional(),
      p: z.number().int().positive().optional(),
      c: z.number().int().positive().optional(),
      prf: z.literal("hmac-sha256").optional(),
    }),
    mac: hexBytes,
  }),
});

function buf(hex: string): Buffer {
  return Buffer.from(hex.replace(/^0x/, ""), "hex");
}

async function deriveKey(password: string, kdf: z.infer<typeof V3Schema>["crypto"]): Promise<Buffer> {
  const k = kdf.kdfparams;
  const salt = buf(k.salt);
  const pw = Buffer.from(password.normalize("NFKC"), "utf8");
  if (kdf.kdf === "scrypt") {
    const n = k.n ?? 0;
    const r = k.r ?? 8;
    if (n < 2 || (n & (n - 1)) !== 0)
      throw new KeystoreError("Cannot decrypt the keystore", { details: "kdfparams.n: not a power of two" });
    // scrypt needs 128·N·r bytes; node's default cap (32 MiB) is below ethers' default N = 2^17.
    return scryptAsync(pw, salt, k.dklen, { N: n, r, p: k.p ?? 1, maxmem: 256 * n * r + 1024 * 1024 });
  }
  return pbkdf2Async(pw, salt, k.c ?? 262_144, k.dklen, "sha256");
}

function macOf(derived: Buffer, ciphertext: Buffer): Buffer {
  return Buffer.from(hexToBytes(keccak256(Buffer.concat([derived.subarray(16, 32), ciphertext]))));
}

async function encrypt(privateKey: Hex, password: string, options: KeystoreOptions): Promise<string> {
  const n = options.scryptN ?? 131_072;
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const crypto = {
    cipher: "aes-128-ctr" as const,
    cipherparams: { iv: iv.toString("hex") },
    ciphertext: "",
    kdf: "scrypt" as const,
    kdfparams: { salt: salt.toString("hex"), n, dklen: 32, p: 1, r: 8 },
    mac: "",
  };
  const derived = await deriveKey(password, crypto);
  const cipher = createCipheriv("aes-128-ctr", derived.subarray(0, 16), iv);
  const ciphertext = Buffer.concat([cipher.update(buf(privateKey)), cipher.final()]);
  crypto.ciphertext = ciphertext.toString("hex");
  crypto.mac = macOf(derived, ciphertext).toString("hex");
  const address = privateKeyToAccount(privateKey).address.slice(2).toLowerCase();
  return JSON.stringify({ address, id: randomUUID(), version: 3, crypto });
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
  let parsed: z.infer<typeof V3Schema>;
  try {
    const raw: unknown = JSON.parse(json);
    // Some writers spell the key "Crypto".
    const obj = raw as { crypto?: unknown; Crypto?: unknown };
    parsed = V3Schema.parse({ ...obj, crypto: obj.crypto ?? obj.Crypto });
  } catch (error) {
    throw new KeystoreError("Cannot decrypt the keystore", {
      details: "not a v3 keystore (scrypt or pbkdf2, aes-128-ctr)",
      cause: error,
    });
  }
  const derived = await deriveKey(password, parsed.crypto);
  const ciphertext = buf(parsed.crypto.ciphertext);
  const mac = buf(parsed.crypto.mac);
  const expected = macOf(derived, ciphertext);
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected))
    throw new KeystoreError("Wrong keystore password");
  const decipher = createDecipheriv(
    "aes-128-ctr",
    derived.subarray(0, 16),
    buf(parsed.crypto.cipherparams.iv),
  );
  const key = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  const wallet = {
    privateKey: bytesToHex(key),
    address:
      parsed.address === undefined
        ? undefined
        : parsed.address.startsWith("0x")
          ? parsed.address
          : `0x${parsed.address}`,
  };
  if (key.length !== 32)
    throw new KeystoreError("Cannot decrypt the keystore", { details: "the key is not 32 bytes" });
  const account = privateKeyToAccount(wallet.privateKey);
  if (wallet.address !== undefined && account.address !== getAddress(wallet.address))
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
  const privateKey = params.privateKey ?? generatePrivateKey();
  const json = await encryptPrivateKey(privateKey, params.password, params.options ?? {});
  try {
    await writeFile(params.path, json, { mode: 0o600, flag: params.exclusive === false ? "w" : "wx" });
    await chmod(params.path, 0o600);
  } catch (error) {
    throw new KeystoreError("Cannot write the keystore", { details: params.path, cause: error });
  }
  return keystoreAddress(json);
}
