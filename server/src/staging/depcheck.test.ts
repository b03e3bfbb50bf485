import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  dependencyClosure,
  distcheck,
  parseDoseReport,
  parsePackages,
  relationNames,
  splitBySource,
} from './depcheck.js';
import { releaseChecksums } from './mirror-index.js';

const stanza = (fields: Record<string, string>) =>
  Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
const pkgs = (...s: Record<string, string>[]) => parsePackages(s.map(stanza).join('\n\n') + '\n');

// dose-distcheck 7.0's report for two broken packages: a missing dependency and a conflict.
const REPORT = `output-version: 1.2
native-architecture: amd64
report:
 -
  package: x
  version: 1
  architecture: amd64
  status: broken
  reasons:
   -
    conflict:
     pkg1:
      package: x
      version: 1
      architecture: amd64
      unsat-conflict: z:amd64
     pkg2:
      package: z
      version: 1
      architecture: amd64
     depchain2:
      -
       depchain:
        -
         package: x
         version: 1
         architecture: amd64
         depends: y:amd64
 -
  package: uses-hello
  version: 1.0~test12+1
  architecture: all
  status: broken
  reasons:
   -
    missing:
     pkg:
      package: uses-hello
      version: 1.0~test12+1
      architecture: all
      unsat-dependency: hello-c:amd64
   -
    missing:
     pkg:
      package: libfoo
      version: 2
      architecture: amd64
      unsat-dependency: libbar:amd64 (>= 3)
 
background-packages: 4
foreground-packages: 2
total-packages: 6
broken-packages: 2
`;

describe('dependency check', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('reads package names from relationship fields', () => {
    assert.deepEqual(relationNames('a (>= 1) | b:any, c [amd64] <!nocheck>, d:amd64'), ['a', 'b', 'c', 'd']);
    assert.deepEqual(relationNames(''), []);
  });

  it('parses Packages stanzas, folded fields and binNMU sources', () => {
    const [a, b] = parsePackages(
      'Package: a\nVersion: 1+b1\nSource: src (1)\nDepends: x,\n y (>= 2)\nPre-Depends: z\n\nPackage: b\nVersion: 2\nEssential: yes\n',
    );
    assert.equal(a!.source, 'src');
    assert.equal(a!.sourceVersion, '1');
    assert.deepEqual(a!.needs, ['x', 'y', 'z']);
    assert.equal(b!.source, 'b');
    assert.equal(b!.essential, true);
    const [mine, others] = splitBySource([a!, b!], 'src', '1');
    assert.deepEqual([mine.map((e) => e.name), others.map((e) => e.name)], [['a'], ['b']]);
  });

  it('cuts the background down to what the foreground and the essential set can reach', () => {
    const fg = pkgs({ Package: 'app', Version: '1', Depends: 'lib | alt, virt' });
    const bg = pkgs(
      { Package: 'lib', Version: '1', Depends: 'base' },
      { Package: 'base', Version: '1' },
      { Package: 'provider', Version: '1', Provides: 'virt' },
      { Package: 'unrelated', Version: '1', Depends: 'lib' },
      { Package: 'ess', Version: '1', Essential: 'yes', 'Pre-Depends': 'esslib' },
      { Package: 'esslib', Version: '1' },
    );
    assert.deepEqual(
      dependencyClosure(fg, bg).map((e) => e.name),
      ['lib', 'base', 'provider', 'ess', 'esslib'],
    );
  });

  it('parses dose-distcheck’s report: missing dependencies named, deep ones with who needs them, conflicts', () => {
    const broken = parseDoseReport(REPORT, 'amd64');
    assert.deepEqual(broken, [
      {
        package: 'x',
        version: '1',
        architecture: 'amd64',
        reasons: ['x 1 conflicts with z (z)'],
        missing: [],
      },
      {
        package: 'uses-hello',
        version: '1.0~test12+1',
        architecture: 'all',
        reasons: ['hello-c', 'libbar (>= 3) (needed by libfoo 2)'],
        missing: ['hello-c', 'libbar'],
      },
    ]);
    assert.deepEqual(parseDoseReport('output-version: 1.2\nbackground-packages: 1\n', 'amd64'), []);
  });

  it('runs dose-distcheck: a dependency only elsewhere is refused, one in the background is fine', async () => {
    const workDir = await mkdtemp(path.join(os.tmpdir(), 'debyard-distcheck-'));
    dirs.push(workDir);
    const fg = pkgs({ Package: 'uses-hello', Version: '1', Architecture: 'all', Depends: 'hello-c, base (>= 1)' });
    const base = { Package: 'base', Version: '1', Architecture: 'amd64' };
    const broken = await distcheck({ architecture: 'amd64', foreground: fg, background: pkgs(base), workDir });
    assert.deepEqual(
      broken.map((b) => [b.package, b.missing]),
      [['uses-hello', ['hello-c']]],
    );
    const fine = await distcheck({
      architecture: 'amd64',
      foreground: fg,
      background: pkgs(base, { Package: 'hello-c', Version: '1', Architecture: 'amd64' }),
      workDir,
    });
    assert.deepEqual(fine, []);
  });

  it('reads the SHA256 checksums of a Release', () => {
    const sums = releaseChecksums(
      'Origin: Debian\nMD5Sum:\n 0123 1 main/binary-amd64/Packages\nSHA256:\n ' +
        `${'a'.repeat(64)}  50060337 main/binary-amd64/Packages\n ${'b'.repeat(64)}  8790396 main/binary-amd64/Packages.xz\n`,
    );
    assert.deepEqual(sums.get('main/binary-amd64/Packages.xz'), { sha256: 'b'.repeat(64), size: 8790396 });
    assert.equal(sums.size, 2);
  });
});
