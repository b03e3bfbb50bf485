import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { EventPayload, EventType } from '../events/event.entity.js';
import { createLogger } from '../log.js';
import { Intake, listChangesFiles, type IntakeStore, type ReceivedUpload } from './intake.js';
import { UploadVia } from './upload.entity.js';

/** The database as far as the intake sees it; `failCommit` makes the next commit fail after the rename. */
class MemoryStore implements IntakeStore {
  uploads = new Map<number, ReceivedUpload & { spoolDir: string }>();
  events: { type: EventType; summary: string; payload: EventPayload }[] = [];
  failCommit = false;
  failPublish = false;
  private seq = 0;

  async receive(
    upload: ReceivedUpload,
    spool: { dirOf(id: number): string; publish(id: number): Promise<void> },
  ): Promise<number> {
    const id = ++this.seq;
    if (this.failPublish) throw new Error('the database went away');
    await spool.publish(id);
    if (this.failCommit) throw new Error('commit failed');
    this.uploads.set(id, { ...upload, spoolDir: spool.dirOf(id) });
    return id;
  }

  async existing(ids: number[]): Promise<Set<number>> {
    return new Set(ids.filter((id) => this.uploads.has(id)));
  }

  async report(type: EventType, summary: string, payload: EventPayload): Promise<void> {
    this.events.push({ type, summary, payload });
  }
}

function changes(files: string[], opts: { signed?: boolean } = {}): string {
  const body = [
    'Format: 1.8',
    'Source: hello',
    'Version: 1.0',
    'Distribution: bookworm-test-unstable',
    'Files:',
    ...files.map((f) => ` d41d8cd98f00b204e9800998ecf8427e 4 misc optional ${f}`),
    'Checksums-Sha256:',
    ...files.map((f) => ` ${'a'.repeat(64)} 4 ${f}`),
    '',
  ].join('\n');
  if (!opts.signed) return body;
  return `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n${body}-----BEGIN PGP SIGNATURE-----\n\nxyz\n-----END PGP SIGNATURE-----\n`;
}

