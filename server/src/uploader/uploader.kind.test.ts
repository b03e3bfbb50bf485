import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as openpgp from 'openpgp';
import { inspectUploaderKey } from './uploader.kind.js';

const DAY = 24 * 3600 * 1000;

async function keyPair(opts: Partial<Parameters<typeof openpgp.generateKey>[0]> = {}) {
  return openpgp.generateKey({
    userIDs: [{ name: 'Unit Tester', email: 'unit@debyard.example.org' }],
    ...opts,
    format: 'armored',
  });
}

/** Resolves to the DomainError code and message `inspectUploaderKey(armored)` is refused with. */
async function refusal(armored: string): Promise<{ code: string; message: string }> {
  try {
    await inspectUploaderKey(armored);
  } catch (err) {
    return { code: (err as { code: string }).code, message: (err as Error).message };
  }
  assert.fail('the key was accepted');
}

describe('uploader keys as users add them', () => {
  it('accepts an Ed25519 key and an RSA key of 2048 bits, describing them', async () => {
    const ed = await inspectUploaderKey((await keyPair()).publicKey);
    assert.equal(ed.info.algorithm, 'ed25519');
    assert.match(ed.info.fingerprint, /^[0-9A-F]{40}$/);
    assert.deepEqual(ed.info.userIds, ['Unit Tester <unit@debyard.example.org>']);
    const rsa = await inspectUploaderKey((await keyPair({ type: 'rsa', rsaBits: 2048 })).publicKey);
    assert.equal(rsa.info.algorithm, 'rsa2048');
  });

  it('refuses what is not one public key with KEY_INVALID', async () => {
    assert.deepEqual(await refusal('hello'), {
      code: 'KEY_INVALID',
      message:
        'not an armored OpenPGP public key (Misformed armored text): export it with "gpg --armor --export <fingerprint>"',
    });
    const { privateKey, publicKey } = await keyPair();
    assert.equal((await refusal(privateKey)).code, 'KEY_INVALID');
    assert.match((await refusal(privateKey)).message, /^that is a private key: give the public key/);
    const two = await refusal(publicKey + '\n' + (await keyPair()).publicKey);
    assert.deepEqual(two, {
      code: 'KEY_INVALID',
      message: 'expected one public key, found 2 armored blocks: add one key at a time',
    });
  });

  it('refuses a revoked key with KEY_REVOKED and an expired one with KEY_EXPIRED', async () => {
    const { privateKey } = await keyPair();
    const { publicKey: revoked } = await openpgp.revokeKey({
      key: await openpgp.readPrivateKey({ armoredKey: privateKey }),
      format: 'armored',
    });
    const r = await refusal(revoked);
    assert.equal(r.code, 'KEY_REVOKED');
    assert.match(r.message, /^key [0-9A-F]{40} is revoked: add a key that is not$/);

    const created = new Date(Date.now() - 10 * DAY);
    const expired = await refusal((await keyPair({ date: created, keyExpirationTime: 24 * 3600 })).publicKey);
    assert.equal(expired.code, 'KEY_EXPIRED');
    assert.match(
      expired.message,
      new RegExp(`^key [0-9A-F]{40} expired on ${new Date(created.getTime() + DAY).toISOString().slice(0, 16)}`),
    );
  });

  it('refuses RSA below 2048 bits with KEY_WEAK', async () => {
    const weak = await keyPair({ type: 'rsa', rsaBits: 1024, config: { minRSABits: 1024 } });
    const r = await refusal(weak.publicKey);
    assert.equal(r.code, 'KEY_WEAK');
    assert.match(r.message, /^the key is rsa1024: use RSA of at least 2048 bits or Ed25519, as apt requires/);
  });
});
