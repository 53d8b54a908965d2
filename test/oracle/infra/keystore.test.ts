import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { privateKeyToAccount } from "viem/accounts";
import {
  KeystoreError,
  decryptKeystore,
  keystoreAddress,
  readPasswordFile,
  unlockKeystore,
  writeKeystore,
} from "../../../oracle/src/infra/keystore.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const FAST = { scryptN: 1 << 12 };
const KEY = `0x${"4c".repeat(32)}` as const;

describe("keystore", function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "gridbrain-keystore-"));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe("writeKeystore + unlockKeystore", () => {
    it("round-trips an imported key as Web3 Secret Storage v3, mode 0600", async () => {
      const path = join(dir, "imported.json");
      const address = await writeKeystore({ path, password: "pw-1", privateKey: KEY, options: FAST });
      expect(address).to.equal(privateKeyToAccount(KEY).address);
      const json = JSON.parse(readFileSync(path, "utf8")) as {
        version: number;
        Crypto?: { kdf: string };
        crypto?: { kdf: string };
      };
      expect(json.version).to.equal(3);
      expect((json.crypto ?? json.Crypto)?.kdf).to.equal("scrypt");
      expect(statSync(path).mode & 0o777).to.equal(0o600);
      const pwFile = join(dir, "pw");
      writeFileSync(pwFile, "pw-1\n");
      const account = await unlockKeystore({ keystorePath: path, passwordFile: pwFile });
      expect(account.address).to.equal(address);
      // A viem LocalAccount that signs.
      const signature = await account.signMessage({ message: "gridbrain" });
      expect(signature).to.match(/^0x[0-9a-f]{130}$/);
    });
    it("refuses to overwrite an existing keystore", async () => {
      const path = join(dir, "once.json");
      await writeKeystore({ path, password: "pw", options: FAST });
      let error: unknown;
      await writeKeystore({ path, password: "pw", options: FAST }).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(KeystoreError);
    });
  });

  describe("decryptKeystore", () => {
    describe("when the password is wrong", () => {
      it("fails with KeystoreError that does not contain the password", async () => {
        const path = join(dir, "wrong.json");
        await writeKeystore({ path, password: "right-password", privateKey: KEY, options: FAST });
        let error: unknown;
        await decryptKeystore(readFileSync(path, "utf8"), "guess-password-123").catch(
          (e: unknown) => (error = e),
        );
        expect(error).to.be.instanceOf(KeystoreError);
        expect((error as Error).message).to.equal("Wrong keystore password");
        expect(JSON.stringify(error) + String((error as Error).stack)).not.to.include("guess-password-123");
      });
    });
  });

  // The node decrypts with node:crypto so that a production install needs no ethers; files written
  // by ethers (and by Foundry, which writes the same v3 format) must still open, and ours in ethers.
  describe("compatibility with ethers' v3 keystores", () => {
    it("decrypts a keystore ethers wrote (scrypt) and ethers decrypts ours", async () => {
      const { Wallet, encryptKeystoreJson } = await import("ethers");
      const address = privateKeyToAccount(KEY).address;
      const theirs = await encryptKeystoreJson({ address, privateKey: KEY }, "pw-e", {
        scrypt: { N: 1 << 12 },
      });
      expect((await decryptKeystore(theirs, "pw-e")).address).to.equal(address);
      const path = join(dir, "ours-for-ethers.json");
      await writeKeystore({ path, password: "pw-o", privateKey: KEY, options: FAST });
      const wallet = await Wallet.fromEncryptedJson(readFileSync(path, "utf8"), "pw-o");
      expect(wallet.privateKey).to.equal(KEY);
      let error: unknown;
      await decryptKeystore(theirs, "not-pw-e").catch((e: unknown) => (error = e));
      expect((error as Error).message).to.equal("Wrong keystore password");
    });
  });

  describe("readPasswordFile", () => {
    it("trims one trailing newline (LF or CRLF) and nothing else", async () => {
      const p = join(dir, "pw-crlf");
      writeFileSync(p, " spaced pw \r\n");
      expect(await readPasswordFile(p)).to.equal(" spaced pw ");
    });
    it("rejects an empty file", async () => {
      const p = join(dir, "pw-empty");
      writeFileSync(p, "\n");
      let error: unknown;
      await readPasswordFile(p).catch((e: unknown) => (error = e));
      expect((error as Error).message).to.match(/empty/);
    });
  });

  describe("gridbrain keystore (CLI)", () => {
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "oracle/src/cli/main.ts"), ...args], {
        cwd: ROOT,
        encoding: "utf8",
      });

    // One CLI process only: each start of the CLI costs seconds on a loaded 2-core machine.
    it("imports a key into a keystore the library reads back", () => {
      const keyFile = join(dir, "key");
      const pwFile = join(dir, "cli-pw");
      writeFileSync(keyFile, `${KEY}\n`);
      writeFileSync(pwFile, "cli-password\n");
      const path = join(dir, "cli.json");
      const imported = cli(
        "keystore",
        "import",
        path,
        "--key-file",
        keyFile,
        "--password-file",
        pwFile,
        "--scrypt-n",
        "4096",
      );
      expect(imported.status, imported.stderr).to.equal(0);
      const expected = privateKeyToAccount(KEY).address;
      expect(imported.stdout.trim()).to.equal(expected);
      expect(keystoreAddress(readFileSync(path, "utf8"))).to.equal(expected);
    });
  });
});
