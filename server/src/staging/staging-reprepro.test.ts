// Migrate, remove and restore against a real reprepro (a scratch repository with a throw-away key):
// the planned operations are what reprepro does, each action exports once, a shift never runs twice.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { pino } from 'pino';
import { Reprepro, type RepreproDistribution } from '../repository/reprepro.js';
import { runPlanned, SourceListing } from '../repository/rollbacks.js';
import { createThrowawayKey, stopGpgAgent, type ThrowawayKey } from '../repository/throwaway-key.js';
import { planMigrate, planRemove, planRestore, type StagingScope } from './plan.js';

const quiet = pino({ level: process.env.DEBYARD_TEST_LOG ?? 'silent' });
const scope: StagingScope = {
  repository: 'test',
  codename: 'bookworm',
  suites: [
    { name: 'stable', migratesTo: null, rollbacks: 2 },
    { name: 'testing', migratesTo: 'stable', rollbacks: 1 },
    { name: 'unstable', migratesTo: 'testing', rollbacks: 0 },
  ],
};
const name = (suite: string, rollback?: number) =>
  `bookworm-test-${suite}${rollback === undefined ? '' : `-rollback${rollback}`}`;
const at = (suite: string, rollback: number | null = null) => ({
  suite,
  rollback,
  name: name(suite, rollback ?? undefined),
});

describe('staging against reprepro', () => {
  let tmp: string;
  let key: ThrowawayKey;
  let reprepro: Reprepro;

  /** A native source package `hello` of `version`, built with dpkg-source. */
  async function source(version: string): Promise<string> {
    const tree = path.join(tmp, `hello-${version}`);
    await mkdir(path.join(tree, 'debian/source'), { recursive: true });
    await writeFile(path.join(tree, 'debian/source/format'), '3.0 (native)\n');
    await writeFile(
      path.join(tree, 'debian/control'),
      'Source: hello\nSection: misc\nPriority: optional\nMaintainer: T <t@example.invalid>\n\n' +
        'Package: hello\nArchitecture: all\nDescription: x\n y\n',
    );
    await writeFile(
      path.join(tree, 'debian/changelog'),
      `hello (${version}) unstable; urgency=medium\n\n  * x\n\n -- T <t@example.invalid>  Sat, 21 Nov 2026 12:00:00 +0000\n`,
    );
    await execa('dpkg-source', ['-b', path.basename(tree)], { cwd: tmp });
    return path.join(tmp, `hello_${version}.dsc`);
  }
  const ls = async () => SourceListing.of('hello', await reprepro.ls('hello')).entries();
  const sources = (d: string) =>
    readFile(path.join(reprepro.basedir, 'dists', d, 'main/source/Sources'), 'utf8').catch(() => '');

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'debyard-staging-'));
    key = await createThrowawayKey(tmp);
    reprepro = new Reprepro({ basedir: path.join(tmp, 'repo'), gnupgHome: key.gnupgHome, logger: quiet });
    const dist = (codename: string): RepreproDistribution => ({
      codename,
      origin: 'Debyard archive test',
      components: ['main'],
      architectures: ['amd64'],
      description: codename,
      notAutomatic: false,
      butAutomaticUpgrades: false,
      signWith: key.fingerprint,
    });
    await reprepro.configure(
      ['unstable', 'testing', 'testing-rollback0', 'stable', 'stable-rollback0', 'stable-rollback1'].map((s) =>
        dist(`bookworm-test-${s}`),
      ),
    );
    await reprepro.export();
  });

  after(async () => {
    await stopGpgAgent(key);
    await rm(tmp, { recursive: true, force: true });
  });

  it('migrates along the chain, shifts into rollbacks, restores and removes; the indices follow', async () => {
    await reprepro.run(['includedsc', name('unstable'), await source('1')]);
    await runPlanned(reprepro, 'hello', (l) =>
      planMigrate(scope, l, { source: 'hello', from: at('unstable'), full: true }),
    );
    assert.deepEqual(await ls(), [
      [name('stable'), '1'],
      [name('testing'), '1'],
      [name('unstable'), '1'],
    ]);
    assert.match(await sources(name('stable')), /^Version: 1$/m);

    await reprepro.run(['includedsc', name('unstable'), await source('2')]);
    await runPlanned(reprepro, 'hello', (l) =>
      planMigrate(scope, l, { source: 'hello', from: at('unstable'), full: true }),
    );
    assert.deepEqual(await ls(), [
      [name('stable'), '2'],
      [name('stable', 0), '1'],
      [name('testing'), '2'],
      [name('testing', 0), '1'],
      [name('unstable'), '2'],
    ]);
    assert.match(await sources(name('stable', 0)), /^Version: 1$/m);

    await runPlanned(reprepro, 'hello', (l) =>
      planRestore(scope, l, { source: 'hello', into: at('stable'), rollback: 0 }),
    );
    assert.deepEqual(
      (await ls()).filter(([d]) => d.startsWith(name('stable'))),
      [
        [name('stable'), '1'],
        [name('stable', 0), '2'],
        [name('stable', 1), '1'],
      ],
    );
    assert.match(await sources(name('stable')), /^Version: 1$/m);

    await runPlanned(reprepro, 'hello', (l) => planRemove(scope, l, { source: 'hello', from: at('stable') }));
    assert.deepEqual(
      (await ls()).filter(([d]) => d.startsWith(name('stable'))),
      [
        [name('stable', 0), '1'],
        [name('stable', 1), '2'],
      ],
    );
    assert.equal(await sources(name('stable')), '');

    await runPlanned(reprepro, 'hello', (l) => planRemove(scope, l, { source: 'hello', from: at('stable', 0) }));
    assert.deepEqual(
      (await ls()).filter(([d]) => d.startsWith(name('stable'))),
      [[name('stable', 0), '2']],
    );
    await reprepro.check();
  });

  it('plans again inside the lock: a second identical migration is refused, nothing changes', async () => {
    const before = await ls();
    await assert.rejects(
      runPlanned(reprepro, 'hello', (l) => planMigrate(scope, l, { source: 'hello', from: at('unstable') })),
      /ALREADY_MIGRATED|already/,
    );
    assert.deepEqual(await ls(), before);
  });
});
