import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as openpgp from 'openpgp';
import { DomainError } from '../graphql/errors.js';
import { checkDscUrl, verifyExternalDsc } from './external.js';

const DSC = [
  'Format: 3.0 (native)',
  'Source: tiny',
  'Version: 1.0',
  'Architecture: all',
  'Checksums-Sha256:',
  ' fa6621826ff1150e581bd90bc3c8a4ecafe5df90404f207db6dcdf2c75f26ad7 32712 tiny_1.0.tar.xz',
  '',
].join('\n');

async function key(name: string) {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy',
    userIDs: [{ name, email: `${name.toLowerCase()}@example.org` }],
    format: 'object',
  });
  return { privateKey, publicKey };
}

async function clearsign(text: string, privateKey: openpgp.PrivateKey): Promise<string> {
  return openpgp.sign({ message: await openpgp.createCleartextMessage({ text }), signingKeys: privateKey });
}

const code = (expected: string, message?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof DomainError, String(err));
  assert.equal(err.extensions.code, expected, err.message);
  if (message) assert.match(err.message, message);
  return true;
};

describe('external ports: the .dsc URL', () => {
  test('takes http and https URLs of a .dsc', () => {
    assert.equal(
      checkDscUrl(' http://deb.debian.org/debian/pool/main/n/netbase/netbase_6.4.dsc ').hostname,
      'deb.debian.org',
    );
    assert.equal(checkDscUrl('https://example.org/a/b_1.0.dsc').protocol, 'https:');
  });
  test('refuses paths on this host, other schemes, credentials and other files', () => {
    assert.throws(() => checkDscUrl('/etc/passwd.dsc'), code('BAD_USER_INPUT', /not a URL/));
    assert.throws(() => checkDscUrl('file:///srv/x_1.0.dsc'), code('BAD_USER_INPUT', /file: URLs are not fetched/));
    assert.throws(() => checkDscUrl('ftp://example.org/x_1.0.dsc'), code('BAD_USER_INPUT'));
    assert.throws(() => checkDscUrl('http://u:p@example.org/x_1.0.dsc'), code('BAD_USER_INPUT', /password/));
    assert.throws(() => checkDscUrl('http://example.org/x_1.0.tar.xz'), code('DSC_INVALID', /does not name a \.dsc/));
  });
});

describe('external ports: the .dsc signature', () => {
  let dir: string;
  let developer: Awaited<ReturnType<typeof key>>;
  let archive: Awaited<ReturnType<typeof key>>;
  let stranger: Awaited<ReturnType<typeof key>>;
  let keyring: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'debyard-external-'));
    [developer, archive, stranger] = await Promise.all([key('Developer'), key('Archive'), key('Stranger')]);
    // A binary keyring file as /usr/share/keyrings has them: the developer and someone else.
    keyring = path.join(dir, 'developers.gpg');
    const other = await key('Other');
    await writeFile(keyring, Buffer.concat([developer.publicKey.write(), other.publicKey.write()]));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('verifies a .dsc signed by a key of a developer keyring file', async () => {
    const signed = await clearsign(DSC, developer.privateKey);
    const verified = await verifyExternalDsc(signed, {
      name: 'tiny_1.0.dsc',
      aptKeys: [archive.publicKey],
      keyringFiles: [path.join(dir, 'missing.gpg'), keyring],
    });
    assert.equal(verified.signer.fingerprint, developer.publicKey.getFingerprint().toUpperCase());
    assert.match(verified.text, /^Source: tiny$/m);
  });

  test('verifies one signed by a base source’s key', async () => {
    const signed = await clearsign(DSC, archive.privateKey);
    const verified = await verifyExternalDsc(signed, {
      name: 'tiny_1.0.dsc',
      aptKeys: [archive.publicKey],
      keyringFiles: [],
    });
    assert.equal(verified.signer.fingerprint, archive.publicKey.getFingerprint().toUpperCase());
  });

  test('refuses unknown signers, changed text and unsigned files with DSC_SIGNATURE', async () => {
    const opts = { name: 'tiny_1.0.dsc', aptKeys: [archive.publicKey], keyringFiles: [keyring] };
    const fpr = stranger.publicKey.getFingerprint().toUpperCase();
    await assert.rejects(
      verifyExternalDsc(await clearsign(DSC, stranger.privateKey), opts),
      code(
        'DSC_SIGNATURE',
        new RegExp(`signed by ${fpr}, a key in none of .*developers\\.gpg.*--allow-unauthenticated`),
      ),
    );
    const tampered = (await clearsign(DSC, developer.privateKey)).replace('Version: 1.0', 'Version: 1.1');
    await assert.rejects(verifyExternalDsc(tampered, opts), code('DSC_SIGNATURE', /signature/i));
    await assert.rejects(verifyExternalDsc(DSC, opts), code('DSC_SIGNATURE', /tiny_1\.0\.dsc is not signed/));
  });
});
