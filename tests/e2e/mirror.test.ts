// Publishing elsewhere, end to end on a real daemon with a real chroot: three packages installed, then
// `debyard mirror` of unstable (and its first rollback) into a directory served by a tiny static HTTP
// server, from which apt installs with the signature checked; a second mirror into the same directory;
// the refusals of mirrorRepository and the CLI; and the console's mirror form in Chromium.
//
// The `it`s run in order and share one daemon.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { schrootName } from '@debyard/server/dist/chroot/chroot-ops.js';
import { aptInstallInChroot, aptUpdate } from '../support/apt.js';
import { ADMIN_PASSWORD, artifact, ConsoleBrowser, setPassword, tid } from '../support/browser.js';
import { DIST, PipelineFixture, V } from '../support/pipeline.js';
import { serveDirectory, signedRelease } from '../support/publish.js';

const ROLLBACK0 = `${DIST}-rollback0`;

describe('mirrors: a signed copy of a repository for any web space', { concurrency: false }, () => {
  let f: PipelineFixture;
  let keyring: Uint8Array;
  let keyringFile: string;
  let browser: ConsoleBrowser | undefined;
  const repoDir = () => path.join(f.daemon.dataDir, 'repositories/test');

  before(async () => {
    f = await PipelineFixture.start('mirror');
    keyring = new Uint8Array(await (await fetch(`${f.daemon.httpUrl}/archive-keyring.gpg`)).arrayBuffer());
    keyringFile = path.join(f.work, 'archive-keyring.gpg');
    await fs.writeFile(keyringFile, keyring);
    // hello-c twice, so that unstable's rollback0 holds the first; then the others.
    for (const [name, version] of [
      ['hello-c', V('1.0')],
      ['hello-c', V('1.1')],
      ['hello-all', V('1.0')],
      ['uses-hello', V('1.0')],
    ] as const) {
      await f.upload(name, version);
      const u = await f.settled(name, version);
      assert.equal(u.state, 'INSTALLED', `${name} ${version}: ${u.reason ?? ''}`);
    }
  });
  afterEach((t) => browser?.afterEach(t));
  after(async () => {
    await browser?.close();
    await f?.dispose();
  });

  it('mirrors unstable for any web space: apt installs from the copy, signature checked; a second mirror updates it', async () => {
    const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-mirror-e2e-'));
    await fs.chmod(parent, 0o777); // the daemon's user writes the copy
    const dir = path.join(parent, 'www');
    try {
      const r = await f.daemon.cli(
        [
          'mirror',
          'test',
          dir,
          '--codename',
          'bookworm',
          '--suite',
          'unstable',
          '--arch',
          'amd64',
          '--rollbacks',
          '1',
          '--json',
        ],
        { timeoutMs: 120_000 },
      );
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      const result = JSON.parse(r.stdout) as { distributions: string[]; poolFiles: number; resigned: string[] };
      assert.deepEqual(result.distributions, [DIST, ROLLBACK0]);
      assert.deepEqual(result.resigned, []);
      assert.ok(result.poolFiles >= 6, `${result.poolFiles} pool files`);
      assert.deepEqual((await fs.readdir(dir)).sort(), ['.debyard-mirror', 'dists', 'pool']);
      const human = await f.daemon.cli(['mirror', 'test', dir, '--suite', 'unstable', '--rollbacks', '1']);
      assert.equal(human.exitCode, 0, human.stderr);
      assert.match(human.stdout, new RegExp(`mirrored test into ${dir} in [0-9.]+ s: 2 distributions`));

      const served = await serveDirectory(dir);
      try {
        const release = await signedRelease(`${served.url}/`, DIST, keyringFile);
        assert.equal(release, await fs.readFile(path.join(repoDir(), 'dists', DIST, 'Release'), 'utf8'));
        const apt = await aptInstallInChroot(schrootName(f.daemon.dataDir, 'bookworm-amd64'), {
          line: (k) => `deb [signed-by=${k}] ${served.url}/ ${DIST} main`,
          keyring,
          packages: ['hello-all', 'hello-c', 'uses-hello'],
          check: 'hello-c && ls /usr/share/uses-hello/',
        });
        assert.equal(apt.exitCode, 0, apt.output);
        assert.match(apt.output, new RegExp(`${served.url} ${DIST}/main`));
        assert.ok(
          served.requests.some((p) => p.includes('/by-hash/SHA256/')),
          'apt fetched indices by hash',
        );
        const sources = await aptUpdate(
          (k) =>
            `deb-src [signed-by=${k}] ${served.url}/ ${DIST} main\ndeb [signed-by=${k}] ${served.url}/ ${ROLLBACK0} main\n`,
          keyring,
        );
        assert.equal(sources.exitCode, 0, sources.output);
      } finally {
        await served.close();
      }

      // Mirroring less into the same directory: the rollback goes, and so do pool files only it needed.
      const again = await f.daemon.cli(['mirror', 'test', dir, '--suite', 'unstable', '--json']);
      assert.equal(again.exitCode, 0, again.stderr);
      assert.deepEqual(await fs.readdir(path.join(dir, 'dists')), [DIST]);
    } finally {
      await fs.rm(parent, { recursive: true, force: true });
    }
  });

  it('refuses a mirror it cannot make, precisely, and writes nothing', async () => {
    const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-mirror-refused-'));
    await fs.chmod(parent, 0o777);
    try {
      await fs.writeFile(path.join(parent, 'precious.txt'), 'mine');
      const mirror = (vars: Record<string, unknown>, token?: string) =>
        f.daemon.gql(
          `mutation($repository: String!, $directory: String!, $codenames: [String!], $suites: [String!], $architectures: [String!]) {
            mirrorRepository(repository: $repository, directory: $directory, codenames: $codenames, suites: $suites, architectures: $architectures) { directory }
          }`,
          { repository: 'test', directory: path.join(parent, 'new'), ...vars },
          token,
        );
      const refused = async (vars: Record<string, unknown>, code: string, message: RegExp, field?: string) => {
        const r = await mirror(vars, f.token);
        const err = r.errors?.[0] as { message: string; extensions?: { code?: string; field?: string } } | undefined;
        assert.equal(err?.extensions?.code, code, JSON.stringify(r));
        assert.match(err!.message, message);
        if (field) assert.equal(err!.extensions?.field, field);
      };
      await refused({ repository: 'nope' }, 'NOT_FOUND', /there is no repository "nope"/);
      await refused(
        { codenames: ['trixie'] },
        'UNKNOWN_DISTRIBUTION',
        /"trixie" is not one of the repository's codenames: bookworm/,
        'codenames',
      );
      await refused(
        { suites: ['sid'] },
        'BAD_USER_INPUT',
        /"sid" is not one of the repository's suites: .*unstable/,
        'suites',
      );
      await refused(
        { architectures: ['i386'] },
        'UNKNOWN_ARCHITECTURE',
        /"i386" is not one of the repository's architectures: amd64/,
        'architectures',
      );
      await refused({ directory: 'relative/www' }, 'BAD_USER_INPUT', /not an absolute path/, 'directory');
      await refused(
        { directory: path.join(f.daemon.dataDir, 'www') },
        'BAD_USER_INPUT',
        /inside the daemon's data directory/,
        'directory',
      );
      await refused(
        { directory: parent },
        'MIRROR_DIRECTORY_IN_USE',
        /neither empty nor an earlier mirror/,
        'directory',
      );
      const anonymous = await mirror({});
      assert.equal(anonymous.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
      assert.deepEqual(await fs.readdir(parent), ['precious.txt']);

      const cli = await f.daemon.cli(['mirror', 'test', parent]);
      assert.equal(cli.exitCode, 1);
      assert.match(cli.stderr, /neither empty nor an earlier mirror/);
    } finally {
      await fs.rm(parent, { recursive: true, force: true });
    }
  });

  it('mirrors from the console: an admin reviews exactly what will be written, refusals are shown, the copy is made', async () => {
    await setPassword(f.daemon, 'admin', ADMIN_PASSWORD);
    browser = await ConsoleBrowser.launch({
      baseURL: f.daemon.httpUrl,
      viewport: { width: 1280, height: 900 },
      timeoutMs: 20_000,
      name: 'publish',
    });
    const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-mirror-console-'));
    await fs.chmod(parent, 0o777);
    await fs.writeFile(path.join(parent, 'precious.txt'), 'mine');
    try {
      const page = await browser.signedInPage('/repositories', 'admin', ADMIN_PASSWORD);
      const card = page.locator(`${tid('repository-card')}[data-repository="test"]`);
      await card.locator(tid('repository-mirror-open')).click();
      const form = card.locator(tid('repository-mirror-form'));
      await form.waitFor();
      assert.equal(await card.locator(tid('repository-mirror-open')).getAttribute('aria-expanded'), 'true');
      // One codename: nothing to choose.
      assert.equal(await form.locator(tid('repository-mirror-codename')).count(), 0);

      // A relative path is refused before the daemon is asked.
      await form.locator(tid('repository-mirror-directory')).fill('www');
      await form.locator(tid('repository-mirror-review')).click();
      const error = form.locator(tid('repository-mirror-error'));
      await error.waitFor();
      assert.equal(await error.getAttribute('data-field'), 'directory');

      // A directory with something else in it: the daemon refuses, the page says why, nothing is written.
      await form.locator(tid('repository-mirror-directory')).fill(parent);
      await form.locator(tid('repository-mirror-review')).click();
      await form.locator(tid('repository-mirror-confirmation')).waitFor();
      await form.locator(tid('repository-mirror-confirm')).click();
      await form.locator(`${tid('repository-mirror-error')}[data-code="MIRROR_DIRECTORY_IN_USE"]`).waitFor();
      assert.match((await error.textContent()) ?? '', /neither empty nor an earlier mirror/);
      assert.deepEqual(await fs.readdir(parent), ['precious.txt']);

      await form.locator(tid('repository-mirror-back')).click();
      const dir = path.join(parent, 'www');
      await form.locator(tid('repository-mirror-directory')).fill(dir);
      await form.locator(tid('repository-mirror-suites')).fill('unstable');
      await form.locator(tid('repository-mirror-review')).click();
      const confirmation = form.locator(tid('repository-mirror-confirmation'));
      await confirmation.waitFor();
      const said = (await confirmation.textContent()) ?? '';
      for (const part of [
        dir,
        'codenames: all',
        'suites: unstable',
        'architectures: all, and the sources',
        'no rollback',
      ])
        assert.ok(said.includes(part), `the confirmation says ${part}: ${said}`);
      await page.screenshot({ path: artifact('publish-mirror-confirmation.png'), fullPage: true });
      await form.locator(tid('repository-mirror-confirm')).click();
      await form.locator(tid('repository-mirror-result')).waitFor();
      assert.deepEqual(
        await form
          .locator(tid('repository-mirror-result-distribution'))
          .evaluateAll((els) => els.map((e) => e.getAttribute('data-distribution'))),
        [DIST],
      );
      await fs.access(path.join(dir, 'dists', DIST, 'InRelease'));
      await page.screenshot({ path: artifact('publish-mirror-result.png'), fullPage: true });
      await form.locator(tid('repository-mirror-close')).click();
      await form.waitFor({ state: 'detached' });

      // Anonymous visitors get no mirror button.
      const anon = await (await browser.newContext()).newPage();
      await anon.goto('/repositories');
      await anon.locator(tid('repository-sources')).waitFor();
      assert.equal(await anon.locator(tid('repository-mirror-open')).count(), 0);
    } finally {
      await fs.rm(parent, { recursive: true, force: true });
    }
  });
});
