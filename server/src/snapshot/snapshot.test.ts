import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { pino } from 'pino';
import { Reprepro, RepreproError } from '../repository/reprepro.js';
import { createThrowawayKey, stopGpgAgent, type ThrowawayKey } from '../repository/throwaway-key.js';
import { SnapshotKind } from './snapshot.entity.js';
import { expiryOf, plannedSnapshots, scheduledName, type ScheduleRepository } from './snapshot-schedule.js';
import { snapshotAptLine } from './snapshot.service.js';

const quiet = pino({ level: process.env.DEBYARD_TEST_LOG ?? 'silent' });

describe('snapshot schedules', () => {
  const now = new Date('2026-11-22T02:13:00Z');
  const repo = (keep: Partial<ScheduleRepository['keep']> = {}): ScheduleRepository => ({
    identity: 'test',
    keep: { WEEKLY: 4, MONTHLY: 12, YEARLY: 3, ...keep },
    distributions: [
      { name: 'bookworm-test-stable', stable: true, components: ['main'] },
      { name: 'bookworm-test-unstable', stable: false, components: ['main'] },
      { name: 'trixie-test-stable', stable: true, components: ['main', 'contrib'] },
    ],
  });

  test('snapshots only the stable suites, named by kind and UTC day', () => {
    const planned = plannedSnapshots([repo()], SnapshotKind.WEEKLY, now);
    assert.deepEqual(
      planned.map((p) => [p.distribution, p.name]),
      [
        ['bookworm-test-stable', 'weekly-2026-11-22'],
        ['trixie-test-stable', 'weekly-2026-11-22'],
      ],
    );
    assert.deepEqual(planned[1]!.components, ['main', 'contrib']);
    assert.equal(scheduledName(SnapshotKind.YEARLY, now), 'yearly-2026-11-22');
  });

  test('a repository that keeps none of a kind gets none', () => {
    assert.deepEqual(plannedSnapshots([repo({ MONTHLY: 0 })], SnapshotKind.MONTHLY, now), []);
    assert.equal(plannedSnapshots([repo({ MONTHLY: 0 })], SnapshotKind.WEEKLY, now).length, 2);
  });

  test('expiry: the run that makes the (N+1)th deletes the oldest, even a few hours late', () => {
    for (const [kind, next] of [
      [SnapshotKind.WEEKLY, (d: Date, n: number) => new Date(d.getTime() + n * 7 * 86400_000)],
      [SnapshotKind.MONTHLY, (_: Date, n: number) => new Date(Date.UTC(2026, 10 + n, 22, 2, 13))],
      [SnapshotKind.YEARLY, (_: Date, n: number) => new Date(Date.UTC(2026 + n, 10, 22, 2, 13))],
    ] as const) {
      const expires = expiryOf(kind, 4, now);
      assert.ok(expires > next(now, 3), `${kind}: alive at the 4th run after`);
      assert.ok(expires <= next(now, 4), `${kind}: gone at the 5th run`);
      assert.ok(expires <= new Date(next(now, 4).getTime() - 3600_000), `${kind}: even an hour early`);
    }
  });

  test('the apt line follows <dist>/snapshots/<name> with the instance key in signed-by', () => {
    const line = snapshotAptLine(
      {
        repository: 'test',
        distribution: 'bookworm-test-stable',
        name: 'release-1.0',
        components: ['main', 'contrib'],
      } as Parameters<typeof snapshotAptLine>[0],
      'http://host:8066/',
      '/usr/share/keyrings/vm-archive-keyring.gpg',
    );
    assert.equal(
      line,
      'deb [signed-by=/usr/share/keyrings/vm-archive-keyring.gpg] http://host:8066/repositories/test/ bookworm-test-stable/snapshots/release-1.0 main contrib',
    );
  });
});

describe('reprepro snapshots', () => {
  let dir: string;
  let key: ThrowawayKey;
  let reprepro: Reprepro;
  const DIST = 'bookworm-test-stable';

  async function deb(version: string): Promise<string> {
    const root = path.join(dir, `pkg-${version}`);
    await mkdir(path.join(root, 'DEBIAN'), { recursive: true });
    await writeFile(
      path.join(root, 'DEBIAN/control'),
      `Package: snap\nVersion: ${version}\nArchitecture: all\nSection: misc\nPriority: optional\nMaintainer: T <t@example.invalid>\nDescription: test\n`,
    );
    const file = path.join(dir, `snap_${version}_all.deb`);
    await execa('dpkg-deb', ['--build', root, file]);
    return file;
  }
  const exists = (p: string) =>
    access(p).then(
      () => true,
      () => false,
    );

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'debyard-snapshot-'));
    key = await createThrowawayKey(dir);
    reprepro = new Reprepro({ basedir: path.join(dir, 'repo'), gnupgHome: key.gnupgHome, logger: quiet });
    await reprepro.configure([
      {
        codename: DIST,
        origin: 'Debyard archive test',
        components: ['main'],
        architectures: ['amd64'],
        description: DIST,
        notAutomatic: false,
        butAutomaticUpgrades: false,
        signWith: key.fingerprint,
      },
    ]);
    await reprepro.export();
  });
  after(async () => {
    await stopGpgAgent(key);
    await rm(dir, { recursive: true, force: true });
  });

  test('a snapshot keeps its packages after the distribution moved on, until it is deleted', async () => {
    await reprepro.run(['includedeb', DIST, await deb('1.0')]);
    await reprepro.gensnapshot(DIST, 'before-2.0');
    await reprepro.run(['includedeb', DIST, await deb('2.0')]);

    const snap = path.join(dir, 'repo/dists', DIST, 'snapshots/before-2.0');
    const packages = await readFile(path.join(snap, 'main/binary-amd64/Packages'), 'utf8');
    assert.match(packages, /^Version: 1\.0$/m);
    assert.match(
      await readFile(path.join(snap, 'Release'), 'utf8'),
      /^Suite: bookworm-test-stable\/snapshots\/before-2\.0$/m,
    );
    const gpgv = await execa('gpgv', ['--keyring', key.keyring, path.join(snap, 'InRelease')], { reject: false });
    assert.equal(gpgv.exitCode, 0, gpgv.stderr);
    const old = path.join(dir, 'repo/pool/main/s/snap/snap_1.0_all.deb');
    assert.ok(await exists(old), 'the snapshot keeps 1.0 in the pool');

    await reprepro.deleteSnapshot(DIST, 'before-2.0');
    assert.equal(await exists(snap), false);
    assert.equal(await exists(old), false, 'nothing references 1.0 any more');
    assert.ok(await exists(path.join(dir, 'repo/pool/main/s/snap/snap_2.0_all.deb')));
    await reprepro.deleteSnapshot(DIST, 'before-2.0'); // again: nothing left to do, no error
  });

  test('refuses names that could leave dists/<dist>/snapshots/', async () => {
    for (const name of ['../x', 'a/b', '', '.hidden', 'with space'])
      await assert.rejects(reprepro.gensnapshot(DIST, name), (err: unknown) => err instanceof RepreproError);
  });
});
