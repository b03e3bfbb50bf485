import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import type { Logger } from '../log.js';

/** The armored, unprotected private key inside keysDir; the only copy of the key that counts. */
export const PRIVATE_KEY_FILE = 'instance-key.asc';
/** The GNUPGHOME inside keysDir that reprepro signs with; rebuilt from PRIVATE_KEY_FILE whenever needed. */
export const GNUPG_DIR = 'gnupg';

export type KeyAlgorithm = 'ed25519' | 'rsa4096';

export interface PublicKeyInfo {
  /** 40 upper-case hex digits. */
  fingerprint: string;
  /** 16 upper-case hex digits (the low 64 bits of the fingerprint). */
  keyId: string;
  /** `ed25519`, `rsa4096`, or openpgp.js's own name for anything else. */
  algorithm: string;
  userIds: string[];
  createdAt: Date;
  expiresAt: Date | null;
}

export type InstanceKeyErrorCode =
  | 'KEY_EXISTS'
  | 'KEY_MISSING'
  | 'KEY_UNREADABLE'
  | 'INVALID_USER_ID'
  | 'GPG_IMPORT_FAILED'
  | 'GNUPG_HOME_PATH_TOO_LONG';

export class InstanceKeyError extends Error {
  override readonly name = 'InstanceKeyError';
  constructor(
    readonly code: InstanceKeyErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

// apt (sqv) refuses SHA-1 and warns about weak keys: SHA-512 for every signature we make, v4 keys only
// (gpg 2.2 and apt's gpgv cannot read v6 keys). Passed per call so the verifier's settings stay untouched.
const PGP_CONFIG: openpgp.PartialConfig = {
  preferredHashAlgorithm: openpgp.enums.hash.sha512,
  v6Keys: false,
};
const MAX_SOCKET_PATH = 107; // sun_path is 108 bytes including the terminating NUL
const GPG_ENV = { LC_ALL: 'C', LANGUAGE: 'C' };

/**
 * The instance's own OpenPGP key: signs the repositories (through reprepro's `SignWith`, which needs a
 * GNUPGHOME holding the secret key) and anything debyard signs itself (InRelease, Release.gpg, build
 * requests). The armored private key in keysDir is the source of truth; the GNUPGHOME is a cache
 * rebuilt from it by load() and ensureGnupgHome(), so deleting it loses nothing.
 */
export class InstanceKeyStore {
  readonly keysDir: string;
  readonly keyFile: string;
  private readonly home: string;
  private readonly logger: Logger;
  private key?: openpgp.PrivateKey;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: { keysDir: string; logger: Logger }) {
    this.keysDir = path.resolve(opts.keysDir);
    this.keyFile = path.join(this.keysDir, PRIVATE_KEY_FILE);
    this.home = path.join(this.keysDir, GNUPG_DIR);
    this.logger = opts.logger.child({ component: 'instance-key' });
  }

  /**
   * The GNUPGHOME for reprepro's conf/options `gnupghome`. Only a path: call load() or
   * ensureGnupgHome() first, which (re)import the key into it when it is missing.
   */
  get gnupgHome(): string {
    return this.home;
  }

  /** Loads the key if it exists, and repairs the GNUPGHOME from it if needed. */
  load(): Promise<PublicKeyInfo | null> {
    return this.exclusive(async () => {
      const key = await this.readKeyFile();
      if (!key) return null;
      await this.importIntoGnupgHome(key);
      return describeKey(key);
    });
  }

  /**
   * Generates a v4 key (Ed25519 unless rsa4096 is asked for) with the user id
   * `debyard archive <identity> <email>`, no expiry and no passphrase, stores it 0600 in keysDir and
   * imports it into a fresh GNUPGHOME. Refuses with KEY_EXISTS if there is a key already.
   */
  generate(opts: { identity: string; email: string; algorithm?: KeyAlgorithm }): Promise<PublicKeyInfo> {
    return this.exclusive(async () => {
      const algorithm = opts.algorithm ?? 'ed25519';
      const userId = archiveUserId(opts.identity, opts.email);
      await this.prepareKeysDir();
      if (await exists(this.keyFile)) throw this.keyExists();

      const t0 = performance.now();
      const { privateKey } = await openpgp.generateKey({
        ...(algorithm === 'rsa4096' ? { type: 'rsa', rsaBits: 4096 } : { type: 'ecc', curve: 'curve25519Legacy' }),
        userIDs: [userId],
        keyExpirationTime: 0,
        format: 'object',
        config: PGP_CONFIG,
      });
      const generateMs = Math.round(performance.now() - t0);

      await this.writeKeyFile(privateKey.armor());
      try {
        // A GNUPGHOME left from an earlier key would still hold that key's secret: start afresh.
        await this.removeGnupgHome();
        await this.importIntoGnupgHome(privateKey);
      } catch (err) {
        await this.removeGnupgHome().catch(() => undefined);
        await fs.rm(this.keyFile, { force: true });
        throw err;
      }
      this.key = privateKey;
      const info = describeKey(privateKey);
      this.logger.info(
        { fingerprint: info.fingerprint, algorithm: info.algorithm, generateMs },
        'generated the instance key',
      );
      return info;
    });
  }

  /** Deletes the key and the GNUPGHOME. Idempotent. */
  remove(): Promise<void> {
    return this.exclusive(async () => {
      await this.removeGnupgHome();
      await fs.rm(this.keyFile, { force: true });
      if (this.key) this.logger.warn({ fingerprint: fingerprintOf(this.key) }, 'removed the instance key');
      this.key = undefined;
    });
  }

  /** (Re)imports the stored key into the GNUPGHOME if it is not usable there; returns its path. */
  ensureGnupgHome(): Promise<string> {
    return this.exclusive(async () => {
      await this.importIntoGnupgHome(await this.requireKey());
      return this.home;
    });
  }

  async armoredPublicKey(): Promise<string> {
    return (await this.requireKey()).toPublic().armor();
  }

  /** Binary (unarmored) public keyring, as apt's Signed-By and gpgv --keyring want. */
  async binaryPublicKey(): Promise<Uint8Array> {
    return (await this.requireKey()).toPublic().write();
  }

  /**
   * Clearsigns text as gpg --clearsign would: LF line endings, no blank line added before the
   * signature, so `gpgv --output -` gives back the text byte for byte. Like gpg, it drops trailing
   * whitespace on each line and ends the text with a newline; CR LF line endings become LF.
   */
  async signCleartext(text: string): Promise<string> {
    const key = await this.requireKey();
    // openpgp.js writes the body with CRLF and would turn a final "\n" into an extra empty line. The
    // signature covers the canonical CRLF form either way, so converting back to LF keeps it valid.
    // The constructor (which createCleartextMessage wraps) also accepts an empty text; its typings omit it.
    const Cleartext = openpgp.CleartextMessage as unknown as new (text: string) => openpgp.CleartextMessage;
    const message = new Cleartext(text.replace(/\r\n/g, '\n').replace(/\n$/, ''));
    const signed = await openpgp.sign({ message, signingKeys: key, config: PGP_CONFIG });
    return signed.replace(/\r\n/g, '\n');
  }

  /** Detached armored signature (for Release.gpg). */
  async signDetached(data: Uint8Array): Promise<string> {
    const key = await this.requireKey();
    const message = await openpgp.createMessage({ binary: data });
    const signature = await openpgp.sign({
      message,
      signingKeys: key,
      detached: true,
      format: 'armored',
      config: PGP_CONFIG,
    });
    return signature.replace(/\r\n/g, '\n');
  }

  /** Serialises generate, load, remove and GNUPGHOME repair, so that none sees another half done. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async requireKey(): Promise<openpgp.PrivateKey> {
    if (this.key) return this.key;
    const key = await this.readKeyFile();
    if (key) return key;
    throw new InstanceKeyError(
      'KEY_MISSING',
      `there is no instance key in ${this.keysDir}: generate one first (setup does this)`,
    );
  }

  /** Reads and checks the stored key; undefined if there is none. Caches it. */
  private async readKeyFile(): Promise<openpgp.PrivateKey | undefined> {
    let armored: string;
    try {
      armored = await fs.readFile(this.keyFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.key = undefined;
        return undefined;
      }
      throw this.unreadable(`cannot read it (${(err as Error).message})`, err);
    }
    let key: openpgp.PrivateKey;
    try {
      key = await openpgp.readPrivateKey({ armoredKey: armored });
    } catch (err) {
      throw this.unreadable(`it is not an armored OpenPGP private key (${(err as Error).message})`, err);
    }
    if (key.keyPacket.version !== 4)
      throw this.unreadable(`it is a v${key.keyPacket.version} key; apt and gpg 2.2 need a v4 key`);
    if (!key.isDecrypted())
      throw this.unreadable('it is protected by a passphrase; the daemon needs it unprotected to sign unattended');
    try {
      // validate() (checks the secret key material against the public key) is missing from the typings.
      await (key as unknown as { validate(): Promise<void> }).validate();
      await key.verifyPrimaryKey();
      await key.getSigningKey();
    } catch (err) {
      throw this.unreadable(`it is not usable for signing (${(err as Error).message})`, err);
    }
    await this.tightenMode(this.keyFile, 0o600);
    this.key = key;
    return key;
  }

  private async prepareKeysDir(): Promise<void> {
    await fs.mkdir(this.keysDir, { recursive: true, mode: 0o700 });
    await this.tightenMode(this.keysDir, 0o700);
  }

  /** Writes the key file atomically and only if none exists (link(2) fails on an existing name). */
  private async writeKeyFile(armored: string): Promise<void> {
    const tmp = `${this.keyFile}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      const fh = await fs.open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(armored);
        await fh.sync();
      } finally {
        await fh.close();
      }
      try {
        await fs.link(tmp, this.keyFile);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw this.keyExists();
        throw err;
      }
    } finally {
      await fs.rm(tmp, { force: true });
    }
    await syncDir(this.keysDir);
  }

  /**
   * Makes sure gpg in the GNUPGHOME holds the secret key, importing it if not. Importing is
   * idempotent; a GNUPGHOME deleted or emptied behind our back is rebuilt.
   */
  private async importIntoGnupgHome(key: openpgp.PrivateKey): Promise<void> {
    const fingerprint = fingerprintOf(key);
    await this.prepareKeysDir();
    await fs.mkdir(this.home, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    await this.tightenMode(this.home, 0o700); // gpg warns about an unsafe homedir otherwise
    if (await this.gpgHasSecretKey(fingerprint)) return;

    await this.checkSocketPath();
    const t0 = performance.now();
    let stderr = await this.gpgImport(key);
    if (!(await this.gpgHasSecretKey(fingerprint))) {
      // A gpg-agent still serving a GNUPGHOME that was deleted under it can swallow the secret key;
      // a fresh agent stores it where it belongs.
      await this.killAgent();
      stderr = await this.gpgImport(key);
      if (!(await this.gpgHasSecretKey(fingerprint)))
        throw new InstanceKeyError(
          'GPG_IMPORT_FAILED',
          `gpg did not take the secret key ${fingerprint} into ${this.home}, so reprepro cannot sign: ${lastLines(stderr)}`,
        );
    }
    this.logger.info(
      { fingerprint, gnupgHome: this.home, importMs: Math.round(performance.now() - t0) },
      'imported the instance key into its GNUPGHOME',
    );
  }

  private async gpgImport(key: openpgp.PrivateKey): Promise<string> {
    const result = await this.gpg(['--import'], key.armor());
    // gpg warns (and still exits 0) about openpgp.js's SHA-3 digest preferences, which it does not know.
    if (result.exitCode !== 0)
      throw new InstanceKeyError(
        'GPG_IMPORT_FAILED',
        `gpg --import into ${this.home} failed (exit ${result.exitCode}): ${lastLines(result.stderr)}`,
      );
    return result.stderr;
  }

  private async gpgHasSecretKey(fingerprint: string): Promise<boolean> {
    const result = await this.gpg(['--with-colons', '--list-secret-keys', fingerprint]);
    if (result.exitCode !== 0) return false;
    return result.stdout.split('\n').some((line) => line === `fpr:::::::::${fingerprint}:`);
  }

  private async gpg(args: string[], input?: string) {
    try {
      return await execa('gpg', ['--homedir', this.home, '--batch', '--no-tty', ...args], {
        reject: false,
        env: GPG_ENV,
        ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
      });
    } catch (err) {
      throw new InstanceKeyError('GPG_IMPORT_FAILED', `cannot run gpg: ${(err as Error).message}`, { cause: err });
    }
  }

  /** gpg-agent puts its sockets into the GNUPGHOME unless /run/user/<uid> exists. */
  private async checkSocketPath(): Promise<void> {
    const result = await execa('gpgconf', ['--homedir', this.home, '--list-dirs', 'agent-extra-socket'], {
      reject: false,
      env: GPG_ENV,
      stdin: 'ignore',
    }).catch(() => undefined);
    if (!result || result.exitCode !== 0) return;
    // The browser socket has the longest name of the agent's sockets.
    const longest = `${result.stdout.trim().replace(/\.extra$/, '')}.browser`;
    if (Buffer.byteLength(longest) > MAX_SOCKET_PATH)
      throw new InstanceKeyError(
        'GNUPG_HOME_PATH_TOO_LONG',
        `gpg-agent's socket ${longest} would be longer than ${MAX_SOCKET_PATH} bytes: use a shorter data directory`,
      );
  }

