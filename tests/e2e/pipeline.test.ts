import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { schrootName } from '@debyard/server/dist/chroot/chroot-ops.js';
import { execa } from 'execa';
import { aptInstallInChroot } from '../support/apt.js';
import { launchChromium } from '../support/browser.js';
import { checkTrackerPage, checkUploadPage } from '../support/console-uploads.js';
import { eventually, TestDaemon } from '../support/daemon.js';
import { ftpSend, generateUploaderKey, makeUpload, type UploaderKey } from '../support/uploads.js';

/**
 * The whole pipeline with stock tools: `dput` (with the section `debyard dput-config` prints) sends
 * signed source uploads over FTP; they are checked, built in a real chroot, installed with reprepro, and
 * `apt-get install` in a chroot session gets them from /repositories/test/ with the signature checked.
 */

interface UploadRow {
  id: string;
  state: string;
  source: string | null;
  version: string | null;
  rejectCode: string | null;
  reason: string | null;
  uploader: string | null;
  signedBy: string | null;
  receivedAt: string;
  finishedAt: string | null;
  builds: { id: string; architecture: string; result: string | null; sbuildSeconds: number | null }[];
}

const FIELDS =
  'id state source version rejectCode reason uploader signedBy receivedAt finishedAt builds { id architecture result sbuildSeconds }';
const DIST = 'bookworm-test-unstable';
/** The Default layout's rule for unstable in repository test on bookworm (12): ~test12+[1-9]. */
const V = (base: string, n = 1) => `${base}~test12+${n}`;

