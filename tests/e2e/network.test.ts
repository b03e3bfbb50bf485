// Distributed building as in mini-buildd's seeds (reference/mini-buildd.md §3.4, §5.3): three real
// instances on loopback, each with its own data directory, ports and database — ernie (repositories and
// chroots, builds on itself and grover), grover (chroots only, builds for ernie and bert) and bert
// (repositories only, builds on ernie and grover). Uploads go in with stock dput; the packager picks the
// builder with the lowest load among itself and its active remotes that have the chroot. With grover
// stopped, everything builds on ernie; when grover returns it is used again. Every upload ends INSTALLED
// and apt installs from ernie's and bert's repositories with the signature checked. The `it`s run in order.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { schrootName } from '@debyard/server/dist/chroot/chroot-ops.js';
import { aptSessionWithSource } from '../support/apt.js';
import { eventually } from '../support/daemon.js';
import { DIST, PipelineFixture, V, type PipelineOptions, type UploadRow } from '../support/pipeline.js';
import { createTestDatabase, stopScratchCluster, type TestDatabase } from '../support/postgres.js';
import { builderOf, buildsOn, CHECK_EVERY, ok, remoteBecomes, type BuildRow } from '../support/remotes.js';
import { generateUploaderKey, type UploaderKey } from '../support/uploads.js';

type Instance = 'ernie' | 'grover' | 'bert';

interface ConfigRow {
  key: string;
  status: string;
  checkState: string;
}

/** Who builds for whom, as in the seeds: each lists the other for the handshake to pass. */
const WIRING: [Instance, Instance][] = [
  ['ernie', 'grover'],
  ['ernie', 'bert'],
  ['grover', 'ernie'],
  ['grover', 'bert'],
  ['bert', 'ernie'],
  ['bert', 'grover'],
];

/** lintian is not what this suite is about, and takes a while on a busy machine: every build skips it. */
const NO_LINTIAN = 'MINI_BUILDD_OPTION: lintian-mode=disabled';