  private async killAgent(): Promise<void> {
    await execa('gpgconf', ['--homedir', this.home, '--kill', 'gpg-agent'], {
      reject: false,
      env: GPG_ENV,
      stdin: 'ignore',
    }).catch(() => undefined);
  }

  private async removeGnupgHome(): Promise<void> {
    if (!(await exists(this.home))) return;
    await this.killAgent();
    await fs.rm(this.home, { recursive: true, force: true });
  }

  private async tightenMode(file: string, mode: number): Promise<void> {
    const st = await fs.stat(file);
    if ((st.mode & 0o777) === mode) return;
    await fs.chmod(file, mode);
    this.logger.warn(
      { file, was: (st.mode & 0o777).toString(8), now: mode.toString(8) },
      'tightened the permissions of the instance key store',
    );
  }

  private keyExists(): InstanceKeyError {
    const fpr = this.key ? ` (${fingerprintOf(this.key)})` : '';
    return new InstanceKeyError(
      'KEY_EXISTS',
      `an instance key${fpr} already exists in ${this.keysDir}: remove it first if you really want a new one ` +
        '(every apt client then needs the new public key)',
    );
  }

  private unreadable(reason: string, cause?: unknown): InstanceKeyError {
    return new InstanceKeyError(
      'KEY_UNREADABLE',
      `the instance key ${this.keyFile} is unusable: ${reason}. Restore it from a backup, or remove it and ` +
        'generate a new key (every apt client then needs the new public key)',
      cause === undefined ? undefined : { cause },
    );
  }
}

