/**
 * Intake: from incoming (FTP or HTTP) into `<data>/spool/<id>/` plus an Upload row and its
 * PROCESS_UPLOAD job. Nothing in incoming is ever processed in place.
 *
 * How a .changes becomes an Upload, and why it survives `kill -9` anywhere:
 * 1. Its files are hard-linked into `spool/.new-<random>/`; incoming keeps its links until the end.
 * 2. One transaction reserves the id, inserts the Upload (RECEIVED), queues the job and records
 *    UPLOAD_RECEIVED; last before COMMIT the directory is renamed to `spool/<id>` (one rename: the spool
 *    directory appears whole or not at all).
 * 3. After the commit the incoming links are removed.
 * A crash before 3 leaves the files in incoming, and `recover()` at the next start puts things right:
 * `.new-*` directories go (never committed), a `spool/<id>` without its row goes (renamed, not
 * committed), an incoming file that still has a second link is in a committed spool directory and only
 * loses its incoming link, and every complete .changes left in incoming is handed over again. So an
 * Upload row always has its spool directory, and each .changes becomes exactly one Upload; the job is
 * graphile-worker's, committed with the row, so nothing is queued twice.
 *
 * A file is complete in incoming when it is a regular file without write permission: the FTP server
 * and the HTTP router create files 0600 and make them 0440 only once every byte is on disk.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { stripClearsign } from '../build/dsc.js';
import { parseSingleParagraph } from '../debian/deb822.js';
import { EventType, type EventPayload } from '../events/event.entity.js';
import type { EventService } from '../events/event.service.js';
import { addJob, TASKS } from '../jobs/queue.js';
import type { Logger } from '../log.js';
import { checkFileName, containedPath } from '../util/paths.js';
import { type PortOrigin, Upload, UploadVia } from './upload.entity.js';

/** A file that arrived in incoming. */
export interface IncomingFile {
  name: string;
  path: string;
  size: number;
}

/** What the intake hands to the store for one .changes. */
export interface ReceivedUpload {
  changesName: string;
  via: UploadVia;
  remoteAddress: string | null;
  changesSha256: string;
  /** Every file in the spool directory, the .changes included. */
  files: string[];
  /** For a port made by debyard (via PORT): what it is, known before the checks, and where it came from. */
  port?: MadePort;
}

/** A port's source, version and target distribution, and its origin. */
export interface MadePort {
  source: string;
  version: string;
  distribution: string;
  origin: PortOrigin;
}

/**
 * Where uploads are recorded. `receive` must run everything in one transaction and call `publish(id)`
 * as its last step before COMMIT: a failed publish rolls back, a failed commit is undone by the caller.
 */
export interface IntakeStore {
  receive(
    upload: ReceivedUpload,
    spool: { dirOf(id: number): string; publish(id: number): Promise<void> },
  ): Promise<number>;
  /** Which of these Upload ids have a row. */
  existing(ids: number[]): Promise<Set<number>>;
  report(type: EventType, summary: string, payload: EventPayload): Promise<void>;
}

export interface IntakeOptions {
  dataDir: string;
  store: IntakeStore;
  logger: Logger;
  /**
   * How long a complete file no .changes has claimed stays in a shared incoming area (default 10
   * minutes): HTTP has no session, so a .changes is matched against everything complete there. FTP
   * sessions of the daemon have directories of their own and are cleared when they end, as in
   * mini-buildd (a .changes and its files come in one session): two sessions uploading files of the
   * same name at once then cannot mix them.
   */
  unclaimedGraceMs?: number;
}

/** What one hand-over did, for callers that answer a client (HTTP). */
export interface HandOverResult {
  received: { id: number; changesName: string }[];
  /** .changes removed because files they list never arrived. */
  incomplete: { changesName: string; missing: string[] }[];
}

export const DEFAULT_UNCLAIMED_GRACE_MS = 10 * 60 * 1000;
/** A .changes larger than this is handed over unread: the checks reject it with a reason. */
const MAX_CHANGES_BYTES = 1024 * 1024;
const NEW_PREFIX = '.new-';
const SPOOL_ID = /^[1-9]\d{0,9}$/;

