import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChrootBackend } from '../chroot/chroot.entity.js';
import { BuildDepResolver } from '../distribution/distribution.entity.js';
import { BuildResult } from './build.entity.js';
import {
  changesFileName,
  isBuildStep,
  lastErrorLine,
  parseSummary,
  resultOf,
  sbuildArgs,
  sbuildEnv,
  type SbuildOutcome,
  startSbuild,
} from './sbuild.js';
import { buildSpec, standInTools } from './test-support.js';

// Captured from a real run (sbuild 0.89.3, devtest chroot): slow-pkg cancelled with SIGTERM.
const CANCELLED_LOG = `Purging /build/reproducible-path
Not cleaning session: cloned chroot in use
E: Build failure (dpkg-buildpackage died with signal 13)

+------------------------------------------------------------------------------+
| Summary                                      Sun, 22 Nov 2026 00:15:12 +0000 |
+------------------------------------------------------------------------------+

Build Architecture: amd64
Build Type: binary
Build-Space: 56
Build-Time: 7
Distribution: bookworm-test-unstable
Fail-Stage: build
Host Architecture: amd64
Install-Time: 2
Job: /tmp/bdev/slow-pkg/src/slow-pkg_1.0.dsc
Machine Architecture: amd64
Package: slow-pkg
Package-Time: 12
Source-Version: 1.0
Space: 56
Status: attempted
Version: 1.0
--------------------------------------------------------------------------------
Finished at 2026-11-22T00:15:11Z
Build needed 00:00:12, 56k disk space
E: Build failure (dpkg-buildpackage died with signal 13)
`;

function outcome(overrides: Partial<SbuildOutcome> = {}): SbuildOutcome {
  return {
    status: null,
    failStage: null,
    exitCode: null,
    signal: null,
    summary: {},
    changesFile: null,
    lastError: null,
    seconds: 1,
    ...overrides,
  };
}

describe('sbuildArgs', () => {
  it('builds the schroot argv with every fixed option and the .dsc last', () => {
    assert.deepEqual(sbuildArgs(buildSpec()), [
      '--chroot-mode=schroot',
      '-c',
      'debyard-bookworm-amd64',
      '-d',
      'bookworm-test-unstable',
      '--arch=amd64',
      '--arch-all',
      '--nolog',
      '--no-run-lintian',
      '--no-run-autopkgtest',
      '--no-run-piuparts',
      '--no-apt-update',
      '--no-apt-upgrade',
      '--no-apt-distupgrade',
      '--build-dep-resolver=apt',
      '-j2',
      '/data/builds/7/src/hello-c_1.0.dsc',
    ]);
  });

  it('uses unshare mode with the absolute tarball and refuses a bare name', () => {
    const args = sbuildArgs(
      buildSpec({ chroot: { backend: ChrootBackend.UNSHARE, name: '/var/lib/c/bookworm.tar.zst' } }),
    );
    assert.deepEqual(args.slice(0, 2), ['--chroot-mode=unshare', '--chroot=/var/lib/c/bookworm.tar.zst']);
    assert.ok(!args.includes('-c'));
    assert.throws(
      () => sbuildArgs(buildSpec({ chroot: { backend: ChrootBackend.UNSHARE, name: 'bookworm-amd64' } })),
      /absolute tarball path/,
    );
  });

  it('adds extra repositories, dependencies, profiles and the resolver', () => {
    const args = sbuildArgs(
      buildSpec({
        archAll: false,
        buildDepResolver: BuildDepResolver.APTITUDE,
        jobs: 4,
        extraRepositories: [
          { line: 'deb http://127.0.0.1:8066/repositories/test/ bookworm-test-unstable main', keyFile: '/k/a.asc' },
          { line: 'deb http://example.org/debian bookworm main', keyFile: '/k/b.asc' },
        ],
        addDepends: ' libfoo-dev, bar ',
        debBuildProfiles: ' nocheck  nodoc ',
        debBuildOptions: 'nocheck',
      }),
    );
    assert.ok(args.includes('--no-arch-all') && !args.includes('--arch-all'));
    assert.ok(args.includes('--build-dep-resolver=aptitude'));
    assert.ok(args.includes('-j4'));
    const repos = args.filter((a) => a.startsWith('--extra-repository'));
    assert.deepEqual(repos, [
      '--extra-repository=deb http://127.0.0.1:8066/repositories/test/ bookworm-test-unstable main',
      '--extra-repository-key=/k/a.asc',
      '--extra-repository=deb http://example.org/debian bookworm main',
      '--extra-repository-key=/k/b.asc',
    ]);
    assert.ok(args.includes('--add-depends=libfoo-dev, bar'));
    assert.ok(args.includes('--profiles=nocheck nodoc'));
    assert.ok(!args.some((a) => a.includes('DEB_BUILD_OPTIONS')), 'build options go through the environment');
    assert.equal(args.at(-1), '/data/builds/7/src/hello-c_1.0.dsc');
  });

  it('leaves out empty optional parts', () => {
    const args = sbuildArgs(buildSpec({ jobs: 0 }));
    assert.ok(!args.some((a) => /^(-j|--add-depends|--profiles|--extra-repository)/.test(a)));
  });
});

