import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as openpgp from 'openpgp';
import { loadKeyring } from '../pgp/verify.js';
import {
  ArchiveError,
  checkSource,
  pingArchive,
  type ArchiveErrorCode,
  type CheckSourceOptions,
} from './release-check.js';
import { DEBIAN_ARCHIVE, DEBIAN_KEYRING, DEBIAN_SECURITY_ARCHIVE, DEBIAN_SETUP } from './setup-data.js';

const DAY = 24 * 3600 * 1000;

function rejectsWith(code: ArchiveErrorCode, pattern?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ArchiveError, `not an ArchiveError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  };
}

function releaseText(fields: Record<string, string | undefined> = {}): string {
  const all: Record<string, string | undefined> = {
    Origin: 'Fake',
    Label: 'Fake',
    Suite: 'stable',
    Version: '12.5',
    Codename: 'fakeworm',
    Date: new Date(Date.now() - DAY).toUTCString(),
    'Valid-Until': new Date(Date.now() + 7 * DAY).toUTCString(),
    'Acquire-By-Hash': 'yes',
    Architectures: 'all amd64 arm64',
    Components: 'main contrib',
    ...fields,
  };
  return Object.entries(all)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${v}\n`)
    .join('');
}

async function clearsign(text: string, key: openpgp.PrivateKey): Promise<string> {
  const message = await openpgp.createCleartextMessage({ text: text.replace(/\n$/, '') });
  return (await openpgp.sign({ message, signingKeys: key })).replace(/\r\n/g, '\n');
}

type Route = { status: number; body?: string | Uint8Array } | 'hang';

