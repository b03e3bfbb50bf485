/**
 * The builder pieces against a real chroot: fetch a source, build with sbuild, cancel, lintian and
 * autopkgtest. Needs DEBYARD_TEST_SCHROOT=<schroot chroot name> (type directory + overlay, a profile
 * without the /build bind mount, debhelper and fakeroot installed, the current user in its groups).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import type { BuildSpec } from '@debyard/server/dist/build/build-spec.js';
import { BuildResult, QaResult } from '@debyard/server/dist/build/build.entity.js';
import { fetchSource } from '@debyard/server/dist/build/dsc.js';
import { runAutopkgtest, runLintian } from '@debyard/server/dist/build/qa.js';
import { resultOf, startSbuild } from '@debyard/server/dist/build/sbuild.js';
import { ChrootBackend } from '@debyard/server/dist/chroot/chroot.entity.js';
import { BuildDepResolver, QaMode } from '@debyard/server/dist/distribution/distribution.entity.js';
import { buildSourcePackage, type FixturePackage } from '../support/packages.js';

const schroot = process.env.DEBYARD_TEST_SCHROOT;
const skip = schroot ? false : 'set DEBYARD_TEST_SCHROOT=<schroot chroot name> to build in a real chroot';

async function sessionsOf(chroot: string): Promise<string[]> {
  const { stdout } = await execa('schroot', ['-l', '--all-sessions'], { cwd: '/' });
  return stdout.split('\n').filter((s) => s.startsWith(`session:${chroot}-`));
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('builder against a real chroot', { skip }, () => {
  let root: string;

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-builder-'));
    await fs.chmod(root, 0o755);
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  /** Source package → fetched into the build's src dir → an empty work dir, as the engine does it. */
  async function prepare(name: FixturePackage) {
    const dir = path.join(root, name);
    const upload = await buildSourcePackage(name, path.join(dir, 'upload'));
    const fetched = await fetchSource(upload, path.join(dir, 'src'));
    const workDir = path.join(dir, 'work');
    await fs.mkdir(workDir);
    const spec: BuildSpec = {
      dsc: fetched.dsc,
      distribution: 'bookworm-test-unstable',
      architecture: 'amd64',
      archAll: true,
      chroot: { backend: ChrootBackend.SCHROOT, name: schroot! },
      extraRepositories: [],
      buildDepResolver: BuildDepResolver.APT,
      debBuildOptions: 'nocheck',
      debBuildProfiles: '',
      addDepends: '',
      jobs: 2,
      lintianMode: QaMode.ERRFAIL,
      lintianExtraOptions: '--info',
      autopkgtestMode: QaMode.ERRFAIL,
    };
    return { spec, workDir, logFile: path.join(dir, 'build.log') };
  }

  it('builds hello-c and fails fail-pkg at the build stage', { timeout: 180_000 }, async () => {
    const [hello, fail] = await Promise.all([prepare('hello-c'), prepare('fail-pkg')]);
    const [ok, bad] = await Promise.all([startSbuild(hello.spec, hello).result, startSbuild(fail.spec, fail).result]);

    assert.equal(ok.status, 'successful', await fs.readFile(hello.logFile, 'utf8'));
    assert.equal(ok.exitCode, 0);
    assert.equal(ok.changesFile, path.join(hello.workDir, 'hello-c_1.0_amd64.changes'));
    assert.ok((await fs.readdir(hello.workDir)).includes('hello-c_1.0_amd64.deb'));
    assert.equal(resultOf(ok, false).result, BuildResult.SUCCESSFUL);
    const helloLog = await fs.readFile(hello.logFile, 'utf8');
    assert.match(helloLog, /DEB_BUILD_OPTIONS="nocheck parallel=2"/, 'build options reach the build');

    assert.equal(bad.status, 'attempted');
    assert.equal(bad.exitCode, 2);
    assert.equal(bad.changesFile, null);
    assert.deepEqual(resultOf(bad, false), {
      result: BuildResult.FAILED,
      failStage: 'build',
      reason: 'build failed at stage build: dpkg-buildpackage died with exit 2',
    });
    assert.match(await fs.readFile(fail.logFile, 'utf8'), /about to fail on purpose/);
  });

  it('cancels slow-pkg within seconds and leaves no schroot session', { timeout: 180_000 }, async () => {
    const slow = await prepare('slow-pkg');
    const before = await sessionsOf(schroot!);
    const run = startSbuild(slow.spec, slow);
    await waitFor(
      'the build to sleep',
      async () => /^sleep 60$/m.test(await fs.readFile(slow.logFile, 'utf8')),
      120_000,
    );
    const ours = (await sessionsOf(schroot!)).filter((s) => !before.includes(s));
    assert.equal(ours.length, 1, `one new session while building: ${ours.join(', ')}`);

    const cancelledAt = Date.now();
    run.cancel();
    const outcome = await run.result;
    const took = Date.now() - cancelledAt;
    assert.ok(took < 2500, `sbuild ended ${took} ms after the cancel`);
    assert.equal(outcome.exitCode, 2);
    assert.equal(resultOf(outcome, true).result, BuildResult.CANCELLED);
    assert.match(await fs.readFile(slow.logFile, 'utf8'), /E: ABORT: Received TERM signal/);
    assert.ok(!(await sessionsOf(schroot!)).includes(ours[0]!), `${ours[0]} is gone`);
  });

  it('builds hello-t, then runs lintian and its autopkgtest', { timeout: 240_000 }, async () => {
    const t = await prepare('hello-t');
    const outcome = await startSbuild(t.spec, t).result;
    assert.equal(outcome.status, 'successful', await fs.readFile(t.logFile, 'utf8'));

    const lintian = await runLintian(outcome.changesFile!, QaMode.ERRFAIL, '--info', t.logFile);
    // hello-t has no manual page: a warning, which ERRFAIL lets pass and WARNFAIL does not.
    assert.deepEqual(lintian, { result: QaResult.WARN, failed: false });
    assert.deepEqual(await runLintian(outcome.changesFile!, QaMode.WARNFAIL, '', t.logFile), {
      result: QaResult.WARN,
      failed: true,
    });

    const autopkgtest = await runAutopkgtest(t.spec, t.workDir, outcome.changesFile!, t.logFile);
    const log = await fs.readFile(t.logFile, 'utf8');
    assert.deepEqual(autopkgtest, { result: QaResult.PASS, failed: false }, log.slice(-3000));
    assert.match(log, /\n== lintian\n[^]*W: hello-t: no-manual-page/);
    assert.match(log, /\n== autopkgtest\n[^]*smoke +PASS/);
    assert.ok((await fs.readdir(path.join(t.workDir, 'autopkgtest'))).includes('summary'));
  });
});