export class Intake {
  readonly spoolRoot: string;
  readonly unclaimedGraceMs: number;
  private readonly store: IntakeStore;
  private readonly log: Logger;
  /** Hand-overs, recovery and sweeps run one at a time: two .changes may list the same file. */
  private queue: Promise<unknown> = Promise.resolve();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly opts: IntakeOptions) {
    this.spoolRoot = path.join(opts.dataDir, 'spool');
    this.unclaimedGraceMs = opts.unclaimedGraceMs ?? DEFAULT_UNCLAIMED_GRACE_MS;
    if (!(this.unclaimedGraceMs >= 1000)) throw new Error('unclaimedGraceMs must be at least 1000 ms');
    this.store = opts.store;
    this.log = opts.logger;
  }

  /** `<data>/incoming` for FTP, `<data>/incoming/http` for HTTP, `<data>/incoming/port` for ports. */
  incomingDir(via: UploadVia): string {
    const ftp = path.join(this.opts.dataDir, 'incoming');
    return via === UploadVia.FTP ? ftp : path.join(ftp, via === UploadVia.PORT ? 'port' : 'http');
  }

  /**
   * A new private directory for making one port in (`<data>/incoming/port/<random>`). Whatever a port
   * leaves there is removed by {@link handOverPort}, or by recover() when the daemon stopped first.
   */
  async portDir(): Promise<string> {
    const parent = this.incomingDir(UploadVia.PORT);
    await fs.mkdir(parent, { recursive: true, mode: 0o750 });
    return fs.mkdtemp(path.join(parent, 'p-'));
  }

  /**
   * Hands over the port whose `.changes` (and files, all complete) are in `dir`, made by
   * {@link portDir}, exactly as an upload from incoming: spool, Upload row, job, event; then removes
   * `dir` with everything else in it. Returns the Upload id.
   */
  handOverPort(dir: string, changesName: string, port: MadePort): Promise<number> {
    if (path.dirname(dir) !== this.incomingDir(UploadVia.PORT)) throw new Error(`${dir} is not a port directory`);
    return this.serialise(async () => {
      try {
        const changes: IncomingFile = { name: changesName, path: containedPath(dir, changesName), size: 0 };
        const result = await this.handOverNow([changes], UploadVia.PORT, null, dir, port);
        const [received] = result.received;
        if (received) return received.id;
        const missing = result.incomplete[0]?.missing.join(', ') ?? 'the .changes';
        throw new Error(`the port's ${changesName} was not handed over: ${missing} not complete`);
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    });
  }

  /** Whether the periodic sweep runs (the engine is started): HTTP uploads are accepted only then. */
  get accepting(): boolean {
    return this.sweeper !== undefined;
  }

  /**
   * Hands over every complete `.changes` among `files` whose listed files are all complete in the
   * incoming area of `via`: into spool with its Upload row and job. A .changes with missing files is
   * reported (UPLOAD_INCOMPLETE) and removed with the files it lists; a .changes that cannot be read
   * is handed over alone, for the checks to reject with a reason. Other files wait for the sweep.
   */
  handOver(files: IncomingFile[], via: UploadVia, remoteAddress: string | null): Promise<HandOverResult> {
    return this.serialise(() => this.handOverNow(files, via, remoteAddress));
  }

  /**
   * The end of an FTP session that had a directory of its own (as mini-buildd: a .changes and its
   * files come in one session): hands over its complete .changes, then removes what no .changes
   * claimed, with an event naming it, and the directory.
   */
  handOverSession(dir: string, files: IncomingFile[], remoteAddress: string | null): Promise<HandOverResult> {
    return this.serialise(async () => {
      // A failed hand-over (the database) keeps the directory: recover() tries again at the next start.
      const result = await this.handOverNow(files, UploadVia.FTP, remoteAddress, dir);
      await this.dropSessionDir(dir, 'no .changes of the session claimed them');
      return result;
    });
  }

  /**
   * At start-up, before FTP and HTTP take uploads: removes what a crash left half done and hands
   * over complete .changes still in incoming (see the top of this file).
   */
  recover(): Promise<void> {
    return this.serialise(async () => {
      await fs.mkdir(this.spoolRoot, { recursive: true, mode: 0o750 });
      for (const via of [UploadVia.FTP, UploadVia.HTTP])
        await fs.mkdir(this.incomingDir(via), { recursive: true, mode: 0o750 });
      const spooled = await fs.readdir(this.spoolRoot);
      for (const name of spooled.filter((n) => n.startsWith(NEW_PREFIX)))
        await fs.rm(path.join(this.spoolRoot, name), { recursive: true, force: true });
      const ids = spooled.filter((n) => SPOOL_ID.test(n)).map(Number);
      const known = ids.length ? await this.store.existing(ids) : new Set<number>();
      for (const id of ids.filter((i) => !known.has(i))) {
        this.log.warn({ id }, 'removing a spool directory whose upload was never committed');
        await fs.rm(path.join(this.spoolRoot, String(id)), { recursive: true, force: true });
      }
      for (const via of [UploadVia.FTP, UploadVia.HTTP]) await this.recoverIncoming(via);
      // FTP sessions a crash cut off: what they finished is handed over, the rest goes.
      for (const name of await readdirIfAny(this.sessionsDir)) {
        const dir = path.join(this.sessionsDir, name);
        await this.recoverIncoming(UploadVia.FTP, dir);
        await this.dropSessionDir(dir, 'left by an FTP session the daemon did not see end');
      }
      // Ports cut off before their hand-over are made again by their job, or asked for again.
      const ports = this.incomingDir(UploadVia.PORT);
      for (const name of await readdirIfAny(ports)) {
        this.log.warn({ dir: name }, 'removing a port the daemon stopped before it was handed over');
        await fs.rm(path.join(ports, name), { recursive: true, force: true });
      }
    });
  }

  /** Starts the periodic removal of unclaimed files (part of the engine). */
  start(): void {
    if (this.sweeper) return;
    const every = Math.max(1000, Math.min(60_000, this.unclaimedGraceMs / 2));
    this.sweeper = setInterval(() => {
      void this.sweep().catch((err) => this.log.error({ err }, 'sweeping incoming failed'));
    }, every);
    this.sweeper.unref();
  }

  /** Stops the sweep and waits for hand-overs under way. */
  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    await this.queue;
  }

  /** Removes complete files older than the grace period from both incoming areas; returns their names. */
  sweep(now = Date.now()): Promise<string[]> {
    return this.serialise(async () => {
      const removed: string[] = [];
      for (const via of [UploadVia.FTP, UploadVia.HTTP]) {
        const dir = this.incomingDir(via);
        const stale: string[] = [];
        for (const name of await readdirIfAny(dir)) {
          const st = await fs.lstat(path.join(dir, name)).catch(() => undefined);
          if (!st || st.isDirectory()) continue;
          // Files still being written belong to a live transfer; what a crash left is recover()'s.
          if (st.isFile() && st.mode & 0o222) continue;
          if (now - st.mtimeMs >= this.unclaimedGraceMs) stale.push(name);
        }
        if (!stale.length) continue;
        await this.remove(dir, stale);
        await this.store.report(
          EventType.INCOMING_CLEANED,
          `removed ${stale.join(', ')} from ${via} incoming: no .changes claimed ${stale.length > 1 ? 'them' : 'it'} within ${Math.round(this.unclaimedGraceMs / 1000)} s`,
          { via, files: stale, reason: 'unclaimed' },
        );
        removed.push(...stale);
      }
      return removed;
    });
  }

  private async handOverNow(
    files: IncomingFile[],
    via: UploadVia,
    remoteAddress: string | null,
    sessionDir?: string,
    port?: MadePort,
  ): Promise<HandOverResult> {
    const dir = sessionDir ?? this.incomingDir(via);
    const result: HandOverResult = { received: [], incomplete: [] };
    const done = new Set<string>();
    let failure: unknown;
    const changes = [...new Set(files.map((f) => f.name))].filter((n) => n.endsWith('.changes'));
    for (const changesName of changes) {
      if (!(await isComplete(dir, changesName))) continue;
      const listed = await listedFiles(dir, changesName);
      const missing: string[] = [];
      for (const name of listed ?? []) if (!(await isComplete(dir, name))) missing.push(name);
      if (missing.length) {
        const present = (listed ?? []).filter((n) => !missing.includes(n));
        await this.remove(dir, [changesName, ...present]);
        result.incomplete.push({ changesName, missing });
        await this.store.report(
          EventType.UPLOAD_INCOMPLETE,
          `${changesName} from ${remoteAddress ?? 'unknown'} was not accepted: ${missing.join(', ')} did not arrive; upload the .changes last, after its files`,
          { changesName, missing, removed: [changesName, ...present], via, remoteAddress },
        );
        continue;
      }
      const spooled = [...(listed ?? []), changesName];
      try {
        const id = await this.spool(dir, spooled, { changesName, via, remoteAddress, port });
        result.received.push({ id, changesName });
        for (const name of spooled) done.add(name);
      } catch (err) {
        // The files stay in incoming: recover() at the next start tries again, or the sweep removes them.
        this.log.error({ err, changesName, via }, 'handing an upload over to spool failed');
        failure ??= err;
      }
    }
    await this.remove(dir, [...done]);
    if (failure) throw failure;
    return result;
  }

  /** Steps 1 and 2 of the top comment; returns the Upload id. */
  private async spool(
    dir: string,
    names: string[],
    upload: Omit<ReceivedUpload, 'changesSha256' | 'files'>,
  ): Promise<number> {
    await fs.mkdir(this.spoolRoot, { recursive: true, mode: 0o750 });
    const fresh = path.join(this.spoolRoot, `${NEW_PREFIX}${randomBytes(8).toString('hex')}`);
    await fs.mkdir(fresh, { mode: 0o750 });
    let published: string | undefined;
    let id: number | undefined;
    try {
      for (const name of names) await fs.link(containedPath(dir, name), containedPath(fresh, name));
      const changesSha256 = await sha256File(path.join(fresh, upload.changesName));
      const dirOf = (n: number) => path.join(this.spoolRoot, String(n));
      return await this.store.receive(
        { ...upload, changesSha256, files: names },
        {
          dirOf,
          publish: async (n) => {
            id = n;
            await fs.rename(fresh, dirOf(n));
            published = dirOf(n);
          },
        },
      );
    } catch (err) {
      if (!published) await fs.rm(fresh, { recursive: true, force: true });
      else {
        // The commit failed after the rename. Only remove the directory when the row is surely absent;
        // when the database cannot tell, recover() decides at the next start.
        const known = await this.store.existing([id!]).catch(() => undefined);
        if (known && !known.has(id!)) await fs.rm(published, { recursive: true, force: true });
      }
      throw err;
    }
  }

  /** `<data>/incoming/sessions`: the directories of FTP sessions (FtpdOptions.sessionDirs). */
  get sessionsDir(): string {
    return path.join(this.incomingDir(UploadVia.FTP), 'sessions');
  }

  /** Removes an FTP session's directory; files still in it are reported as unclaimed. */
  private async dropSessionDir(dir: string, why: string): Promise<void> {
    if (path.dirname(dir) !== this.sessionsDir) throw new Error(`${dir} is not an FTP session directory`);
    const left = await readdirIfAny(dir);
    await fs.rm(dir, { recursive: true, force: true });
    if (left.length)
      await this.store.report(
        EventType.INCOMING_CLEANED,
        `removed ${left.join(', ')} from FTP incoming: ${why}; send a .changes and its files in one session`,
        { via: UploadVia.FTP, files: left, reason: 'unclaimed' },
      );
  }

  private async recoverIncoming(via: UploadVia, sessionDir?: string): Promise<void> {
    const dir = sessionDir ?? this.incomingDir(via);
    const complete: IncomingFile[] = [];
    const partial: string[] = [];
    for (const name of await readdirIfAny(dir)) {
      const full = path.join(dir, name);
      const st = await fs.lstat(full).catch(() => undefined);
      if (!st?.isFile()) continue;
      if (st.nlink > 1) {
        // Its other link is in a committed spool directory (uncommitted ones are gone by now).
        await fs.unlink(full).catch(() => undefined);
      } else if (st.mode & 0o222) partial.push(name);
      else complete.push({ name, path: full, size: st.size });
    }
    if (partial.length) {
      await this.remove(dir, partial);
      await this.store.report(
        EventType.INCOMING_CLEANED,
        `removed ${partial.join(', ')} from ${via} incoming: the daemon stopped during the upload`,
        { via, files: partial, reason: 'incomplete' },
      );
    }
    const result = await this.handOverNow(complete, via, null, sessionDir);
    if (result.received.length)
      this.log.info({ via, received: result.received }, 'handed over uploads left in incoming');
  }

  private async remove(dir: string, names: string[]): Promise<void> {
    for (const name of names) await fs.unlink(containedPath(dir, name)).catch(() => undefined);
  }

  private serialise<T>(step: () => Promise<T>): Promise<T> {
    const next = this.queue.then(step, step);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/**
 * The names a .changes lists in `Files` and `Checksums-Sha256`, or undefined when it cannot be read
 * that far (not UTF-8, not deb822, an incomplete signature, a malformed line, an unsafe name): such
 * a .changes is handed over alone, and the checks say what is wrong with it.
 */
export function listChangesFiles(bytes: Buffer, changesName: string): string[] | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    const paragraph = parseSingleParagraph(stripClearsign(text), { source: changesName });
    if (!paragraph.has('Files')) return undefined;
    const names = new Set<string>();
    for (const [field, columns] of [
      ['Files', 5],
      ['Checksums-Sha256', 3],
    ] as const) {
      for (const line of paragraph.lines(field)) {
        const parts = line.trim().split(/\s+/);
        if (parts.length !== columns) return undefined;
        const name = checkFileName(parts[columns - 1]!);
        if (name === changesName) return undefined;
        names.add(name);
      }
    }
    return [...names];
  } catch {
    return undefined;
  }
}