/** A fake mirror on 127.0.0.1: paths under /fake/ map to fixed answers, everything else is 404. */
class FakeMirror {
  readonly routes = new Map<string, Route>();
  private server = http.createServer((req, res) => {
    const route = this.routes.get(req.url ?? '');
    if (route === 'hang') return; // never answers
    res.statusCode = route?.status ?? 404;
    res.end(route?.body ?? '');
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/fake/`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  set(codename: string, file: string, route: Route): void {
    this.routes.set(`/fake/dists/${codename}/${file}`, route);
  }
}

describe('checkSource and pingArchive (offline, fake mirror)', () => {
  const mirror = new FakeMirror();
  let key: openpgp.PrivateKey;
  let stranger: openpgp.PrivateKey;
  const opts = (more: Partial<CheckSourceOptions> = {}): CheckSourceOptions => ({
    archiveUrl: mirror.url,
    codename: 'fakeworm',
    origin: 'Fake',
    keys: [key.toPublic()],
    timeoutMs: 2000,
    ...more,
  });
  const serveSigned = async (codename: string, text: string, by = key) =>
    mirror.set(codename, 'InRelease', { status: 200, body: await clearsign(text, by) });

  before(async () => {
    await mirror.start();
    const make = async () =>
      (
        await openpgp.generateKey({
          type: 'ecc',
          curve: 'ed25519Legacy',
          userIDs: [{ name: 'fake' }],
          format: 'object',
        })
      ).privateKey;
    [key, stranger] = await Promise.all([make(), make()]);
  });
  after(() => mirror.stop());

  it('reads a good InRelease', async () => {
    await serveSigned('fakeworm', releaseText());
    const r = await checkSource(opts());
    assert.equal(r.origin, 'Fake');
    assert.equal(r.codename, 'fakeworm');
    assert.equal(r.suite, 'stable');
    assert.equal(r.codeversion, '125');
    assert.deepEqual(r.architectures, ['all', 'amd64', 'arm64']);
    assert.deepEqual(r.components, ['main', 'contrib']);
    assert.equal(r.acquireByHash, true);
    assert.ok(r.validUntil! > new Date());
    assert.equal(r.signer.fingerprint, key.getFingerprint().toUpperCase());
    assert.equal(r.releaseUrl, `${mirror.url}dists/fakeworm/InRelease`);
    assert.equal(r.archiveUrl, mirror.url);
    assert.ok(r.fetchMs >= 0);
  });

  it('falls back to Release and Release.gpg', async () => {
    const text = releaseText({ Codename: 'oldworm', Components: 'updates/main updates/contrib' });
    const data = new TextEncoder().encode(text);
    const sig = await openpgp.sign({
      message: await openpgp.createMessage({ binary: data }),
      signingKeys: key,
      detached: true,
    });
    mirror.set('oldworm', 'Release', { status: 200, body: data });
    mirror.set('oldworm', 'Release.gpg', { status: 200, body: sig });
    const r = await checkSource(opts({ codename: 'oldworm', removeFromComponent: 'updates/' }));
    assert.equal(r.releaseUrl, `${mirror.url}dists/oldworm/Release`);
    assert.deepEqual(r.components, ['main', 'contrib']);
    await assert.rejects(
      checkSource(opts({ codename: 'oldworm', keys: [stranger.toPublic()] })),
      rejectsWith('SIGNATURE_INVALID'),
    );
  });

  it('says RELEASE_UNSIGNED for a Release without signature and an unsigned InRelease', async () => {
    mirror.set('nosig', 'Release', { status: 200, body: releaseText({ Codename: 'nosig' }) });
    await assert.rejects(checkSource(opts({ codename: 'nosig' })), rejectsWith('RELEASE_UNSIGNED', /Release\.gpg/));
    mirror.set('plain', 'InRelease', { status: 200, body: releaseText({ Codename: 'plain' }) });
    await assert.rejects(checkSource(opts({ codename: 'plain' })), rejectsWith('RELEASE_UNSIGNED'));
  });

  it('says RELEASE_NOT_FOUND, naming the URL, for a codename the archive lacks', async () => {
    await assert.rejects(
      checkSource(opts({ codename: 'nonesuch' })),
      rejectsWith('RELEASE_NOT_FOUND', /dists\/nonesuch\/InRelease answers 404/),
    );
  });

  it('says SIGNATURE_INVALID for a signature by another key, with the verifier’s reason', async () => {
    await serveSigned('strange', releaseText({ Codename: 'strange' }), stranger);
    await assert.rejects(checkSource(opts({ codename: 'strange' })), (err: unknown) => {
      rejectsWith('SIGNATURE_INVALID', /strange\/InRelease/)(err);
      assert.equal((err as ArchiveError).signatureCode, 'UNKNOWN_KEY');
      return true;
    });
  });

  it('says ORIGIN_MISMATCH, CODENAME_MISMATCH and IDENTIFIER_MISMATCH', async () => {
    await serveSigned('fakeworm', releaseText());
    await assert.rejects(checkSource(opts({ origin: 'Debian' })), rejectsWith('ORIGIN_MISMATCH', /"Fake".*"Debian"/));
    // a suite directory whose Codename differs: name the codename
    await serveSigned('stable', releaseText());
    await assert.rejects(
      checkSource(opts({ codename: 'stable' })),
      rejectsWith('CODENAME_MISMATCH', /that is its Suite/),
    );
    // ...unless extra identifiers say which Codename to expect (Ubuntu's <c>-security layout)
    const r = await checkSource(
      opts({ codename: 'stable', extraIdentifiers: { Codename: 'fakeworm', Suite: 'stable' } }),
    );
    assert.equal(r.codename, 'fakeworm');
    await assert.rejects(
      checkSource(opts({ extraIdentifiers: { label: 'Fake-Security' } })),
      rejectsWith('IDENTIFIER_MISMATCH', /label "Fake", expected "Fake-Security"/),
    );
    await assert.rejects(checkSource(opts({ extraIdentifiers: { Origin: 'x' } })), rejectsWith('IDENTIFIER_INVALID'));
  });

  it('says RELEASE_EXPIRED past Valid-Until, unless checkValidUntil is off', async () => {
    await serveSigned(
      'stale',
      releaseText({ Codename: 'stale', 'Valid-Until': new Date(Date.now() - DAY).toUTCString() }),
    );
    await assert.rejects(checkSource(opts({ codename: 'stale' })), rejectsWith('RELEASE_EXPIRED', /checkValidUntil/));
    const r = await checkSource(opts({ codename: 'stale', checkValidUntil: false }));
    assert.ok(r.validUntil! < new Date());
  });

  it('says RELEASE_MALFORMED for signed garbage, missing fields, bad dates and non-UTF-8', async () => {
    await serveSigned('garbage', 'this is not a release file\n');
    await assert.rejects(
      checkSource(opts({ codename: 'garbage' })),
      rejectsWith('RELEASE_MALFORMED', /garbage\/InRelease:1/),
    );
    await serveSigned('noarch', releaseText({ Codename: 'noarch', Architectures: undefined }));
    await assert.rejects(
      checkSource(opts({ codename: 'noarch' })),
      rejectsWith('RELEASE_MALFORMED', /no Architectures/),
    );
    await serveSigned('baddate', releaseText({ Codename: 'baddate', 'Valid-Until': 'tomorrow' }));
    await assert.rejects(checkSource(opts({ codename: 'baddate' })), rejectsWith('RELEASE_MALFORMED', /not a date/));
    await serveSigned('twice', `${releaseText({ Codename: 'twice' })}\nOrigin: Fake\n`);
    await assert.rejects(checkSource(opts({ codename: 'twice' })), rejectsWith('RELEASE_MALFORMED', /one paragraph/));
    mirror.set('latin1', 'InRelease', { status: 200, body: Uint8Array.from([0x4f, 0x3a, 0x20, 0xe9, 0x0a]) });
    await assert.rejects(checkSource(opts({ codename: 'latin1' })), rejectsWith('RELEASE_MALFORMED', /UTF-8/));
  });

  it('says ARCHIVE_UNREACHABLE for 5xx and for an archive that does not answer in time', async () => {
    mirror.set('broken', 'InRelease', { status: 503 });
    await assert.rejects(checkSource(opts({ codename: 'broken' })), rejectsWith('ARCHIVE_UNREACHABLE', /503/));
    mirror.set('slow', 'InRelease', 'hang');
    const started = Date.now();
    await assert.rejects(
      checkSource(opts({ codename: 'slow', timeoutMs: 300 })),
      rejectsWith('ARCHIVE_UNREACHABLE', /within 300 ms/),
    );
    assert.ok(Date.now() - started < 2000);
  });

  it('refuses bad archive URLs and codenames before any request', async () => {
    for (const archiveUrl of [
      'deb.debian.org/debian/',
      'http://deb.debian.org/debian',
      'http://x/debian//',
      'ftp://x/debian/',
    ]) {
      await assert.rejects(checkSource(opts({ archiveUrl })), rejectsWith('ARCHIVE_URL_INVALID'));
    }
    for (const codename of ['../../etc', 'a b', '', 'x/../../y']) {
      await assert.rejects(checkSource(opts({ codename })), rejectsWith('IDENTIFIER_INVALID'));
    }
  });

  it('pings: 4xx counts as up, 5xx and a dead port do not', async () => {
    const { ms } = await pingArchive(mirror.url);
    assert.ok(ms >= 0 && ms < 2000);
    mirror.routes.set('/fake/dists/', { status: 500 });
    await assert.rejects(pingArchive(mirror.url), rejectsWith('ARCHIVE_UNREACHABLE', /500/));
    mirror.routes.delete('/fake/dists/');
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      pingArchive(`http://127.0.0.1:${port}/debian/`),
      rejectsWith('ARCHIVE_UNREACHABLE', /ECONNREFUSED/),
    );
    await assert.rejects(
      pingArchive('http://127.0.0.1:1/debian/'),
      rejectsWith('ARCHIVE_UNREACHABLE', /port 1 \(a blocked port\)/),
    );
    mirror.routes.set('/fake/dists/', 'hang');
    await assert.rejects(
      pingArchive(mirror.url, { timeoutMs: 200 }),
      rejectsWith('ARCHIVE_UNREACHABLE', /within 200 ms/),
    );
    mirror.routes.delete('/fake/dists/');
  });
});

