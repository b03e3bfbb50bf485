import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChrootBackend } from '../chroot/chroot.entity.js';
import { QaMode } from '../distribution/distribution.entity.js';
import type { BuildSpec } from './build-spec.js';
import { QaResult } from './build.entity.js';
import {
  autopkgtestArgs,
  autopkgtestResult,
  debsOf,
  failsBuild,
  lintianArgs,
  runAutopkgtest,
  runLintian,
  splitOptions,
} from './qa.js';
import { buildSpec, standInTools } from './test-support.js';

/** hello-t, whose autopkgtest counts. */
function spec(overrides: Partial<BuildSpec> = {}): BuildSpec {
  return buildSpec({ dsc: '/b/src/hello-t_1.0.dsc', autopkgtestMode: QaMode.ERRFAIL, ...overrides });
}

describe('splitOptions', () => {
  it('splits on whitespace and keeps quoted words together, without a shell', () => {
    assert.deepEqual(splitOptions(''), []);
    assert.deepEqual(splitOptions('  --info   --display-level ">=warning" '), [
      '--info',
      '--display-level',
      '>=warning',
    ]);
    assert.deepEqual(splitOptions(`--suppress-tags 'a,b' x"y z"`), ['--suppress-tags', 'a,b', 'xy z']);
    assert.deepEqual(splitOptions('$(rm -rf /); `id`'), ['$(rm', '-rf', '/);', '`id`']);
    assert.throws(() => splitOptions('--tags "open'), /unbalanced quote/);
  });
});

describe('lintianArgs', () => {
  it('suppresses the distribution tag and fails on the mode’s level', () => {
    assert.deepEqual(lintianArgs('/b/x.changes', QaMode.ERRFAIL, '--info'), [
      '--suppress-tags',
      'bad-distribution-in-changes-file',
      '--fail-on',
      'error',
      '--info',
      '/b/x.changes',
    ]);
    assert.deepEqual(lintianArgs('/b/x.changes', QaMode.WARNFAIL, '').slice(2, 4), ['--fail-on', 'error,warning']);
    assert.deepEqual(lintianArgs('/b/x.changes', QaMode.IGNORE, '').slice(2, 4), ['--fail-on', 'error']);
  });
});

describe('failsBuild', () => {
  it('follows the mode', () => {
    for (const r of Object.values(QaResult)) {
      assert.equal(failsBuild(r, QaMode.DISABLED), false);
      assert.equal(failsBuild(r, QaMode.IGNORE), false);
    }
    assert.equal(failsBuild(QaResult.WARN, QaMode.ERRFAIL), false);
    assert.equal(failsBuild(QaResult.FAIL, QaMode.ERRFAIL), true);
    assert.equal(failsBuild(QaResult.ERROR, QaMode.ERRFAIL), true);
    assert.equal(failsBuild(QaResult.WARN, QaMode.WARNFAIL), true);
    assert.equal(failsBuild(QaResult.PASS, QaMode.WARNFAIL), false);
  });
});

describe('autopkgtest', () => {
  it('maps exit codes', () => {
    const cases: [number | null, QaResult][] = [
      [0, QaResult.PASS],
      [2, QaResult.WARN],
      [8, QaResult.WARN],
      [4, QaResult.FAIL],
      [6, QaResult.FAIL],
      [12, QaResult.ERROR],
      [16, QaResult.ERROR],
      [20, QaResult.ERROR],
      [null, QaResult.ERROR],
    ];
    for (const [code, expected] of cases) assert.equal(autopkgtestResult(code), expected, String(code));
  });

  it('runs the .debs and the .dsc in the build’s chroot', () => {
    assert.deepEqual(autopkgtestArgs(spec(), ['/b/w/hello-t_1.0_amd64.deb'], '/b/w/autopkgtest'), [
      '--output-dir',
      '/b/w/autopkgtest',
      '/b/w/hello-t_1.0_amd64.deb',
      '/b/src/hello-t_1.0.dsc',
      '--',
      'schroot',
      'debyard-bookworm-amd64',
    ]);
    const unshare = spec({ chroot: { backend: ChrootBackend.UNSHARE, name: '/c/bookworm-amd64.tar.zst' } });
    assert.deepEqual(autopkgtestArgs(unshare, [], '/o').slice(-8), [
      '--',
      'unshare',
      '--release',
      'bookworm',
      '--arch',
      'amd64',
      '--tarball',
      '/c/bookworm-amd64.tar.zst',
    ]);
  });
});

