import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as openpgp from 'openpgp';
import {
  clearsignedIssuers,
  KeyringError,
  SignatureError,
  loadKeyring,
  readArmoredKeys,
  verifyClearsigned,
  verifyDetached,
  type SignatureErrorCode,
} from './verify.js';

const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const BOOKWORM_INRELEASE = 'http://deb.debian.org/debian/dists/bookworm/InRelease';
const DAY = 24 * 3600 * 1000;

function rejectsWith(code: SignatureErrorCode, pattern?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof SignatureError, `not a SignatureError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  };
}

async function makeKey(opts: { date?: Date; keyExpirationTime?: number } = {}) {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy',
    userIDs: [{ name: 'debyard test', email: 'test@example.org' }],
    format: 'object',
    ...opts,
  });
  return privateKey;
}

/** Clearsigns like gpg (LF endings, final newline not doubled): the recipe of debian-toolchain.md §7. */
async function clearsign(text: string, key: openpgp.PrivateKey, date?: Date): Promise<string> {
  const message = await openpgp.createCleartextMessage({ text: text.replace(/\n$/, '') });
  const signed = await openpgp.sign({ message, signingKeys: key, date });
  return signed.replace(/\r\n/g, '\n');
}

const RELEASE = 'Origin: Test\nCodename: fake\nArchitectures: amd64\nComponents: main\n';

describe('verifyClearsigned (offline)', () => {
  let key: openpgp.PrivateKey;
  let other: openpgp.PrivateKey;
  let signed: string;
  before(async () => {
    [key, other] = await Promise.all([makeKey(), makeKey()]);
    signed = await clearsign(RELEASE, key);
  });

  it('returns exactly the signed text with its final newline, and the signer', async () => {
    const v = await verifyClearsigned(signed, [other.toPublic(), key.toPublic()]);
    assert.equal(v.text, RELEASE);
    assert.equal(v.signer.fingerprint, key.getFingerprint().toUpperCase());
    assert.equal(v.signer.keyId.length, 16);
    assert.equal(v.signer.userId, 'debyard test <test@example.org>');
    assert.ok(Math.abs(v.signedAt.getTime() - Date.now()) < 60_000);
  });

  it('names the key it does not know', async () => {
    await assert.rejects(
      verifyClearsigned(signed, [other.toPublic()], { source: 'x.changes' }),
      rejectsWith('UNKNOWN_KEY', /^x\.changes: .*add the signer’s key/),
    );
  });

  it('rejects a tampered body', async () => {
    await assert.rejects(
      verifyClearsigned(signed.replace('Codename: fake', 'Codename: evil'), [key.toPublic()]),
      rejectsWith('BAD_SIGNATURE'),
    );
  });

  it('rejects unsigned text, and refuses to verify with no keys', async () => {
    await assert.rejects(verifyClearsigned(RELEASE, [key.toPublic()]), rejectsWith('NOT_SIGNED'));
    await assert.rejects(verifyClearsigned('', [key.toPublic()]), rejectsWith('NOT_SIGNED'));
    await assert.rejects(verifyClearsigned(signed, []), rejectsWith('NO_KEYS'));
  });

  it('rejects text before or after the signed part, but allows a trailing newline', async () => {
    await assert.rejects(
      verifyClearsigned(`Origin: Evil\n${signed}`, [key.toPublic()]),
      rejectsWith('TEXT_OUTSIDE_SIGNATURE'),
    );
    await assert.rejects(
      verifyClearsigned(`${signed}Origin: Evil\n`, [key.toPublic()]),
      rejectsWith('TEXT_OUTSIDE_SIGNATURE', /after the signature/),
    );
    await assert.rejects(
      verifyClearsigned(`${signed}${signed}`, [key.toPublic()]),
      rejectsWith('TEXT_OUTSIDE_SIGNATURE'),
    );
    assert.equal((await verifyClearsigned(`${signed}\n\n`, [key.toPublic()])).text, RELEASE);
  });

  it('rejects a broken signature block', async () => {
    const cut = signed.slice(0, signed.indexOf('-----END PGP SIGNATURE-----'));
    await assert.rejects(verifyClearsigned(cut, [key.toPublic()]), rejectsWith('MALFORMED_SIGNATURE'));
    // openpgp.js skips characters that are not base64 (tried: "!!!!" verifies), so garble real ones
    const sigLines = signed.split('\n');
    const at = sigLines.indexOf('-----BEGIN PGP SIGNATURE-----') + 3;
    sigLines[at] = sigLines[at]!.replace(/[A-Za-z]/g, (c) => (c === 'A' ? 'B' : 'A'));
    await assert.rejects(verifyClearsigned(sigLines.join('\n'), [key.toPublic()]), SignatureError);
  });

  it('rejects a signed document that is itself a signed document', async () => {
    const nested = await clearsign(signed, other);
    await assert.rejects(
      verifyClearsigned(nested, [key.toPublic(), other.toPublic()]),
      rejectsWith('NESTED_SIGNATURE'),
    );
  });

  it('accepts a good signature next to ones by unknown keys, but not next to a bad one by a known key', async () => {
    const message = await openpgp.createCleartextMessage({ text: RELEASE.replace(/\n$/, '') });
    const both = (await openpgp.sign({ message, signingKeys: [other, key] })).replace(/\r\n/g, '\n');
    const v = await verifyClearsigned(both, [key.toPublic()]);
    assert.equal(v.signer.fingerprint, key.getFingerprint().toUpperCase());
    // one good signature by `key` and one by `other` over different text: bad, though `key` verifies
    const sigBlock = (doc: string) => doc.slice(doc.indexOf('-----BEGIN PGP SIGNATURE-----'));
    const good = await clearsign(RELEASE, key);
    const forged = await clearsign('Origin: Evil\n', other);
    const [a, b] = await Promise.all(
      [good, forged].map(async (doc) => (await openpgp.readSignature({ armoredSignature: sigBlock(doc) })).write()),
    );
    const combined = await openpgp.readSignature({ binarySignature: new Uint8Array([...a!, ...b!]) });
    const armored =
      good.slice(0, good.indexOf('-----BEGIN PGP SIGNATURE-----')) + combined.armor().replace(/\r\n/g, '\n');
    assert.equal((await verifyClearsigned(armored, [key.toPublic()])).text, RELEASE);
    await assert.rejects(verifyClearsigned(armored, [key.toPublic(), other.toPublic()]), rejectsWith('BAD_SIGNATURE'));
  });

  it('accepts a key that has expired since it signed (mini-buildd: expired keys accepted)', async () => {
    const created = new Date(Date.now() - 10 * DAY);
    const old = await makeKey({ date: created, keyExpirationTime: 2 * 24 * 3600 });
    const oldSigned = await clearsign(RELEASE, old, new Date(created.getTime() + DAY));
    const v = await verifyClearsigned(oldSigned, [old.toPublic()]);
    assert.equal(v.signedAt.getTime(), Math.floor((created.getTime() + DAY) / 1000) * 1000);
  });

  it('rejects a signature made after the key expired', async () => {
    const created = new Date(Date.now() - 10 * DAY);
    const forever = await makeKey({ date: created });
    const late = await clearsign(RELEASE, forever, new Date(created.getTime() + 5 * DAY));
    // the same key, re-certified to expire one day after its creation
    const { privateKey: expiring } = await openpgp.reformatKey({
      privateKey: forever,
      userIDs: [{ name: 'debyard test' }],
      keyExpirationTime: 24 * 3600,
      date: created,
      format: 'object',
    });
    await assert.rejects(verifyClearsigned(late, [expiring.toPublic()]), rejectsWith('EXPIRED_KEY'));
  });

  it('rejects a signature dated in the future, saying when it was made', async () => {
    const at = new Date(Math.floor((Date.now() + 2 * DAY) / 1000) * 1000);
    const future = await clearsign(RELEASE, key, at);
    await assert.rejects(verifyClearsigned(future, [key.toPublic()]), (err: unknown) => {
      rejectsWith('FUTURE_SIGNATURE', new RegExp(`in the future \\(signed ${at.toISOString()}\\)`))(err);
      assert.equal((err as SignatureError).signedAt?.getTime(), at.getTime());
      return true;
    });
    const v = await verifyClearsigned(future, [key.toPublic()], { date: new Date(Date.now() + 3 * DAY) });
    assert.equal(v.text, RELEASE);
  });
});

describe('clearsignedIssuers', () => {
  it('names the signing keys’ fingerprints without verifying, also of keys nobody has', async () => {
    const [a, b] = await Promise.all([makeKey(), makeKey()]);
    const message = await openpgp.createCleartextMessage({ text: RELEASE });
    const both = (await openpgp.sign({ message, signingKeys: [a, b] })).replace(/\r\n/g, '\n');
    assert.deepEqual(await clearsignedIssuers(both), [
      a.getFingerprint().toUpperCase(),
      b.getFingerprint().toUpperCase(),
    ]);
    assert.deepEqual(await clearsignedIssuers('not signed'), []);
  });
});

describe('verifyDetached (offline)', () => {
  it('verifies armored and binary signatures over bytes and rejects tampering', async () => {
    const key = await makeKey();
    const data = new TextEncoder().encode(RELEASE);
    const message = await openpgp.createMessage({ binary: data });
    const armored = await openpgp.sign({ message, signingKeys: key, detached: true, format: 'armored' });
    const binary = await openpgp.sign({ message, signingKeys: key, detached: true, format: 'binary' });
    for (const sig of [armored, binary, new TextEncoder().encode(armored)]) {
      const v = await verifyDetached(data, sig, [key.toPublic()]);
      assert.equal(v.signer.fingerprint, key.getFingerprint().toUpperCase());
    }
    await assert.rejects(verifyDetached(data.slice(1), armored, [key.toPublic()]), rejectsWith('BAD_SIGNATURE'));
    await assert.rejects(
      verifyDetached(data, `junk\n${armored}`, [key.toPublic()]),
      rejectsWith('TEXT_OUTSIDE_SIGNATURE'),
    );
    await assert.rejects(verifyDetached(data, 'hello', [key.toPublic()]), rejectsWith('NOT_SIGNED'));
    await assert.rejects(
      verifyDetached(data, Uint8Array.from([1, 2, 3]), [key.toPublic()]),
      rejectsWith('MALFORMED_SIGNATURE'),
    );
  });
});

describe('keyrings', () => {
  it('loads the binary Debian archive keyring and single-key files', async () => {
    const keys = await loadKeyring(DEBIAN_KEYRING);
    assert.ok(keys.length >= 3, `only ${keys.length} keys`);
    assert.ok(keys.every((k) => !k.isPrivate()));
    const single = await loadKeyring('/usr/share/keyrings/debian-archive-bookworm-automatic.gpg');
    assert.equal(single.length, 1);
    assert.ok(keys.some((k) => k.getFingerprint() === single[0]!.getFingerprint()));
  });

  it('loads armored keyrings and reduces private keys to public ones', async () => {
    const key = await makeKey();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'debyard-keyring-'));
    try {
      const file = path.join(dir, 'k.asc');
      fs.writeFileSync(file, key.armor());
      const [loaded] = await loadKeyring(file);
      assert.equal(loaded!.isPrivate(), false);
      assert.equal(loaded!.getFingerprint(), key.getFingerprint());
      fs.writeFileSync(file, 'not a key');
      await assert.rejects(
        loadKeyring(file),
        (e: unknown) => e instanceof KeyringError && e.code === 'KEYRING_INVALID',
      );
      await assert.rejects(
        loadKeyring(path.join(dir, 'missing.gpg')),
        (e: unknown) => e instanceof KeyringError && e.code === 'KEYRING_UNREADABLE' && /missing\.gpg/.test(e.message),
      );
      await assert.rejects(readArmoredKeys('-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n'), KeyringError);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Debian's real InRelease (deb.debian.org)", () => {
  let inRelease: string;
  let debianKeys: openpgp.PublicKey[];
  before(async () => {
    const res = await fetch(BOOKWORM_INRELEASE, { signal: AbortSignal.timeout(20_000) });
    assert.equal(res.status, 200);
    inRelease = await res.text();
    debianKeys = await loadKeyring(DEBIAN_KEYRING);
  });

  it('verifies bookworm with debian-archive-keyring', async () => {
    const v = await verifyClearsigned(inRelease, debianKeys, { source: BOOKWORM_INRELEASE });
    assert.match(v.text, /^Origin: Debian\n/);
    assert.ok(v.text.endsWith('\n') && !v.text.endsWith('\n\n'));
    assert.equal(v.signer.fingerprint.length, 40);
    assert.ok(debianKeys.some((k) => k.getFingerprint().toUpperCase() === v.signer.fingerprint));
  });

  it('fails with a wrong key, a tampered body and appended text', async () => {
    const stranger = await makeKey();
    await assert.rejects(verifyClearsigned(inRelease, [stranger.toPublic()]), rejectsWith('UNKNOWN_KEY'));
    await assert.rejects(
      verifyClearsigned(inRelease.replace('Codename: bookworm', 'Codename: bookwurm'), debianKeys),
      rejectsWith('BAD_SIGNATURE'),
    );
    await assert.rejects(
      verifyClearsigned(`${inRelease}Valid-Until: never\n`, debianKeys),
      rejectsWith('TEXT_OUTSIDE_SIGNATURE'),
    );
  });
});
