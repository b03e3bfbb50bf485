// External ports and the keyring package end to end, on a real daemon with a real chroot
// (PipelineFixture): `debyard port-ext` of a real .dsc from the Debian mirror (netbase, arch all,
// debhelper only), its signature checked against debian-keyring, and its bad inputs over GraphQL and
// the CLI; `debyard keyring-package --without-migration` (it stays in unstable), then on a clean chroot
// session: install it once from a bootstrap source, follow one of its .sources and `apt-get update` with
// nothing else set up; the console's keyring package card and external port form in Chromium; its
// rebuild after a new repository, migrated along unstable -> testing -> stable in both repositories.
// Snapshots: snapshots.test.ts.
//
// The `it`s run in order and share one daemon.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { schrootName } from '@debyard/server/dist/chroot/chroot-ops.js';
import * as openpgp from 'openpgp';
import { execa } from 'execa';
import type { Page } from 'playwright-core';
import { aptSessionWithSource } from '../support/apt.js';
import { ADMIN_PASSWORD, ConsoleBrowser, setPassword, tid } from '../support/browser.js';
import { eventually } from '../support/daemon.js';
import { DIST, PipelineFixture, V } from '../support/pipeline.js';

const NETBASE_DIR = 'http://deb.debian.org/debian/pool/main/n/netbase/';
/** The mirror keeps only current versions: the first of these it has is ported (native, one tarball). */
const NETBASE_VERSIONS = ['6.5', '6.4', '6.6', '6.7'];
const EXPERIMENTAL = 'bookworm-test-experimental';
const STABLE = 'bookworm-test-stable';
const TESTING = 'bookworm-test-testing';
const SETTLED = ['INSTALLED', 'FAILED', 'REJECTED'];
const PORT_FIELDS =
  'id state via source version distribution signedBy uploader reason changesUrl port { from fromVersion by }';

interface PortUpload {
  id: string;
  state: string;
  via: string;
  source: string | null;
  version: string | null;
  distribution: string | null;
  signedBy: string | null;
  uploader: string | null;
  reason: string | null;
  changesUrl: string;
  port: { from: string; fromVersion: string; by: string } | null;
}

