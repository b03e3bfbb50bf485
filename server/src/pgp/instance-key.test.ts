import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import { pino } from 'pino';
import {
  describeKey,
  GNUPG_DIR,
  InstanceKeyError,
  InstanceKeyStore,
  PRIVATE_KEY_FILE,
  type PublicKeyInfo,
} from './instance-key.js';

const quiet = pino({ level: process.env.DEBYARD_TEST_LOG ?? 'silent' });
const DIST = 'bookworm-test-unstable';
const RELEASE_LIKE =
  'Origin: test\nLabel: test\nSuite: bookworm-test-unstable\nCodename: bookworm-test-unstable\n' +
  'Date: Sat, 21 Nov 2026 22:00:00 UTC\nArchitectures: amd64 source\nComponents: main\nSHA256:\n' +
  ' e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 0 main/binary-amd64/Packages\n';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'debyard-key-'));
let dirCount = 0;
const stores: InstanceKeyStore[] = [];

function newDir(): string {
  return path.join(tmpRoot, `k${dirCount++}`);
}

/** A store on a fresh keys directory (not yet created: the store creates it). */
function newStore(keysDir = newDir(), logger = quiet): InstanceKeyStore {
  const store = new InstanceKeyStore({ keysDir, logger });
  stores.push(store);
  return store;
}

/** A logger that keeps its messages, to see what the store did. */
function recordingLogger(): { logger: typeof quiet; messages: string[] } {
  const messages: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => messages.push(JSON.parse(line).msg) });
  return { logger, messages };
}

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

async function writeKeyring(store: InstanceKeyStore, dir: string): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `keyring-${dirCount++}.gpg`);
  fs.writeFileSync(file, await store.binaryPublicKey());
  return file;
}

async function gpgv(keyring: string, ...args: string[]) {
  return execa('gpgv', ['--keyring', keyring, ...args], {
    reject: false,
    encoding: 'buffer',
    stdin: 'ignore',
    stripFinalNewline: false,
  });
}

/** What gpgv says was signed, or throws with its message. */
async function gpgvOutput(keyring: string, signedFile: string): Promise<Buffer> {
  const result = await gpgv(keyring, '--output', '-', signedFile);
  assert.equal(result.exitCode, 0, Buffer.from(result.stderr).toString());
  return Buffer.from(result.stdout);
}

async function gpgListSecretKeys(home: string): Promise<string> {
  const result = await execa('gpg', ['--homedir', home, '--batch', '--with-colons', '--list-secret-keys'], {
    reject: false,
  });
  return result.stdout;
}