describe('sbuildEnv', () => {
  it('passes DEB_BUILD_OPTIONS normalised, and nothing when empty', () => {
    assert.deepEqual(sbuildEnv(buildSpec({ debBuildOptions: '  nocheck   noopt ' })), {
      DEB_BUILD_OPTIONS: 'nocheck noopt',
    });
    assert.deepEqual(sbuildEnv(buildSpec()), {});
  });
});

describe('changesFileName', () => {
  it('is the .dsc name (no epoch) plus the architecture', () => {
    assert.equal(changesFileName('/x/hello-c_1.0.dsc', 'amd64'), 'hello-c_1.0_amd64.changes');
    assert.equal(changesFileName('/x/foo_2.1-3~bpo12+1.dsc', 'arm64'), 'foo_2.1-3~bpo12+1_arm64.changes');
  });
});

describe('parseSummary', () => {
  it('reads every field of a real summary and stops at its closing rule', () => {
    const summary = parseSummary(CANCELLED_LOG);
    assert.equal(summary.Status, 'attempted');
    assert.equal(summary['Fail-Stage'], 'build');
    assert.equal(summary['Build-Time'], '7');
    assert.equal(summary['Build Architecture'], 'amd64');
    assert.equal(summary.Job, '/tmp/bdev/slow-pkg/src/slow-pkg_1.0.dsc');
    assert.equal(summary.E, undefined, 'the E: line after the rule is not part of the summary');
    assert.equal(Object.keys(summary).length, 16);
  });

  it('takes the last summary block and gives {} without one', () => {
    const twice = `| Summary\n\nStatus: given-back\n${'-'.repeat(80)}\n${CANCELLED_LOG}`;
    assert.equal(parseSummary(twice).Status, 'attempted');
    assert.deepEqual(parseSummary('E: Error creating chroot session\n'), {});
  });
});

describe('lastErrorLine', () => {
  it('takes the last E: line and unwraps "Build failure (…)"', () => {
    assert.equal(lastErrorLine(CANCELLED_LOG), 'dpkg-buildpackage died with signal 13');
    assert.equal(
      lastErrorLine('E: one\nE: Package build dependencies not satisfied; skipping\n'),
      'Package build dependencies not satisfied; skipping',
    );
    assert.equal(lastErrorLine('all good\n'), null);
  });
});

describe('resultOf', () => {
  it('maps each sbuild status', () => {
    const cases: [string, BuildResult][] = [
      ['successful', BuildResult.SUCCESSFUL],
      ['attempted', BuildResult.FAILED],
      ['given-back', BuildResult.GIVEN_BACK],
      ['skipped', BuildResult.SKIPPED],
      ['failed', BuildResult.ERROR],
    ];
    for (const [status, expected] of cases) {
      assert.equal(resultOf(outcome({ status, exitCode: 0 }), false).result, expected, status);
    }
  });

  it('falls back to the exit code without a summary', () => {
    const cases: [number | null, BuildResult][] = [
      [0, BuildResult.SUCCESSFUL],
      [1, BuildResult.ERROR],
      [2, BuildResult.FAILED],
      [3, BuildResult.GIVEN_BACK],
      [127, BuildResult.ERROR],
      [null, BuildResult.ERROR],
    ];
    for (const [exitCode, expected] of cases) {
      assert.equal(resultOf(outcome({ exitCode }), false).result, expected, String(exitCode));
    }
  });

  it('reports a cancel as CANCELLED though sbuild says attempted', () => {
    const o = outcome({ status: 'attempted', failStage: 'build', exitCode: 2, lastError: 'x' });
    assert.deepEqual(resultOf(o, true), {
      result: BuildResult.CANCELLED,
      failStage: 'build',
      reason: 'cancelled during build',
    });
  });

  it('says in one line why a build failed', () => {
    const ftbfs = outcome({
      status: 'attempted',
      failStage: 'build',
      exitCode: 2,
      lastError: 'dpkg-buildpackage died with exit 2',
    });
    assert.equal(resultOf(ftbfs, false).reason, 'build failed at stage build: dpkg-buildpackage died with exit 2');
    const noSummary = resultOf(outcome({ exitCode: 1, lastError: 'Error creating chroot session' }), false);
    assert.equal(noSummary.reason, 'sbuild ended with exit code 1 and no summary: Error creating chroot session');
    const killed = resultOf(outcome({ signal: 'SIGKILL' }), false);
    assert.deepEqual([killed.result, killed.reason], [BuildResult.ERROR, 'sbuild was killed by SIGKILL']);
  });
});