describe('network: ernie, grover and bert build for each other', { concurrency: false, timeout: 600_000 }, () => {
  const dbs: TestDatabase[] = [];
  let key: UploaderKey;
  const at = {} as Record<Instance, PipelineFixture>;
  /** Distinct versions across the network: one build never meets another of the same name. */
  let serial = 0;
  const next = () => V('1.0', ++serial);

  /** The packager's builds of `source` `version`, as `debyard builds --json` lists them. */
  async function buildsOf(packager: Instance, source: string, version: string): Promise<BuildRow[]> {
    return buildsOn(at[packager].daemon, source, version);
  }

  /** Uploads a fixture package to `packager`'s repository test; returns its version. */
  async function upload(
    packager: Instance,
    name: string,
  ): Promise<{ packager: Instance; name: string; version: string }> {
    const version = next();
    await at[packager].upload(name, version, { changesExtra: [NO_LINTIAN] });
    return { packager, name, version };
  }

  /** Waits until the upload is INSTALLED (asserting it); returns its builds' builders, by instance. */
  async function installed(u: { packager: Instance; name: string; version: string }): Promise<string[]> {
    const row: UploadRow = await at[u.packager].settled(u.name, u.version, 240_000);
    assert.equal(row.state, 'INSTALLED', `${u.name} ${u.version} on ${u.packager}: ${row.state} ${row.reason ?? ''}`);
    const builds = await buildsOf(u.packager, u.name, u.version);
    assert.ok(builds.length > 0, `${u.packager} lists no build of ${u.name} ${u.version}`);
    const builders = builds.map((b) => {
      const who = builderOf(b);
      assert.ok(who, `build ${b.id} of ${u.name} ${u.version} on ${u.packager} names no builder: ${b.builder}`);
      return who;
    });
    const seconds = (Date.parse(row.finishedAt!) - Date.parse(row.receivedAt)) / 1000;
    const sbuild = row.builds.reduce((sum, b) => sum + (b.sbuildSeconds ?? 0), 0);
    console.log(
      `# ${u.name} ${u.version} to ${u.packager}: built on ${builders.join(', ')}, INSTALLED after ${seconds.toFixed(1)} s (sbuild ${sbuild.toFixed(1)} s)`,
    );
    return builders;
  }

  async function configList(i: Instance, kind: string): Promise<ConfigRow[]> {
    return JSON.parse(ok(await at[i].daemon.cli(['config', kind, 'list', '--json']), `${kind} list`)) as ConfigRow[];
  }

  async function instanceStatus(i: Instance): Promise<{ identity: string; chroots: string[]; remotes: string[] }> {
    const res = await fetch(`${at[i].daemon.httpUrl}/mini_buildd/api/status/`);
    assert.equal(res.status, 200);
    return (await res.json()) as { identity: string; chroots: string[]; remotes: string[] };
  }

  before(async () => {
    const t0 = Date.now();
    const took = (what: string) => console.log(`# ${what} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    dbs.push(...(await Promise.all([createTestDatabase(), createTestDatabase(), createTestDatabase()])));
    key = await generateUploaderKey({ name: 'Network Tester', email: 'network@debyard.example.org' });
    const start = async (identity: Instance, db: TestDatabase, opts: PipelineOptions) => {
      at[identity] = await PipelineFixture.start(`network-${identity}`, {
        ...opts,
        key,
        // Rollback distributions would only slow every export down.
        layout: 'Default (no rollbacks)',
        daemon: { databaseUrl: db.url, args: ['--identity', identity, ...CHECK_EVERY] },
      });
      took(`${identity} set up`);
      return at[identity];
    };
    const ernie = start('ernie', dbs[0]!, {});
    // grover's chroot starts as a copy of ernie's: a second mmdebstrap would take minutes on a busy machine.
    const grover = start('grover', dbs[1]!, { repository: false, chroots: false }).then(async (g) => {
      await g.makeChroot(await ernie);
      took('grover’s chroot made');
    });
    const bert = start('bert', dbs[2]!, { chroots: false });
    const failed = (await Promise.allSettled([ernie, grover, bert])).find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  });

  after(async () => {
    await Promise.all(Object.values(at).map((f) => f.dispose()));
    await key?.dispose();
    await Promise.all(dbs.map((d) => d.drop()));
    await stopScratchCluster();
  });

  it('sets up ernie with repositories and chroots, grover with chroots only, bert with repositories only', async () => {
    const active = (rows: ConfigRow[]) => rows.filter((r) => r.status === 'ACTIVE').map((r) => r.key);
    const want: Record<Instance, { repositories: string[]; chroots: string[] }> = {
      ernie: { repositories: ['test'], chroots: ['bookworm-amd64'] },
      grover: { repositories: [], chroots: ['bookworm-amd64'] },
      bert: { repositories: ['test'], chroots: [] },
    };
    for (const i of ['ernie', 'grover', 'bert'] as const) {
      assert.equal(at[i].identity, i);
      assert.deepEqual(active(await configList(i, 'repository')), want[i].repositories, `${i}'s repositories`);
      assert.deepEqual(active(await configList(i, 'chroot')), want[i].chroots, `${i}'s chroots`);
      const status = await instanceStatus(i);
      assert.equal(status.identity, i);
      assert.deepEqual(status.chroots, want[i].chroots.length ? ['bookworm:amd64'] : [], `${i}'s status`);
    }
  });

  it('wires them as in the seeds: all six remote relations pass their checks, both ways', async () => {
    for (const [n, [from, to]] of WIRING.entries()) {
      const out = ok(
        await at[from].daemon.cli(['remote', 'add', at[to].daemon.httpUrl]),
        `remote add ${to} on ${from}`,
      );
      // The first of a pair waits in auto-reactivate until the other lists it too; the second passes at once.
      const second = WIRING.slice(0, n).some(([a, b]) => a === to && b === from);
      assert.match(out, new RegExp(`\\(${to}\\): ${second ? 'active$' : 'auto-reactivate — '}`, 'm'));
    }
    for (const [from, to] of WIRING) {
      const row = await remoteBecomes(at[from].daemon, at[to].daemon.httpUrl, 'CHECKED');
      assert.equal(row.status, 'ACTIVE', `${from}'s remote ${to}`);
      assert.equal(row.identity, to);
      assert.deepEqual(row.chroots, to === 'bert' ? [] : ['bookworm:amd64'], `${from}'s view of ${to}'s chroots`);
    }
    for (const i of ['ernie', 'grover', 'bert'] as const) {
      const others = WIRING.filter(([from]) => from === i).map(([, to]) => at[to].daemon.httpUrl);
      assert.deepEqual((await instanceStatus(i)).remotes.sort(), others.sort(), `${i}'s status lists its remotes`);
    }
  });

  // Filled by the uploads to ernie, checked by the next `it`.
  const ernieBuilders: string[] = [];

  it('installs uploads to ernie, built on ernie or grover', async () => {
    const uploads = [await upload('ernie', 'hello-c'), await upload('ernie', 'hello-all')];
    for (const u of uploads) ernieBuilders.push(...(await installed(u)));
    for (const who of ernieBuilders) assert.ok(['ernie', 'grover'].includes(who), `built on ${who}`);
  });

  it('spreads uploads to ernie by load: with loads equal, two in a row land on ernie and on grover', () => {
    assert.deepEqual([...new Set(ernieBuilders)].sort(), ['ernie', 'grover'], `builders: ${ernieBuilders.join(', ')}`);
  });

  it('builds uploads to bert (which has no chroot) on ernie and grover, never on bert', async () => {
    const uploads = [await upload('bert', 'hello-c'), await upload('bert', 'hello-all')];
    const builders: string[] = [];
    for (const u of uploads) builders.push(...(await installed(u)));
    for (const who of builders) assert.ok(['ernie', 'grover'].includes(who), `bert's upload built on ${who}`);
    assert.deepEqual([...new Set(builders)].sort(), ['ernie', 'grover'], `builders: ${builders.join(', ')}`);
  });

  // The uploads made while grover is down, checked one instance at a time.
  let whileDown: { ernie?: Promise<string[]>; bert?: Promise<string[]> } = {};

  it('with grover stopped, ernie and bert see it in auto-reactivate, and ernie builds its own uploads', async () => {
    await at.grover.stop();
    await Promise.all(
      (['ernie', 'bert'] as const).map(async (i) => {
        const down = await remoteBecomes(at[i].daemon, at.grover.daemon.httpUrl, 'AUTO_REACTIVATE');
        assert.match(down.problem ?? '', /ECONNREFUSED/);
      }),
    );
    const toErnie = await upload('ernie', 'hello-all');
    const toBert = await upload('bert', 'hello-all');
    // Both settle whatever the first assertion says: the next `it` needs bert's.
    whileDown = { ernie: installed(toErnie), bert: installed(toBert) };
    whileDown.bert!.catch(() => undefined);
    assert.deepEqual(await whileDown.ernie, ['ernie']);
  });

  it('with grover stopped, bert’s uploads build on ernie', async () => {
    assert.ok(whileDown.bert, 'the previous test made no upload to bert');
    assert.deepEqual(await whileDown.bert, ['ernie']);
  });

  // Started while grover is down, so that it builds on ernie and keeps ernie busy when grover returns.
  let slow: { packager: Instance; name: string; version: string } | undefined;

  it('when grover returns, ernie and bert check it again by themselves, and it them', async () => {
    // slow-pkg sleeps a minute in its build.
    slow = await upload('ernie', 'slow-pkg');
    const running = await eventually(async () => {
      const [b] = await buildsOf('ernie', slow!.name, slow!.version);
      return b?.state === 'BUILDING' && b.builder ? b : undefined;
    }, 120_000);
    assert.equal(builderOf(running), 'ernie');
    await at.grover.restart();
    for (const [from, to] of WIRING.filter(([a, b]) => a === 'grover' || b === 'grover')) {
      const row = await remoteBecomes(at[from].daemon, at[to].daemon.httpUrl, 'CHECKED');
      assert.equal(row.status, 'ACTIVE', `${from}'s remote ${to}`);
    }
  });

  it('when grover returns it is used again: with ernie busy, uploads to ernie and bert build on grover', async () => {
    assert.ok(slow, 'the previous test made no slow upload');
    const uploads = [await upload('ernie', 'hello-c'), await upload('bert', 'hello-c')];
    const builders: string[] = [];
    for (const u of uploads) builders.push(...(await installed(u)));
    // ernie was busy with slow-pkg: grover was idle for the first; for the second both were busy, and
    // bert had taken ernie last (with grover down).
    assert.deepEqual(builders, ['grover', 'grover']);
    assert.deepEqual(await installed(slow), ['ernie']);
  });

  it('installs with apt from ernie’s repository, signature checked', async () => {
    await aptInstall('ernie', ['hello-c', 'hello-all']);
  });

  it('installs with apt from bert’s repository, signature checked', async () => {
    await aptInstall('bert', ['hello-c', 'hello-all']);
  });

  /** apt in a session of ernie's chroot, following only `repo`'s repository test, installs `packages`. */
  async function aptInstall(repo: Instance, packages: string[]): Promise<void> {
    const url = at[repo].daemon.httpUrl;
    const keyring = new Uint8Array(await (await fetch(`${url}/archive-keyring.gpg`)).arrayBuffer());
    const apt = await aptSessionWithSource(
      schrootName(at.ernie.daemon.dataDir, 'bookworm-amd64'),
      { line: (k) => `deb [signed-by=${k}] ${url}/repositories/test/ ${DIST} main`, keyring, name: `debyard-${repo}` },
      [`apt-get -q -y --no-install-recommends install ${packages.join(' ')}`, `dpkg-query -W ${packages.join(' ')}`],
    );
    assert.equal(apt.exitCode, 0, apt.output);
    for (const p of packages) assert.match(apt.output, new RegExp(`^${p}\\s+1\\.0~test12\\+\\d+$`, 'm'), apt.output);
  }
});