/** Fingerprint, key id, algorithm, user ids and validity period of a key, as apt users see them. */
export function describeKey(key: openpgp.Key): PublicKeyInfo {
  const createdAt = key.getCreationTime();
  const expirySeconds = keyExpirationSeconds(key);
  return {
    fingerprint: fingerprintOf(key),
    keyId: key.getKeyID().toHex().toUpperCase(),
    algorithm: algorithmName(key.getAlgorithmInfo()),
    userIds: key.getUserIDs(),
    createdAt,
    expiresAt: expirySeconds === null ? null : new Date(createdAt.getTime() + expirySeconds * 1000),
  };
}

function fingerprintOf(key: openpgp.Key): string {
  return key.getFingerprint().toUpperCase();
}

function algorithmName(info: openpgp.AlgorithmInfo): string {
  switch (info.algorithm) {
    case 'eddsaLegacy':
    case 'ed25519':
      return 'ed25519';
    case 'ed448':
      return 'ed448';
    case 'rsaEncryptSign':
    case 'rsaSign':
      return `rsa${info.bits ?? ''}`;
    default:
      return info.curve ? `${info.algorithm}-${info.curve}` : info.algorithm;
  }
}

/**
 * The key expiration of the newest self-signature (direct-key or on a user id), in seconds after
 * creation; null for never. A description only: load() verifies the signatures themselves.
 */
