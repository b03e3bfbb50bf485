/**
 * Intake end to end: real dput (ftp and http methods) into a real daemon, uploads in spool and not
 * in incoming, .changes with missing files, HTTP's rules, and a kill -9 right after an upload.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { eventually, TestDaemon } from '../support/daemon.js';
import { buildSourcePackage } from '../support/packages.js';
import { recentEvents, type EventRow } from '../support/scenarios.js';

const PACKAGE = 'hello-all';

/** An unsigned source upload of the fixture: .dsc, tarball and `_source.changes` in `dir`. */
async function sourceUpload(dir: string, version: string): Promise<{ changes: string; files: string[] }> {
  const dsc = await buildSourcePackage(PACKAGE, dir, { version, distribution: 'bookworm-test-unstable' });
  const tree = path.join(dir, `tree-${version}`);
  const env = { LC_ALL: 'C.UTF-8' };
  await execa('dpkg-source', ['-x', path.basename(dsc), path.basename(tree)], { cwd: dir, env });
  const changes = path.join(dir, `${PACKAGE}_${version}_source.changes`);
  try {
    await execa('dpkg-genchanges', ['-S', `-O${changes}`], { cwd: tree, env });
  } finally {
    await fs.rm(tree, { recursive: true, force: true });
  }
  const files = (await fs.readdir(dir)).filter((f) => f.startsWith(`${PACKAGE}_${version}`) && !f.endsWith('.upload'));
  return { changes, files };
}