describe('running the tools (stand-ins on PATH)', () => {
  let dir: string;
  let savedPath: string | undefined;
  const changes = () => path.join(dir, 'hello-t_1.0_amd64.changes');
  const log = () => path.join(dir, 'build.log');

  before(async () => {
    // Prints $FAKE_OUTPUT and its argv, exits with $FAKE_EXIT.
    const fake = '#!/bin/sh\nprintf "%b" "$FAKE_OUTPUT"\necho "argv: $*"\nexit "${FAKE_EXIT:-0}"\n';
    const tools = await standInTools('debyard-qa-test-', { lintian: fake, autopkgtest: fake });
    dir = tools.dir;
    await fs.writeFile(
      changes(),
      [
        'Format: 1.8',
        'Source: hello-t',
        'Architecture: amd64',
        'Version: 1.0',
        'Files:',
        ' 0123456789abcdef0123456789abcdef 3032 misc optional hello-t_1.0_amd64.deb',
        ' 0123456789abcdef0123456789abcdef 2000 debug optional hello-t-dbgsym_1.0_amd64.deb',
        ' 0123456789abcdef0123456789abcdef 5000 misc optional hello-t_1.0_amd64.buildinfo',
        '',
      ].join('\n'),
    );
    savedPath = process.env.PATH;
    process.env.PATH = `${tools.bin}:${savedPath}`;
  });
  after(async () => {
    process.env.PATH = savedPath;
    delete process.env.FAKE_OUTPUT;
    delete process.env.FAKE_EXIT;
    await fs.rm(dir, { recursive: true, force: true });
  });

  function fake(output: string, exit: number): void {
    process.env.FAKE_OUTPUT = output;
    process.env.FAKE_EXIT = String(exit);
  }

  it('lists the .debs of a .changes', async () => {
    assert.deepEqual(await debsOf(changes()), [
      path.join(dir, 'hello-t_1.0_amd64.deb'),
      path.join(dir, 'hello-t-dbgsym_1.0_amd64.deb'),
    ]);
  });

  it('does not run lintian when disabled', async () => {
    fake('', 0);
    assert.deepEqual(await runLintian(changes(), QaMode.DISABLED, '', log()), {
      result: QaResult.NOT_RUN,
      failed: false,
    });
    await assert.rejects(fs.access(log()));
  });

  it('maps lintian’s exit code and tags per mode, logging under a header', async () => {
    fake('W: hello-t: no-manual-page\\n', 0);
    assert.deepEqual(await runLintian(changes(), QaMode.ERRFAIL, '--info', log()), {
      result: QaResult.WARN,
      failed: false,
    });
    fake('', 0);
    assert.deepEqual(await runLintian(changes(), QaMode.WARNFAIL, '', log()), { result: QaResult.PASS, failed: false });
    fake('W: hello-t: no-manual-page\\n', 2);
    assert.deepEqual(await runLintian(changes(), QaMode.WARNFAIL, '', log()), { result: QaResult.WARN, failed: true });
    fake('E: hello-t: some-error\\n', 2);
    assert.deepEqual(await runLintian(changes(), QaMode.ERRFAIL, '', log()), { result: QaResult.FAIL, failed: true });
    assert.deepEqual(await runLintian(changes(), QaMode.IGNORE, '', log()), { result: QaResult.FAIL, failed: false });
    fake('internal error\\n', 1);
    assert.deepEqual(await runLintian(changes(), QaMode.ERRFAIL, '', log()), { result: QaResult.ERROR, failed: true });
    assert.deepEqual(await runLintian(changes(), QaMode.ERRFAIL, '"open', log()), {
      result: QaResult.ERROR,
      failed: true,
    });
    const text = await fs.readFile(log(), 'utf8');
    assert.match(
      text,
      /^\n== lintian\nW: hello-t: no-manual-page\nargv: --suppress-tags bad-distribution-in-changes-file --fail-on error --info \/.*hello-t_1\.0_amd64\.changes\n== lintian exited with 0\n/,
    );
    assert.match(text, /== lintian\nE: unbalanced quote/);
  });

  it('runs autopkgtest on the built .debs and judges the mode', async () => {
    await fs.rm(log(), { force: true });
    fake('smoke PASS\\n', 0);
    assert.deepEqual(await runAutopkgtest(spec(), dir, changes(), log()), { result: QaResult.PASS, failed: false });
    fake('SKIP no tests in this package\\n', 8);
    assert.deepEqual(await runAutopkgtest(spec(), dir, changes(), log()), { result: QaResult.WARN, failed: false });
    assert.deepEqual(await runAutopkgtest(spec({ autopkgtestMode: QaMode.WARNFAIL }), dir, changes(), log()), {
      result: QaResult.WARN,
      failed: true,
    });
    fake('smoke FAIL\\n', 4);
    assert.deepEqual(await runAutopkgtest(spec({ autopkgtestMode: QaMode.IGNORE }), dir, changes(), log()), {
      result: QaResult.FAIL,
      failed: false,
    });
    assert.deepEqual(await runAutopkgtest(spec({ autopkgtestMode: QaMode.DISABLED }), dir, changes(), log()), {
      result: QaResult.NOT_RUN,
      failed: false,
    });
    const text = await fs.readFile(log(), 'utf8');
    assert.match(
      text,
      new RegExp(
        `== autopkgtest\\nsmoke PASS\\nargv: --output-dir ${dir}/autopkgtest ${dir}/hello-t_1\\.0_amd64\\.deb ${dir}/hello-t-dbgsym_1\\.0_amd64\\.deb /b/src/hello-t_1\\.0\\.dsc -- schroot debyard-bookworm-amd64\\n`,
      ),
    );
  });
});