describe('uploads: dput in, apt out', { concurrency: false }, () => {
  let daemon: TestDaemon;
  let token: string;
  let key: UploaderKey;
  let work: string;
  let dputCf: string;
  const made: string[] = [];

  const gql = async <T>(query: string, variables: Record<string, unknown> = {}) => {
    const r = await daemon.gql<T>(query, variables, token);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data!;
  };
  const uploadsOf = async (source: string) =>
    (
      await gql<{ uploads: { nodes: UploadRow[] } }>(
        `query($s: String) { uploads(source: $s) { nodes { ${FIELDS} } } }`,
        { s: source },
      )
    ).uploads.nodes;
  const settled = (source: string, version: string, timeoutMs = 300_000) =>
    eventually(async () => {
      const all = await gql<{ uploads: { nodes: UploadRow[] } }>(`{ uploads(first: 100) { nodes { ${FIELDS} } } }`);
      const u = all.uploads.nodes.find((n) => n.source === source && n.version === version);
      return u && ['INSTALLED', 'FAILED', 'REJECTED'].includes(u.state) ? u : undefined;
    }, timeoutMs);
  const dput = async (changes: string) => {
    const r = await execa('dput', ['-c', dputCf, `debyard-${identity}`, changes], {
      reject: false,
      all: true,
      env: { GNUPGHOME: key.gnupgHome, HOME: work },
    });
    assert.equal(r.exitCode, 0, String(r.all));
  };
  let identity = '';

  before(async () => {
    daemon = await TestDaemon.start();
    token = await daemon.adminToken;
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-pipeline-'));
    await fs.chmod(work, 0o755);
    const setup = await daemon.cli(
      ['setup', '--codename', 'bookworm', '--arch', 'amd64', '--repository', 'test', '--chroots', '--apply'],
      { timeoutMs: 600_000 },
    );
    assert.equal(setup.exitCode, 0, setup.stdout + setup.stderr);
    identity = (await gql<{ status: { identity: string } }>('{ status { identity } }')).status.identity;

    key = await generateUploaderKey({ name: 'Pipeline Tester', email: 'pipeline@debyard.example.org' });
    const armored = path.join(work, 'uploader.asc');
    await fs.writeFile(armored, key.armored);
    for (const args of [
      ['config', 'uploader', 'create', key.fingerprint, `armored=@${armored}`, 'repositories=test', 'user=admin'],
      ['config', 'uploader', 'pca', key.fingerprint],
    ]) {
      const r = await daemon.cli(args);
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    }
    const cf = await daemon.cli(['dput-config']);
    assert.equal(cf.exitCode, 0, cf.stderr);
    dputCf = path.join(work, 'dput.cf');
    await fs.writeFile(dputCf, cf.stdout);
  });

  after(async () => {
    await daemon?.cli(['config', 'chroot', 'remove', 'bookworm-amd64'], { timeoutMs: 120_000 });
    await daemon?.dispose();
    await key?.dispose();
    for (const dir of made) await fs.rm(dir, { recursive: true, force: true });
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  const upload = async (name: string, version: string, extra: { changesExtra?: string[] } = {}) => {
    const u = await makeUpload(name, { version, distribution: DIST, sign: key, ...extra });
    made.push(u.dir);
    await dput(u.changes);
    return u;
  };

  it('installs signed arch:any and arch:all packages and one that build-depends on the first; apt installs them, signature checked', async () => {
    const t0 = Date.now();
    await upload('hello-c', V('1.0'));
    await upload('hello-all', V('1.0'));
    const c = await settled('hello-c', V('1.0'));
    assert.equal(c.state, 'INSTALLED', c.reason ?? '');
    assert.equal(c.signedBy, key.fingerprint);
    assert.match(c.uploader ?? '', /admin|Pipeline Tester/);
    const sbuild = c.builds.reduce((s, b) => s + (b.sbuildSeconds ?? 0), 0);
    console.log(
      `# hello-c: dput to INSTALLED ${((Date.parse(c.finishedAt!) - Date.parse(c.receivedAt)) / 1000).toFixed(1)} s (sbuild ${sbuild.toFixed(1)} s); wall ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    const all = await settled('hello-all', V('1.0'));
    assert.equal(all.state, 'INSTALLED', all.reason ?? '');

    await upload('uses-hello', V('1.0'));
    const uses = await settled('uses-hello', V('1.0'));
    assert.equal(uses.state, 'INSTALLED', uses.reason ?? '');

    const keyring = new Uint8Array(await (await fetch(`${daemon.httpUrl}/archive-keyring.gpg`)).arrayBuffer());
    const apt = await aptInstallInChroot(schrootName(daemon.dataDir, 'bookworm-amd64'), {
      line: (k) => `deb [signed-by=${k}] ${daemon.httpUrl}/repositories/test/ ${DIST} main`,
      keyring,
      packages: ['hello-c', 'hello-all', 'uses-hello'],
      check: 'hello-c && cat /usr/share/uses-hello/greeting-from-hello-c.txt',
    });
    assert.equal(apt.exitCode, 0, apt.output);
    assert.match(apt.output, new RegExp(`${DIST}/main`));
    const greeting = apt.output.trim().split('\n').at(-1)!;
    assert.ok(greeting.length > 0 && apt.output.split(greeting).length >= 3, 'uses-hello recorded what hello-c prints');

    // Another key in Signed-By: apt refuses the repository.
    const other = await generateUploaderKey({ name: 'Someone Else' });
    try {
      const wrong = await aptInstallInChroot(schrootName(daemon.dataDir, 'bookworm-amd64'), {
        line: (k) => `deb [signed-by=${k}] ${daemon.httpUrl}/repositories/test/ ${DIST} main`,
        keyring: new Uint8Array(
          (await execa('gpg', ['--homedir', other.gnupgHome, '--export', other.fingerprint], { encoding: 'buffer' }))
            .stdout,
        ),
        packages: ['hello-c'],
      });
      assert.notEqual(wrong.exitCode, 0);
      assert.match(wrong.output, /NO_PUBKEY|not signed/);
    } finally {
      await other.dispose();
    }

    // The events tell the story, with who uploaded.
    const { events } = await gql<{ events: { type: string; payload: Record<string, unknown> }[] }>(
      '{ events(limit: 200) { type payload } }',
    );
    const mine = events.filter((e) => e.payload.source === 'hello-c').map((e) => e.type);
    for (const type of ['PACKAGING', 'BUILD_STARTED', 'BUILD_FINISHED', 'INSTALLED'])
      assert.ok(mine.includes(type), type);
  });

  it('fails a package that fails to build and one that fails lintian (errfail), with the reason; the repository keeps neither', async () => {
    await upload('fail-pkg', V('1.0'));
    await upload('lintian-err', V('1.0'));
    const fail = await settled('fail-pkg', V('1.0'));
    assert.equal(fail.state, 'FAILED');
    assert.match(fail.reason ?? '', /amd64 failed .*build/);
    const lint = await settled('lintian-err', V('1.0'));
    assert.equal(lint.state, 'FAILED');
    assert.match(lint.reason ?? '', /lintian/);
    const packages = await (
      await fetch(`${daemon.httpUrl}/repositories/test/dists/${DIST}/main/binary-amd64/Packages`)
    ).text();
    assert.match(packages, /^Package: hello-c$/m);
    assert.doesNotMatch(packages, /fail-pkg|lintian-err/);
  });

  it('rejects a version that breaks the suite’s rule and one already installed, precisely, and stays up', async () => {
    await upload('hello-all', '2.0');
    const rule = await eventually(async () =>
      (await uploadsOf('hello-all')).find((u) => u.version === '2.0' && u.state === 'REJECTED'),
    );
    assert.equal(rule.rejectCode, 'VERSION_RULE');
    await upload('hello-c', V('1.0'), { changesExtra: ['Again.'] });
    const again = await eventually(async () => (await uploadsOf('hello-c')).find((u) => u.state === 'REJECTED'));
    assert.equal(again.rejectCode, 'VERSION_EXISTS');
    assert.match(again.reason ?? '', /raise the version/);
    assert.equal((await daemon.cli(['status'])).exitCode, 0);
  });

  it('rejects unsigned, tampered and misaddressed uploads precisely; the daemon stays up, the repository unchanged', async () => {
    // From here on, the repository takes signed uploads only.
    for (const args of [
      ['config', 'repository', 'set', 'test', 'allowUnauthenticatedUploads=false'],
      ['config', 'repository', 'pca', 'test'],
    ]) {
      const r = await daemon.cli(args, { timeoutMs: 120_000 });
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    }
    const packagesUrl = `${daemon.httpUrl}/repositories/test/dists/${DIST}/main/binary-amd64/Packages`;
    const before = await (await fetch(packagesUrl)).text();
    const rejected = async (source: string, version: string) =>
      eventually(
        async () => (await uploadsOf(source)).find((u) => u.version === version && u.state === 'REJECTED'),
        30_000,
      );

    const unsigned = await makeUpload('hello-all', { version: V('1.0', 3), distribution: DIST });
    const tampered = await makeUpload('hello-all', { version: V('1.0', 4), distribution: DIST, sign: key });
    const lost = await makeUpload('hello-all', {
      version: V('1.0', 5),
      distribution: 'bookworm-nosuch-unstable',
      sign: key,
    });
    made.push(unsigned.dir, tampered.dir, lost.dir);
    await fs.appendFile(
      path.join(
        tampered.dir,
        tampered.files.find((f) => f.endsWith('.tar.xz'))!,
      ),
      'x',
    );
    for (const u of [unsigned, tampered, lost]) await ftpSend(daemon.ftpPort, u);

    assert.equal((await rejected('hello-all', V('1.0', 3))).rejectCode, 'SIGNATURE_MISSING');
    const bad = await rejected('hello-all', V('1.0', 4));
    assert.match(bad.rejectCode ?? '', /^(FILE_SIZE|CHECKSUM_MISMATCH)$/);
    assert.match(bad.reason ?? '', /tar\.xz/);
    const nowhere = await rejected('hello-all', V('1.0', 5));
    assert.equal(nowhere.rejectCode, 'DISTRIBUTION_UNKNOWN');
    assert.match(nowhere.reason ?? '', /bookworm-nosuch-unstable/);

    assert.equal((await daemon.cli(['status'])).exitCode, 0, 'the daemon is up');
    assert.equal(await (await fetch(packagesUrl)).text(), before, 'the repository is unchanged');
  });

  it('two uploads of one source version at once (FTP sessions with the same file names): exactly one wins', async () => {
    const a = await makeUpload('hello-all', {
      version: V('1.0', 2),
      distribution: DIST,
      sign: key,
      changesExtra: ['One.'],
    });
    const b = await makeUpload('hello-all', {
      version: V('1.0', 2),
      distribution: DIST,
      sign: key,
      changesExtra: ['Two.'],
    });
    made.push(a.dir, b.dir);
    await Promise.all([dput(a.changes), dput(b.changes)]);
    const both = await eventually(async () => {
      const rows = (await uploadsOf('hello-all')).filter((u) => u.version === V('1.0', 2));
      return rows.length === 2 && rows.every((u) => ['INSTALLED', 'FAILED', 'REJECTED'].includes(u.state))
        ? rows
        : undefined;
    }, 300_000);
    assert.deepEqual(both.map((u) => u.state).sort(), ['INSTALLED', 'REJECTED']);
    assert.equal(both.find((u) => u.state === 'REJECTED')!.rejectCode, 'VERSION_EXISTS');
  });

  it('shows the real uploads in the console: the failed one with its reason, the tracker with the installed versions', async () => {
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext({ baseURL: daemon.httpUrl })).newPage();
      const failed = (await uploadsOf('fail-pkg'))[0]!;
      const shown = await checkUploadPage(page, daemon.httpUrl, failed.id, { state: 'FAILED', reason: /build failed/ });
      assert.equal(shown.builds.length, 1);
      assert.equal(shown.builds[0]!.href, `/builds/${failed.builds[0]!.id}`);
      const tracker = await checkTrackerPage(page, daemon.httpUrl, 'hello-c', {
        versions: [{ distribution: DIST, version: V('1.0'), repository: 'test' }],
      });
      assert.ok(tracker.uploads.some((u) => u.state === 'INSTALLED'));
      assert.ok(tracker.uploads.some((u) => u.state === 'REJECTED'));
      assert.deepEqual(
        tracker.buildTimes.map((t) => t.architecture),
        ['amd64'],
      );
    } finally {
      await browser.close();
    }
  });

  it('a kill -9 mid-build and a restart: the upload still ends INSTALLED, the repository checks clean', async () => {
    await upload('hello-t', V('1.0'));
    await eventually(async () => {
      const [u] = await uploadsOf('hello-t');
      return u?.state === 'PACKAGING' && u.builds.length ? u : undefined;
    }, 60_000);
    const building = await eventually(async () => {
      const { builds } = await gql<{ builds: { nodes: { id: string; state: string }[] } }>(
        '{ builds(source: "hello-t") { nodes { id state } } }',
      );
      return builds.nodes.find((b) => b.state === 'BUILDING');
    }, 60_000);
    await new Promise((r) => setTimeout(r, 1500));
    const { dataDir, httpPort, ftpPort } = daemon;
    await daemon.stop('SIGKILL');
    daemon = await TestDaemon.start({ dataDir, httpPort, ftpPort });
    token = await daemon.adminToken;
    const done = await settled('hello-t', V('1.0'));
    assert.equal(done.state, 'INSTALLED', done.reason ?? '');
    const { build } = await gql<{ build: { attempt: number; result: string } }>(
      'query($id: ID!) { build(id: $id) { attempt result } }',
      { id: building.id },
    );
    assert.equal(build.result, 'SUCCESSFUL');
    assert.equal(build.attempt, 2, 'the interrupted build ran again');
    const check = await execa(
      'runuser',
      ['-u', 'debyard', '--', 'reprepro', '-b', path.join(dataDir, 'repositories/test'), 'check'],
      {
        reject: false,
        all: true,
        env: { GNUPGHOME: path.join(dataDir, 'keys/gnupg') },
      },
    );
    assert.equal(check.exitCode, 0, String(check.all));
  });
});