describe('intake: uploads go from incoming into spool, exactly once', () => {
  let daemon: TestDaemon;
  let work: string;
  let dputCf: string;
  let ftpHost: string;
  let httpHost: string;

  const spoolDirs = async () =>
    (await fs.readdir(path.join(daemon.dataDir, 'spool')).catch(() => [] as string[])).filter((n) => /^\d+$/.test(n));
  const incoming = async () =>
    (await fs.readdir(path.join(daemon.dataDir, 'incoming')))
      .filter((n) => n !== 'http' && n !== 'sessions')
      .concat((await fs.readdir(path.join(daemon.dataDir, 'incoming/http'))).map((n) => `http/${n}`))
      .concat(
        (await fs.readdir(path.join(daemon.dataDir, 'incoming/sessions')).catch(() => [] as string[])).map(
          (n) => `sessions/${n}`,
        ),
      );
  const received = async (changesName: string) =>
    (await recentEvents(daemon, 200)).filter(
      (e) => e.type === 'UPLOAD_RECEIVED' && e.payload.changesName === changesName,
    );
  const waitReceived = (changesName: string) => eventually(async () => (await received(changesName))[0], 20_000);

  async function dput(host: string, changes: string) {
    return execa('dput', ['-c', dputCf, '-u', '-f', host, changes], { reject: false, env: { LC_ALL: 'C.UTF-8' } });
  }

  /** The session end clears its directory just after the hand-over committed: give it a moment. */
  async function assertIncomingEmpty(message?: string) {
    const left = await eventually(async () => ((await incoming()).length === 0 ? [] : undefined), 5000).catch(() =>
      incoming(),
    );
    assert.deepEqual(left, [], message);
  }

  async function assertSpooled(event: EventRow, files: string[]) {
    const dir = path.join(daemon.dataDir, 'spool', String(event.payload.upload));
    assert.deepEqual((await fs.readdir(dir)).sort(), [...files].sort());
    await assertIncomingEmpty('nothing is left in incoming');
  }

  before(async () => {
    daemon = await TestDaemon.start({ args: ['--ftp-max-file-size', '1M'] });
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-intake-'));
    await fs.chmod(work, 0o755);
    const r = await daemon.cli(['dput-config']);
    assert.equal(r.exitCode, 0, r.stderr);
    const sections = [...r.stdout.matchAll(/^\[([^\]]+)\]$/gm)].map((m) => m[1]!);
    ftpHost = sections.find((s) => !s.endsWith('-http'))!;
    httpHost = sections.find((s) => s.endsWith('-http'))!;
    assert.ok(ftpHost && httpHost, r.stdout);
    assert.match(r.stdout, /method +?= http\nfqdn +?= 127\.0\.0\.1:\d+\nincoming +?= \/upload\//);
    dputCf = path.join(work, 'dput.cf');
    await fs.writeFile(dputCf, `[DEFAULT]\nallow_unsigned_uploads = 1\n\n${r.stdout}`);
  });
  after(async () => {
    await daemon?.dispose();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it('takes a dput upload over FTP into spool/<id>/ when the session ends', async () => {
    const dir = path.join(work, 'ftp');
    const { changes, files } = await sourceUpload(dir, '1.1');
    const r = await dput(ftpHost, changes);
    assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
    const event = await waitReceived(path.basename(changes));
    assert.equal(event.payload.via, 'FTP');
    assert.equal(event.payload.remoteAddress, '127.0.0.1');
    await assertSpooled(event, files);
    assert.ok(
      (await recentEvents(daemon)).some((e) => e.type === 'FTP_UPLOAD' && e.payload.file === path.basename(changes)),
      'the FTP_UPLOAD events are still there',
    );
  });

  it('takes a dput upload over HTTP (PUT /upload/<file>)', async () => {
    const dir = path.join(work, 'http');
    const { changes, files } = await sourceUpload(dir, '1.2');
    const r = await dput(httpHost, changes);
    assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /Uploading .*_source\.changes: done/);
    const [event] = await received(path.basename(changes));
    assert.ok(event, 'handed over before dput was told "done"');
    assert.equal(event.payload.via, 'HTTP');
    await assertSpooled(event, files);
  });

  it('HTTP keeps FTP’s rules: safe names, no overwrite, the size cap', async () => {
    const put = (name: string, body: BodyInit) => fetch(`${daemon.httpUrl}/upload/${name}`, { method: 'PUT', body });
    assert.equal((await put('..%2Fescape', 'x')).status, 400);
    assert.equal((await put('.hidden', 'x')).status, 400);
    assert.equal((await put('a%5Cb', 'x')).status, 400);
    assert.equal((await put('first.txt', 'one')).status, 201);
    const again = await put('first.txt', 'two');
    assert.equal(again.status, 409);
    assert.match(await again.text(), /never overwritten/);
    assert.equal((await put('big.bin', new Uint8Array(1024 * 1024 + 1))).status, 413);
    assert.equal((await fetch(`${daemon.httpUrl}/upload/first.txt`)).status, 405);
    const kept = await fs.readFile(path.join(daemon.dataDir, 'incoming/http/first.txt'), 'utf8');
    assert.equal(kept, 'one');
    assert.ok(!(await incoming()).includes('http/big.bin'));
    await fs.unlink(path.join(daemon.dataDir, 'incoming/http/first.txt'));
  });

  it('reports a .changes whose files are missing, by name, and spools nothing (FTP and HTTP)', async () => {
    const dir = path.join(work, 'missing');
    const { changes, files } = await sourceUpload(dir, '1.3');
    const dsc = files.find((f) => f.endsWith('.dsc'))!;
    const tarball = files.find((f) => f.includes('.tar.'))!;
    const spooled = await spoolDirs();
    const url = `ftp://127.0.0.1:${daemon.ftpPort}/`;
    // One curl, one FTP session: the .dsc and the .changes, but not the tarball.
    const r = await execa('curl', ['-sS', '--max-time', '20', '-T', path.join(dir, dsc), url, '-T', changes, url], {
      reject: false,
    });
    assert.equal(r.exitCode, 0, r.stderr);
    const event = await eventually(
      async () =>
        (await recentEvents(daemon)).find(
          (e) => e.type === 'UPLOAD_INCOMPLETE' && e.payload.changesName === path.basename(changes),
        ),
      15_000,
    );
    assert.deepEqual(event.payload.missing, [tarball]);
    assert.match(event.summary, new RegExp(`${tarball.replace(/[.+]/g, '\\$&')} did not arrive`));
    assert.deepEqual(await spoolDirs(), spooled);
    await assertIncomingEmpty();

    const body = await fs.readFile(changes, 'utf8');
    const res = await fetch(`${daemon.httpUrl}/upload/${path.basename(changes)}`, { method: 'PUT', body });
    assert.equal(res.status, 422);
    assert.match(await res.text(), /did not arrive/);
    assert.deepEqual(await spoolDirs(), spooled);
    await assertIncomingEmpty();
  });

  it('keeps an upload across a kill -9 right after dput: exactly one, with its spool directory', async () => {
    const dir = path.join(work, 'crash');
    const { changes, files } = await sourceUpload(dir, '1.4');
    const r = await dput(ftpHost, changes);
    assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
    const { dataDir, httpPort, ftpPort } = daemon;
    await daemon.stop('SIGKILL');
    daemon = await TestDaemon.start({ dataDir, httpPort, ftpPort, args: ['--ftp-max-file-size', '1M'] });
    const event = await waitReceived(path.basename(changes));
    await assertSpooled(event, files);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal((await received(path.basename(changes))).length, 1, 'handed over exactly once');
    const numbered = await spoolDirs();
    assert.equal(new Set(numbered).size, numbered.length);
  });
});