async function listedFiles(dir: string, changesName: string): Promise<string[] | undefined> {
  const full = containedPath(dir, changesName);
  const st = await fs.stat(full);
  if (st.size > MAX_CHANGES_BYTES) return undefined;
  return listChangesFiles(await fs.readFile(full), changesName);
}

async function isComplete(dir: string, name: string): Promise<boolean> {
  const st = await fs.lstat(containedPath(dir, name)).catch(() => undefined);
  return !!st && st.isFile() && (st.mode & 0o222) === 0;
}

async function readdirIfAny(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** The store of the daemon: PostgreSQL through MikroORM, the job in the same transaction. */
export class DatabaseIntakeStore implements IntakeStore {
  constructor(
    private readonly orm: MikroORM,
    private readonly events: EventService,
  ) {}

  async receive(
    received: ReceivedUpload,
    spool: { dirOf(id: number): string; publish(id: number): Promise<void> },
  ): Promise<number> {
    return this.orm.em.fork().transactional(async (tx: EntityManager) => {
      const [row] = await tx.execute<{ id: number }[]>(
        `select nextval(pg_get_serial_sequence('upload', 'id'))::int as id`,
      );
      const id = row!.id;
      const upload = tx.create(Upload, {
        id,
        changesName: received.changesName,
        spoolDir: spool.dirOf(id),
        via: received.via,
        remoteAddress: received.remoteAddress,
        changesSha256: received.changesSha256,
        ...(received.port
          ? {
              source: received.port.source,
              version: received.port.version,
              distribution: received.port.distribution,
              port: received.port.origin,
            }
          : {}),
      });
      await tx.persist(upload).flush();
      await addJob(tx, TASKS.PROCESS_UPLOAD, { id }, { jobKey: `upload:${id}` });
      const { port } = received;
      await this.events.record(
        tx,
        EventType.UPLOAD_RECEIVED,
        port
          ? `received ${received.changesName} (upload ${id}): ${port.source} ${port.origin.fromVersion} from ${port.origin.from} ported to ${port.distribution} as ${port.version}, asked for by ${port.origin.by}`
          : `received ${received.changesName} (upload ${id}) via ${received.via} from ${received.remoteAddress ?? 'unknown'}`,
        {
          upload: id,
          changesName: received.changesName,
          files: received.files,
          via: received.via,
          remoteAddress: received.remoteAddress,
          // A port knows its source already: the tracker and `events --source` show it from here on.
          ...(port
            ? { source: port.source, version: port.version, distribution: port.distribution, port: port.origin }
            : {}),
        },
      );
      await spool.publish(id);
      return id;
    });
  }

  async existing(ids: number[]): Promise<Set<number>> {
    const rows = await this.orm.em.fork().find(Upload, { id: { $in: ids } }, { fields: ['id'] });
    return new Set(rows.map((u) => u.id));
  }

  async report(type: EventType, summary: string, payload: EventPayload): Promise<void> {
    await this.events.record(this.orm.em.fork(), type, summary, payload);
  }
}