describe('DEBIAN_SETUP', () => {
  it('knows the codenames, archives, components and extra sources setup needs', () => {
    const debian = DEBIAN_SETUP.Debian;
    assert.deepEqual(
      debian.codenames.map((c) => c.codename),
      ['sid', 'trixie', 'bookworm', 'bullseye', 'buster'],
    );
    assert.deepEqual(
      DEBIAN_SETUP.Ubuntu.codenames.map((c) => c.codename),
      ['noble', 'jammy', 'focal'],
    );
    const bookworm = debian.codenames.find((c) => c.codename === 'bookworm')!;
    assert.ok(bookworm.components.includes('non-free-firmware'));
    assert.ok(!debian.codenames.find((c) => c.codename === 'bullseye')!.components.includes('non-free-firmware'));
    assert.deepEqual(
      bookworm.extraSources.map((s) => [s.codename, s.origin, s.priority]),
      [
        ['bookworm-security', 'Debian', 500],
        ['bookworm-backports', 'Debian Backports', 1],
        ['bookworm-backports-sloppy', 'Debian Backports', 1],
      ],
    );
    const buster = debian.codenames.find((c) => c.codename === 'buster')!;
    assert.equal(buster.extraSources[0]!.codename, 'buster/updates');
    assert.deepEqual(buster.extraSources[0]!.extraIdentifiers, { Codename: 'buster', Label: 'Debian-Security' });
    const noble = DEBIAN_SETUP.Ubuntu.codenames[0]!;
    assert.deepEqual(noble.extraSources[0]!.extraIdentifiers, { Codename: 'noble', Suite: 'noble-security' });
    for (const origin of Object.values(DEBIAN_SETUP)) {
      for (const url of [
        ...origin.archives,
        ...origin.codenames.flatMap((c) => c.extraSources.flatMap((s) => s.archives)),
      ]) {
        assert.match(url, /^http:\/\/[^/]+\/[a-z-]+\/$/);
      }
    }
  });
});

