import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { pino } from 'pino';
import { renderDistributions, Reprepro, RepreproError, type RepreproDistribution } from './reprepro.js';
import { createThrowawayKey, stopGpgAgent, type ThrowawayKey } from './throwaway-key.js';

const quiet = pino({ level: process.env.DEBYARD_TEST_LOG ?? 'silent' });
const FPR = '0123456789ABCDEF0123456789ABCDEF01234567';

function dist(suite: string, overrides: Partial<RepreproDistribution> = {}): RepreproDistribution {
  const codename = `bookworm-test-${suite}`;
  return {
    codename,
    origin: 'Debyard archive test',
    components: ['main'],
    architectures: ['amd64'],
    description: codename,
    notAutomatic: false,
    butAutomaticUpgrades: false,
    signWith: FPR,
    ...overrides,
  };
}

function rollback(suite: string, n: number, overrides: Partial<RepreproDistribution> = {}): RepreproDistribution {
  const codename = `bookworm-test-${suite}-rollback${n}`;
  return dist(suite, {
    codename,
    description: codename,
    notAutomatic: true,
    butAutomaticUpgrades: false,
    ...overrides,
  });
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

describe('renderDistributions', () => {
  test('renders mini-buildd’s stanza for a suite', () => {
    const out = renderDistributions([
      dist('unstable', {
        components: ['non-free', 'main', 'contrib'],
        architectures: ['i386', 'amd64'],
        alsoAcceptFor: ['unstable', 'bookworm-unstable'],
      }),
    ]);
    assert.equal(
      out,
      [
        'Codename: bookworm-test-unstable',
        'Suite: bookworm-test-unstable',
        'Label: bookworm-test-unstable',
        'AlsoAcceptFor: bookworm-unstable unstable',
        'Origin: Debyard archive test',
        'Components: main contrib non-free',
        'UDebComponents: main contrib non-free',
        'Architectures: source amd64 i386',
        'Description: bookworm-test-unstable',
        `SignWith: ${FPR}`,
        'NotAutomatic: no',
        'ButAutomaticUpgrades: no',
        'DebIndices: Packages Release . .gz .xz',
        'DscIndices: Sources Release . .gz .xz',
        'Contents: .gz',
        '',
      ].join('\n'),
    );
  });

  test('renders a rollback stanza: NotAutomatic yes, ButAutomaticUpgrades no, ValidFor', () => {
    const out = renderDistributions([rollback('unstable', 0, { validFor: '7d', signWith: FPR.toLowerCase() })]);
    assert.equal(
      out,
      [
        'Codename: bookworm-test-unstable-rollback0',
        'Suite: bookworm-test-unstable-rollback0',
        'Label: bookworm-test-unstable-rollback0',
        'Origin: Debyard archive test',
        'Components: main',
        'UDebComponents: main',
        'Architectures: source amd64',
        'Description: bookworm-test-unstable-rollback0',
        `SignWith: ${FPR}`,
        'NotAutomatic: yes',
        'ButAutomaticUpgrades: no',
        'ValidFor: 7d',
        'DebIndices: Packages Release . .gz .xz',
        'DscIndices: Sources Release . .gz .xz',
        'Contents: .gz',
        '',
      ].join('\n'),
    );
  });

  test('is deterministic: stanzas sorted by codename, separated by one blank line', () => {
    const a = [dist('unstable'), dist('testing'), rollback('unstable', 0)];
    const out = renderDistributions(a);
    assert.equal(out, renderDistributions([...a].reverse()));
    assert.deepEqual(
      [...out.matchAll(/^Codename: (.*)$/gm)].map((m) => m[1]),
      ['bookworm-test-testing', 'bookworm-test-unstable', 'bookworm-test-unstable-rollback0'],
    );
    assert.equal(out.split('\n\n').length, 3);
  });

  test('refuses values reprepro would misread', () => {
    const bad: Array<[string, RepreproDistribution[]]> = [
      ['newline in description', [dist('unstable', { description: 'x\nSignWith: default' })]],
      ['newline in origin', [dist('unstable', { origin: 'o\n' })]],
      ['upper-case codename', [dist('unstable', { codename: 'Bookworm-test-unstable' })]],
      ['blank in codename', [dist('unstable', { codename: 'bookworm test' })]],
      ['empty components', [dist('unstable', { components: [] })]],
      ['component with blank', [dist('unstable', { components: ['main contrib'] })]],
      ['source as architecture', [dist('unstable', { architectures: ['source', 'amd64'] })]],
      ['duplicate architecture', [dist('unstable', { architectures: ['amd64', 'amd64'] })]],
      ['short fingerprint', [dist('unstable', { signWith: 'ABCD' })]],
      ['default as key', [dist('unstable', { signWith: 'default' })]],
      ['bad ValidFor', [dist('unstable', { validFor: 'forever' })]],
      ['label with trailing blank', [dist('unstable', { label: 'x ' })]],
      ['alsoAcceptFor with slash', [dist('unstable', { alsoAcceptFor: ['../x'] })]],
      ['duplicate codename', [dist('unstable'), dist('unstable')]],
      ['suite shadowing another codename', [dist('unstable'), dist('testing', { suite: 'bookworm-test-unstable' })]],
    ];
    for (const [what, dists] of bad)
      assert.throws(
        () => renderDistributions(dists),
        (err: unknown) => err instanceof RepreproError && err.code === 'CONFIG_INVALID',
        what,
      );
  });
});

describe('Reprepro against real reprepro and gpg', () => {
  let tmp: string;
  let key: ThrowawayKey;
  let other: ThrowawayKey;
  const signed = (d: RepreproDistribution): RepreproDistribution => ({ ...d, signWith: key.fingerprint });

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'debyard-reprepro-'));
    key = await createThrowawayKey(tmp);
    other = await createThrowawayKey(await mkdtemp(path.join(tmp, 'other-')), 'Other');
  });
  after(async () => {
    await stopGpgAgent(key);
    await stopGpgAgent(other);
    await rm(tmp, { recursive: true, force: true });
  });

  async function repo(name: string): Promise<Reprepro> {
    return new Reprepro({ basedir: path.join(tmp, name), gnupgHome: key.gnupgHome, logger: quiet });
  }

  test('configure + export signs three distributions; the same input changes nothing; a dropped one vanishes', async () => {
    const r = await repo('three');
    const three = [dist('unstable', { validFor: '7d' }), dist('testing'), rollback('unstable', 0)].map(signed);
    assert.deepEqual(await r.configure(three), { changed: true });
    await r.export();
    for (const d of three) {
      const inRelease = path.join(r.basedir, 'dists', d.codename, 'InRelease');
      const { stderr } = await execa('gpgv', ['--keyring', key.keyring, inRelease]);
      assert.match(stderr, /Good signature/);
      // The key that did not sign it must not verify it.
      const wrong = await execa('gpgv', ['--keyring', other.keyring, inRelease], { reject: false });
      assert.notEqual(wrong.exitCode, 0);
    }
    const rollbackRelease = await readFile(
      path.join(r.basedir, 'dists/bookworm-test-unstable-rollback0/Release'),
      'utf8',
    );
    assert.match(rollbackRelease, /^NotAutomatic: yes$/m);
    assert.doesNotMatch(rollbackRelease, /^ButAutomaticUpgrades: yes$/m);
    const unstableRelease = await readFile(path.join(r.basedir, 'dists/bookworm-test-unstable/Release'), 'utf8');
    assert.match(unstableRelease, /^Valid-Until: /m);
    assert.match(unstableRelease, /^Components: main$/m);
    assert.match(unstableRelease, /^Architectures: amd64$/m);
    assert.equal(await readFile(path.join(r.basedir, 'conf/options'), 'utf8'), `gnupghome ${key.gnupgHome}\n`);

    assert.deepEqual(await r.configure([...three].reverse()), { changed: false });

    // Drop testing through the same instance.
    assert.deepEqual(await r.configure([three[0]!, three[2]!]), { changed: true });
    await r.export();
    assert.equal(await exists(path.join(r.basedir, 'dists/bookworm-test-testing')), false);
    assert.equal(await exists(path.join(r.basedir, 'dists/bookworm-test-unstable/InRelease')), true);
    await r.check();

    // Drop the rollback with one instance, export with a fresh one (as after a daemon restart):
    // the leftover dists/ directory is what tells it to clear the vanished distribution.
    assert.deepEqual(await r.configure([three[0]!]), { changed: true });
    const restarted = await repo('three');
    await restarted.export();
    assert.equal(await exists(path.join(r.basedir, 'dists/bookworm-test-unstable-rollback0')), false);
    const { stdout } = await restarted.run(['_listdbidentifiers']);
    assert.doesNotMatch(stdout, /testing|rollback0/);
  });

  test('export removes the indices of a dropped architecture or component, also after a restart', async () => {
    const r = await repo('narrowed');
    const d = (architectures: string[], components: string[]) => [
      signed(dist('unstable', { architectures, components })),
    ];
    const main = path.join(r.basedir, 'dists/bookworm-test-unstable/main');
    await r.configure(d(['amd64', 'i386'], ['main', 'contrib']));
    await r.export();
    assert.equal(await exists(path.join(main, 'binary-i386/Packages')), true);
    assert.equal(await exists(path.join(main, 'debian-installer/binary-i386')), true);
    assert.equal(await exists(path.join(main, 'Contents-i386.gz')), true);
    assert.equal(await exists(path.join(r.basedir, 'dists/bookworm-test-unstable/contrib')), true);

    await r.configure(d(['amd64'], ['main']));
    await r.export();
    for (const gone of [
      'binary-i386',
      'debian-installer/binary-i386',
      'Contents-i386.gz',
      '../Contents-i386.gz',
      '../contrib',
    ])
      assert.equal(await exists(path.join(main, gone)), false, gone);
    for (const kept of ['binary-amd64/Packages', 'source/Sources', 'Contents-amd64.gz', '../InRelease'])
      assert.equal(await exists(path.join(main, kept)), true, kept);

    // Widen and narrow again, exporting the narrowing with a fresh instance: reprepro refuses the
    // export ("packages database contains unused ... database"), and export() clears and retries.
    await r.configure(d(['amd64', 'i386'], ['main']));
    await r.export();
    await r.configure(d(['amd64'], ['main']));
    await (await repo('narrowed')).export();
    assert.equal(await exists(path.join(main, 'binary-i386')), false);
    await r.check();
  });

  test('export before configure says so', async () => {
    const r = await repo('unconfigured');
    await assert.rejects(r.export(), (err: unknown) => err instanceof RepreproError && err.code === 'CONFIG_INVALID');
  });

  test('run() serialises calls per basedir, and different basedirs do not wait for each other', async () => {
    const a = await repo('serial-a');
    const b = await repo('serial-b');
    await a.configure([dist('unstable'), dist('testing')].map(signed));
    await b.configure([dist('unstable')].map(signed));
    await a.export();
    await b.export();

    // A second instance for the same basedir, spelled differently, shares the queue.
    const a2 = new Reprepro({
      basedir: path.join(tmp, 'serial-b', '..', 'serial-a') + '/',
      gnupgHome: key.gnupgHome,
      logger: quiet,
    });
    const started = performance.now();
    const done: string[] = [];
    const calls = [a, a2, a, a2, a].map((r, i) =>
      r.run(['export']).then((res) => {
        done.push(`a${i}`);
        return res;
      }),
    );
    const other = b.run(['export']).then((res) => {
      done.push('b');
      return res;
    });
    const results = await Promise.all(calls);
    const wall = performance.now() - started;
    await other;

    const sum = results.reduce((s, r) => s + r.ms, 0);
    // Sequential: the wall time covers every call one after the other (no overlap, no lock waits).
    assert.ok(wall >= sum * 0.95, `wall ${wall.toFixed(0)} ms < sum ${sum} ms: calls overlapped`);
    assert.ok(wall < sum + 2000, `wall ${wall.toFixed(0)} ms ≫ sum ${sum} ms: a call waited for reprepro's lock`);
    for (const r of results) assert.doesNotMatch(r.stderr, /lock/i);
    // FIFO on one basedir; b ran beside them and finished before a's queue drained.
    assert.deepEqual(
      done.filter((d) => d !== 'b'),
      ['a0', 'a1', 'a2', 'a3', 'a4'],
    );
    assert.ok(done.indexOf('b') < done.indexOf('a4'), `b waited for a: ${done.join(' ')}`);
  });

  test('a failing call throws RepreproError with reprepro’s message, and the queue goes on', async () => {
    const r = await repo('failing');
    await r.configure([dist('unstable')].map(signed));
    await r.export();
    const missing = path.join(tmp, 'missing_1.0.dsc');
    const failing = r.run(['includedsc', 'bookworm-test-unstable', missing]);
    const next = r.run(['check']);
    await assert.rejects(failing, (err: unknown) => {
      assert.ok(err instanceof RepreproError);
      assert.equal(err.code, 'REPREPRO_FAILED');
      assert.notEqual(err.exitCode, 0);
      assert.match(err.message, /includedsc/);
      assert.match(err.message, new RegExp(`Error opening '${missing}': No such file or directory`));
      assert.doesNotMatch(err.message, /There have been errors/);
      assert.match(err.stderr, /No such file or directory/);
      return true;
    });
    await next;
    await assert.rejects(
      r.run(['includedsc', 'bookworm-nope', missing]),
      /Cannot find definition of distribution 'bookworm-nope'/,
    );
  });

  test('remove() waits for queued calls, then deletes the basedir', async () => {
    const r = await repo('removed');
    await r.configure([dist('unstable')].map(signed));
    const exported = r.export();
    const removed = r.remove();
    await exported;
    await removed;
    assert.equal(await exists(r.basedir), false);
  });
});