describe('intake', () => {
  let data: string;
  let store: MemoryStore;
  let intake: Intake;
  const ftpDir = () => path.join(data, 'incoming');
  const spool = () => path.join(data, 'spool');

  /** Puts a complete (0440) file into incoming, as FTP and HTTP leave them. */
  async function arrive(name: string, content = 'data', via = UploadVia.FTP, mode = 0o440) {
    const file = path.join(intake.incomingDir(via), name);
    await fs.writeFile(file, content, { mode: 0o600 });
    await fs.chmod(file, mode);
    return { name, path: file, size: Buffer.byteLength(content) };
  }
  const spoolDirs = async () => (await fs.readdir(spool())).sort();
  const incoming = async (via = UploadVia.FTP) =>
    (await fs.readdir(intake.incomingDir(via))).filter((n) => n !== 'http' && n !== 'sessions').sort();

  /** Puts a complete file into an FTP session's own directory. */
  async function arriveInSession(session: string, name: string, content = 'data') {
    const dir = path.join(intake.sessionsDir, session);
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, name);
    await fs.writeFile(file, content, { mode: 0o600 });
    await fs.chmod(file, 0o440);
    return { name, path: file, size: Buffer.byteLength(content) };
  }

  beforeEach(async () => {
    data = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-intake-'));
    store = new MemoryStore();
    intake = new Intake({ dataDir: data, store, logger: createLogger('silent'), unclaimedGraceMs: 60_000 });
    await intake.recover();
  });
  afterEach(async () => {
    await intake.stop();
    await fs.rm(data, { recursive: true, force: true });
  });

  it('keeps two FTP sessions that upload files of the same names apart, and clears each session', async () => {
    const names = ['hello_1.0.dsc', 'hello_1.0.tar.xz'];
    const sessions = [];
    for (const [session, body] of [
      ['a', 'one'],
      ['b', 'two'],
    ] as const) {
      const files = [];
      for (const n of names) files.push(await arriveInSession(session, n, `${body}:${n}`));
      files.push(await arriveInSession(session, 'hello_1.0_source.changes', changes(names)));
      files.push(await arriveInSession(session, 'stray.txt'));
      sessions.push({ dir: path.join(intake.sessionsDir, session), files });
    }
    const results = await Promise.all(sessions.map((s) => intake.handOverSession(s.dir, s.files, null)));
    assert.deepEqual(
      results.map((r) => r.received.length),
      [1, 1],
    );
    const [one, two] = results.map((r) => store.uploads.get(r.received[0]!.id)!);
    assert.equal(await fs.readFile(path.join(one!.spoolDir, 'hello_1.0.tar.xz'), 'utf8'), 'one:hello_1.0.tar.xz');
    assert.equal(await fs.readFile(path.join(two!.spoolDir, 'hello_1.0.tar.xz'), 'utf8'), 'two:hello_1.0.tar.xz');
    assert.deepEqual(await fs.readdir(intake.sessionsDir), [], 'the session directories are gone');
    const cleaned = store.events.filter((e) => e.type === 'INCOMING_CLEANED');
    assert.deepEqual(
      cleaned.map((e) => e.payload.files),
      [['stray.txt'], ['stray.txt']],
    );
  });

  it('hands over what a session cut off by a crash finished, at the next start, and removes the rest', async () => {
    const names = ['hello_1.0.dsc'];
    await arriveInSession('crashed', 'hello_1.0.dsc');
    await arriveInSession('crashed', 'hello_1.0_source.changes', changes(names));
    const partial = path.join(intake.sessionsDir, 'crashed', 'half.tar.xz');
    await fs.writeFile(partial, 'hal', { mode: 0o600 });
    await intake.recover();
    assert.equal(store.uploads.size, 1);
    assert.deepEqual(await fs.readdir(intake.sessionsDir), []);
  });

  it('hands over a complete upload: spool/<id> holds the .changes and its files, incoming is empty', async () => {
    const files = [
      await arrive('hello_1.0.dsc'),
      await arrive('hello_1.0.tar.xz'),
      await arrive('hello_1.0_source.changes', changes(['hello_1.0.dsc', 'hello_1.0.tar.xz'], { signed: true })),
    ];
    const result = await intake.handOver(files, UploadVia.FTP, '192.0.2.1');
    assert.deepEqual(result, { received: [{ id: 1, changesName: 'hello_1.0_source.changes' }], incomplete: [] });
    assert.deepEqual(await spoolDirs(), ['1']);
    assert.deepEqual((await fs.readdir(path.join(spool(), '1'))).sort(), [
      'hello_1.0.dsc',
      'hello_1.0.tar.xz',
      'hello_1.0_source.changes',
    ]);
    assert.deepEqual(await incoming(), []);
    const upload = store.uploads.get(1)!;
    assert.equal(upload.spoolDir, path.join(spool(), '1'));
    assert.equal(upload.remoteAddress, '192.0.2.1');
    assert.match(upload.changesSha256, /^[0-9a-f]{64}$/);
    // The spooled files are no longer linked from incoming.
    assert.equal((await fs.stat(path.join(spool(), '1', 'hello_1.0.dsc'))).nlink, 1);
  });

  it('matches a .changes against files of earlier sessions (one file per session)', async () => {
    await arrive('hello_1.0.dsc');
    await arrive('hello_1.0.tar.xz');
    const c = await arrive('hello_1.0_source.changes', changes(['hello_1.0.dsc', 'hello_1.0.tar.xz']));
    const result = await intake.handOver([c], UploadVia.FTP, null);
    assert.equal(result.received.length, 1);
    assert.deepEqual(await incoming(), []);
  });

  it('removes a .changes whose files are missing, with the files that came, and names the missing ones', async () => {
    const files = [
      await arrive('hello_1.0.dsc'),
      await arrive('hello_1.0_source.changes', changes(['hello_1.0.dsc', 'hello_1.0.tar.xz'])),
    ];
    const result = await intake.handOver(files, UploadVia.FTP, '192.0.2.1');
    assert.deepEqual(result.incomplete, [{ changesName: 'hello_1.0_source.changes', missing: ['hello_1.0.tar.xz'] }]);
    assert.deepEqual(await spoolDirs(), []);
    assert.deepEqual(await incoming(), []);
    assert.equal(store.uploads.size, 0);
    const [event] = store.events;
    assert.equal(event!.type, 'UPLOAD_INCOMPLETE');
    assert.deepEqual(event!.payload.missing, ['hello_1.0.tar.xz']);
    assert.match(event!.summary, /hello_1\.0\.tar\.xz did not arrive/);
  });

  it('counts a file still being written (not read-only) as missing', async () => {
    const files = [
      await arrive('hello_1.0.dsc', 'data', UploadVia.FTP, 0o600),
      await arrive('hello_1.0_source.changes', changes(['hello_1.0.dsc'])),
    ];
    const result = await intake.handOver(files, UploadVia.FTP, null);
    assert.deepEqual(result.incomplete[0]?.missing, ['hello_1.0.dsc']);
  });

  it('hands over a .changes that cannot be read alone, for the checks to reject', async () => {
    const cases: [string, string][] = [
      ['crlf_1.0_source.changes', changes(['x.dsc']).replace(/\n/g, '\r\n')],
      ['nofiles_1.0_source.changes', 'Source: hello\nVersion: 1.0\n'],
      ['binary_1.0_source.changes', '\u0000\u0001garbage'],
      ['badsig_1.0_source.changes', '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nSource: x\n'],
    ];
    for (const [name, content] of cases) {
      await arrive('x.dsc');
      const result = await intake.handOver([await arrive(name, content)], UploadVia.FTP, null);
      assert.equal(result.received.length, 1, name);
      const id = result.received[0]!.id;
      assert.deepEqual(await fs.readdir(path.join(spool(), String(id))), [name]);
      assert.deepEqual(store.uploads.get(id)!.files, [name]);
      await fs.unlink(path.join(ftpDir(), 'x.dsc'));
    }
  });

  it('never follows names from a .changes out of incoming', async () => {
    const secret = path.join(data, 'secret');
    await fs.writeFile(secret, 'secret', { mode: 0o400 });
    for (const evil of ['../secret', '/etc/passwd', 'a/b.deb', '.hidden', 'x\\y']) {
      const name = 'evil_1.0_source.changes';
      const result = await intake.handOver([await arrive(name, changes([evil]))], UploadVia.FTP, null);
      assert.equal(result.received.length, 1, evil);
      const dir = path.join(spool(), String(result.received[0]!.id));
      assert.deepEqual(await fs.readdir(dir), [name], evil);
    }
    assert.equal(await fs.readFile(secret, 'utf8'), 'secret');
    assert.equal(listChangesFiles(Buffer.from(changes(['../secret'])), 'e.changes'), undefined);
    assert.equal(listChangesFiles(Buffer.from(changes(['e.changes'])), 'e.changes'), undefined);
  });

  it('does not take a symlink in incoming as a file', async () => {
    await fs.symlink('/etc/passwd', path.join(ftpDir(), 'hello_1.0.dsc'));
    const c = await arrive('hello_1.0_source.changes', changes(['hello_1.0.dsc']));
    const result = await intake.handOver([c], UploadVia.FTP, null);
    assert.deepEqual(result.incomplete[0]?.missing, ['hello_1.0.dsc']);
    assert.deepEqual(await spoolDirs(), []);
  });

  it('leaves unclaimed files for the grace period, then sweeps them with an event', async () => {
    const stray = await arrive('stray_1.0.dsc');
    await arrive('partial.tar.xz', 'xx', UploadVia.FTP, 0o600);
    await arrive('lonely.deb', 'x', UploadVia.HTTP);
    const result = await intake.handOver([stray], UploadVia.FTP, null);
    assert.deepEqual(result, { received: [], incomplete: [] });
    assert.deepEqual(await intake.sweep(), []);
    assert.deepEqual(await incoming(), ['partial.tar.xz', 'stray_1.0.dsc']);
    const removed = await intake.sweep(Date.now() + 61_000);
    assert.deepEqual(removed.sort(), ['lonely.deb', 'stray_1.0.dsc']);
    assert.deepEqual(await incoming(), ['partial.tar.xz'], 'a file being written is not swept');
    assert.deepEqual(await incoming(UploadVia.HTTP), []);
    assert.deepEqual(
      store.events.map((e) => [e.type, e.payload.files]),
      [
        ['INCOMING_CLEANED', ['stray_1.0.dsc']],
        ['INCOMING_CLEANED', ['lonely.deb']],
      ],
    );
  });

  it('two .changes sharing a file each get it', async () => {
    await arrive('hello_1.0.orig.tar.gz');
    const a = await arrive('a_source.changes', changes(['hello_1.0.orig.tar.gz']));
    const b = await arrive('b_source.changes', changes(['hello_1.0.orig.tar.gz']));
    const result = await intake.handOver([a, b], UploadVia.FTP, null);
    assert.equal(result.received.length, 2);
    for (const id of ['1', '2'])
      assert.ok((await fs.readdir(path.join(spool(), id))).includes('hello_1.0.orig.tar.gz'));
    assert.deepEqual(await incoming(), []);
  });

  it('on a failed commit removes the spool directory and keeps the files in incoming', async () => {
    const files = [await arrive('hello_1.0.dsc'), await arrive('h_source.changes', changes(['hello_1.0.dsc']))];
    store.failCommit = true;
    await assert.rejects(intake.handOver(files, UploadVia.FTP, null), /commit failed/);
    store.failPublish = true;
    await assert.rejects(intake.handOver(files, UploadVia.FTP, null), /went away/);
    assert.deepEqual(await spoolDirs(), []);
    assert.deepEqual(await incoming(), ['h_source.changes', 'hello_1.0.dsc']);
    store.failCommit = store.failPublish = false;
    await intake.recover();
    assert.equal(store.uploads.size, 1, 'recover() hands it over');
    assert.deepEqual(await incoming(), []);
  });

  it('recovers from a crash at any step: exactly one upload per .changes, every row with its directory', async () => {
    // Crash 1: files linked into .new-*, nothing committed.
    const dsc = await arrive('a_1.0.dsc');
    const ca = await arrive('a_1.0_source.changes', changes(['a_1.0.dsc']));
    await fs.mkdir(path.join(spool(), '.new-dead'));
    await fs.link(dsc.path, path.join(spool(), '.new-dead', dsc.name));
    // Crash 2: renamed to spool/7 but not committed.
    await fs.mkdir(path.join(spool(), '7'));
    await fs.link(ca.path, path.join(spool(), '7', ca.name));
    // Crash 3: committed (upload 1 exists), the incoming links not yet removed.
    const b = [await arrive('b_1.0.dsc'), await arrive('b_1.0_source.changes', changes(['b_1.0.dsc']))];
    store.uploads.set(1, {
      changesName: 'b_1.0_source.changes',
      via: UploadVia.FTP,
      remoteAddress: null,
      changesSha256: 'x',
      files: [],
      spoolDir: path.join(spool(), '1'),
    });
    await fs.mkdir(path.join(spool(), '1'));
    for (const f of b) await fs.link(f.path, path.join(spool(), '1', f.name));
    // Crash 4: killed mid-upload (the file is still writable).
    await arrive('c_1.0.tar.xz', 'half', UploadVia.HTTP, 0o600);
    (store as unknown as { seq: number }).seq = 7;

    await intake.recover();
    assert.deepEqual(await spoolDirs(), ['1', '8']);
    assert.deepEqual(
      [...store.uploads.values()].map((u) => u.changesName),
      ['b_1.0_source.changes', 'a_1.0_source.changes'],
    );
    assert.deepEqual((await fs.readdir(path.join(spool(), '8'))).sort(), ['a_1.0.dsc', 'a_1.0_source.changes']);
    assert.deepEqual(await incoming(), []);
    assert.deepEqual(await incoming(UploadVia.HTTP), []);
    assert.deepEqual(
      store.events.map((e) => [e.type, e.payload.reason]),
      [['INCOMING_CLEANED', 'incomplete']],
    );
    await intake.recover();
    assert.equal(store.uploads.size, 2, 'a second recovery changes nothing');
  });

  it('accepts HTTP uploads only while started', async () => {
    assert.equal(intake.accepting, false);
    intake.start();
    assert.equal(intake.accepting, true);
    await intake.stop();
    assert.equal(intake.accepting, false);
  });
});