function assertInstanceKeyError(code: InstanceKeyError['code'], messagePart?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof InstanceKeyError, `expected InstanceKeyError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (messagePart) assert.match(err.message, messagePart);
    return true;
  };
}

after(async () => {
  for (const store of stores) await store.remove().catch(() => undefined); // also stops its gpg-agent
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

describe('InstanceKeyStore with an Ed25519 key', () => {
  let store: InstanceKeyStore;
  let info: PublicKeyInfo;
  let keyring: string;
  let generateMs: number;

  before(async () => {
    store = newStore();
    const t0 = performance.now();
    info = await store.generate({ identity: 'test', email: 'archive@test.invalid' });
    generateMs = performance.now() - t0;
    keyring = await writeKeyring(store, path.join(tmpRoot, 'keyrings'));
  });

  it('generates a v4 Ed25519 key without expiry, self-signed with SHA-512', async () => {
    assert.match(info.fingerprint, /^[0-9A-F]{40}$/);
    assert.equal(info.keyId, info.fingerprint.slice(-16));
    assert.equal(info.algorithm, 'ed25519');
    assert.deepEqual(info.userIds, ['debyard archive test <archive@test.invalid>']);
    assert.equal(info.expiresAt, null);
    assert.ok(Math.abs(info.createdAt.getTime() - Date.now()) < 60_000);

    const key = await openpgp.readKey({ binaryKey: await store.binaryPublicKey() });
    assert.equal(key.keyPacket.version, 4);
    assert.deepEqual(key.getAlgorithmInfo(), { algorithm: 'eddsaLegacy', curve: 'ed25519Legacy' });
    assert.equal(key.users[0].selfCertifications[0].hashAlgorithm, openpgp.enums.hash.sha512);
    assert.equal(await key.getExpirationTime(), Infinity);
    assert.deepEqual(describeKey(key), info);
    assert.ok(generateMs < 5000, `generate took ${generateMs} ms`);
  });

  it('keeps the key 0600 and the directories 0700', () => {
    assert.equal(mode(store.keysDir), 0o700);
    assert.equal(mode(path.join(store.keysDir, PRIVATE_KEY_FILE)), 0o600);
    assert.equal(store.gnupgHome, path.join(store.keysDir, GNUPG_DIR));
    assert.equal(mode(store.gnupgHome), 0o700);
  });

  it('imports the secret key into its GNUPGHOME', async () => {
    const listing = await gpgListSecretKeys(store.gnupgHome);
    assert.ok(listing.split('\n').includes(`fpr:::::::::${info.fingerprint}:`), listing);
  });

  it('gives the same key to a new store instance, without importing it again', async () => {
    const { logger, messages } = recordingLogger();
    const again = newStore(store.keysDir, logger);
    const loaded = await again.load();
    assert.deepEqual(loaded, info);
    assert.equal(await again.armoredPublicKey(), await store.armoredPublicKey());
    assert.deepEqual(messages, []);
  });

  it('refuses to generate a second key, also from another instance', async () => {
    await assert.rejects(
      store.generate({ identity: 'test', email: 'archive@test.invalid' }),
      assertInstanceKeyError('KEY_EXISTS', new RegExp(`${info.fingerprint}.*already exists`)),
    );
    await assert.rejects(
      newStore(store.keysDir).generate({ identity: 'other', email: 'other@test.invalid' }),
      assertInstanceKeyError('KEY_EXISTS'),
    );
    assert.equal((await newStore(store.keysDir).load())?.fingerprint, info.fingerprint);
  });

  it('exports an armored public key that holds no secret', async () => {
    const armored = await store.armoredPublicKey();
    assert.match(armored, /^-----BEGIN PGP PUBLIC KEY BLOCK-----\n/);
    assert.doesNotMatch(armored, /\r/);
    const key = await openpgp.readKey({ armoredKey: armored });
    assert.equal(key.isPrivate(), false);
    assert.equal(key.getFingerprint().toUpperCase(), info.fingerprint);
  });

  it('clearsigns so that gpgv verifies it and gives the text back byte for byte', async () => {
    const dir = path.join(tmpRoot, 'clearsign');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'InRelease');
    const signed = await store.signCleartext(RELEASE_LIKE);
    assert.doesNotMatch(signed, /\r/);
    assert.ok(
      signed.startsWith(
        `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n${RELEASE_LIKE}-----BEGIN PGP SIGNATURE-----\n`,
      ),
    );
    fs.writeFileSync(file, signed);
    assert.deepEqual(await gpgvOutput(keyring, file), Buffer.from(RELEASE_LIKE));
  });

  it('clearsigns edge cases exactly as gpg --clearsign does', async () => {
    const dir = path.join(tmpRoot, 'clearsign-edge');
    fs.mkdirSync(dir, { recursive: true });
    const cases = {
      noFinalNewline: 'a: 1\nb: 2',
      blankLastLine: 'a: 1\n\n',
      dashes: '-a\n--b\n-----BEGIN PGP SIGNATURE-----\nFrom here\n',
      trailingWhitespace: 'a  \nb\t\n',
      onlyNewline: '\n',
      empty: '',
    };
    for (const [name, text] of Object.entries(cases)) {
      const input = path.join(dir, `${name}.txt`);
      fs.writeFileSync(input, text);
      fs.writeFileSync(`${input}.ours`, await store.signCleartext(text));
      await execa('gpg', [
        '--homedir',
        store.gnupgHome,
        '--batch',
        '--yes',
        '--clearsign',
        '-o',
        `${input}.gpg`,
        input,
      ]);
      const ours = await gpgvOutput(keyring, `${input}.ours`);
      const theirs = await gpgvOutput(keyring, `${input}.gpg`);
      assert.equal(ours.toString(), theirs.toString(), name);
    }
  });

  it('writes CR LF text with LF line endings, still validly signed', async () => {
    const file = path.join(tmpRoot, 'crlf.asc');
    fs.writeFileSync(file, await store.signCleartext('a: 1\r\nb: 2\r\n'));
    assert.equal((await gpgvOutput(keyring, file)).toString(), 'a: 1\nb: 2\n');
  });

  it('makes detached signatures that gpgv verifies, and that fail on changed data', async () => {
    const data = Buffer.from(RELEASE_LIKE);
    const dataFile = path.join(tmpRoot, 'Release');
    const sigFile = path.join(tmpRoot, 'Release.gpg');
    fs.writeFileSync(dataFile, data);
    const signature = await store.signDetached(data);
    assert.match(signature, /^-----BEGIN PGP SIGNATURE-----\n/);
    assert.doesNotMatch(signature, /\r/);
    fs.writeFileSync(sigFile, signature);
    const good = await gpgv(keyring, sigFile, dataFile);
    assert.equal(good.exitCode, 0, Buffer.from(good.stderr).toString());

    fs.writeFileSync(dataFile, Buffer.concat([data, Buffer.from('X')]));
    const bad = await gpgv(keyring, sigFile, dataFile);
    assert.notEqual(bad.exitCode, 0);
    assert.match(Buffer.from(bad.stderr).toString(), /BAD signature/);
  });

  it("is not accepted by another key's keyring", async () => {
    const other = newStore();
    await other.generate({ identity: 'other', email: 'other@test.invalid' });
    const otherKeyring = await writeKeyring(other, path.join(tmpRoot, 'keyrings'));
    const file = path.join(tmpRoot, 'wrong-key.asc');
    fs.writeFileSync(file, await store.signCleartext(RELEASE_LIKE));
    const result = await gpgv(otherKeyring, file);
    assert.notEqual(result.exitCode, 0);
    assert.match(Buffer.from(result.stderr).toString(), new RegExp(`${info.keyId}|No public key`));
  });
});

describe('InstanceKeyStore and reprepro', () => {
  let store: InstanceKeyStore;
  let info: PublicKeyInfo;
  let keyring: string;
  let otherKeyring: string;

  before(async () => {
    store = newStore();
    info = await store.generate({ identity: 'repo', email: 'repo@test.invalid' });
    keyring = await writeKeyring(store, path.join(tmpRoot, 'keyrings'));
    const other = newStore();
    await other.generate({ identity: 'other', email: 'other@test.invalid' });
    otherKeyring = await writeKeyring(other, path.join(tmpRoot, 'keyrings'));
  });

  function makeBasedir(gnupgHome: string): string {
    const basedir = newDir();
    fs.mkdirSync(path.join(basedir, 'conf'), { recursive: true });
    fs.writeFileSync(
      path.join(basedir, 'conf', 'distributions'),
      `Codename: ${DIST}\nSuite: ${DIST}\nComponents: main\nArchitectures: source amd64\nSignWith: ${info.fingerprint}\n`,
    );
    fs.writeFileSync(path.join(basedir, 'conf', 'options'), `gnupghome ${gnupgHome}\n`);
    return basedir;
  }

  /** Runs `reprepro export` and checks InRelease and Release.gpg against the keyrings. */
  async function exportAndVerify(basedir: string): Promise<void> {
    const result = await execa('reprepro', ['-b', basedir, 'export'], { reject: false, stdin: 'ignore' });
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`);
    const dists = path.join(basedir, 'dists', DIST);
    const release = path.join(dists, 'Release');
    assert.deepEqual(await gpgvOutput(keyring, path.join(dists, 'InRelease')), fs.readFileSync(release));
    const detached = await gpgv(keyring, path.join(dists, 'Release.gpg'), release);
    assert.equal(detached.exitCode, 0, Buffer.from(detached.stderr).toString());
    assert.notEqual((await gpgv(otherKeyring, path.join(dists, 'InRelease'))).exitCode, 0);
    assert.notEqual((await gpgv(otherKeyring, path.join(dists, 'Release.gpg'), release)).exitCode, 0);
  }

  it('signs with SignWith: <fingerprint> from the GNUPGHOME', async () => {
    await exportAndVerify(makeBasedir(store.gnupgHome));
  });

  it('repairs a deleted GNUPGHOME on load, so reprepro signs again', async () => {
    fs.rmSync(store.gnupgHome, { recursive: true, force: true });
    const { logger, messages } = recordingLogger();
    const restarted = newStore(store.keysDir, logger);
    assert.equal((await restarted.load())?.fingerprint, info.fingerprint);
    assert.deepEqual(messages, ['imported the instance key into its GNUPGHOME']);
    assert.equal(mode(restarted.gnupgHome), 0o700);
    await exportAndVerify(makeBasedir(restarted.gnupgHome));
  });

  it('repairs a GNUPGHOME that lost its secret keys, and imports only once', async () => {
    const secrets = path.join(store.gnupgHome, 'private-keys-v1.d');
    for (const file of fs.readdirSync(secrets)) fs.rmSync(path.join(secrets, file));
    const { logger, messages } = recordingLogger();
    const restarted = newStore(store.keysDir, logger);
    await restarted.load();
    assert.equal(await restarted.ensureGnupgHome(), store.gnupgHome);
    await restarted.load();
    assert.deepEqual(messages, ['imported the instance key into its GNUPGHOME']);
    await exportAndVerify(makeBasedir(restarted.gnupgHome));
  });
});