describe('checkSource against deb.debian.org', () => {
  let keys: openpgp.PublicKey[];
  before(async () => {
    keys = await loadKeyring(DEBIAN_KEYRING);
  });

  /** Checks Valid-Until, but if this mirror's copy has expired, says so and checks the rest. */
  async function checkLive(t: TestContext, o: Omit<CheckSourceOptions, 'keys'>) {
    try {
      return await checkSource({ keys, timeoutMs: 20_000, ...o });
    } catch (err) {
      if (!(err instanceof ArchiveError) || err.code !== 'RELEASE_EXPIRED') throw err;
      t.diagnostic(`stale mirror: ${err.message}`);
      return checkSource({ keys, timeoutMs: 20_000, ...o, checkValidUntil: false });
    }
  }

  it('pings the archive', async () => {
    const { ms } = await pingArchive(DEBIAN_ARCHIVE);
    assert.ok(ms < 10_000);
  });

  it('checks bookworm', async (t) => {
    const r = await checkLive(t, { archiveUrl: DEBIAN_ARCHIVE, codename: 'bookworm', origin: 'Debian' });
    assert.equal(r.codeversion, '12');
    assert.equal(r.codename, 'bookworm');
    assert.ok(r.components.includes('main') && r.components.includes('non-free-firmware'));
    assert.ok(r.architectures.includes('amd64'));
    assert.ok(keys.some((k) => k.getFingerprint().toUpperCase() === r.signer.fingerprint));
    t.diagnostic(`bookworm ${r.version}, fetched in ${r.fetchMs} ms, signed by ${r.signer.userId}`);
  });

  it('checks sid: no Version, codeversion ~SID', async (t) => {
    const r = await checkLive(t, { archiveUrl: DEBIAN_ARCHIVE, codename: 'sid', origin: 'Debian' });
    assert.equal(r.version, undefined);
    assert.equal(r.codeversion, '~SID');
  });

  it('checks bookworm-security on the security archive, without the updates/ prefix', async (t) => {
    const security = DEBIAN_SETUP.Debian.codenames.find((c) => c.codename === 'bookworm')!.extraSources[0]!;
    const r = await checkLive(t, {
      archiveUrl: DEBIAN_SECURITY_ARCHIVE,
      codename: security.codename,
      origin: security.origin,
      removeFromComponent: security.removeFromComponent,
    });
    assert.equal(r.codename, 'bookworm-security');
    assert.equal(r.origin, 'Debian');
    assert.ok(r.components.includes('main'));
    assert.equal(r.codeversion, '12');
  });

  it('says RELEASE_NOT_FOUND for bookworm-backports-sloppy, which this mirror does not have', async () => {
    await assert.rejects(
      checkSource({
        keys,
        archiveUrl: DEBIAN_ARCHIVE,
        codename: 'bookworm-backports-sloppy',
        origin: 'Debian Backports',
      }),
      rejectsWith('RELEASE_NOT_FOUND', /bookworm-backports-sloppy\/InRelease answers 404/),
    );
  });

  it('says ARCHIVE_UNREACHABLE quickly for a mirror nobody listens on', async () => {
    const started = Date.now();
    await assert.rejects(
      checkSource({ keys, archiveUrl: 'http://127.0.0.1:1/debian/', codename: 'bookworm', origin: 'Debian' }),
      rejectsWith('ARCHIVE_UNREACHABLE', /127\.0\.0\.1:1/),
    );
    assert.ok(Date.now() - started < 1000);
  });
});
