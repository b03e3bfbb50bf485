import assert from 'node:assert/strict';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { launchChromium } from '../support/browser.js';
import { checkBuildPageStreams } from '../support/console-builds.js';
import { checkUploadPage } from '../support/console-uploads.js';
import { eventually } from '../support/daemon.js';
import { DIST, PipelineFixture, V } from '../support/pipeline.js';

/**
 * Crash safety of the pipeline: a kill -9 of the daemon right after dput (the upload only spooled),
 * mid-build and mid-install, each followed by a start on the same data directory. Every upload still
 * ends INSTALLED, installed once, with rollbacks shifted once and `reprepro check` clean; the console
 * follows the upload that builds again.
 */
describe('uploads survive a kill -9 at any step', { concurrency: false }, () => {
  let f: PipelineFixture;
  before(async () => {
    f = await PipelineFixture.start('pipeline-crash');
  });
  after(async () => {
    await f?.dispose();
  });

  it('a kill -9 mid-build and a restart: the upload still ends INSTALLED, the repository checks clean', async () => {
    await f.upload('hello-t', V('1.0'));
    await eventually(async () => {
      const [u] = await f.uploadsOf('hello-t');
      return u?.state === 'PACKAGING' && u.builds.length ? u : undefined;
    }, 60_000);
    const building = await eventually(async () => {
      const { builds } = await f.gql<{ builds: { nodes: { id: string; state: string }[] } }>(
        '{ builds(source: "hello-t") { nodes { id state } } }',
      );
      return builds.nodes.find((b) => b.state === 'BUILDING');
    }, 60_000);
    await new Promise((r) => setTimeout(r, 1500));
    await f.killAndRestart();

    // The console follows the upload while it builds again: its page lists the build, whose page
    // streams the log to the end; the upload page then shows it installed.
    const [pending] = await f.uploadsOf('hello-t');
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext({ baseURL: f.daemon.httpUrl })).newPage();
      const shown = await checkUploadPage(page, f.daemon.httpUrl, pending!.id, { state: 'PACKAGING' });
      assert.deepEqual(
        shown.builds.map((b) => [b.id, b.architecture]),
        [[building.id, 'amd64']],
      );
      assert.match(shown.builds[0]!.state, /^(QUEUED|BUILDING)$/);
      const streamed = await checkBuildPageStreams(page, f.daemon.httpUrl, building.id);
      assert.equal(streamed.result, 'SUCCESSFUL');
      assert.match(streamed.log, /debyard: sbuild /);
      await checkUploadPage(page, f.daemon.httpUrl, pending!.id, { state: 'INSTALLED' });
    } finally {
      await browser.close();
    }
    const done = await f.settled('hello-t', V('1.0'));
    assert.equal(done.state, 'INSTALLED', done.reason ?? '');
    const { build } = await f.gql<{ build: { attempt: number; result: string } }>(
      'query($id: ID!) { build(id: $id) { attempt result } }',
      { id: building.id },
    );
    assert.equal(build.result, 'SUCCESSFUL');
    assert.equal(build.attempt, 2, 'the interrupted build ran again');
    await f.repreproCheck();
  });

  it('a kill -9 right after dput, and another mid-install: the upload ends INSTALLED, rollbacks shifted once', async () => {
    const v2 = V('1.0', 2);
    await f.upload('hello-t', v2);
    await f.killAndRestart(); // the upload is only spooled yet

    // Mid-install: once includedsc has put the source into the pool and let go of reprepro's lock, take
    // the lock so that the binaries' include waits, then kill the daemon.
    const basedir = path.join(f.daemon.dataDir, 'repositories/test');
    const pooledDsc = path.join(basedir, 'pool/main/h/hello-t', `hello-t_${v2}.dsc`);
    const lockfile = path.join(basedir, 'db/lockfile');
    const deadline = Date.now() + 300_000;
    const pause = () => new Promise((r) => setTimeout(r, 2));
    while (!(await fs.stat(pooledDsc).catch(() => null))) {
      assert.ok(Date.now() < deadline, 'the source reached the pool');
      await pause();
    }
    let lock: FileHandle | undefined;
    while (!lock) {
      lock = await fs.open(lockfile, 'wx').catch(() => undefined);
      if (!lock) await pause();
    }
    try {
      const packages = await fs.readFile(path.join(basedir, `dists/${DIST}/main/binary-amd64/Packages`), 'utf8');
      assert.ok(!packages.includes(`Package: hello-t\nVersion: ${v2}\n`), 'the binaries are not in yet');
      assert.equal((await f.uploadsOf('hello-t')).find((u) => u.version === v2)?.state, 'INSTALLING');
      await f.killAndRestart(async () => {
        await execa('pkill', ['-KILL', '-f', `reprepro --basedir ${basedir} `], { reject: false });
      });
    } finally {
      await lock.close();
      await fs.rm(lockfile, { force: true });
    }
    const done = await f.settled('hello-t', v2);
    assert.equal(done.state, 'INSTALLED', done.reason ?? '');
    const ls = await f.daemon.cli(['ls', 'hello-t', '--json']);
    assert.equal(ls.exitCode, 0, ls.stderr);
    const versions = Object.fromEntries(
      (JSON.parse(ls.stdout) as { distribution: string; version: string }[]).map((v) => [v.distribution, v.version]),
    );
    assert.deepEqual(
      versions,
      { [DIST]: v2, [`${DIST}-rollback0`]: V('1.0') },
      'installed once, the previous version in rollback0 and no further',
    );
    await f.repreproCheck();
  });
});