function keyExpirationSeconds(key: openpgp.Key): number | null {
  const { directSignatures = [] } = key as { directSignatures?: openpgp.SignaturePacket[] }; // not in the typings
  const selfSignatures = [...directSignatures, ...key.users.flatMap((user) => user.selfCertifications)];
  let newest: openpgp.SignaturePacket | undefined;
  for (const sig of selfSignatures)
    if (!newest || (sig.created?.getTime() ?? 0) > (newest.created?.getTime() ?? 0)) newest = sig;
  if (!newest || newest.keyNeverExpires !== false || !newest.keyExpirationTime) return null;
  return newest.keyExpirationTime;
}

function archiveUserId(identity: string, email: string): { name: string; email: string } {
  // The user id ends up in apt-key listings and keyring package descriptions; keep it one clean line.
  if (!/^[A-Za-z0-9][A-Za-z0-9 ._+-]*$/.test(identity))
    throw invalidUserId(`identity ${JSON.stringify(identity)}`, 'letters, digits, space and ._+-');
  if (!/^[^\s<>@]+@[^\s<>@]+$/.test(email)) throw invalidUserId(`e-mail ${JSON.stringify(email)}`, 'name@host');
  return { name: `debyard archive ${identity}`, email };
}

function invalidUserId(what: string, allowed: string): InstanceKeyError {
  return new InstanceKeyError('INVALID_USER_ID', `cannot put ${what} into the key's user id: use ${allowed}`);
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function lastLines(text: string, n = 5): string {
  const lines = text.trim().split('\n');
  return lines.slice(-n).join(' / ') || '(no output)';
}