describe('startSbuild with a stand-in sbuild', () => {
  let dir: string;
  let PATH: string;

  before(async () => {
    // Logs its argv and environment, then either succeeds or waits to be cancelled like sbuild does.
    const tools = await standInTools('debyard-sbuild-test-', {
      sbuild: `#!/bin/sh
echo "argv: $*"
echo "options: $DEB_BUILD_OPTIONS config: $SBUILD_CONFIG"
[ -n "$SBUILD_CONFIG" ] && cat "$SBUILD_CONFIG"
echo "to stderr" >&2
if [ -n "$FAKE_WAIT" ]; then
  trap 'kill $!; echo "E: ABORT: Received TERM signal"; printf "| Summary\\n\\nFail-Stage: build\\nStatus: attempted\\n"; exit 2' TERM
  sleep 30 & wait
fi
touch hello-c_1.0_amd64.changes
printf '| Summary\\n\\nBuild-Time: 1\\nStatus: successful\\n'
`,
    });
    dir = tools.dir;
    PATH = `${tools.bin}:${process.env.PATH}`;
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  async function workDir(name: string): Promise<{ workDir: string; logFile: string }> {
    const workDir = path.join(dir, name);
    await fs.mkdir(workDir);
    return { workDir, logFile: path.join(workDir, 'build.log') };
  }

  it('runs in the work dir, appends both streams to the log and finds the .changes', async () => {
    const opts = await workDir('ok');
    await fs.writeFile(opts.logFile, 'earlier line\n');
    const run = startSbuild(buildSpec({ debBuildOptions: 'nocheck' }), { ...opts, env: { PATH } });
    assert.ok(run.pid > 0);
    const o = await run.result;
    const log = await fs.readFile(opts.logFile, 'utf8');
    assert.match(log, /^earlier line\nargv: --chroot-mode=schroot -c debyard-bookworm-amd64 /);
    assert.match(log, /options: nocheck config: \n/);
    assert.match(log, /to stderr/);
    assert.equal(o.status, 'successful');
    assert.equal(o.exitCode, 0);
    assert.equal(o.changesFile, path.join(opts.workDir, 'hello-c_1.0_amd64.changes'));
    assert.equal(resultOf(o, false).result, BuildResult.SUCCESSFUL);
  });

  it('gives unshare mode its config file and removes it afterwards', async () => {
    const opts = await workDir('unshare');
    const tarball = buildSpec({ chroot: { backend: ChrootBackend.UNSHARE, name: '/srv/c/bookworm-amd64.tar.zst' } });
    await startSbuild(tarball, { ...opts, env: { PATH } }).result;
    const log = await fs.readFile(opts.logFile, 'utf8');
    assert.match(log, /\$unshare_tmpdir_template = '\/dev\/shm\/tmp\.sbuild\.XXXXXXXXXX';/);
    assert.match(log, /\$unshare_mmdebstrap_auto_create = 0;/);
    const config = /config: (\S+)/.exec(log)![1]!;
    await assert.rejects(fs.access(config), 'the config is removed when sbuild ends');
  });

  it('cancels with SIGTERM and sees a process group of its own', async () => {
    const opts = await workDir('cancel');
    const run = startSbuild(buildSpec(), { ...opts, env: { PATH, FAKE_WAIT: '1' } });
    await new Promise((r) => setTimeout(r, 300));
    const pgid = (await fs.readFile(`/proc/${run.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')[2];
    assert.equal(Number(pgid), run.pid);
    const started = Date.now();
    run.cancel();
    const o = await run.result;
    assert.ok(Date.now() - started < 2000);
    assert.equal(o.exitCode, 2);
    assert.equal(o.status, 'attempted');
    assert.equal(o.changesFile, null);
    assert.equal(resultOf(o, true).result, BuildResult.CANCELLED);
    run.cancel(); // a second cancel after the end is harmless
  });
});

describe('isBuildStep', () => {
  it('picks what runs a build step, never sbuild itself or schroot beginning or ending a session', () => {
    assert.equal(isBuildStep(['/usr/bin/perl', '/usr/bin/sbuild', '--chroot-mode=schroot']), false);
    assert.equal(isBuildStep(['schroot', '-d', '/', '-c', 'x-1', '--run-session', '-q', '--', 'apt-get']), true);
    assert.equal(isBuildStep(['schroot', '-c', 'x', '--begin-session']), false);
    assert.equal(isBuildStep(['schroot', '-c', 'x-1', '--end-session', '-f']), false);
    assert.equal(isBuildStep(['dpkg-buildpackage', '-us', '-uc', '-b']), true);
  });
});