describe('InstanceKeyStore failures', () => {
  it('loads nothing from an empty or missing directory, and signs nothing', async () => {
    const store = newStore();
    assert.equal(await store.load(), null);
    await assert.rejects(store.armoredPublicKey(), assertInstanceKeyError('KEY_MISSING', /generate one first/));
    await assert.rejects(store.signCleartext('x\n'), assertInstanceKeyError('KEY_MISSING'));
    await assert.rejects(store.ensureGnupgHome(), assertInstanceKeyError('KEY_MISSING'));
  });

  it('reports a corrupt key file as KEY_UNREADABLE, naming the file', async () => {
    const store = newStore();
    fs.mkdirSync(store.keysDir, { mode: 0o700 });
    const keyFile = path.join(store.keysDir, PRIVATE_KEY_FILE);
    fs.writeFileSync(
      keyFile,
      '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nbm9uc2Vuc2U=\n-----END PGP PRIVATE KEY BLOCK-----\n',
      {
        mode: 0o600,
      },
    );
    await assert.rejects(
      store.load(),
      assertInstanceKeyError(
        'KEY_UNREADABLE',
        new RegExp(`${keyFile} is unusable: it is not an armored OpenPGP private key`),
      ),
    );
    await assert.rejects(store.signDetached(new Uint8Array([1])), assertInstanceKeyError('KEY_UNREADABLE'));
    await assert.rejects(
      store.generate({ identity: 'x', email: 'x@test.invalid' }),
      assertInstanceKeyError('KEY_EXISTS'),
      'an unreadable key is never overwritten',
    );
  });

  it('rejects a passphrase-protected key and a v6 key', async () => {
    const cases: [openpgp.KeyOptions, RegExp][] = [
      [{ userIDs: [{ name: 'p' }], type: 'ecc', curve: 'curve25519Legacy', passphrase: 'secret' }, /passphrase/],
      [{ userIDs: [{ name: 'v6' }], type: 'curve25519', config: { v6Keys: true } }, /v6 key/],
    ];
    for (const [options, message] of cases) {
      const store = newStore();
      fs.mkdirSync(store.keysDir, { mode: 0o700 });
      const { privateKey } = await openpgp.generateKey({ ...options, format: 'armored' });
      fs.writeFileSync(path.join(store.keysDir, PRIVATE_KEY_FILE), privateKey, { mode: 0o600 });
      await assert.rejects(store.load(), assertInstanceKeyError('KEY_UNREADABLE', message));
    }
  });

  it('tightens a key file that became world-readable', async () => {
    const store = newStore();
    await store.generate({ identity: 'modes', email: 'modes@test.invalid' });
    const keyFile = path.join(store.keysDir, PRIVATE_KEY_FILE);
    fs.chmodSync(keyFile, 0o644);
    fs.chmodSync(store.keysDir, 0o755);
    await newStore(store.keysDir).load();
    assert.equal(mode(keyFile), 0o600);
    assert.equal(mode(store.keysDir), 0o700);
  });

  it('refuses user ids that would not be one clean line', async () => {
    const store = newStore();
    await assert.rejects(
      store.generate({ identity: 'a<b>', email: 'a@test.invalid' }),
      assertInstanceKeyError('INVALID_USER_ID'),
    );
    await assert.rejects(
      store.generate({ identity: 'ok', email: 'a@b\n@c' }),
      assertInstanceKeyError('INVALID_USER_ID'),
    );
    assert.equal(fs.existsSync(path.join(store.keysDir, PRIVATE_KEY_FILE)), false);
  });

  it('lets only one of two concurrent generate calls win', async () => {
    const keysDir = newDir();
    const results = await Promise.allSettled([
      newStore(keysDir).generate({ identity: 'a', email: 'a@test.invalid' }),
      newStore(keysDir).generate({ identity: 'b', email: 'b@test.invalid' }),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assertInstanceKeyError('KEY_EXISTS')(loser.reason);
    const winner = results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<PublicKeyInfo>;
    assert.equal((await newStore(keysDir).load())?.fingerprint, winner.value.fingerprint);
    assert.equal((await gpgListSecretKeys(path.join(keysDir, GNUPG_DIR))).match(/^sec:/gm)?.length, 1);
  });

  it('removes key and GNUPGHOME, after which a new key can be generated', async () => {
    const store = newStore();
    const first = await store.generate({ identity: 'rm', email: 'rm@test.invalid' });
    await store.remove();
    await store.remove();
    assert.equal(fs.existsSync(path.join(store.keysDir, PRIVATE_KEY_FILE)), false);
    assert.equal(fs.existsSync(store.gnupgHome), false);
    assert.equal(await store.load(), null);
    const second = await store.generate({ identity: 'rm', email: 'rm@test.invalid' });
    assert.notEqual(second.fingerprint, first.fingerprint);
    const listing = await gpgListSecretKeys(store.gnupgHome);
    assert.ok(!listing.includes(first.fingerprint), 'the old secret key is gone from the GNUPGHOME');
  });
});

describe('InstanceKeyStore with an RSA 4096 key', () => {
  it('generates it, imports it into gpg and signs so that gpgv verifies', async () => {
    const store = newStore();
    const t0 = performance.now();
    const info = await store.generate({ identity: 'rsa', email: 'rsa@test.invalid', algorithm: 'rsa4096' });
    const ms = performance.now() - t0;
    assert.equal(info.algorithm, 'rsa4096');
    assert.equal(info.expiresAt, null);
    const key = await openpgp.readKey({ armoredKey: await store.armoredPublicKey() });
    assert.equal(key.keyPacket.version, 4);
    assert.equal(key.users[0].selfCertifications[0].hashAlgorithm, openpgp.enums.hash.sha512);
    assert.ok((await gpgListSecretKeys(store.gnupgHome)).includes(info.fingerprint));

    const keyring = await writeKeyring(store, path.join(tmpRoot, 'keyrings'));
    const file = path.join(tmpRoot, 'rsa-InRelease');
    fs.writeFileSync(file, await store.signCleartext(RELEASE_LIKE));
    assert.equal((await gpgvOutput(keyring, file)).toString(), RELEASE_LIKE);
    quiet.info({ ms }, 'rsa4096 generate');
    assert.ok(ms < 20_000, `rsa4096 generation took ${ms} ms`);
  });
});
