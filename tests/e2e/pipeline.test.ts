import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { schrootName } from '@debyard/server/dist/chroot/chroot-ops.js';
import { execa } from 'execa';
import { aptInstallInChroot } from '../support/apt.js';
import { launchChromium } from '../support/browser.js';
import { checkTrackerPage, checkUploadPage } from '../support/console-uploads.js';
import { eventually } from '../support/daemon.js';
import { DIST, literal, PipelineFixture, V } from '../support/pipeline.js';
import { generateUploaderKey } from '../support/uploads.js';

/**
 * The whole pipeline with stock tools: `dput` (with the section `debyard dput-config` prints) sends
 * signed source uploads over FTP; they are checked, built in a real chroot, installed with reprepro, and
 * `apt-get install` in a chroot session gets them from /repositories/test/ with the signature checked.
 */

describe('uploads: dput in, apt out', { concurrency: false }, () => {
  let f: PipelineFixture;
  before(async () => {
    f = await PipelineFixture.start('pipeline', { extraSources: true });
  });
  after(async () => {
    await f?.dispose();
  });

  it('installs signed arch:any and arch:all packages and one that build-depends on the first; apt installs them, signature checked', async () => {
    const t0 = Date.now();
    await f.upload('hello-c', V('1.0'));
    await f.upload('hello-all', V('1.0'));
    const c = await f.settled('hello-c', V('1.0'));
    assert.equal(c.state, 'INSTALLED', c.reason ?? '');
    assert.equal(c.signedBy, f.key.fingerprint);
    assert.match(c.uploader ?? '', /admin|Pipeline Tester/);
    const sbuild = c.builds.reduce((s, b) => s + (b.sbuildSeconds ?? 0), 0);
    console.log(
      `# hello-c: dput to INSTALLED ${((Date.parse(c.finishedAt!) - Date.parse(c.receivedAt)) / 1000).toFixed(1)} s (sbuild ${sbuild.toFixed(1)} s); wall ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    const all = await f.settled('hello-all', V('1.0'));
    assert.equal(all.state, 'INSTALLED', all.reason ?? '');

    await f.upload('uses-hello', V('1.0'));
    const uses = await f.settled('uses-hello', V('1.0'));
    assert.equal(uses.state, 'INSTALLED', uses.reason ?? '');

    const keyring = new Uint8Array(await (await fetch(`${f.daemon.httpUrl}/archive-keyring.gpg`)).arrayBuffer());
    const apt = await aptInstallInChroot(schrootName(f.daemon.dataDir, 'bookworm-amd64'), {
      line: (k) => `deb [signed-by=${k}] ${f.daemon.httpUrl}/repositories/test/ ${DIST} main`,
      keyring,
      packages: ['hello-c', 'hello-all', 'uses-hello'],
      check: 'hello-c && cat /usr/share/uses-hello/greeting-from-hello-c.txt',
    });
    assert.equal(apt.exitCode, 0, apt.output);
    assert.match(apt.output, new RegExp(`${DIST}/main`));
    const greeting = apt.output.trim().split('\n').at(-1)!;
    assert.ok(greeting.length > 0 && apt.output.split(greeting).length >= 3, 'uses-hello recorded what hello-c prints');

    // Another key in Signed-By: apt refuses the repository.
    const other = await generateUploaderKey({ name: 'Someone Else' });
    try {
      const wrong = await aptInstallInChroot(schrootName(f.daemon.dataDir, 'bookworm-amd64'), {
        line: (k) => `deb [signed-by=${k}] ${f.daemon.httpUrl}/repositories/test/ ${DIST} main`,
        keyring: new Uint8Array(
          (await execa('gpg', ['--homedir', other.gnupgHome, '--export', other.fingerprint], { encoding: 'buffer' }))
            .stdout,
        ),
        packages: ['hello-c'],
      });
      assert.notEqual(wrong.exitCode, 0);
      assert.match(wrong.output, /NO_PUBKEY|not signed/);
    } finally {
      await other.dispose();
    }

    // The events tell the story, with who uploaded.
    const { events } = await f.gql<{ events: { type: string; payload: Record<string, unknown> }[] }>(
      '{ events(limit: 200) { type payload } }',
    );
    const mine = events.filter((e) => e.payload.source === 'hello-c').map((e) => e.type);
    for (const type of ['PACKAGING', 'BUILD_STARTED', 'BUILD_FINISHED', 'INSTALLED'])
      assert.ok(mine.includes(type), type);
  });

  it('fails a package that fails to build and one that fails lintian (errfail), with the reason; the repository keeps neither', async () => {
    await f.upload('fail-pkg', V('1.0'));
    await f.upload('lintian-err', V('1.0'));
    const fail = await f.settled('fail-pkg', V('1.0'));
    assert.equal(fail.state, 'FAILED');
    assert.match(fail.reason ?? '', /amd64 failed .*build/);
    const lint = await f.settled('lintian-err', V('1.0'));
    assert.equal(lint.state, 'FAILED');
    assert.match(lint.reason ?? '', /lintian/);
    const packages = await (
      await fetch(`${f.daemon.httpUrl}/repositories/test/dists/${DIST}/main/binary-amd64/Packages`)
    ).text();
    assert.match(packages, /^Package: hello-c$/m);
    assert.doesNotMatch(packages, /fail-pkg|lintian-err/);
  });

  it('rejects a version that breaks the suite’s rule and one already installed, precisely, and stays up', async () => {
    await f.upload('hello-all', '2.0');
    const rule = await eventually(async () =>
      (await f.uploadsOf('hello-all')).find((u) => u.version === '2.0' && u.state === 'REJECTED'),
    );
    assert.equal(rule.rejectCode, 'VERSION_RULE');
    await f.upload('hello-c', V('1.0'), { changesExtra: ['Again.'] });
    const again = await eventually(async () => (await f.uploadsOf('hello-c')).find((u) => u.state === 'REJECTED'));
    assert.equal(again.rejectCode, 'VERSION_EXISTS');
    assert.match(again.reason ?? '', /raise the version/);
    await f.upload('hello-c', '0.9~test12+1');
    const lower = await eventually(async () =>
      (await f.uploadsOf('hello-c')).find((u) => u.version === '0.9~test12+1' && u.state === 'REJECTED'),
    );
    assert.equal(lower.rejectCode, 'VERSION_LOWER');
    assert.match(lower.reason ?? '', literal(V('1.0')));
    assert.equal((await f.daemon.cli(['status'])).exitCode, 0);
  });

  it('two uploads of one source version at once (FTP sessions with the same file names): exactly one wins', async () => {
    const a = await f.make('hello-all', V('1.0', 2), { changesExtra: ['One.'] });
    const b = await f.make('hello-all', V('1.0', 2), { changesExtra: ['Two.'] });
    await Promise.all([f.dput(a.changes), f.dput(b.changes)]);
    const both = await eventually(async () => {
      const rows = (await f.uploadsOf('hello-all')).filter((u) => u.version === V('1.0', 2));
      return rows.length === 2 && rows.every((u) => ['INSTALLED', 'FAILED', 'REJECTED'].includes(u.state))
        ? rows
        : undefined;
    }, 300_000);
    assert.deepEqual(both.map((u) => u.state).sort(), ['INSTALLED', 'REJECTED']);
    assert.equal(both.find((u) => u.state === 'REJECTED')!.rejectCode, 'VERSION_EXISTS');
  });

  it('takes an orig tarball from the pool, and refuses a different one under the same name, also from a rival in flight', async () => {
    // hello-all is a native package at heart: lintian frowns at it as a quilt one.
    const lax = ['MINI_BUILDD_OPTION: lintian-mode=ignore'];
    const first = await f.upload('hello-all', '3.0-1~test12+1', { include: 'orig', changesExtra: lax });
    const installed = await f.settled('hello-all', '3.0-1~test12+1');
    assert.equal(installed.state, 'INSTALLED', installed.reason ?? '');

    // The same upstream tree, packed again with other timestamps: same name, other bytes.
    const origName = 'hello-all_3.0.orig.tar.gz';
    const repack = await fs.mkdtemp(path.join(f.work, 'repack-'));
    await execa('tar', ['-xzf', path.join(first.dir, origName)], { cwd: repack });
    const other = path.join(repack, origName);
    await execa('tar', ['--mtime=@86400', '--owner=0', '--group=0', '-czf', other, 'hello-all-3.0'], { cwd: repack });
    await f.upload('hello-all', '3.0-1~test12+2', { include: 'orig', orig: other });
    const clash = await f.settled('hello-all', '3.0-1~test12+2', 30_000);
    assert.equal(clash.state, 'REJECTED');
    assert.equal(clash.rejectCode, 'CHECKSUM_MISMATCH');
    assert.match(clash.reason ?? '', new RegExp(`${origName.replace(/\./g, '\\.')}.*pool`));

    // Without the orig (dpkg-genchanges -sd), the pool's copy is used.
    await f.upload('hello-all', '3.0-1~test12+3', { include: 'no-orig', changesExtra: lax });
    const reused = await f.settled('hello-all', '3.0-1~test12+3');
    assert.equal(reused.state, 'INSTALLED', reused.reason ?? '');

    // Two suites at once, each with its own hello-all_4.0.orig.tar.gz: the pool takes one of them.
    const unstable = await f.make('hello-all', '4.0-1~test12+1', { changesExtra: lax });
    const newOrig = path.join(unstable.dir, 'hello-all_4.0.orig.tar.gz');
    const repacked = path.join(repack, 'hello-all_4.0.orig.tar.gz');
    await execa('tar', ['-xzf', newOrig], { cwd: repack });
    await execa('tar', ['--mtime=@86400', '--owner=0', '--group=0', '-czf', repacked, 'hello-all-4.0'], {
      cwd: repack,
    });
    const experimental = await f.make('hello-all', '4.0-1~test12+0', {
      distribution: 'bookworm-test-experimental',
      orig: repacked,
      changesExtra: lax,
    });
    await Promise.all([f.dput(unstable.changes), f.dput(experimental.changes)]);
    const pair = [await f.settled('hello-all', '4.0-1~test12+1'), await f.settled('hello-all', '4.0-1~test12+0')];
    assert.deepEqual(pair.map((u) => u.state).sort(), ['INSTALLED', 'REJECTED'], JSON.stringify(pair));
    const loser = pair.find((u) => u.state === 'REJECTED')!;
    assert.equal(loser.rejectCode, 'CHECKSUM_MISMATCH');
    assert.match(loser.reason ?? '', /hello-all_4\.0\.orig\.tar\.gz differs/);
  });

  it('shows the real uploads in the console: the failed one with its reason, the tracker with the installed versions', async () => {
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext({ baseURL: f.daemon.httpUrl })).newPage();
      const failed = (await f.uploadsOf('fail-pkg'))[0]!;
      const shown = await checkUploadPage(page, f.daemon.httpUrl, failed.id, {
        state: 'FAILED',
        reason: /build failed/,
      });
      assert.equal(shown.builds.length, 1);
      assert.equal(shown.builds[0]!.href, `/builds/${failed.builds[0]!.id}`);
      const tracker = await checkTrackerPage(page, f.daemon.httpUrl, 'hello-c', {
        versions: [{ distribution: DIST, version: V('1.0'), repository: 'test' }],
      });
      assert.ok(tracker.uploads.some((u) => u.state === 'INSTALLED'));
      assert.ok(tracker.uploads.some((u) => u.state === 'REJECTED'));
      assert.deepEqual(
        tracker.buildTimes.map((t) => t.architecture),
        ['amd64'],
      );
    } finally {
      await browser.close();
    }
  });
});