describe('external ports and the keyring package', { concurrency: false }, () => {
  let f: PipelineFixture;
  let browser: ConsoleBrowser;
  let server: http.Server;
  /** Base URL of a local web server with .dsc files made bad in one way each. */
  let bad: string;
  let instanceKey: string;
  let keyring: Uint8Array;
  let NETBASE: string;
  let NETBASE_DSC: string;
  let NETBASE_TAR: string;
  /** `netbase_<version>.dsc` */
  let DSC_NAME: string;
  const served = new Map<string, Uint8Array | string>();

  const uploads = async (source: string) =>
    (
      await f.gql<{ uploads: { nodes: PortUpload[] } }>(
        `query($s: String) { uploads(source: $s, first: 100) { nodes { ${PORT_FIELDS} } } }`,
        { s: source },
      )
    ).uploads.nodes;
  const settledUpload = (source: string, match: (u: PortUpload) => boolean, timeoutMs = 300_000) =>
    eventually(async () => (await uploads(source)).find((u) => match(u) && SETTLED.includes(u.state)), timeoutMs);
  const versionIn = async (source: string, distribution: string) => {
    const r = await f.daemon.cli(['ls', source, '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    return (JSON.parse(r.stdout) as { distribution: string; version: string }[]).find(
      (v) => v.distribution === distribution,
    )?.version;
  };
  const incomingPortDir = () => fs.readdir(path.join(f.daemon.dataDir, 'incoming/port')).catch(() => [] as string[]);
  const chroot = () => schrootName(f.daemon.dataDir, 'bookworm-amd64');

  before(async () => {
    f = await PipelineFixture.start('keyring-ports');
    instanceKey = (await f.gql<{ archiveKey: { fingerprint: string } }>('{ archiveKey { fingerprint } }')).archiveKey
      .fingerprint;
    keyring = new Uint8Array(await (await fetch(`${f.daemon.httpUrl}/archive-keyring.gpg`)).arrayBuffer());

    // The real netbase source, and copies of it made bad: another tarball, a changed .dsc, a stranger's signature.
    let dsc = '';
    let tar = new Uint8Array();
    for (const v of NETBASE_VERSIONS) {
      const [d, t] = await Promise.all([
        fetch(`${NETBASE_DIR}netbase_${v}.dsc`),
        fetch(`${NETBASE_DIR}netbase_${v}.tar.xz`),
      ]);
      if (!d.ok || !t.ok) continue;
      [NETBASE, dsc, tar] = [v, await d.text(), new Uint8Array(await t.arrayBuffer())];
      break;
    }
    assert.ok(NETBASE, `none of netbase ${NETBASE_VERSIONS.join(', ')} is on the mirror`);
    DSC_NAME = `netbase_${NETBASE}.dsc`;
    NETBASE_DSC = `${NETBASE_DIR}${DSC_NAME}`;
    NETBASE_TAR = `netbase_${NETBASE}.tar.xz`;
    assert.match(dsc, /^Source: netbase$/m);
    const { privateKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'ed25519Legacy',
      userIDs: [{ name: 'Stranger', email: 'stranger@example.org' }],
      format: 'object',
    });
    const body = dsc.slice(dsc.indexOf('\n\n') + 2, dsc.indexOf('\n-----BEGIN PGP SIGNATURE-----'));
    const stranger = await openpgp.sign({
      message: await openpgp.createCleartextMessage({ text: body }),
      signingKeys: privateKey,
    });
    served.set(`/checksum/${DSC_NAME}`, dsc);
    served.set(`/checksum/${NETBASE_TAR}`, new Uint8Array([...tar.slice(0, -1), tar.at(-1)! ^ 1]));
    served.set(`/tampered/${DSC_NAME}`, dsc.replace("Maintainer: Marco d'Itri", "Maintainer: Marco d'Itry"));
    served.set(`/tampered/${NETBASE_TAR}`, tar);
    served.set(`/stranger/${DSC_NAME}`, stranger.replace(/\r\n/g, '\n'));
    served.set(`/stranger/${NETBASE_TAR}`, tar);
    server = http.createServer((req, res) => {
      const body = served.get(req.url ?? '');
      res.writeHead(body === undefined ? 404 : 200).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    bad = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    await setPassword(f.daemon, 'admin', ADMIN_PASSWORD);
    browser = await ConsoleBrowser.launch({
      baseURL: f.daemon.httpUrl,
      viewport: { width: 1280, height: 1000 },
      timeoutMs: 20_000,
      name: 'keyring-ports',
    });
  });

  afterEach((t) => browser?.afterEach(t));

  after(async () => {
    await browser?.close();
    server?.close();
    await f?.dispose();
  });

  it('port-ext: netbase from the Debian mirror, its signature checked with debian-keyring, is built and installed', async () => {
    const t0 = Date.now();
    const r = await f.daemon.cli(['port-ext', NETBASE_DSC, DIST, '--wait'], { timeoutMs: 300_000 });
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.ok(r.stdout.includes(`netbase ${NETBASE} from ${NETBASE_DSC}, signed by the instance key`), r.stdout);
    const [port] = await uploads('netbase');
    assert.ok(port);
    assert.equal(port.state, 'INSTALLED', port.reason ?? '');
    assert.equal(port.via, 'PORT');
    assert.equal(port.version, V(NETBASE), '<dsc version><default version>');
    assert.equal(port.signedBy, instanceKey);
    assert.deepEqual(port.port, { from: NETBASE_DSC, fromVersion: NETBASE, by: 'admin' });
    assert.equal(await versionIn('netbase', DIST), V(NETBASE));
    const changes = await (await fetch(`${f.daemon.httpUrl}${port.changesUrl}`)).text();
    // debchange wraps the line: the URL may start the next one.
    assert.match(changes, new RegExp(`\\* External port from:\\s+${NETBASE_DSC.replace(/[.]/g, '\\.')}\n`));
    assert.match(changes, /X-Debyard-Originally-Changed-By: Marco d'Itri <md@linux\.it>/);
    assert.deepEqual(await incomingPortDir(), [], 'nothing left in incoming/port');
    console.log(`# port-ext netbase to INSTALLED: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  it('port-ext refuses bad .dsc URLs and targets precisely, over GraphQL and the CLI, and uploads nothing', async () => {
    const before = (await uploads('netbase')).length;
    const refused = async (dscUrl: string, to: string[], code: string, message: RegExp, allow = false) => {
      const r = await f.daemon.gql(
        `mutation($u: String!, $to: [String!]!, $a: Boolean!) { portExternal(dscUrl: $u, to: $to, allowUnauthenticated: $a) { id } }`,
        { u: dscUrl, to, a: allow },
        f.token,
      );
      assert.equal(r.errors?.[0]?.extensions?.code, code, JSON.stringify(r.errors));
      assert.match(r.errors![0]!.message, message);
    };
    await refused(`${NETBASE_DIR}netbase_0.0.dsc`, [DIST], 'DSC_NOT_FOUND', /answered 404/);
    await refused(`${bad}/checksum/${DSC_NAME}`, [DIST], 'CHECKSUM_MISMATCH', /netbase_\S+\.tar\.xz .*expected sha256/);
    await refused(`${bad}/tampered/${DSC_NAME}`, [DIST], 'DSC_SIGNATURE', /--allow-unauthenticated/);
    await refused(
      `${bad}/stranger/${DSC_NAME}`,
      [DIST],
      'DSC_SIGNATURE',
      /signed by [0-9A-F]{40}, a key in none of \/usr\/share\/keyrings\/debian-keyring\.gpg/,
    );
    // Unauthenticated, the stranger's copy passes the signature step and meets the version check.
    await refused(`${bad}/stranger/${DSC_NAME}`, [DIST], 'VERSION_EXISTS', /~test12\+1 is already in/, true);
    await refused(NETBASE_DSC, [STABLE], 'SUITE_NOT_UPLOADABLE', /takes no uploads/);
    await refused(NETBASE_DSC, ['bookworm-nosuch-unstable'], 'DISTRIBUTION_UNKNOWN', /no repository "nosuch"/);
    await refused('file:///etc/passwd.dsc', [DIST], 'BAD_USER_INPUT', /file: URLs are not fetched/);
    await refused('/etc/passwd.dsc', [DIST], 'BAD_USER_INPUT', /not a URL/);
    const anonymous = await f.daemon.gql(`mutation { portExternal(dscUrl: "${NETBASE_DSC}", to: ["${DIST}"]) { id } }`);
    assert.equal(anonymous.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');

    const cli = await f.daemon.cli(['port-ext', `${bad}/tampered/${DSC_NAME}`, DIST]);
    assert.equal(cli.exitCode, 1);
    assert.match(cli.stderr, /netbase_\S+\.dsc: no valid signature/);
    const stable = await f.daemon.cli(['port-ext', NETBASE_DSC, STABLE]);
    assert.equal(stable.exitCode, 1);
    assert.match(stable.stderr, /bookworm-test-stable takes no uploads/);
    assert.equal((await f.daemon.cli(['port-ext', NETBASE_DSC])).exitCode, 2, 'no distribution');
    assert.equal((await f.daemon.cli(['port-ext', NETBASE_DSC, DIST], { token: null })).exitCode, 4);

    assert.equal((await uploads('netbase')).length, before, 'nothing was uploaded');
    assert.deepEqual(await incomingPortDir(), [], 'nothing left in incoming/port');
  });

  it('keyring-package --without-migration builds <identity>-archive-keyring into unstable only; a clean chroot installs it and then follows one of its .sources with nothing else', async () => {
    const t0 = Date.now();
    const name = `${f.identity}-archive-keyring`;
    const r = await f.daemon.cli(['keyring-package', '--without-migration', '--wait'], { timeoutMs: 300_000 });
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const row = new RegExp(`^${DIST}\\s+(\\d{14}~test12\\+1)\\s+uploaded\\s+(\\d+)$`, 'm').exec(r.stdout);
    assert.ok(row, r.stdout);
    const [, version] = row;
    const [upload] = await uploads(name);
    assert.equal(upload?.state, 'INSTALLED', upload?.reason ?? '');
    assert.equal(upload.signedBy, instanceKey);
    assert.equal(await versionIn(name, DIST), version);
    // Without migration no job was queued with INSTALLED: it stays in unstable.
    const installed = (
      await f.gql<{ events: { type: string; payload: { upload?: number; migrateAlong?: boolean } }[] }>(
        '{ events(limit: 200) { type payload } }',
      )
    ).events.find((e) => e.type === 'INSTALLED' && String(e.payload.upload) === upload.id);
    assert.equal(installed?.payload.migrateAlong, false, JSON.stringify(installed));
    assert.deepEqual([await versionIn(name, TESTING), await versionIn(name, STABLE)], [undefined, undefined]);

    // Nothing changed: asking again uploads nothing.
    const again = await f.daemon.cli(['keyring-package', '--json']);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.deepEqual(
      (JSON.parse(again.stdout) as { distribution: string; version: string; state: string }[]).map((t) => [
        t.distribution,
        t.version,
        t.state,
      ]),
      [[DIST, version, 'UP_TO_DATE']],
    );

    // Only distributions whose suite builds it; only admins.
    const stable = await f.daemon.gql(
      `mutation { buildKeyringPackages(distributions: ["${STABLE}"]) { distribution } }`,
      {},
      f.token,
    );
    assert.equal(stable.errors?.[0]?.extensions?.code, 'DISTRIBUTION_UNKNOWN', JSON.stringify(stable.errors));
    assert.match(
      stable.errors![0]!.message,
      new RegExp(`${STABLE} does not build the keyring package: those that do are ${DIST}`),
    );
    const cliStable = await f.daemon.cli(['keyring-package', '-d', STABLE]);
    assert.equal(cliStable.exitCode, 1);
    assert.equal((await f.daemon.cli(['keyring-package'], { token: null })).exitCode, 4);
    assert.equal((await uploads(name)).length, 1, 'nothing more was uploaded');

    // A clean chroot session: the package comes once from a bootstrap source (trusted=yes), which then
    // goes; one of the package's .sources is copied into place, and apt-get update checks the signature
    // with the key the package installed, warnings counting as errors.
    const sourcesFile = `/usr/share/${name}/sources/bookworm/test_unstable.sources`;
    const bootstrap = {
      line: () => `deb [trusted=yes] ${f.daemon.httpUrl}/repositories/test/ ${DIST} main`,
      name: 'bootstrap',
    };
    const session = await aptSessionWithSource(chroot(), bootstrap, [
      `apt-get -q -y --no-install-recommends install ${name}`,
      'rm /etc/apt/sources.list.d/bootstrap.list',
      'rm -rf /var/lib/apt/lists/*',
      `cat ${sourcesFile}`,
      `cp ${sourcesFile} /etc/apt/sources.list.d/`,
      'echo "=== following the package\'s source"',
      'apt-get -q -o APT::Update::Error-Mode=any update',
      `apt-cache policy ${name} netbase`,
      // Debian's own netbase has the higher pin (debyard's suites are NotAutomatic): ask for the port.
      `apt-get -q -y --no-install-recommends install netbase=${V(NETBASE)}`,
      `sha256sum /usr/share/keyrings/${name}.gpg`,
      `ls /etc/dput.d/profiles/ /usr/share/${name}/`,
    ]);
    assert.equal(session.exitCode, 0, session.output);
    assert.match(session.output, new RegExp(`^Signed-By: /usr/share/keyrings/${name}\\.gpg$`, 'm'));
    assert.match(session.output, new RegExp(`^URIs: ${f.daemon.httpUrl}/repositories/test/$`, 'm'));
    assert.match(
      session.output,
      new RegExp(`${f.daemon.httpUrl.replace(/[.]/g, '\\.')}/repositories/test .*${DIST}/main`),
    );
    const following = session.output.split("=== following the package's source")[1] ?? '';
    assert.match(
      following,
      new RegExp(`Get:\\d+ ${f.daemon.httpUrl.replace(/[.]/g, '\\.')}/repositories/test ${DIST} InRelease`),
    );
    assert.doesNotMatch(following, /NO_PUBKEY|not signed|GPG error|^W: /m);
    assert.ok(session.output.includes(`Setting up netbase (${V(NETBASE)})`), session.output);
    const keyHash = createHash('sha256').update(keyring).digest('hex');
    assert.match(session.output, new RegExp(`^${keyHash}  /usr/share/keyrings/${name}\\.gpg$`, 'm'));
    assert.match(session.output, new RegExp(`debyard-${f.identity}\\.json`));
    assert.match(session.output, /README/);
    console.log(`# keyring package built, installed and followed: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  it('the console: the keyring package (up to date) and an external port from the packages page', async () => {
    const page: Page = await browser.signedInPage('/repositories', 'admin', ADMIN_PASSWORD);
    await page.waitForURL(/\/repositories$/);
    // The keyring package: where it goes; building again says it is up to date.
    const card = page.locator(tid('keyring-package'));
    await card
      .locator(tid('keyring-package-name'))
      .filter({ hasText: `${f.identity}-archive-keyring` })
      .waitFor();
    assert.match(await card.locator(tid('keyring-package-distributions')).innerText(), new RegExp(DIST));
    await card.locator(tid('keyring-package-build')).click();
    assert.match(
      await card.locator(tid('keyring-package-confirmation')).innerText(),
      new RegExp(`uploads it to ${DIST} wherever its version is not there yet`),
    );
    // The migration choice goes along with the build (nothing is uploaded here: it is up to date).
    await card.locator(tid('keyring-package-without-migration')).check();
    await card.locator(tid('keyring-package-confirm')).click();
    await card
      .locator(`${tid('keyring-package-result')}[data-distribution="${DIST}"][data-state="UP_TO_DATE"]`)
      .waitFor();

    // An external port from the packages page: a missing .dsc is refused, netbase goes to experimental.
    await page.goto('/packages');
    await page.locator(tid('port-ext-open')).click();
    const form = page.locator(tid('port-ext-form'));
    await form.locator(tid('port-ext-url')).fill(`${NETBASE_DIR}netbase_0.0.dsc`);
    await form.locator(`${tid('port-ext-target')}[data-distribution="${EXPERIMENTAL}"] input`).check();
    await form.locator(tid('port-ext-review')).click();
    assert.match(
      await form.locator(tid('port-ext-confirmation')).innerText(),
      /checks its signature against the Debian keyrings/,
    );
    await form.locator(tid('port-ext-confirm')).click();
    await form.locator(`${tid('port-ext-error')}[data-code="DSC_NOT_FOUND"]`).waitFor();
    await form.locator(tid('port-ext-url')).fill(NETBASE_DSC);
    await form.locator(tid('port-ext-review')).click();
    await form.locator(tid('port-ext-confirm')).click();
    const link = form.locator(tid('port-ext-upload-link'));
    await link.waitFor({ timeout: 60_000 });
    const id = await link.getAttribute('data-upload-id');
    const port = await settledUpload('netbase', (u) => u.id === id);
    assert.equal(port.state, 'INSTALLED', port.reason ?? '');
    assert.equal(port.version, `${NETBASE}~test12+0`, 'experimental’s default version');
    assert.equal(port.distribution, EXPERIMENTAL);
  });

  it('a new repository rebuilds the keyring package by itself: a new version in every keyring suite, holding its sources, migrated along to testing and stable', async () => {
    const t0 = Date.now();
    const name = `${f.identity}-archive-keyring`;
    const OTHER = 'bookworm-other-unstable';
    const before = await versionIn(name, DIST);
    assert.ok(before);
    for (const args of [
      ['config', 'repository', 'create', 'other', 'distributions=bookworm'],
      ['config', 'repository', 'pca', 'other'],
    ]) {
      const r = await f.daemon.cli(args, { timeoutMs: 120_000 });
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    }
    // The same stamp everywhere, each with its repository's default version (~test12+1, ~other12+1).
    const [version, otherVersion] = await eventually(async () => {
      const [test, other] = [await versionIn(name, DIST), await versionIn(name, OTHER)];
      const stamp = test?.split('~')[0];
      return test !== before && other === `${stamp}~other12+1` ? [test!, other] : undefined;
    }, 240_000);
    assert.ok(version > before!, `${version} after ${before}`);
    const made = (await uploads(name)).filter((u) => u.version === version || u.distribution === OTHER);
    assert.equal(made.length, 2);
    assert.ok(made.every((u) => u.port?.by === 'configuration change' && u.signedBy === instanceKey));
    // Once installed, each is migrated along its chain: unstable -> testing -> stable.
    for (const [repo, v] of [
      ['test', version],
      ['other', otherVersion],
    ])
      await eventually(async () => {
        const there = await Promise.all(
          ['testing', 'stable'].map((suite) => versionIn(name, `bookworm-${repo}-${suite}`)),
        );
        return there.every((t) => t === v) || undefined;
      }, 120_000);
    const migrated = (
      await f.gql<{ events: { type: string; payload: { source?: string; distribution?: string } }[] }>(
        '{ events(limit: 200) { type payload } }',
      )
    ).events.filter((e) => e.type === 'MIGRATED' && e.payload.source === name);
    assert.equal(migrated.length, 4, JSON.stringify(migrated));

    const deb = await fetch(
      `${f.daemon.httpUrl}/repositories/other/pool/main/${name[0]}/${name}/${name}_${otherVersion}_all.deb`,
    );
    assert.equal(deb.status, 200);
    const file = path.join(f.work, 'keyring.deb');
    await fs.writeFile(file, new Uint8Array(await deb.arrayBuffer()));
    const listing = (await execa('dpkg-deb', ['-c', file])).stdout;
    for (const sources of ['bookworm/other_unstable.sources', 'bookworm/test_unstable.sources'])
      assert.ok(listing.includes(`./usr/share/${name}/sources/${sources}`), listing);
    console.log(`# keyring package rebuilt after a new repository: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
});
