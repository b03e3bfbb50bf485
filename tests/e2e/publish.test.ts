// Publishing apt can trust, end to end on a real daemon with a real chroot: a validity (Valid-Until) set
// on repository test; then two apt clients (by-hash as the Release asks, and by-hash forced, with
// Contents) and a poller of InRelease and every by-hash file it lists run in a tight loop while 20
// uploads and rebuilds are installed and each migrated from unstable to testing, and none of
// them may ever fail (bad-inputs C.4 cases 29-30; issue 6: "... installed and migrated never fails").
//
// The `it`s run in order and share one daemon.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { aptUpdate, aptUpdateLoop } from '../support/apt.js';
import { eventually } from '../support/daemon.js';
import { DIST, PipelineFixture, V } from '../support/pipeline.js';
import { byHash, checkByHashOnDisk, sha256, sha256List, signedRelease, unwritten } from '../support/publish.js';

const ROLLBACK0 = `${DIST}-rollback0`;
const TESTING = 'bookworm-test-testing';

describe('publishing: by-hash, Date, Valid-Until, no hash-sum mismatch during installs', { concurrency: false }, () => {
  let f: PipelineFixture;
  let keyring: Uint8Array;
  let keyringFile: string;
  const repoUrl = () => `${f.daemon.httpUrl}/repositories/test/`;
  const repoDir = () => path.join(f.daemon.dataDir, 'repositories/test');

  before(async () => {
    f = await PipelineFixture.start('publish');
    keyring = new Uint8Array(await (await fetch(`${f.daemon.httpUrl}/archive-keyring.gpg`)).arrayBuffer());
    keyringFile = path.join(f.work, 'archive-keyring.gpg');
    await fs.writeFile(keyringFile, keyring);
  });
  after(async () => {
    await f?.dispose();
  });

  it('publishes Date, Valid-Until (a validity set on the repository), Acquire-By-Hash, signed for gpgv and sqv', async () => {
    // Three build slots and no QA (lintian and autopkgtest are not what this suite is about) for the
    // installs to come; edits first, then prepare again (daemon, then repository).
    for (const args of [
      ['config', 'daemon', 'set', 'daemon', 'maxParallelBuilds=3'],
      ['config', 'distribution', 'set', 'bookworm', 'lintianMode=disabled'],
      ['config', 'distribution', 'set', 'bookworm', 'autopkgtestMode=disabled'],
      ['config', 'repository', 'set', 'test', 'releaseValidDays=7'],
      ['config', 'daemon', 'pca', 'daemon'],
      ['config', 'repository', 'pca', 'test'],
      ['engine', 'stop'],
      ['engine', 'start'],
    ]) {
      const r = await f.daemon.cli(args, { timeoutMs: 120_000 });
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    }
    for (const dist of [DIST, ROLLBACK0, 'bookworm-test-stable']) {
      const release = await signedRelease(repoUrl(), dist, keyringFile);
      assert.match(release, /^Acquire-By-Hash: yes$/m);
      const date = Date.parse(/^Date: (.*)$/m.exec(release)?.[1] ?? '');
      const validUntil = Date.parse(/^Valid-Until: (.*)$/m.exec(release)?.[1] ?? '');
      assert.ok(Math.abs(date - Date.now()) < 120_000, `Date is now: ${release}`);
      assert.equal(validUntil - date, 7 * 24 * 3600_000, 'Valid-Until is seven days after Date');
      const list = sha256List(release);
      assert.ok(list.some((e) => e.path === 'main/binary-amd64/Packages.xz'));
      assert.ok(list.some((e) => e.path === 'main/source/Sources.xz'));
      for (const e of list.filter((x) => !unwritten(x.path))) {
        const res = await fetch(`${repoUrl()}dists/${dist}/${byHash(e)}`);
        assert.equal(res.status, 200, byHash(e));
        assert.equal(sha256(new Uint8Array(await res.arrayBuffer())), e.sha256);
      }
    }
    assert.ok((await checkByHashOnDisk(path.join(repoDir(), 'dists'))) > 0);
  });

  it('an apt-get update loop never fails while 20 uploads and rebuilds are installed and migrated', async () => {
    const lines = (k: string) =>
      [
        `deb [signed-by=${k}] ${repoUrl()} ${DIST} main`,
        `deb-src [signed-by=${k}] ${repoUrl()} ${DIST} main`,
        `deb [signed-by=${k}] ${repoUrl()} ${ROLLBACK0} main`,
        `deb [signed-by=${k}] ${repoUrl()} ${TESTING} main`,
        `deb [signed-by=${k}] ${repoUrl()} ${TESTING}-rollback0 main`,
      ].join('\n') + '\n';
    const clients = {
      'by-hash as the Release says': await aptUpdateLoop({ line: lines, keyring, pauseMs: 2000 }),
      'by-hash forced, with Contents': await aptUpdateLoop({
        line: lines,
        keyring,
        pauseMs: 2000,
        options: [
          'Acquire::By-Hash=force',
          'Acquire::IndexTargets::deb::Contents-deb::MetaKey=$(COMPONENT)/Contents-$(ARCHITECTURE)',
          'Acquire::IndexTargets::deb::Contents-deb::ShortDescription=Contents-$(ARCHITECTURE)',
          'Acquire::IndexTargets::deb::Contents-deb::Description=$(RELEASE)/$(COMPONENT) $(ARCHITECTURE) Contents',
        ],
      }),
    };
    // A poller: InRelease of unstable and testing, then every by-hash file each lists, at once; each
    // must be there and right.
    const poll = { runs: 0, fetches: 0, problems: [] as string[] };
    let polling = true;
    const poller = (async () => {
      while (polling) {
        for (const dist of [DIST, TESTING]) {
          const text = await (await fetch(`${repoUrl()}dists/${dist}/InRelease`)).text();
          for (const e of sha256List(text.replace(/^- /gm, ''))) {
            if (unwritten(e.path)) continue;
            const res = await fetch(`${repoUrl()}dists/${dist}/${byHash(e)}`);
            const body = new Uint8Array(await res.arrayBuffer());
            poll.fetches++;
            if (res.status !== 200 || sha256(body) !== e.sha256)
              poll.problems.push(`${res.status} ${dist}/${byHash(e)}`);
          }
        }
        poll.runs++;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    })();

    const t0 = Date.now();
    const installed: { name: string; version: string; seconds: number }[] = [];
    const migrated: string[] = [];
    const expectInstalled = async (name: string, version: string) => {
      const u = await f.settled(name, version);
      assert.equal(u.state, 'INSTALLED', `${name} ${version}: ${u.reason ?? ''}`);
      installed.push({ name, version, seconds: (Date.parse(u.finishedAt!) - Date.parse(u.receivedAt)) / 1000 });
    };
    const rebuild = async (name: string) => {
      const r = await f.daemon.cli(['port', name, DIST, DIST, '--wait'], { timeoutMs: 300_000 });
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      installed.push({ name, version: 'rebuild', seconds: NaN });
    };
    // Each install is migrated to testing (its version there goes to rollback0) while the next upload
    // builds, and before that one is installed.
    const migrate = async (name: string) => {
      const r = await f.daemon.cli(['migrate', name, DIST], { timeoutMs: 120_000 });
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      migrated.push(name);
    };
    const chain = async (name: string, uploads: number, rebuilds: number) => {
      let migrating = Promise.resolve();
      for (let n = 1; n <= uploads; n++) {
        await f.upload(name, V(`1.${n}`));
        await migrating;
        await expectInstalled(name, V(`1.${n}`));
        migrating = migrate(name);
        migrating.catch(() => {}); // handled where it is awaited, not unhandled meanwhile
      }
      await migrating;
      for (let n = 0; n < rebuilds; n++) {
        await rebuild(name);
        await migrate(name);
      }
    };
    try {
      // Four chains side by side on three build slots: 6 + 6 + 4 + 4 installs (each chain's last a rebuild).
      await Promise.all([
        chain('hello-all', 5, 1),
        chain('hello-c', 5, 1),
        chain('hello-t', 3, 1),
        (async () => {
          // It build-depends and depends on hello-c: once that is in and migrated.
          await eventually(async () => migrated.includes('hello-c') || undefined, 300_000);
          await chain('uses-hello', 3, 1);
        })(),
      ]);
    } catch (err) {
      // The apt loops would otherwise run on and hold the file until its time limit.
      await Promise.all(Object.values(clients).map((c) => c.stop()));
      console.log(`# the daemon's last words:\n${f.daemon.logs.slice(-6000)}`);
      throw err;
    } finally {
      polling = false;
      await poller;
    }
    const seconds = (Date.now() - t0) / 1000;
    const results = Object.fromEntries(
      await Promise.all(Object.entries(clients).map(async ([name, c]) => [name, await c.stop()] as const)),
    );
    console.log(
      `# ${installed.length} installs and ${migrated.length} migrations in ${seconds.toFixed(0)} s; ` +
        Object.entries(results)
          .map(
            ([name, r]) =>
              `${name}: ${r.runs} updates, ${r.byHashFetches} by-hash fetches, ${r.failures.length} failed`,
          )
          .join('; ') +
        `; poller: ${poll.runs} InRelease, ${poll.fetches} by-hash fetches, ${poll.problems.length} problems`,
    );
    assert.equal(installed.length, 20);
    assert.equal(migrated.length, 20);
    for (const [name, r] of Object.entries(results)) {
      assert.deepEqual(r.failures, [], `${name}: ${JSON.stringify(r.failures.slice(0, 3), null, 1)}`);
      assert.ok(r.runs >= 10, `${name} ran only ${r.runs} times`);
      assert.ok(r.byHashFetches > 0, `${name} never fetched by hash`);
    }
    assert.deepEqual(poll.problems, []);
    assert.ok(poll.runs >= 10);

    // Afterwards: every distribution as apt trusts it, and every by-hash file it names exists.
    const release = await signedRelease(repoUrl(), DIST, keyringFile);
    assert.match(release, /^Valid-Until: /m);
    assert.ok((await checkByHashOnDisk(path.join(repoDir(), 'dists'))) > 0);
    await signedRelease(repoUrl(), TESTING, keyringFile);
    // Older generations are kept: the history of unstable names the newest Release and two before it at least.
    const history = JSON.parse(await fs.readFile(path.join(repoDir(), 'by-hash-history', `${DIST}.json`), 'utf8')) as {
      generations: { release: string }[];
    };
    assert.ok(history.generations.length >= 3, `${history.generations.length} generations kept`);
    const fresh = await aptUpdate(lines, keyring);
    assert.equal(fresh.exitCode, 0, fresh.output);
  });
});
